"""The references that give a figure its meaning, computed on the same test split.

- ``chance_retrieval``: what a random ranking scores, given the split's own match structure
  (windows whose captions are identical are all correct matches for each other).
- ``bag_of_events``: a feature vector per window that a logistic regression can use without any
  learned representation: counts per (sensor, state), first and last sensor, time of day,
  weekday and duration. Fit like the linear probe (``sensorclip.eval.probe``).
- ``keyword_scores``: zero-shot by word overlap of a window's captions with each label's
  descriptions, no model at all.
- ``paired_bootstrap``: the difference of a score between two predictors on the same windows,
  with a 95% interval from resampling whole test days (windows of one day are not independent).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

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
    convention); numpy only, so a bootstrap can call it thousands of times."""
    matrix = np.bincount(true * n_classes + predicted, minlength=n_classes * n_classes)
    matrix = matrix.reshape(n_classes, n_classes)
    tp = np.diag(matrix).astype(np.float64)
    fp, fn = matrix.sum(0) - tp, matrix.sum(1) - tp
    seen = (tp + fp + fn) > 0
    f1 = np.where(seen, 2 * tp / np.maximum(2 * tp + fp + fn, 1), 0.0)
    return float(f1[seen].mean()) if seen.any() else 0.0


def paired_bootstrap(true: np.ndarray, predicted_a: np.ndarray, predicted_b: np.ndarray,
                     groups: np.ndarray, n_classes: int,
                     score: Callable[[np.ndarray, np.ndarray, int], float] = macro_f1,
                     resamples: int = 1000, seed: int = 0) -> tuple[float, list[float] | None]:
    """score(a) - score(b) on all windows, and its 95% percentile interval when whole groups
    (test days) are drawn with replacement; no interval from fewer than two groups."""
    true, predicted_a, predicted_b = map(np.asarray, (true, predicted_a, predicted_b))
    delta = score(true, predicted_a, n_classes) - score(true, predicted_b, n_classes)
    ids, members = np.unique(groups, return_inverse=True)
    if len(ids) < 2:
        return float(delta), None
    by_group = [np.flatnonzero(members == g) for g in range(len(ids))]
    rng = np.random.default_rng(seed)
    deltas = np.empty(resamples)
    for b in range(resamples):
        picked = np.concatenate([by_group[g] for g in rng.integers(len(ids), size=len(ids))])
        deltas[b] = (score(true[picked], predicted_a[picked], n_classes)
                     - score(true[picked], predicted_b[picked], n_classes))
    low, high = np.percentile(deltas, [2.5, 97.5])
    return float(delta), [float(low), float(high)]
