"""Statistics of an event log, and how far two logs are apart: the simulator's calibration.

``log_statistics`` summarises one parsed log (``casas.EventLog`` arrays) by what makes a home
look like a home: events per hour of day, gaps between events, how long motion sensors stay ON,
which sensors fire, runs of one sensor, the unlabelled share, and activity durations and counts
(an activity occurrence here is a maximal run of events with one label, which both a real and a
simulated log have). ``compare`` puts two of them side by side with a distance per statistic:
Kolmogorov-Smirnov for samples (gaps, ON times, run lengths, durations), Jensen-Shannon (base 2,
0 = identical, 1 = disjoint) for distributions over categories (hours, sensors, labels).

A short real log (the Milan excerpt covers 00:01-15:52 of one day) is compared on the same clock
hours only: ``clock_window`` finds them, ``restrict`` cuts the other log to them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.spatial.distance import jensenshannon
from scipy.stats import ks_2samp

from sensorclip.units import US_PER_DAY, US_PER_HOUR, US_PER_MIN, US_PER_S

QUANTILES = (0.1, 0.5, 0.9, 0.99)


@dataclass
class LogStatistics:
    days: float                    # calendar days with events (within the clock window)
    events: int
    hour_counts: np.ndarray        # [24] events per clock hour, per day
    gaps_s: np.ndarray             # seconds between consecutive events
    on_s: np.ndarray               # seconds each motion sensor stays ON
    sensor_share: dict[str, float]
    runs: np.ndarray               # lengths of runs of consecutive events from one sensor
    same_next: float               # share of events followed by one from the same sensor
    unlabelled: float              # share of events with no activity label
    label_share: dict[str, float]  # share of events per label (no_activity included)
    durations_min: np.ndarray      # minutes per activity occurrence (label run)
    occurrences: dict[str, float]  # occurrences per day, per label


def clock_window(time_us: np.ndarray) -> tuple[float, float]:
    """[first, last] clock hour (fractional) a log covers; the whole day once it spans one."""
    if len(time_us) == 0 or time_us[-1] - time_us[0] >= US_PER_DAY:
        return (0.0, 24.0)
    first, last = (time_us[[0, -1]] % US_PER_DAY) / US_PER_HOUR
    return (float(first), float(last)) if first <= last else (0.0, 24.0)


def restrict(time_us: np.ndarray, window: tuple[float, float]) -> np.ndarray:
    """Mask of the events whose clock hour lies in ``window``."""
    hour = (time_us % US_PER_DAY) / US_PER_HOUR
    return (hour >= window[0]) & (hour <= window[1])


def log_statistics(time_us: np.ndarray, sensor: np.ndarray, state: np.ndarray,
                   activity: np.ndarray, sensor_names: Sequence[str],
                   state_names: Sequence[str], activity_names: Sequence[str],
                   window: tuple[float, float] = (0.0, 24.0)) -> LogStatistics:
    """The statistics of one log's binary events (time-sorted), on the clock hours of
    ``window``. Gaps, runs and label runs are measured within each day's window only."""
    keep = restrict(time_us, window)
    time_us, sensor, state, activity = time_us[keep], sensor[keep], state[keep], activity[keep]
    day = time_us // US_PER_DAY
    days = float(len(np.unique(day)))
    same_day = day[1:] == day[:-1]
    same_sensor = sensor[1:] == sensor[:-1]
    hours = ((time_us % US_PER_DAY) // US_PER_HOUR).astype(int)
    runs = _run_lengths(sensor, day)
    starts, ends, labels = _label_runs(activity, day)
    active = activity[starts] != 0
    names = np.asarray(activity_names)
    return LogStatistics(
        days=days, events=len(time_us),
        hour_counts=np.bincount(hours, minlength=24) / max(days, 1e-9),
        gaps_s=np.diff(time_us)[same_day] / US_PER_S,
        on_s=on_durations(time_us, sensor, state, state_names),
        sensor_share=_shares(np.asarray(sensor_names)[sensor]),
        runs=runs, same_next=float(same_sensor[same_day].mean()) if same_day.any() else 0.0,
        unlabelled=float((activity == 0).mean()) if len(activity) else 0.0,
        label_share=_shares(names[activity]),
        durations_min=(time_us[ends - 1] - time_us[starts])[active] / US_PER_MIN,
        occurrences={k: v / max(days, 1e-9) for k, v in
                     zip(*np.unique(names[labels[active]], return_counts=True))})


def _shares(values: np.ndarray) -> dict[str, float]:
    names, counts = np.unique(values, return_counts=True)
    return {str(n): float(c / counts.sum()) for n, c in zip(names, counts)}


def _run_lengths(sensor: np.ndarray, day: np.ndarray) -> np.ndarray:
    if len(sensor) == 0:
        return np.zeros(0, int)
    change = np.r_[True, (sensor[1:] != sensor[:-1]) | (day[1:] != day[:-1])]
    return np.diff(np.r_[np.flatnonzero(change), len(sensor)])


def _label_runs(activity: np.ndarray, day: np.ndarray):
    """[start, end) and label of each maximal run of one label within a day."""
    if len(activity) == 0:
        empty = np.zeros(0, int)
        return empty, empty, empty
    change = np.r_[True, (activity[1:] != activity[:-1]) | (day[1:] != day[:-1])]
    starts = np.flatnonzero(change)
    ends = np.r_[starts[1:], len(activity)]
    return starts, ends, activity[starts]


def on_durations(time_us: np.ndarray, sensor: np.ndarray, state: np.ndarray,
                 state_names: Sequence[str]) -> np.ndarray:
    """Seconds from each ON to the next OFF of the same sensor (motion sensors)."""
    names = np.asarray(state_names)
    is_on, is_off = names[state] == "ON", names[state] == "OFF"
    pick = is_on | is_off
    order = np.lexsort((time_us[pick], sensor[pick]))
    t, s, on = time_us[pick][order], sensor[pick][order], is_on[pick][order]
    pair = on[:-1] & ~on[1:] & (s[:-1] == s[1:])
    return (t[1:][pair] - t[:-1][pair]) / US_PER_S


# ---------------------------------------------------------------------------------------------
# Side by side


@dataclass
class Row:
    key: str                       # the LogStatistics field it summarises
    statistic: str
    real: str
    simulated: str
    distance: float
    measure: str                   # KS, JS, abs. diff or rel. diff


def compare(real: LogStatistics, sim: LogStatistics) -> list[Row]:
    """One row per statistic: both summaries and their distance."""
    hours = (real.hour_counts > 0) | (sim.hour_counts > 0)
    per_day = real.events / max(real.days, 1e-9), sim.events / max(sim.days, 1e-9)

    def runs(s: LogStatistics) -> str:
        return f"{s.runs.mean():.2f} ({s.same_next:.2f})"

    return [
        Row("events", "events per day", f"{per_day[0]:.0f}", f"{per_day[1]:.0f}",
            _relative(*per_day), "rel. diff"),
        Row("hour_counts", "events per hour of day", _peak(real.hour_counts),
            _peak(sim.hour_counts), _js(real.hour_counts[hours], sim.hour_counts[hours]), "JS"),
        Row("gaps_s", "gap between events (s), q10/50/90/99", _quantiles(real.gaps_s),
            _quantiles(sim.gaps_s), _ks(real.gaps_s, sim.gaps_s), "KS"),
        Row("on_s", "motion ON duration (s), q10/50/90/99", _quantiles(real.on_s),
            _quantiles(sim.on_s), _ks(real.on_s, sim.on_s), "KS"),
        Row("sensor_share", "share of events per sensor", _top(real.sensor_share),
            _top(sim.sensor_share), _js_dicts(real.sensor_share, sim.sensor_share), "JS"),
        Row("runs", "same-sensor run length, mean (share next same)", runs(real), runs(sim),
            _ks(real.runs, sim.runs), "KS"),
        Row("unlabelled", "unlabelled events", f"{real.unlabelled:.1%}", f"{sim.unlabelled:.1%}",
            abs(real.unlabelled - sim.unlabelled), "abs. diff"),
        Row("label_share", "share of events per label", _top(real.label_share),
            _top(sim.label_share), _js_dicts(real.label_share, sim.label_share), "JS"),
        Row("durations_min", "activity duration (min), q10/50/90/99",
            _quantiles(real.durations_min), _quantiles(sim.durations_min),
            _ks(real.durations_min, sim.durations_min), "KS"),
        Row("occurrences", "activity occurrences per day (JS over labels)",
            f"{sum(real.occurrences.values()):.1f}", f"{sum(sim.occurrences.values()):.1f}",
            _js_dicts(real.occurrences, sim.occurrences), "JS"),
    ]


def _relative(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), 1e-9)


def _ks(a: np.ndarray, b: np.ndarray) -> float:
    return float(ks_2samp(a, b).statistic) if len(a) and len(b) else float("nan")


def _js(p: np.ndarray, q: np.ndarray) -> float:
    if p.sum() == 0 or q.sum() == 0:
        return float("nan")
    return float(jensenshannon(p / p.sum(), q / q.sum(), base=2))


def _js_dicts(p: dict[str, float], q: dict[str, float]) -> float:
    keys = sorted(set(p) | set(q))
    return _js(np.array([p.get(k, 0.0) for k in keys]), np.array([q.get(k, 0.0) for k in keys]))


def _quantiles(values: np.ndarray) -> str:
    if len(values) == 0:
        return "-"
    return " / ".join(f"{v:.3g}" for v in np.quantile(values, QUANTILES))


def _peak(counts: np.ndarray) -> str:
    return f"busiest {int(np.argmax(counts)):02d}h"


def _top(shares: dict[str, float], k: int = 3) -> str:
    best = sorted(shares.items(), key=lambda kv: -kv[1])[:k]
    return ", ".join(f"{name} {share:.0%}" for name, share in best)
