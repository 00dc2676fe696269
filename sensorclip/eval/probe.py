"""The linear probe and the majority reference, both fit on train.

Nothing here selects on the test split: the probe's regularisation is chosen on validation.

Probes are fit to convergence (``max_iter`` 1000, scikit-learn's default tolerance). A probe
stopped after 100 iterations is regularised by where the solver happened to stop, and near-tied
validation scores then pick a different C on another machine: one checkpoint's test macro-F1
moved by 0.034 between one and two BLAS threads. Converged, the same fits agreed to 0.0003
wherever the validation scores of two C values were not a near tie (docs/performance.md). The C
grid stops at 1: weaker regularisation did not converge in the iterations allowed on the
embeddings measured (nearly separable classes) and never won on validation where it did.

Each probe runs on one thread (``one_thread``: numpy's BLAS and scikit-learn's OpenMP loops).
Right after training, torch's worker threads are still spinning, and numpy's BLAS pool fighting
them for the cores made the demo's evaluation about 4x slower (docs/performance.md); one thread
also makes a probe's result the same on every core count, to the last bit. The cores are used
by fitting independent probes side by side instead (``run_concurrently``).
"""

from __future__ import annotations

import copy
import os
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache, wraps
from typing import TypeVar

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from threadpoolctl import ThreadpoolController

from sensorclip.eval.classification import classification_metrics

PROBE_C_GRID = (0.001, 0.01, 0.1, 1.0)
FEW_SHOT_C = 1.0
T = TypeVar("T")


@cache
def thread_pools() -> ThreadpoolController:
    """The process's native thread pools, found once: finding them takes about 4 ms, and the
    evaluation limits them around every probe fit and prediction."""
    return ThreadpoolController()


def one_thread(fn):
    """Run ``fn`` with every native thread pool (BLAS, OpenMP) limited to one thread."""
    @wraps(fn)
    def limited(*args, **kwargs):
        with thread_pools().limit(limits=1):
            return fn(*args, **kwargs)
    return limited


def run_concurrently(jobs: Sequence[Callable[[], T]]) -> list[T]:
    """The results of ``jobs`` (independent single-threaded fits), run side by side on the
    machine's cores; the same results as one after another. The thread-pool limit is set once
    around the whole batch: limits are process-wide, so jobs entering and leaving their own
    would otherwise restore the default under a neighbour still running."""
    workers = max(1, min(len(jobs), os.cpu_count() or 1))
    with thread_pools().limit(limits=1), ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda job: job(), jobs))


@dataclass
class Probe:
    scaler: object
    model: object
    c: float
    val_macro_f1: float
    converged: bool

    @one_thread
    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.model.predict(self.scaler.transform(x))


@one_thread
def fit_probe(train_x: np.ndarray, train_y: np.ndarray, val_x: np.ndarray, val_y: np.ndarray,
              n_classes: int, grid: Sequence[float] = PROBE_C_GRID, seed: int = 0,
              max_iter: int = 1000, warn: bool = True) -> Probe:
    """Multinomial logistic regression on standardised frozen embeddings; C by val macro-F1.

    The grid runs from strong to weak regularisation, each fit warm-started from the previous
    one (a fifth to a third fewer iterations than from scratch, measured on the demo). A chosen
    fit that did not converge is still used, but reported (``converged``, and unless ``warn`` is
    false a warning). scikit-learn's own ``ConvergenceWarning`` is left alone: silencing it here
    would change the process-wide warning filters under probes fit side by side.
    """
    scaler = StandardScaler().fit(train_x)
    train_z, val_z = scaler.transform(train_x), scaler.transform(val_x)
    model = LogisticRegression(max_iter=max_iter, warm_start=True, random_state=seed)
    best: Probe | None = None
    for c in sorted(grid):
        model.set_params(C=c)
        model.fit(train_z, train_y)
        score = classification_metrics(val_y, model.predict(val_z), n_classes, "")["macro_f1"]
        if best is None or score > best.val_macro_f1:
            best = Probe(scaler, copy.deepcopy(model), c, score,
                         converged=bool(model.n_iter_.max() < max_iter))
    if warn and not best.converged:
        warnings.warn(f"the linear probe chosen on validation (C={best.c}) did not converge in "
                      f"{max_iter} iterations; its scores depend on where the solver stopped",
                      stacklevel=2)
    return best


def majority_label(train_y: np.ndarray) -> int:
    return int(np.bincount(train_y).argmax())


@one_thread
def few_shot_draw(train_x: np.ndarray, train_y: np.ndarray, val_x: np.ndarray,
                  val_y: np.ndarray, test_x: np.ndarray, n_classes: int, k: int, draw: int,
                  seed: int = 0) -> np.ndarray | None:
    """Test predictions of one probe fit on ``k`` training windows per class, or None when the
    draw holds a single class. A draw depends only on (seed, k, draw) and the training labels,
    so two representations probed with the same arguments are fit on the same windows
    (``references.paired_bootstrap_draws`` pairs them). The regularisation is fixed
    (``FEW_SHOT_C``) rather than chosen on the full validation split, whose labels a few-shot
    user would not have; every representation gets the same treatment."""
    rng = np.random.default_rng([seed, k, draw])
    picked = np.concatenate([
        rng.choice(members, size=min(k, len(members)), replace=False)
        for members in (np.flatnonzero(train_y == c) for c in np.unique(train_y))])
    if len(np.unique(train_y[picked])) < 2:
        return None
    probe = fit_probe(train_x[picked], train_y[picked], val_x, val_y, n_classes,
                      grid=(FEW_SHOT_C,), seed=seed, warn=False)
    return probe.predict(test_x)
