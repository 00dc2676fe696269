"""A smart-home simulator that writes realistic CASAS logs (format a) for any layout.

It feeds the demo data set (``data=demo``), the tests and the benchmarks, so that nothing needs the
licensed CASAS logs. An *activity model* (YAML, see ``sensorclip/activity_models/``) gives a daily
schedule: each activity has rooms, preferred start times, a duration range, a motion rate, the days
it happens on and optional doors; ``within: Parent`` activities nest inside another one's span
(a night-time toilet trip inside Sleep). The simulator then emits

- motion ON/OFF pairs from the activity's rooms (sensors with a ``focus`` weight fire more often),
- door OPEN/CLOSE pairs at the start or end of an activity,
- a walk along the sensors between two rooms when consecutive activities change room,
- sparse idle motion between activities, silence while the resident is away,
- a little noise (spurious triggers, jittered OFF delays) and periodic temperature readings,

with ``begin``/``end`` markers on the first and last event of each activity. The output is a pure
function of (layout, activity model, days, start date, seed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sensorclip.data.homes import Home
from sensorclip.errors import SensorClipError
from sensorclip.units import US_PER_DAY, US_PER_HOUR, US_PER_MIN, US_PER_S

MODEL_DIR = Path(__file__).resolve().parent / "activity_models"


@dataclass(frozen=True)
class Activity:
    name: str
    rooms: tuple[str, ...]
    start: tuple[float, ...] = ()          # preferred start times, minutes after midnight
    start_sd: float = 20.0                 # minutes
    duration: tuple[float, float] = (10.0, 20.0)   # minutes, uniform
    rate: float = 1.0                      # motion triggers per minute
    days: str = "all"                      # all | weekdays | weekends
    probability: float = 1.0
    focus: Mapping[str, float] = field(default_factory=dict)
    doors: Mapping[str, str] = field(default_factory=dict)  # door id -> start | end
    away: tuple[float, float] | None = None  # minutes of silence after the activity
    within: str | None = None              # nest inside this activity's span
    max_count: int = 1                     # nested: most occurrences per parent span


@dataclass(frozen=True)
class ActivityModel:
    name: str
    activities: tuple[Activity, ...]
    idle_rate: float = 0.05                # triggers per minute between activities
    spurious_per_hour: float = 0.3
    numeric_every: tuple[float, float] = (20.0, 40.0)  # minutes between numeric readings


# ---------------------------------------------------------------------------------------------
# Activity models


def activity_model_path(name_or_path: str | Path) -> Path:
    """A shipped activity model's file (by name) or the given YAML path; one clear error."""
    path = Path(name_or_path)
    if not path.suffix:
        path = MODEL_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        shipped = ", ".join(sorted(p.stem for p in MODEL_DIR.glob("*.yaml")))
        raise SensorClipError(f"activity model {name_or_path!r} not found; use one of {shipped} "
                              "or a path to a YAML file")
    return path


