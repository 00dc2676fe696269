"""Windows over the event stream, labels per window, and the train/val/test split by whole days.

A window is a contiguous run of events ``[start, start + length)`` of the time-sorted event
arrays, so a whole data set of windows is two integer arrays, not a list of samples.

Kinds (``WindowConfig.kind``):
- ``length``: exactly ``size`` events; stride = max(1, round(size * (1 - overlap))). A day with
  fewer than ``size`` events gives no window, and the last < stride events of a day may start
  none.
- ``duration``: all events in ``[t0, t0 + size seconds)`` where t0 runs over a grid with step
  size * (1 - overlap) seconds anchored at the segment's first event. Grid cells with fewer than
  ``min_events`` events are dropped, so are cells with the same events as the previous cell; a
  window longer than ``max_events`` keeps its first ``max_events`` events.

Windows never cross midnight (a day is the unit of the split). With ``presegment`` the day is
first cut into maximal runs of one fine activity (``no_activity`` runs dropped unless
``include_no_activity``); windows then stay inside a run, and a run shorter than one window becomes
a single window of its own length (at least ``min_events``). ``max_gap_minutes`` drops windows with
a longer silence inside.

Labels per window: the majority fine label and the majority coarse label over its events (ties go
to the lower label index), and the fine/coarse label of its last event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from sensorclip.config import SplitConfig, WindowConfig
from sensorclip.errors import SensorClipError
from sensorclip.units import US_PER_MIN, US_PER_S

SPLITS = ("train", "val", "test")


@dataclass
class Windows:
    start: np.ndarray        # int64 index of the first event
    length: np.ndarray       # int32 number of events
    day: np.ndarray          # int32 index into days
    split: np.ndarray        # int8 index into SPLITS
    fine: np.ndarray         # int32 majority fine label
    coarse: np.ndarray       # int32 majority coarse label
    last_fine: np.ndarray    # int32 fine label of the last event
    last_coarse: np.ndarray  # int32 coarse label of the last event

    def __len__(self) -> int:
        return len(self.start)

    def subset(self, mask_or_index: np.ndarray) -> Windows:
        return Windows(**{k: v[mask_or_index] for k, v in asdict(self).items()})

    def of_split(self, name: str) -> Windows:
        return self.subset(self.split == SPLITS.index(name))


# ---------------------------------------------------------------------------------------------
# Days and splits


def day_index(times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-event day code (0..n_days-1) for sorted times, and the calendar days."""
    days = times.astype("datetime64[D]")
    change = np.flatnonzero(days[1:] != days[:-1]) + 1
    codes = np.zeros(len(times), dtype=np.int32)
    codes[change] = 1
    return np.cumsum(codes, dtype=np.int32), days[np.r_[0, change]] if len(times) else days


def split_days(n_days: int, config: SplitConfig) -> np.ndarray:
    """Split index (0 train, 1 val, 2 test) per day; every split with a nonzero share gets a day."""
    fractions = np.array([config.train, config.val, config.test])
    wanted = fractions > 0
    if n_days < wanted.sum():
        raise SensorClipError(
            f"the log covers {n_days} day(s) but the split needs at least {int(wanted.sum())} "
            "(one per split with a nonzero fraction); use a longer log or set a fraction to 0")
    counts = np.where(wanted, np.maximum(1, np.round(fractions * n_days)), 0).astype(int)
    counts[0] = n_days - counts[1:].sum()
    if wanted[0] and counts[0] < 1:
        raise SensorClipError(f"with {n_days} days the val/test fractions leave no training day")
    labels = np.repeat(np.arange(3, dtype=np.int8), counts)
    if config.mode == "shuffled":
        order = np.random.default_rng(config.seed).permutation(n_days)
        shuffled = np.empty(n_days, dtype=np.int8)
        shuffled[order] = labels
        return shuffled
    return labels


# ---------------------------------------------------------------------------------------------
# Windowing


