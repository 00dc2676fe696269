"""Classification scores: accuracy, macro/weighted F1, balanced accuracy, confusion matrices.

Test labels enter evaluation only here, once the predictions are fixed. Per-class averages follow
scikit-learn's convention: macro and weighted F1 average over the labels that occur in the truth
or the predictions; balanced accuracy is the mean recall over the labels that occur in the truth.
"""

from __future__ import annotations

import numpy as np
import torch
from torchmetrics.functional.classification import (
    multiclass_confusion_matrix,
    multiclass_stat_scores,
)


def classification_metrics(true: np.ndarray, predicted: np.ndarray, n_classes: int,
                           prefix: str) -> dict[str, float]:
    """accuracy, macro/weighted F1 and balanced accuracy (torchmetrics per-class statistics)."""
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
    return multiclass_confusion_matrix(torch.as_tensor(predicted), torch.as_tensor(true),
                                       num_classes=n_classes).numpy()