def load_activity_model(name_or_path: str | Path) -> ActivityModel:
    path = activity_model_path(name_or_path)
    raw = yaml.safe_load(path.read_text())
    try:
        return parse_activity_model(raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise SensorClipError(f"{path}: invalid activity model ({exc})") from None


def parse_activity_model(raw: Mapping[str, Any]) -> ActivityModel:
    activities = []
    for name, spec in raw["activities"].items():
        spec = dict(spec)
        starts = spec.pop("start", [])
        starts = [starts] if isinstance(starts, str) else starts
        activities.append(Activity(
            name=name,
            rooms=tuple(spec.pop("rooms")),
            start=tuple(_minutes(s) for s in starts),
            duration=tuple(float(v) for v in spec.pop("duration", (10, 20))),
            away=tuple(float(v) for v in spec.pop("away")) if "away" in spec else None,
            **spec))
    known = {a.name for a in activities}
    for act in activities:
        if act.within and act.within not in known:
            raise ValueError(f"{act.name}.within names unknown activity {act.within!r}")
        if not act.within and not act.start:
            raise ValueError(f"{act.name} needs a start time (or within: PARENT)")
    return ActivityModel(name=raw.get("name", "model"), activities=tuple(activities),
                         idle_rate=float(raw.get("idle_rate", 0.05)),
                         spurious_per_hour=float(raw.get("spurious_per_hour", 0.3)),
                         numeric_every=tuple(raw.get("numeric_every", (20.0, 40.0))))


def _minutes(hhmm: str) -> float:
    hours, minutes = str(hhmm).split(":")
    return int(hours) * 60 + float(minutes)


# ---------------------------------------------------------------------------------------------
# Simulation


@dataclass
class SimulatedLog:
    """Sorted events; ``marker`` is '' or 'Activity begin' / 'Activity end'."""

    time_us: np.ndarray
    sensor: np.ndarray
    state: np.ndarray
    marker: np.ndarray
    sensor_names: list[str]
    state_names: list[str]

    def lines(self) -> list[str]:
        stamps = np.datetime_as_string(self.time_us.astype("datetime64[us]"), unit="us")
        sensors = np.asarray(self.sensor_names, dtype=object)[self.sensor]
        states = np.asarray(self.state_names, dtype=object)[self.state]
        return [f"{t[:10]} {t[11:]}\t{s}\t{st}\t{m}" if m else f"{t[:10]} {t[11:]}\t{s}\t{st}"
                for t, s, st, m in zip(stamps, sensors, states, self.marker)]

    def write(self, path: str | Path) -> None:
        Path(path).write_text("\n".join(self.lines()) + "\n", encoding="utf-8")


def simulate(home: Home, model: ActivityModel, days: int, seed: int = 0,
             start_date: str = "2024-03-04") -> SimulatedLog:
    if days < 1:
        raise SensorClipError(f"data.days must be at least 1, got {days}")
    _check_model_against_home(model, home)
    rng = np.random.default_rng(seed)
    world = _World(home, rng)
    day0 = np.datetime64(start_date, "D").astype("datetime64[us]").astype(np.int64)
    spans = _schedule(model, days, day0, start_date, rng)
    for span in spans:
        world.activity(span)
    _fill_gaps(world, spans, model, day0, days, rng)
    world.noise(model, day0, days)
    world.numeric(model, day0, days)
    return world.collect()


@dataclass
class _Span:
    activity: Activity
    start: int                 # microseconds since epoch
    end: int
    children: list[_Span] = field(default_factory=list)


def _check_model_against_home(model: ActivityModel, home: Home) -> None:
    rooms = set(home.room_names)
    for act in model.activities:
        missing = [r for r in act.rooms if r not in rooms]
        missing += [s for s in list(act.focus) + list(act.doors) if s not in home.sensors]
        if missing:
            raise SensorClipError(f"activity model {model.name!r}: {act.name} names "
                                  f"{missing}, which layout {home.name!r} does not have")


def _day_matches(rule: str, weekday: int) -> bool:
    return rule == "all" or (rule == "weekdays") == (weekday < 5)


def _schedule(model, days, day0, start_date, rng) -> list[_Span]:
    """Place each day's activities in time without overlaps; nest the ``within`` ones."""
    first_weekday = date.fromisoformat(start_date).weekday()
    wanted = []
    for d in range(days):
        weekday = (first_weekday + d) % 7
        for act in model.activities:
            if act.within or not _day_matches(act.days, weekday):
                continue
            for start in act.start:
                if rng.random() < act.probability:
                    t = day0 + d * US_PER_DAY + (start + rng.normal(0, act.start_sd)) * US_PER_MIN
                    wanted.append((int(t), act))
    wanted.sort(key=lambda item: item[0])
    spans: list[_Span] = []
    cursor = day0
    for start, act in wanted:
        earliest = cursor + int(rng.uniform(1, 4) * US_PER_MIN)
        if start < earliest:
            if earliest - start > 90 * US_PER_MIN:
                continue  # squeezed out by a long earlier activity: skip today's instance
            start = earliest
        length = int(rng.uniform(*act.duration) * US_PER_MIN)
        span = _Span(act, start, start + length)
        spans.append(span)
        cursor = span.end
        if act.away:
            cursor += int(rng.uniform(*act.away) * US_PER_MIN)
    _nest_children(model, spans, rng)
    return spans


def _nest_children(model, spans, rng) -> None:
    for child in (a for a in model.activities if a.within):
        for parent in (s for s in spans if s.activity.name == child.within):
            count = sum(rng.random() < child.probability for _ in range(child.max_count))
            slots = np.sort(rng.uniform(0.15, 0.85, size=count))
            last_end = parent.start
            for slot in slots:
                start = max(int(parent.start + slot * (parent.end - parent.start)),
                            last_end + 5 * US_PER_MIN)
                end = start + int(rng.uniform(*child.duration) * US_PER_MIN)
                if end >= parent.end - 5 * US_PER_MIN:
                    break
                parent.children.append(_Span(child, start, end))
                last_end = end


def _fill_gaps(world, spans, model, day0, days, rng) -> None:
    """Walks between rooms of consecutive activities and idle motion in the gaps."""
    for prev, nxt in zip(spans, spans[1:]):
        gap_start = prev.end + (int(rng.uniform(*prev.activity.away) * US_PER_MIN)
                                if prev.activity.away else 0)
        if nxt.start <= gap_start:
            continue
        here, there = prev.activity.rooms[-1], nxt.activity.rooms[0]
        if prev.activity.away is None:
            world.idle(here, gap_start, nxt.start, model.idle_rate)
        if here != there:
            world.walk(here, there, nxt.start)


class _World:
    """Accumulates events as arrays; all randomness flows from one generator."""

    def __init__(self, home: Home, rng: np.random.Generator):
        self.home, self.rng = home, rng
        self.sensor_names = list(home.sensor_ids)
        self.state_names = ["ON", "OFF", "OPEN", "CLOSE"]
        self.index = {sid: i for i, sid in enumerate(self.sensor_names)}
        self.motion_by_room: dict[str, list[str]] = {}
        for s in home.sensors.values():
            if s.type == "motion":
                self.motion_by_room.setdefault(s.room, []).append(s.id)
        self.parts: list[tuple[np.ndarray, ...]] = []
        self.markers: list[tuple[int, str]] = []
        self.numeric_values: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    # -- emitters -----------------------------------------------------------------------------
    def _emit(self, times, sensors, states, markers=None):
        n = len(times)
        markers = np.full(n, "", dtype=object) if markers is None else markers
        self.parts.append((np.asarray(times, dtype=np.int64),
                           np.asarray(sensors, dtype=np.int32),
                           np.asarray(states, dtype=np.int32), markers))

    def _pulses(self, times, sensor_ids, on="ON", off="OFF", hold=(1.5, 8.0)):
        """Each trigger gives ON at t and OFF a few seconds later."""
        times = np.asarray(times, dtype=np.int64)
        codes = np.array([self.index[s] for s in sensor_ids], dtype=np.int32)
        offs = times + (self.rng.uniform(*hold, size=len(times)) * US_PER_S).astype(np.int64)
        self._emit(np.concatenate([times, offs]), np.concatenate([codes, codes]),
                   np.concatenate([np.full(len(times), self.state_names.index(on)),
                                   np.full(len(times), self.state_names.index(off))]))
        return times, offs, codes

    def _sensors_for(self, act: Activity) -> tuple[list[str], np.ndarray]:
        ids = [s for room in act.rooms for s in self.motion_by_room.get(room, [])]
        ids += [s for s in act.focus if s not in ids]
        weights = np.array([1.0 + act.focus.get(s, 0.0) for s in ids])
        return ids, weights / weights.sum()

    def activity(self, span: _Span) -> None:
        act = span.activity
        ids, weights = self._sensors_for(act)
        minutes = (span.end - span.start) / US_PER_MIN
        n = max(2, self.rng.poisson(act.rate * minutes))
        times = np.sort(self.rng.integers(span.start, span.end, size=n))
        times[0] = span.start
        for child in span.children:          # the resident is elsewhere during a nested span
            times = times[(times < child.start) | (times > child.end)]
        chosen = [ids[i] for i in self.rng.choice(len(ids), size=len(times), p=weights)]
        if len(act.rooms) > 1 and not act.focus:   # a route: visit the rooms in order
            chosen = self._route(act, times)
        on, off, codes = self._pulses(times, chosen)
        door_times = self._doors(act, span)
        first = min([on[0]] + [t for t, _ in door_times])
        last = max([off[-1]] + [t for t, _ in door_times])
        self._mark(first, last, act.name)
        for child in span.children:
            self.activity(child)

    def _route(self, act: Activity, times: np.ndarray) -> list[str]:
        stage = np.minimum((np.linspace(0, 1, len(times), endpoint=False) * len(act.rooms))
                           .astype(int), len(act.rooms) - 1)
        return [self.rng.choice(self.motion_by_room[act.rooms[k]]) for k in stage]

    def _doors(self, act: Activity, span: _Span) -> list[tuple[int, str]]:
        events = []
        for door, when in act.doors.items():
            at = span.start if when == "start" else span.end
            opened = at + int(self.rng.uniform(0, 5) * US_PER_S)
            closed = opened + int(self.rng.uniform(3, 20) * US_PER_S)
            self._emit([opened, closed], [self.index[door]] * 2,
                       [self.state_names.index("OPEN"), self.state_names.index("CLOSE")])
            events += [(opened, door), (closed, door)]
        return events

    def _mark(self, first: int, last: int, name: str) -> None:
        """Tag the activity's first and last events (located after sorting) with markers."""
        self.markers += [(first, f"{name} begin"), (last, f"{name} end")]

    def walk(self, here: str, there: str, arrive: int) -> None:
        path = self._path(here, there)
        if not path:
            return
        steps = np.cumsum(self.rng.uniform(2, 5, size=len(path)) * US_PER_S).astype(np.int64)
        self._pulses(arrive - steps[-1] + steps - steps[0] - US_PER_S, path, hold=(1.0, 4.0))

    def _path(self, here: str, there: str) -> list[str]:
        """Motion sensors near the straight line between two room centres, in walking order."""
        if not (self.motion_by_room.get(here) and self.motion_by_room.get(there)):
            return []
        a, b = np.asarray(self.home.room_centre(here)), np.asarray(self.home.room_centre(there))
        direction = b - a
        length = float(np.hypot(*direction)) or 1.0
        reach = 0.12 * float(max(self.home.size))
        found = []
        for sid in (s for ids in self.motion_by_room.values() for s in ids):
            p = np.asarray(self.home.sensors[sid].xy)
            along = float(np.dot(p - a, direction)) / length
            across = abs(float(np.cross(direction, p - a))) / length
            if -reach < along < length + reach and across < reach:
                found.append((along, sid))
        return [sid for _, sid in sorted(found)]

    def idle(self, room: str, start: int, end: int, rate: float) -> None:
        ids = self.motion_by_room.get(room)
        n = self.rng.poisson(rate * (end - start) / US_PER_MIN)
        if not ids or n == 0:
            return
        times = self.rng.integers(start, end, size=n)
        self._pulses(times, [ids[i] for i in self.rng.integers(0, len(ids), size=n)])

    def noise(self, model: ActivityModel, day0: int, days: int) -> None:
        ids = [s for room_ids in self.motion_by_room.values() for s in room_ids]
        n = self.rng.poisson(model.spurious_per_hour * 24 * days)
        times = self.rng.integers(day0, day0 + days * US_PER_DAY, size=n)
        self._pulses(times, [ids[i] for i in self.rng.integers(0, len(ids), size=n)],
                     hold=(0.5, 3.0))

    def numeric(self, model: ActivityModel, day0: int, days: int) -> None:
        for s in (s for s in self.home.sensors.values() if s.is_numeric):
            gaps = self.rng.uniform(*model.numeric_every, size=int(days * 24 * 60 /
                                    model.numeric_every[0]) + 1) * US_PER_MIN
            times = day0 + np.cumsum(gaps).astype(np.int64)
            times = times[times < day0 + days * US_PER_DAY]
            hours = (times % US_PER_DAY) / US_PER_HOUR
            values = 21 + 1.5 * np.sin(2 * np.pi * (hours - 9) / 24)
            values = np.round((values + self.rng.normal(0, 0.3, len(times))) * 2) / 2
            self.numeric_values.append((times, np.full(len(times), self.index[s.id]), values))

    # -- output -------------------------------------------------------------------------------
    def collect(self) -> SimulatedLog:
        times = np.concatenate([p[0] for p in self.parts])
        sensors = np.concatenate([p[1] for p in self.parts])
        states = np.concatenate([p[2] for p in self.parts])
        markers = np.concatenate([p[3] for p in self.parts])
        state_names = list(self.state_names)
        for t, s, v in self.numeric_values:
            codes = []
            for value in v:
                text = f"{value:.1f}"
                if text not in state_names:
                    state_names.append(text)
                codes.append(state_names.index(text))
            times = np.concatenate([times, t])
            sensors = np.concatenate([sensors, s.astype(np.int32)])
            states = np.concatenate([states, np.asarray(codes, dtype=np.int32)])
            markers = np.concatenate([markers, np.full(len(t), "", dtype=object)])
        order = np.argsort(times, kind="stable")
        times, sensors, states, markers = (a[order] for a in (times, sensors, states, markers))
        is_numeric = np.isin(sensors, [self.index[s.id] for s in self.home.sensors.values()
                                        if s.is_numeric])
        for at, text in self.markers:
            i = int(np.searchsorted(times, at))
            # two markers never share an event, and markers sit on binary sensors only
            while i < len(times) - 1 and (markers[i] or is_numeric[i]):
                i += 1
            markers[i] = text
        return SimulatedLog(times, sensors, states, markers, self.sensor_names, state_names)
