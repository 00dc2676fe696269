"""The common-vocabulary level of an evaluation, and the references that make a new home's
figures honest.

A home with a common map (its layout's ``common``) is also scored at the level of the common
vocabulary (``sensorclip.data.vocabulary``), where homes can be compared:

- ``common_zeroshot_*`` and ``common_keyword_zeroshot_*``: zero-shot from the vocabulary's
  descriptions, among the common activities the home's labels map to;
- ``caption_oracle_zeroshot_*``: each window's own caption, embedded by the frozen text
  encoder, scored against the same descriptions: what an encoder that reproduced every caption
  exactly would score, which tells whether the captions or the encoder limit zero-shot (a
  trained encoder can score above it: its embedding of a window is pulled towards the captions
  of similar windows, not only its own);
- ``agnostic_bag_*`` (cross-home only): a logistic regression on features that mean the same in
  every home (``agnostic_features``: event counts per room type x sensor type x state, time of
  day, weekday, duration), fit on the source homes' labels and applied to the target with no
  target label: the transfer baseline a pretrained encoder's zero-shot has to beat;
- ``sentence_ref_{mean,meanmax}_*`` (cross-home only): each event's frozen sentence vector (the
  inputs of ``model=text``: a sentence per (sensor, state) through the frozen text encoder),
  pooled per window (mean; mean and max side by side), and a logistic regression on them fit on
  the source homes' labels: the published cross-home baseline (sentence embeddings of events, a
  classifier of the source labels), which says whether pretraining adds anything to a
  classifier on frozen sentence vectors.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from sensorclip.data.homes import NO_ACTIVITY, Home
from sensorclip.data.states import is_active
from sensorclip.data.vocabulary import COMMON_ACTIVITIES, COMMON_NAMES
from sensorclip.data.windows import SPLITS, Windows, expand
from sensorclip.eval.probe import Probe, fit_probe
from sensorclip.eval.zeroshot import label_prototypes, nearest
from sensorclip.frozen.describe import describe_pairs
from sensorclip.units import EPOCH_WEEKDAY, US_PER_DAY, US_PER_S

COMMON_LEVEL = (NO_ACTIVITY, *COMMON_NAMES)
# Room type by words in its name, first match wins (hallways before kitchens: "aisle near
# kitchen" is a hallway).
ROOM_TYPE_WORDS = (
    ("bathroom", ("bath", "shower", "toilet", "wc", "restroom", "lavatory")),
    ("bedroom", ("bed",)),
    ("hallway", ("hall", "corridor", "aisle", "stair", "landing")),
    ("kitchen", ("kitchen", "pantry")),
    ("dining_room", ("dining",)),
    ("living_room", ("living", "lounge", "family", "sitting", "tv")),
    ("office", ("office", "study", "work", "desk")),
    ("garage", ("garage",)),
    ("laundry", ("laundry", "utility")),
    ("entrance", ("entr", "foyer", "front", "door", "porch", "lobby")),
    ("studio", ("studio",)),
)
ROOM_TYPES = tuple(t for t, _ in ROOM_TYPE_WORDS) + ("other",)
SENSOR_KINDS = ("motion", "door", "item", "other")


def room_type(name: str) -> str:
    """'master_bedroom' -> 'bedroom', 'aisle_near_kitchen' -> 'hallway', 'UNK' -> 'other'."""
    words = re.sub(r"[_\-]+", " ", name.lower())
    return next((kind for kind, keys in ROOM_TYPE_WORDS if any(k in words for k in keys)),
                "other")


def common_codes(home: Home, fine_names: Sequence[str]) -> np.ndarray:
    """int32 fine code -> index into ``COMMON_LEVEL``."""
    return np.array([COMMON_LEVEL.index(home.common_label(f)) for f in fine_names], np.int32)


def common_descriptions() -> list[tuple[str, ...]]:
    """Descriptions of every name of ``COMMON_LEVEL`` (background: never a zero-shot candidate,
    but described for completeness)."""
    return [("no particular activity",)] + [COMMON_ACTIVITIES[n] for n in COMMON_NAMES]


def agnostic_features(home: Home, sensor_names: Sequence[str], state_names: Sequence[str],
                      time_us: np.ndarray, sensor: np.ndarray, state: np.ndarray,
                      windows: Windows) -> np.ndarray:
    """float32 [windows, features] that mean the same in every home: the share of a window's
    events per (room type, sensor type, active or not), the room type of its first and last
    event, sin/cos of the hour, weekday and log duration and length."""
    rooms = np.array([ROOM_TYPES.index(room_type(home.sensors[s].room)) for s in sensor_names])
    kinds = np.array([SENSOR_KINDS.index(t) if (t := home.sensors[s].type) in SENSOR_KINDS
                      else SENSOR_KINDS.index("other") for s in sensor_names])
    active = np.array([is_active(s) for s in state_names], dtype=np.int64)
    n_bins = len(ROOM_TYPES) * len(SENSOR_KINDS) * 2
    bins = (rooms[sensor] * len(SENSOR_KINDS) + kinds[sensor]) * 2 + active[state]
    owner, event = expand(windows.start, windows.length)
    counts = np.bincount(owner * n_bins + bins[event], minlength=len(windows) * n_bins)
    shares = counts.reshape(len(windows), n_bins) / windows.length[:, None]
    first = rooms[sensor[windows.start]]
    last = rooms[sensor[windows.start + windows.length - 1]]
    start, end = time_us[windows.start], time_us[windows.start + windows.length - 1]
    angle = 2 * np.pi * (start % US_PER_DAY) / US_PER_DAY
    weekday = (start // US_PER_DAY + EPOCH_WEEKDAY) % 7
    room_eye = np.eye(len(ROOM_TYPES))
    return np.hstack([shares, room_eye[first], room_eye[last], np.c_[np.sin(angle),
                      np.cos(angle)], np.eye(7)[weekday],
                      np.c_[np.log1p((end - start) / US_PER_S), np.log(windows.length)]]
                     ).astype(np.float32)


def prepared_features(prep, split: str) -> tuple[np.ndarray, np.ndarray]:
    """(agnostic features, common codes) of a prepared data set's windows of one split."""
    w = prep.windows.of_split(split)
    x = agnostic_features(prep.home, prep.sensor_names, prep.state_names, prep.time_us,
                          prep.sensor, prep.state, w)
    return x, common_codes(prep.home, prep.fine_names)[w.fine]


