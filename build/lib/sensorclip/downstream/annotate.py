"""Label an unlabelled log with a trained encoder and write the labels back as CASAS annotations.

Each window takes the label of its nearest prototype: the label's descriptions projected into the
shared space (zero-shot), or the mean embedding of the label's windows in a small labelled log
(few-shot). Its confidence is that label's share of a softmax over the prototypes, at the
model's own logit scale. Consecutive windows of one day with the same label merge into a
segment, which runs from its first window's first event to its last window's last event, cut
short where the next segment begins (windows overlap, segments do not). Windows under
``min_confidence`` stay unlabelled and break segments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sensorclip.data.homes import Home, generated_descriptions
from sensorclip.eval.classification import classification_metrics
from sensorclip.eval.zeroshot import is_background
from sensorclip.pipeline import Prepared


@dataclass
class Segment:
    label: int               # index into the label names
    first_event: int         # event rows of the log, inclusive
    last_event: int
    confidence: float        # mean over its windows
    windows: int


def annotation_labels(home: Home) -> dict[str, tuple[str, ...]]:
    """The home's activities and their descriptions, background labels left out: the fine
    labels of the layout's label map, else the labels it describes."""
    names = [n for n in (home.labels or home.descriptions) if not is_background(n)]
    return {n: home.descriptions.get(n) or home.descriptions.get(home.coarse_label(n))
            or generated_descriptions(n) for n in names}


def softmax_confidence(scores: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """(best label per row, its softmax share at ``scale``)."""
    logits = scale * (scores - scores.max(axis=1, keepdims=True))
    shares = np.exp(logits)
    shares /= shares.sum(axis=1, keepdims=True)
    return shares.argmax(axis=1), shares.max(axis=1)


def example_prototypes(embeddings: np.ndarray, labels: Sequence[str]
                       ) -> tuple[list[str], np.ndarray]:
    """Few-shot prototypes: the normalised mean embedding of each (non-background) label."""
    labels = np.asarray(labels)
    names = sorted({str(label) for label in labels if not is_background(str(label))})
    means = np.stack([embeddings[labels == n].mean(axis=0) for n in names])
    return names, means / np.linalg.norm(means, axis=1, keepdims=True).clip(min=1e-12)


def merge_segments(starts: np.ndarray, lengths: np.ndarray, days: np.ndarray,
                   labels: np.ndarray, confidence: np.ndarray,
                   min_confidence: float = 0.0) -> list[Segment]:
    """Segments from windows in time order (see the module docstring)."""
    segments: list[Segment] = []
    current: list[int] = []

    def close():
        if current:
            first, last = current[0], current[-1]
            segments.append(Segment(int(labels[first]), int(starts[first]),
                                    int(starts[last] + lengths[last] - 1),
                                    float(confidence[current].mean()), len(current)))
            current.clear()

    for i in range(len(starts)):
        if confidence[i] < min_confidence:
            close()
            continue
        if current and (labels[i] != labels[current[-1]] or days[i] != days[current[-1]]):
            close()
        current.append(i)
    close()
    for segment, following in zip(segments, segments[1:]):
        segment.last_event = min(segment.last_event, following.first_event - 1)
    return [s for s in segments if s.last_event > s.first_event]    # begin and end lines


def annotated_lines(prep: Prepared, segments: Sequence[Segment], names: Sequence[str]
                    ) -> list[str]:
    """The log's binary events as CASAS format-a lines, with ``Label begin`` on each segment's
    first event and ``Label end`` on its last."""
    marks = {}
    for s in segments:
        marks[s.first_event] = f"{names[s.label]} begin"
        marks[s.last_event] = f"{names[s.label]} end"
    stamps = np.datetime_as_string(prep.time_us.astype("datetime64[us]"), unit="us")
    lines = []
    for i, (stamp, sensor, state) in enumerate(zip(stamps, prep.sensor, prep.state)):
        line = f"{stamp[:10]} {stamp[11:]}\t{prep.sensor_names[sensor]}\t{prep.state_names[state]}"
        lines.append(f"{line}\t{marks[i]}" if i in marks else line)
    return lines


def event_labels(n_events: int, segments: Sequence[Segment], names: Sequence[str],
                 unlabelled: str = "") -> np.ndarray:
    out = np.full(n_events, unlabelled, dtype=object)
    for s in segments:
        out[s.first_event:s.last_event + 1] = names[s.label]
    return out


def agreement(true_windows: Sequence[str], predicted_windows: Sequence[str],
              true_events: Sequence[str], predicted_events: Sequence[str]) -> dict[str, float]:
    """Agreement with the log's own labels, on windows and events whose true label is an
    activity (not background): accuracy and macro-F1, and the events' accuracy."""
    true_windows, predicted_windows = np.asarray(true_windows), np.asarray(predicted_windows)
    keep = np.array([not is_background(t) for t in true_windows])
    vocabulary = sorted(set(true_windows[keep]) | set(predicted_windows[keep]))
    code = {name: i for i, name in enumerate(vocabulary)}
    out = classification_metrics(np.array([code[t] for t in true_windows[keep]]),
                                 np.array([code[p] for p in predicted_windows[keep]]),
                                 len(vocabulary), "window_")
    true_events, predicted_events = np.asarray(true_events), np.asarray(predicted_events)
    labelled = np.array([not is_background(t) for t in true_events])
    out["event_accuracy"] = float((true_events[labelled] == predicted_events[labelled]).mean())
    out["event_iou"] = event_iou(true_events[labelled], predicted_events[labelled])
    out["scored_windows"] = int(keep.sum())
    return out


def event_iou(true_events: np.ndarray, predicted_events: np.ndarray) -> float:
    """Segment overlap at event resolution: per true label, the events both call that label
    over the events either calls it, averaged over the labels in the truth."""
    ious = [float(((true_events == label) & (predicted_events == label)).sum()
                  / ((true_events == label) | (predicted_events == label)).sum())
            for label in np.unique(true_events)]
    return float(np.mean(ious)) if ious else 0.0
