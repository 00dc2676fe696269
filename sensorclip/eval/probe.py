"""The linear probe and the majority reference, both fit on train.

Nothing here selects on the test split: the probe's regularisation is chosen on validation.

The probes run with one BLAS thread (``one_blas_thread``). Right after training, torch's worker
threads are still spinning, and numpy's BLAS pool fighting them for the cores made the demo's
evaluation about 4x slower (docs/performance.md). One thread also makes a probe's result
independent of the machine's core count: the solver stops after ``max_iter`` iterations, where
the summation order still shows.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import wraps

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sensorclip.eval.classification import classification_metrics

PROBE_C_GRID = (0.01, 0.1, 1.0, 10.0, 100.0)
FEW_SHOT_C = 1.0


def one_blas_thread(fn):
    """Run ``fn`` with numpy/scipy's BLAS limited to one thread (see the module docstring)."""
    @wraps(fn)
    def limited(*args, **kwargs):
        with threadpool_limits(limits=1, user_api="blas"):
            return fn(*args, **kwargs)
    return limited


@dataclass
class Probe:
    scaler: object
    model: object
    c: float
    val_macro_f1: float

    @one_blas_thread
    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.model.predict(self.scaler.transform(x))


@one_blas_thread
def fit_probe(train_x: np.ndarray, train_y: np.ndarray, val_x: np.ndarray, val_y: np.ndarray,
              n_classes: int, grid: Sequence[float] = PROBE_C_GRID, seed: int = 0,
              max_iter: int = 100) -> Probe:
    """Multinomial logistic regression on standardised frozen embeddings; C by val macro-F1.

    The grid runs from strong to weak regularisation, each fit warm-started from the previous
    one, which keeps the weakly regularised fits cheap.
    """
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


@one_blas_thread
def few_shot_predictions(train_x: np.ndarray, train_y: np.ndarray, val_x: np.ndarray,
                         val_y: np.ndarray, test_x: np.ndarray, n_classes: int, k: int,
                         draws: int, seed: int = 0) -> list[np.ndarray]:
    """Test predictions of probes fit on ``k`` training windows per class (all of a class's
    windows when it has fewer), one per seeded draw. A draw depends only on (seed, k, draw) and
    the training labels, so two representations probed with the same arguments are fit on the
    same windows (``references.paired_bootstrap_draws`` pairs them). The regularisation is
    fixed (``FEW_SHOT_C``) rather than chosen on the full validation split, whose labels a
    few-shot user would not have; every representation gets the same treatment."""
    predictions = []
    for draw in range(draws):
        rng = np.random.default_rng([seed, k, draw])
        picked = np.concatenate([
            rng.choice(members, size=min(k, len(members)), replace=False)
            for members in (np.flatnonzero(train_y == c) for c in np.unique(train_y))])
        if len(np.unique(train_y[picked])) < 2:
            continue                                  # one class: nothing to fit
        probe = fit_probe(train_x[picked], train_y[picked], val_x, val_y, n_classes,
                          grid=(FEW_SHOT_C,), seed=seed)
        predictions.append(probe.predict(test_x))
    return predictions