def fit_agnostic_bag(source, seed: int = 0) -> Probe | None:
    """The layout-agnostic bag fit on the source homes' training windows (C chosen on their
    validation windows), on every common label but the background; None without two labels."""
    (x_train, y_train), (x_val, y_val) = (prepared_features(source, s) for s in SPLITS[:2])
    keep_train, keep_val = y_train != 0, y_val != 0
    if len(np.unique(y_train[keep_train])) < 2:
        return None
    return fit_probe(x_train[keep_train], y_train[keep_train], x_val[keep_val], y_val[keep_val],
                     len(COMMON_LEVEL), seed=seed)


SENTENCE_POOLS = ("mean", "meanmax")


def event_sentence_vectors(prep, encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
    """float32 [events, dim]: the sentence vector of each event's (sensor, state), one
    sentence per pair that occurs (``describe_pairs``, as ``model=text`` builds its inputs)."""
    codes = prep.sensor.astype(np.int64) * len(prep.state_names) + prep.state
    present, index = np.unique(codes, return_inverse=True)
    pairs = [(prep.sensor_names[c // len(prep.state_names)],
              prep.state_names[c % len(prep.state_names)]) for c in present]
    vectors = np.asarray(encode(describe_pairs(prep.home, pairs)), dtype=np.float32)
    return vectors[index.ravel()]


def pooled_windows(vectors: np.ndarray, windows: Windows, pool: str) -> np.ndarray:
    """Each window's event vectors pooled: ``mean``, or ``meanmax`` (mean and max side by
    side). Windows are contiguous runs of events, so the mean comes from running sums and the
    max from ``maximum.reduceat`` over (start, end) pairs."""
    start = windows.start.astype(np.int64)
    end = start + windows.length
    sums = np.vstack([np.zeros((1, vectors.shape[1])),
                      np.cumsum(vectors, axis=0, dtype=np.float64)])
    mean = ((sums[end] - sums[start]) / windows.length[:, None]).astype(np.float32)
    if pool == "mean":
        return mean
    padded = np.vstack([vectors, np.zeros((1, vectors.shape[1]), vectors.dtype)])
    bounds = np.ravel(np.column_stack([start, end]))
    top = np.maximum.reduceat(padded, bounds, axis=0)[::2]
    return np.hstack([mean, top])


def fit_sentence_reference(source, vectors: np.ndarray, pool: str,
                           seed: int = 0) -> Probe | None:
    """The logistic regression on pooled sentence vectors, fit on the source homes' training
    windows (C on their validation windows), every common label but the background."""
    data = []
    for split in SPLITS[:2]:
        w = source.windows.of_split(split)
        y = common_codes(source.home, source.fine_names)[w.fine]
        data.append((pooled_windows(vectors, w, pool)[y != 0], y[y != 0]))
    (x_train, y_train), (x_val, y_val) = data
    if len(np.unique(y_train)) < 2:
        return None
    return fit_probe(x_train, y_train, x_val, y_val, len(COMMON_LEVEL), seed=seed)


def class_scores(probe: Probe, x: np.ndarray) -> np.ndarray:
    """[windows, common labels] log-probabilities of a probe fit on common codes (-inf for a
    label it never saw)."""
    proba = np.full((len(x), len(COMMON_LEVEL)), -np.inf)
    proba[:, probe.model.classes_] = probe.model.predict_log_proba(probe.scaler.transform(x))
    return proba


def predict_among(probe: Probe, x: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """The probe's most probable label among ``candidates`` (the target's own activities)."""
    return nearest(class_scores(probe, x), candidates)


def caption_oracle(caption_vectors: np.ndarray, description_vectors: Sequence[np.ndarray],
                   candidates: np.ndarray) -> np.ndarray:
    """Each window's own caption vector (frozen text encoder, no sensor model) against the mean
    of each label's description vectors: what an encoder that reproduced every caption would
    score in zero-shot."""
    prototypes = label_prototypes(description_vectors)
    return nearest(np.asarray(caption_vectors, np.float32) @ prototypes.T, candidates)


def split_index(prep, split: str) -> np.ndarray:
    return np.flatnonzero(prep.windows.split == SPLITS.index(split))
