"""Evaluation cores: zero-shot activity recognition, linear probe, majority baseline.

Pure functions over arrays. Nothing here ever selects on the test split: the probe's
regularisation is chosen on validation, the probe and the majority baseline are fit on train, and
the test labels enter only ``classification_metrics`` once the predictions are fixed.

Per-class averages follow scikit-learn's convention: macro and weighted F1 average over the labels
that occur in the truth or the predictions; balanced accuracy is the mean recall over the labels
that occur in the truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

PROBE_C_GRID = (0.01, 0.1, 1.0, 10.0, 100.0)


def classification_metrics(true: np.ndarray, predicted: np.ndarray, n_classes: int,
                           prefix: str) -> dict[str, float]:
    """accuracy, macro/weighted F1 and balanced accuracy (torchmetrics per-class statistics)."""
    from torchmetrics.functional.classification import multiclass_stat_scores
    t, p = torch.as_tensor(true, dtype=torch.long), torch.as_tensor(predicted, dtype=torch.long)
    stats = multiclass_stat_scores(p, t, num_classes=n_classes, average=None)   # tp fp tn fn sup
    tp, fp, fn, support = (stats[:, i].double() for i in (0, 1, 3, 4))
    f1 = torch.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn).clamp(min=1), 0.0)
    seen = (support > 0) | (tp + fp > 0)
    in_truth = support > 0
    recall = tp / support.clamp(min=1)
    return {f"{prefix}accuracy": float((t == p).double().mean()),
            f"{prefix}macro_f1": float(f1[seen].mean()),
            f"{prefix}weighted_f1": float((f1 * support).sum() / support.sum()),
            f"{prefix}balanced_accuracy": float(recall[in_truth].mean())}


def confusion(true: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    from torchmetrics.functional.classification import multiclass_confusion_matrix
    return multiclass_confusion_matrix(torch.as_tensor(predicted), torch.as_tensor(true),
                                       num_classes=n_classes).numpy()


# ---------------------------------------------------------------------------------------------
# Zero-shot


def label_prototypes(description_vectors: Sequence[np.ndarray]) -> np.ndarray:
    """One unit vector per label: the mean of its (already projected) description vectors."""
    means = np.stack([np.asarray(v, dtype=np.float32).mean(axis=0) for v in description_vectors])
    return means / np.linalg.norm(means, axis=1, keepdims=True).clip(min=1e-12)


def zero_shot_predict(sensor: np.ndarray, prototypes: np.ndarray) -> np.ndarray:
    """Nearest prototype by cosine similarity."""
    return (sensor @ prototypes.T).argmax(axis=1)


# ---------------------------------------------------------------------------------------------
# Linear probe and majority baseline


@dataclass
class Probe:
    scaler: object
    model: object
    c: float
    val_macro_f1: float

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.model.predict(self.scaler.transform(x))


def fit_probe(train_x: np.ndarray, train_y: np.ndarray, val_x: np.ndarray, val_y: np.ndarray,
              n_classes: int, grid: Sequence[float] = PROBE_C_GRID, seed: int = 0,
              max_iter: int = 100) -> Probe:
    """Multinomial logistic regression on standardised frozen embeddings; C by val macro-F1.

    The grid runs from strong to weak regularisation, each fit warm-started from the previous
    one, which keeps the weakly regularised fits cheap.
    """
    import copy
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    scaler = StandardScaler().fit(train_x)
    train_z, val_z = scaler.transform(train_x), scaler.transform(val_x)
    model = LogisticRegression(max_iter=max_iter, warm_start=True, random_state=seed)
    best: Probe | None = None
    for c in sorted(grid):
        model.set_params(C=c)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(train_z, train_y)
        score = classification_metrics(val_y, model.predict(val_z), n_classes, "")["macro_f1"]
        if best is None or score > best.val_macro_f1:
            best = Probe(scaler, copy.deepcopy(model), c, score)
    return best


def majority_label(train_y: np.ndarray) -> int:
    return int(np.bincount(train_y).argmax())
