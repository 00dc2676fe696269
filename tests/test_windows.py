import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensorclip.config import SplitConfig, WindowConfig
from sensorclip.data.dataset import label_windows
from sensorclip.data.windows import (
    day_index,
    expand,
    majority,
    make_windows,
    split_days,
)
from sensorclip.errors import SensorClipError

DAY_US = 86_400_000_000


def synthetic_stream(draw_gaps, labels):
    """Sorted times from positive gaps (seconds) and per-event labels."""
    times = np.cumsum(np.asarray(draw_gaps, dtype=np.int64) * 1_000_000)
    return (np.datetime64("2024-01-01", "us") + times.astype("timedelta64[us]")), np.asarray(labels)


streams = st.integers(30, 400).flatmap(lambda n: st.tuples(
    st.lists(st.integers(1, 7200), min_size=n, max_size=n),
    st.lists(st.integers(0, 3), min_size=n, max_size=n)))


def build(gaps, labels, **kw):
    times, activity = synthetic_stream(gaps, labels)
    coarse = np.array([0, 1, 1, 2], dtype=np.int32)
    split = SplitConfig(train=1.0, val=0.0, test=0.0)
    return times, activity, make_windows(times, activity.astype(np.int32), coarse,
                                         WindowConfig(**kw), split)[0]


@settings(max_examples=60, deadline=None)
@given(streams, st.integers(2, 30), st.sampled_from([0.0, 0.25, 0.5, 0.75]))
def test_fixed_length_windows_have_exactly_n_events_and_never_cross_a_day(stream, size, overlap):
    gaps, labels = stream
    try:
        times, activity, w = build(gaps, labels, kind="length", size=size, overlap=overlap)
    except SensorClipError:
        day, _ = day_index(synthetic_stream(gaps, labels)[0])
        assert np.bincount(day).max() < size   # no window only when no day is long enough
        return
    assert np.all(w.length == size)
    day, _ = day_index(times)
    assert np.all(day[w.start] == day[w.start + w.length - 1])
    stride = max(1, round(size * (1 - overlap)))
    same_day = day[w.start[1:]] == day[w.start[:-1]]
    assert np.all(np.diff(w.start)[same_day] == stride)            # overlaps match the stride


@settings(max_examples=60, deadline=None)
@given(streams, st.sampled_from([30, 60, 300]), st.sampled_from([0.0, 0.5]))
def test_fixed_duration_windows_fit_their_duration(stream, seconds, overlap):
    gaps, labels = stream
    try:
        times, activity, w = build(gaps, labels, kind="duration", size=seconds, overlap=overlap,
                                   min_events=1)
    except SensorClipError:
        return
    t = times.astype(np.int64)
    last = w.start + w.length - 1
    assert np.all(t[last] - t[w.start] < seconds * 1_000_000)
    day, _ = day_index(times)
    assert np.all(day[w.start] == day[last])
    assert len(np.unique(np.stack([w.start, w.length]), axis=1).T) == len(w)   # no duplicates


@settings(max_examples=40, deadline=None)
@given(streams, st.integers(2, 12))
def test_presegmented_windows_stay_inside_one_activity(stream, size):
    gaps, labels = stream
    try:
        times, activity, w = build(gaps, labels, kind="length", size=size, presegment=True,
                                   min_events=1)
    except SensorClipError:
        return
    owner, index = expand(w.start, w.length)
    first_label = activity[w.start][owner]
    assert np.all(activity[index] == first_label)
    assert np.all(activity[w.start] != 0)                         # no_activity runs dropped
    assert np.all(w.length <= size)


def test_majority_labels_and_last_event_label():
    labels = np.array([1, 1, 2, 2, 2, 0, 3, 3])
    assert majority(labels, np.array([0, 2, 5]), np.array([3, 3, 3]), 4).tolist() == [1, 2, 3]
    assert majority(np.array([1, 2]), np.array([0]), np.array([2]), 3).tolist() == [1]   # tie
    gaps = [1] * 40
    times, activity, w = build(gaps, [1] * 15 + [2] * 25, kind="length", size=10, overlap=0.0)
    assert w.fine.tolist() == [1, 1, 2, 2]            # window 2 ties 5:5 -> lower index
    assert w.last_fine.tolist() == [1, 2, 2, 2]
    assert w.coarse.tolist() == [1, 1, 1, 1]


@given(st.integers(3, 400), st.integers(0, 10**6))
def test_split_days_assigns_whole_days_with_the_right_counts(n_days, seed):
    labels = split_days(n_days, SplitConfig(seed=seed))
    counts = np.bincount(labels, minlength=3)
    assert counts.sum() == n_days and np.all(counts >= 1)
    assert abs(counts[2] - 0.2 * n_days) <= 1 and abs(counts[1] - 0.1 * n_days) <= 1


def test_chronological_split_and_seeded_shuffle():
    chrono = split_days(10, SplitConfig(mode="chronological"))
    assert chrono.tolist() == [0] * 7 + [1] + [2] * 2
    seeded = [split_days(30, SplitConfig(seed=seed)).tolist() for seed in (1, 1, 2)]
    assert seeded[0] == seeded[1] != seeded[2]


def test_windows_split_by_whole_days(demo_events, demo_home):
    w = label_windows(demo_events.time, demo_events.activity, demo_events.activity_names,
                      demo_home, WindowConfig(), SplitConfig()).windows
    for d in np.unique(w.day):
        assert len(np.unique(w.split[w.day == d])) == 1
    assert set(np.unique(w.split)) == {0, 1, 2}


@pytest.mark.parametrize("kwargs, message", [
    (dict(kind="sliding"), "windows.kind"), (dict(overlap=1.0), "overlap"),
    (dict(size=2.5), "whole number of events"), (dict(min_events=0), "min_events"),
])
def test_bad_window_configs(kwargs, message):
    with pytest.raises(SensorClipError, match=message):
        WindowConfig(**kwargs)


def test_bad_splits_and_oversized_windows():
    with pytest.raises(SensorClipError, match="sum to 1"):
        SplitConfig(train=0.5, val=0.1, test=0.1)
    with pytest.raises(SensorClipError, match="at least 3"):
        split_days(2, SplitConfig())
    with pytest.raises(SensorClipError, match="no windows"):
        build([1] * 30, [0] * 30, kind="length", size=50)