def segments(day: np.ndarray, activity: np.ndarray | None = None,
             drop_activity: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """[start, end) of maximal runs of equal day (and activity, when given)."""
    if len(day) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    change = day[1:] != day[:-1]
    if activity is not None:
        change |= activity[1:] != activity[:-1]
    starts = np.r_[0, np.flatnonzero(change) + 1].astype(np.int64)
    ends = np.r_[starts[1:], len(day)].astype(np.int64)
    if activity is not None and drop_activity is not None:
        keep = activity[starts] != drop_activity
        starts, ends = starts[keep], ends[keep]
    return starts, ends


def length_windows(seg_start: np.ndarray, seg_end: np.ndarray, size: int, stride: int,
                   short_min: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Fixed-length windows inside each segment; ``short_min`` keeps short segments whole."""
    n = seg_end - seg_start
    count = np.where(n >= size, (n - size) // stride + 1, 0)
    starts = _ragged_arange(seg_start, count, stride)
    lengths = np.full(len(starts), size, dtype=np.int64)
    if short_min is not None:
        short = (n < size) & (n >= short_min)
        starts = np.r_[starts, seg_start[short]]
        lengths = np.r_[lengths, n[short]]
    order = np.argsort(starts, kind="stable")
    return starts[order], lengths[order]


def duration_windows(times_us: np.ndarray, seg_start: np.ndarray, seg_end: np.ndarray,
                     seconds: float, stride_s: float, min_events: int,
                     max_events: int) -> tuple[np.ndarray, np.ndarray]:
    """Windows of all events within ``seconds`` of grid points spaced ``stride_s`` apart."""
    if len(seg_start) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    width, step = int(seconds * US_PER_S), max(1, int(stride_s * US_PER_S))
    t_first, t_last = times_us[seg_start], times_us[seg_end - 1]
    count = (t_last - t_first) // step + 1
    segment = np.repeat(np.arange(len(seg_start)), count)
    grid = _ragged_arange(t_first, count, step)
    lo = np.maximum(np.searchsorted(times_us, grid, side="left"), seg_start[segment])
    hi = np.minimum(np.searchsorted(times_us, grid + width, side="left"), seg_end[segment])
    fresh = np.r_[True, (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])]
    keep = fresh & (hi - lo >= min_events)
    lo, hi = lo[keep], hi[keep]
    return lo, np.minimum(hi - lo, max_events)


def _ragged_arange(first: np.ndarray, count: np.ndarray, step: int) -> np.ndarray:
    """Concatenation of first[i] + step * arange(count[i]) over i, without a Python loop."""
    count = np.asarray(count, dtype=np.int64)
    total = int(count.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    owner = np.repeat(np.arange(len(count)), count)
    offsets = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
    return np.asarray(first, dtype=np.int64)[owner] + step * offsets


def drop_long_gaps(times_us, starts, lengths, max_gap_minutes: float):
    big = np.r_[0, np.cumsum(np.diff(times_us) > max_gap_minutes * US_PER_MIN)]
    ok = big[starts + lengths - 1] == big[starts]
    return starts[ok], lengths[ok]


def expand(starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(window id, event index) for every event of every window."""
    owner = np.repeat(np.arange(len(starts)), lengths)
    return owner, _ragged_arange(starts, lengths, 1)


def majority(labels: np.ndarray, starts: np.ndarray, lengths: np.ndarray,
             n_labels: int) -> np.ndarray:
    """Most frequent label per window (ties -> lowest label index)."""
    owner, index = expand(starts, lengths)
    counts = np.bincount(owner * n_labels + labels[index],
                         minlength=len(starts) * n_labels).reshape(len(starts), n_labels)
    return counts.argmax(axis=1).astype(np.int32)


def make_windows(times: np.ndarray, activity: np.ndarray, coarse_of_fine: np.ndarray,
                 config: WindowConfig, split: SplitConfig,
                 no_activity: int = 0) -> tuple[Windows, np.ndarray]:
    """Windows with labels and splits over a sorted event stream; also returns the days."""
    times_us = times.astype("datetime64[us]").astype(np.int64)
    day, days = day_index(times)
    if config.presegment:
        drop = None if config.include_no_activity else no_activity
        seg_start, seg_end = segments(day, activity, drop)
    else:
        seg_start, seg_end = segments(day)
    if config.kind == "length":
        short_min = config.min_events if config.presegment else None
        starts, lengths = length_windows(seg_start, seg_end, int(config.size),
                                         int(config.stride), short_min)
    else:
        starts, lengths = duration_windows(times_us, seg_start, seg_end, config.size,
                                           config.stride, config.min_events, config.max_events)
    if config.max_gap_minutes is not None and len(starts):
        starts, lengths = drop_long_gaps(times_us, starts, lengths, config.max_gap_minutes)
    if len(starts) == 0:
        per_day = np.bincount(day) if len(day) else np.zeros(1, int)
        raise SensorClipError(
            f"no windows: {config.kind} windows of size {config.size} do not fit the data "
            f"(busiest day has {int(per_day.max())} events over {len(days)} day(s)); "
            "lower windows.size or use a longer log")
    coarse_events = coarse_of_fine[activity]
    last = starts + lengths - 1
    day_split = split_days(len(days), split)
    n_fine, n_coarse = len(coarse_of_fine), int(coarse_of_fine.max()) + 1
    windows = Windows(
        start=starts.astype(np.int64), length=lengths.astype(np.int32),
        day=day[starts], split=day_split[day[starts]],
        fine=majority(activity, starts, lengths, n_fine),
        coarse=majority(coarse_events, starts, lengths, n_coarse),
        last_fine=activity[last].astype(np.int32), last_coarse=coarse_events[last].astype(np.int32))
    return windows, days


def coarse_vocabulary(fine_names: Sequence[str], coarse_of) -> tuple[list[str], np.ndarray]:
    """Coarse names (sorted) and the fine-code -> coarse-code map."""
    coarse_names = sorted({coarse_of(f) for f in fine_names})
    index = {c: i for i, c in enumerate(coarse_names)}
    return coarse_names, np.array([index[coarse_of(f)] for f in fine_names], dtype=np.int32)
