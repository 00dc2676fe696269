"""Scoring where two residents act at once: per resident, and "either".

A log with two residents gives each event the resident who caused it and, where two tasks
overlap, a second activity (``sensorclip.data.casas``). A window then has one label per resident:
the majority of that resident's labels over the window's events (an event carries resident r's
label when r caused it, or when its second activity is r's: a two-pair event, or a span of r's
open beside another resident's). Windows where a resident has no labelled event are left out
of that resident's score.

- **per resident**: a method's predictions against resident r's window labels;
- **either**: a prediction is right when it names the window's label or either resident's, the
  score of a model that may only say one thing about a window two people share.

Pure arrays in, arrays out; ``sensorclip.eval.suite`` reports them when a log has residents.
"""

from __future__ import annotations

import numpy as np

from sensorclip.data.windows import expand

NONE = -1


def residents_of(resident: np.ndarray) -> list[int]:
    """The residents a log names (none: a one-resident log, nothing to score per resident)."""
    named = sorted(int(r) for r in np.unique(resident) if r > 0)
    return named if len(named) > 1 else []


def event_labels_of(who: int, activity: np.ndarray, activity2: np.ndarray,
                    resident: np.ndarray, resident2: np.ndarray) -> np.ndarray:
    """Per event, resident ``who``'s label (``NONE`` where the event says nothing of them)."""
    own = resident == who
    second = (resident2 == who) & (activity2 > 0)
    return np.where(own, activity, np.where(second, activity2, NONE)).astype(np.int64)


def window_majority(labels: np.ndarray, starts: np.ndarray, lengths: np.ndarray,
                    n_labels: int) -> np.ndarray:
    """Most frequent non-``NONE`` label per window (ties -> lowest), ``NONE`` if there is none."""
    owner, index = expand(starts, lengths)
    values = labels[index]
    keep = values != NONE
    counts = np.bincount(owner[keep] * n_labels + values[keep],
                         minlength=len(starts) * n_labels).reshape(len(starts), n_labels)
    return np.where(counts.sum(axis=1) > 0, counts.argmax(axis=1), NONE)


def resident_window_labels(starts: np.ndarray, lengths: np.ndarray, activity: np.ndarray,
                           activity2: np.ndarray, resident: np.ndarray, resident2: np.ndarray,
                           n_labels: int) -> dict[int, np.ndarray]:
    """{resident: label per window (``NONE`` where they have none)} for every named resident."""
    return {who: window_majority(event_labels_of(who, activity, activity2, resident, resident2),
                                 starts, lengths, n_labels)
            for who in residents_of(np.concatenate([resident, resident2]))}


def either_correct(predicted: np.ndarray, window_label: np.ndarray,
                   per_resident: dict[int, np.ndarray]) -> np.ndarray:
    """Per window: the prediction names the window's label or any resident's."""
    right = predicted == window_label
    for labels in per_resident.values():
        right |= predicted == labels
    return right
