"""The references that give a figure its meaning, computed on the same test split.

- ``chance_retrieval``: what a random ranking scores, given the split's own match structure
  (windows whose captions are identical are all correct matches for each other).
- ``bag_of_events``: a feature vector per window that a logistic regression can use without any
  learned representation: counts per (sensor, state), first and last sensor, time of day,
  weekday and duration. Fit like the linear probe (``sensorclip.eval.probe``).
- ``keyword_scores``: zero-shot by word overlap of a window's captions with each label's
  descriptions, no model at all.
- ``paired_bootstrap``: the difference of a score between two predictors on the same windows,
  with a 95% interval from resampling whole test days (windows of one day are not independent);
  ``paired_bootstrap_draws`` does the same for predictors fit on random draws of labelled
  examples (few-shot), resampling the draws as well.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from sensorclip.data.windows import expand
from sensorclip.units import EPOCH_WEEKDAY, US_PER_DAY, US_PER_S

KS = (1, 5, 10)

# ---------------------------------------------------------------------------------------------
# Chance retrieval


def _random_rank_survival(n: int, m: int, ranks: np.ndarray) -> np.ndarray:
    """P(best positive rank > r) for each r in ``ranks`` when m of n candidates are positive and
    the order is random: C(n - m, r) / C(n, r)."""
    r_max = int(ranks.max()) if len(ranks) else 0
    j = np.arange(r_max)
    factors = np.clip((n - m - j) / (n - j), 0, None)
    survival = np.concatenate([[1.0], np.cumprod(factors)])
    return survival[ranks]


def chance_retrieval(caption_ids: np.ndarray, ks: Sequence[int] = KS) -> dict[str, float]:
    """Expected recall@k of a random ranking, and the median of the best-positive rank over all
    queries; the same in both directions because the match structure is symmetric."""
    caption_ids = np.asarray(caption_ids)
    n = len(caption_ids)
    _, inverse, counts = np.unique(caption_ids, return_inverse=True, return_counts=True)
    positives = counts[inverse]                     # m per query, itself included
    out: dict[str, float] = {}
    sizes, per_size = np.unique(positives, return_counts=True)
    for k in ks:
        hit = [1 - _random_rank_survival(n, int(m), np.array([min(k, n)]))[0] for m in sizes]
        out[f"chance_recall@{k}"] = float(np.dot(hit, per_size) / n)
    ranks = np.arange(1, n + 1)
    pooled = sum(w * (1 - _random_rank_survival(n, int(m), ranks))
                 for m, w in zip(sizes, per_size)) / n          # P(rank <= r), all queries
    out["chance_median_rank"] = float(ranks[np.searchsorted(pooled, 0.5 - 1e-12)])
    return out


# ---------------------------------------------------------------------------------------------
# Bag of events


def bag_of_events(time_us: np.ndarray, sensor: np.ndarray, state: np.ndarray, n_sensors: int,
                  n_states: int, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """float32 [windows, features]: counts per (sensor, state), one-hot first and last sensor,
    sin/cos of the hour of day, one-hot weekday and log(1 + duration in seconds)."""
    windows = len(starts)
    owner, event = expand(starts, lengths)
    code = sensor[event].astype(np.int64) * n_states + state[event]
    counts = np.bincount(owner * (n_sensors * n_states) + code,
                         minlength=windows * n_sensors * n_states)
    counts = counts.reshape(windows, n_sensors * n_states)
    first, last = sensor[starts], sensor[starts + lengths - 1]
    start_time, end_time = time_us[starts], time_us[starts + lengths - 1]
    angle = 2 * np.pi * (start_time % US_PER_DAY) / US_PER_DAY
    weekday = (start_time // US_PER_DAY + EPOCH_WEEKDAY) % 7
    duration = np.log1p((end_time - start_time) / US_PER_S)
    return np.hstack([counts, np.eye(n_sensors)[first], np.eye(n_sensors)[last],
                      np.c_[np.sin(angle), np.cos(angle)], np.eye(7)[weekday],
                      duration[:, None]]).astype(np.float32)



# ---------------------------------------------------------------------------------------------
# Keyword zero-shot

STOPWORDS = frozenset("""a an the and or of in on at to from for with by is are was be being been
this that it its as into over about than then some while during near mostly very only someone
person resident occupant""".split())


def words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", text.lower()) if w not in STOPWORDS and len(w) > 1}


def keyword_scores(window_captions: Sequence[Sequence[str]],
                   label_descriptions: Sequence[Sequence[str]]) -> np.ndarray:
    """[windows, labels]: for each window, summed over its captions, the share of each
    description's words that the caption contains, averaged over the label's descriptions."""
    vocabulary: dict[str, int] = {}
    described = [[words(d) for d in descriptions] for descriptions in label_descriptions]
    for descriptions in described:
        for d in descriptions:
            for w in d:
                vocabulary.setdefault(w, len(vocabulary))
    labels = np.zeros((len(described), max(1, len(vocabulary))), dtype=np.float32)
    for i, descriptions in enumerate(described):
        for d in descriptions:
            for w in d:
                labels[i, vocabulary[w]] += 1 / (len(d) * len(descriptions))
    present = np.zeros((len(window_captions), labels.shape[1]), dtype=np.float32)
    for i, captions in enumerate(window_captions):
        for caption in captions:
            for w in words(caption):
                if w in vocabulary:
                    present[i, vocabulary[w]] += 1
    return present @ labels.T


# ---------------------------------------------------------------------------------------------
# Paired bootstrap over days


def macro_f1(true: np.ndarray, predicted: np.ndarray, n_classes: int) -> float:
    """Macro F1 over the labels present in the truth or the predictions (scikit-learn's
    convention)."""
    flat = np.asarray(true) * n_classes + np.asarray(predicted)
    return float(macro_f1_of_confusions(np.bincount(flat, minlength=n_classes ** 2), n_classes))


def macro_f1_of_confusions(confusions: np.ndarray, n_classes: int) -> np.ndarray:
    """Macro F1 of each flattened confusion matrix (``[..., n_classes ** 2]``, true-major), in
    one vectorised pass: a bootstrap scores thousands of resampled matrices at once."""
    matrix = confusions.reshape(*confusions.shape[:-1], n_classes, n_classes).astype(np.float64)
    tp = np.diagonal(matrix, axis1=-2, axis2=-1)
    fp, fn = matrix.sum(-2) - tp, matrix.sum(-1) - tp
    seen = (tp + fp + fn) > 0
    f1 = np.where(seen, 2 * tp / np.maximum(2 * tp + fp + fn, 1), 0.0)
    return f1.sum(-1) / np.maximum(seen.sum(-1), 1)


def paired_bootstrap(true: np.ndarray, predicted_a: np.ndarray, predicted_b: np.ndarray,
                     groups: np.ndarray, n_classes: int, resamples: int = 1000,
                     seed: int = 0) -> tuple[float, list[float] | None]:
    """macro-F1(a) - macro-F1(b) on all windows, and its 95% percentile interval when whole
    groups (test days) are drawn with replacement; no interval from fewer than two groups."""
    return paired_bootstrap_draws(true, [predicted_a], [predicted_b], groups, n_classes,
                                  resamples, seed)


def paired_bootstrap_draws(true: np.ndarray, draws_a: Sequence[np.ndarray],
                           draws_b: Sequence[np.ndarray], groups: np.ndarray, n_classes: int,
                           resamples: int = 1000, seed: int = 0
                           ) -> tuple[float | None, list[float] | None]:
    """The mean over draws of macro-F1(a_d) - macro-F1(b_d), where draw d fit both predictors
    on the same labelled examples (few-shot probes), and its 95% percentile interval when test
    days and draws are both drawn with replacement: the interval covers which examples happened
    to be labelled as well as which days were tested. No interval from fewer than two days.

    Each (draw, predictor, day) is reduced to a confusion matrix once; a resample is then a
    weighted sum of those matrices, so all resamples are scored in a few array operations."""
    if len(draws_a) != len(draws_b):
        raise ValueError(f"unpaired draws: {len(draws_a)} against {len(draws_b)}")
    if not len(draws_a):
        return None, None
    ids, day = np.unique(groups, return_inverse=True)
    cells = n_classes ** 2
    true = np.asarray(true)

    def day_confusions(predicted: np.ndarray) -> np.ndarray:          # [days, cells]
        flat = day * cells + true * n_classes + np.asarray(predicted)
        return np.bincount(flat, minlength=len(ids) * cells).reshape(len(ids), cells)
    n_days, n_draws = len(ids), len(draws_a)
    a = np.concatenate([day_confusions(p) for p in draws_a], axis=1)   # [days, draws * cells]
    b = np.concatenate([day_confusions(p) for p in draws_b], axis=1)

    def mean_delta(day_weights: np.ndarray, draw_weights: np.ndarray) -> np.ndarray:
        """[resamples, days] and [resamples, draws] counts -> [resamples] mean differences."""
        shape = (len(day_weights), n_draws, cells)
        delta = (macro_f1_of_confusions((day_weights @ a).reshape(shape), n_classes)
                 - macro_f1_of_confusions((day_weights @ b).reshape(shape), n_classes))
        return (delta * draw_weights).sum(-1) / draw_weights.sum(-1)

    observed = float(mean_delta(np.ones((1, n_days)), np.ones((1, n_draws)))[0])
    if n_days < 2:
        return observed, None
    rng = np.random.default_rng(seed)
    days = _pick_counts(rng.integers(n_days, size=(resamples, n_days)), n_days)
    draws = (_pick_counts(rng.integers(n_draws, size=(resamples, n_draws)), n_draws) if n_draws > 1
             else np.ones((resamples, 1)))
    low, high = np.percentile(mean_delta(days, draws), [2.5, 97.5])
    return observed, [float(low), float(high)]


def _pick_counts(picks: np.ndarray, n: int) -> np.ndarray:
    """How often each of ``n`` items was picked in each row of ``picks`` ([rows, n])."""
    rows = np.arange(len(picks))[:, None] * n
    return np.bincount((rows + picks).ravel(), minlength=len(picks) * n).reshape(len(picks), n)
