"""Spans -> sensor triggers: where the resident, a visitor and a pet set the sensors off.

A *trigger* is one activation: a motion sensor ON at ``on`` and OFF at ``off`` (a door OPEN and
CLOSE). People move in bursts: within an activity, bursts start at random (``rate /
burst`` per minute) and hold a geometric number of triggers (mean ``burst``) a log-normal step
apart (``motion.step_median_s``); the next trigger of a burst stays on the same sensor with
``motion.stay``, else picks one of the activity's sensors (``focus`` weights some up). That
gives the short gaps, the repeats of one sensor and the long still stretches of real logs.
Between activities the resident walks along the motion sensors between the two rooms and
potters (``motion.idle_rate``) in the room last used; while away nothing of theirs fires.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sensorclip.data.homes import Home
from sensorclip.data.simulator.model import Activity, ActivityModel, Motion
from sensorclip.data.simulator.schedule import Span
from sensorclip.units import US_PER_DAY, US_PER_MIN, US_PER_S

ORIGINS = ("resident", "visitor", "pet", "spurious", "stuck")
NEIGHBOURS = 3                      # a pet steps to one of the nearest motion sensors
PATH_REACH = 0.12                   # walks pass sensors this close (share of the home's size)


@dataclass
class Triggers:
    on: np.ndarray          # int64 microseconds
    off: np.ndarray         # int64 microseconds, > on
    sensor: np.ndarray      # int32 index into the home's sensor ids
    origin: np.ndarray      # int8 index into ORIGINS

    def __len__(self) -> int:
        return len(self.on)

    def subset(self, keep: np.ndarray) -> Triggers:
        return Triggers(self.on[keep], self.off[keep], self.sensor[keep], self.origin[keep])

    @staticmethod
    def concat(parts: list[Triggers]) -> Triggers:
        if not parts:
            empty = np.zeros(0, np.int64)
            return Triggers(empty, empty, empty.astype(np.int32), empty.astype(np.int8))
        return Triggers(*(np.concatenate([getattr(p, k) for p in parts])
                          for k in ("on", "off", "sensor", "origin")))


class Floor:
    """The layout as the simulator needs it: sensor codes by room, walking paths, neighbours."""

    def __init__(self, home: Home):
        self.home = home
        self.ids = list(home.sensor_ids)
        self.code = {sid: i for i, sid in enumerate(self.ids)}
        self.by_room: dict[str, np.ndarray] = {}
        for s in home.sensors.values():
            if s.type == "motion":
                self.by_room.setdefault(s.room, []).append(self.code[s.id])
        self.by_room = {room: np.array(codes) for room, codes in self.by_room.items()}
        self.motion = np.array(sorted(c for codes in self.by_room.values() for c in codes))
        self.doors = np.array([self.code[s.id] for s in home.sensors.values()
                               if s.type == "door"], dtype=np.int64)
        self.xy = np.array([home.sensors[sid].xy for sid in self.ids], dtype=float)
        self._paths: dict[tuple[str, str], np.ndarray] = {}

    def rooms_with_motion(self, rooms) -> list[str]:
        return [r for r in rooms if r in self.by_room]

    def sensors_for(self, act: Activity) -> tuple[np.ndarray, np.ndarray]:
        """The activity's motion sensors and the chance of each per pick."""
        codes = [c for room in act.rooms for c in self.by_room.get(room, [])]
        codes += [self.code[s] for s in act.focus if self.code[s] not in codes]
        weights = np.array([1.0 + act.focus.get(self.ids[c], 0.0) for c in codes])
        return np.array(codes, dtype=np.int64), weights / weights.sum()

    def path(self, here: str, there: str) -> np.ndarray:
        """Motion sensors near the straight line between two room centres, in walking order."""
        key = (here, there)
        if key not in self._paths:
            self._paths[key] = self._straight_path(here, there)
        return self._paths[key]

    def _straight_path(self, here: str, there: str) -> np.ndarray:
        if here == there or here not in self.by_room or there not in self.by_room:
            return np.zeros(0, np.int64)
        a = np.asarray(self.home.room_centre(here))
        direction = np.asarray(self.home.room_centre(there)) - a
        length = float(np.hypot(*direction)) or 1.0
        reach = PATH_REACH * float(max(self.home.size))
        rel = self.xy[self.motion] - a
        along = rel @ direction / length
        across = np.abs(direction[0] * rel[:, 1] - direction[1] * rel[:, 0]) / length
        near = (along > -reach) & (along < length + reach) & (across < reach)
        return self.motion[near][np.argsort(along[near], kind="stable")]

    def neighbours(self) -> np.ndarray:
        """[motion sensors, NEIGHBOURS]: codes of each motion sensor's nearest others."""
        points = self.xy[self.motion]
        distance = np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1))
        np.fill_diagonal(distance, np.inf)
        k = min(NEIGHBOURS, len(self.motion) - 1)
        return self.motion[np.argsort(distance, axis=1)[:, :max(k, 1)]]


class Emitter:
    """Collects triggers; holds (ON times) come from the motion settings."""

    def __init__(self, motion: Motion, rng: np.random.Generator):
        self.motion, self.rng = motion, rng
        self.parts: list[Triggers] = []

    def add(self, times: np.ndarray, codes: np.ndarray, origin: str,
            hold_s: np.ndarray | None = None) -> tuple[int, int] | None:
        """Triggers at ``times``; returns (first ON, last OFF), None when there are none."""
        times = np.asarray(times, dtype=np.int64)
        if len(times) == 0:
            return None
        if hold_s is None:
            hold_s = self.rng.lognormal(np.log(self.motion.hold_median_s),
                                        self.motion.hold_sigma, size=len(times))
        off = times + (np.maximum(hold_s, 0.5) * US_PER_S).astype(np.int64)
        self.parts.append(Triggers(times, off, np.asarray(codes, dtype=np.int32),
                                   np.full(len(times), ORIGINS.index(origin), np.int8)))
        return int(times.min()), int(off.max())

    def table(self) -> Triggers:
        return Triggers.concat(self.parts)


def bursts(rng: np.random.Generator, motion: Motion, start: int, end: int, rate: float,
           burst: float, codes: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Trigger times and sensors of bursty movement over [start, end) (see the module doc)."""
    burst = max(burst, 1.0)
    n = rng.poisson(rate * (end - start) / US_PER_MIN / burst) if end > start else 0
    if n == 0 or len(codes) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    begins = np.sort(rng.integers(start, end, size=n))
    sizes = rng.geometric(1 / burst, size=n)
    total = int(sizes.sum())
    opens = np.cumsum(sizes) - sizes
    steps = rng.lognormal(np.log(motion.step_median_s), motion.step_sigma, size=total) * US_PER_S
    steps[opens] = 0
    elapsed = np.cumsum(steps)
    times = np.repeat(begins, sizes) + (elapsed - np.repeat(elapsed[opens], sizes)).astype(np.int64)
    picks = rng.choice(len(codes), size=total, p=p)
    fresh = rng.random(total) >= motion.stay
    fresh[opens] = True
    holder = np.maximum.accumulate(np.where(fresh, np.arange(total), 0))
    keep = times < end
    return times[keep], codes[picks[holder]][keep]


# ---------------------------------------------------------------------------------------------
# The resident


def resident(spans: list[Span], model: ActivityModel, floor: Floor, out: Emitter,
             day0: int) -> None:
    """Every span's motion and doors, the walks between them and the pottering in the gaps;
    sets each span's ``first``/``last``."""
    free_from, room = day0, None
    for span in spans:
        here = room or span.activity.rooms[0]
        _potter(model.motion, floor, out, here, free_from, span.start - 30 * US_PER_S)
        walk(floor, out, here, span.activity.rooms[0], span.start)
        perform(span, model, floor, out)
        free_from = span.leaves + US_PER_MIN
        room = span.activity.rooms[-1]


def perform(span: Span, model: ActivityModel, floor: Floor, out: Emitter) -> None:
    """One span: bursts in its rooms (paused while an interruption runs), its doors, the time
    away and the return, then its interruptions with the walks there and back."""
    act, rng = span.activity, out.rng
    codes, p = floor.sensors_for(act)
    times, sensors = bursts(rng, model.motion, span.start, span.end, act.rate,
                            act.burst or model.motion.burst, codes, p)
    times, sensors = np.r_[span.start, times], np.r_[codes[rng.choice(len(codes), p=p)], sensors]
    if len(act.rooms) > 1 and not act.focus:          # a round of the rooms, in order
        sensors = _round(floor, act, times, span, rng)
    for child in span.children:
        busy = (times >= child.start - 20 * US_PER_S) & (times <= child.leaves + 20 * US_PER_S)
        times, sensors = times[~busy], sensors[~busy]
    edges = [out.add(times, sensors, "resident")]
    edges += _doors(act, span, floor, out)
    if act.away:
        edges.append(_come_back(span, floor, codes, p, out))
    edges = [e for e in edges if e]
    span.first = min(e[0] for e in edges)
    span.last = max(e[1] for e in edges)
    for child in span.children:
        walk(floor, out, act.rooms[-1], child.activity.rooms[0], child.start)
        perform(child, model, floor, out)
        walk(floor, out, child.activity.rooms[-1], act.rooms[0],
             child.leaves + walk_time(floor, model.motion, child.activity.rooms[-1],
                                      act.rooms[0]))


def _round(floor: Floor, act: Activity, times: np.ndarray, span: Span,
           rng: np.random.Generator) -> np.ndarray:
    """Sensors of a tour through the activity's rooms in the listed order (chores, a toilet
    trip): the span's time is cut into equal stages, one per room."""
    rooms = floor.rooms_with_motion(act.rooms)
    stage = ((times - span.start) * len(rooms) // max(span.end - span.start, 1)).astype(int)
    stage = np.minimum(stage, len(rooms) - 1)
    return np.array([rng.choice(floor.by_room[rooms[k]]) for k in stage], dtype=np.int64)


def _doors(act: Activity, span: Span, floor: Floor, out: Emitter) -> list:
    edges = []
    for door, moment in act.doors.items():
        at = span.start if moment == "start" else span.end
        edges.append(_use_door(floor.code[door], at, out))
    return edges


def _use_door(code: int, at: int, out: Emitter) -> tuple[int, int] | None:
    opened = at + int(out.rng.uniform(0, 5) * US_PER_S)
    return out.add(np.array([opened]), np.array([code]), "resident",
                   hold_s=out.rng.uniform(3, 20, size=1))


def _come_back(span: Span, floor: Floor, codes: np.ndarray, p: np.ndarray,
               out: Emitter) -> tuple[int, int] | None:
    """The return from time away: the same doors (unless the return is an activity of its
    own), then a few triggers by the entrance. It ends the span when ``away_labelled``."""
    act, rng = span.activity, out.rng
    edges = []
    if not act.on_return:
        edges += [_use_door(floor.code[d], span.back, out) for d, m in act.doors.items()
                  if m == "end"]
    steps = span.back + np.cumsum(rng.uniform(2, 6, size=rng.integers(2, 5))) * US_PER_S
    edges.append(out.add(steps.astype(np.int64), codes[rng.choice(len(codes), len(steps), p=p)],
                         "resident"))
    edges = [e for e in edges if e]
    if not act.away_labelled or not edges:
        return None
    return min(e[0] for e in edges), max(e[1] for e in edges)


def walk_time(floor: Floor, motion: Motion, here: str, there: str) -> int:
    """The longest a walk between two rooms takes."""
    return int(len(floor.path(here, there)) * motion.walk_step_s[1] * US_PER_S)


def walk(floor: Floor, out: Emitter, here: str, there: str, arrive: int) -> None:
    """The motion sensors between two rooms, one after another, ending just before ``arrive``."""
    path = floor.path(here, there)
    if len(path) == 0:
        return
    steps = np.cumsum(out.rng.uniform(*out.motion.walk_step_s, size=len(path))) * US_PER_S
    times = arrive - US_PER_S - (steps[-1] - steps).astype(np.int64)
    out.add(times, path, "resident")


def _potter(motion: Motion, floor: Floor, out: Emitter, room: str, start: int,
            end: int) -> None:
    """Sparse unlabelled movement in one room while nothing is scheduled."""
    codes = floor.by_room.get(room)
    if codes is None or end <= start:
        return
    times, sensors = bursts(out.rng, motion, start, end, motion.idle_rate, motion.burst,
                            codes, np.full(len(codes), 1 / len(codes)))
    out.add(times, sensors, "resident")


# ---------------------------------------------------------------------------------------------
# Others in the home


def visitor(model: ActivityModel, floor: Floor, out: Emitter, day0: int, days: int) -> None:
    """Now and then someone else spends a while in the home, moving from room to room at the
    same time as the resident; the annotation ignores them."""
    v, rng = model.visitor, out.rng
    rooms = floor.rooms_with_motion(v.rooms) or list(floor.by_room)
    for d in range(days):
        if rng.random() >= v.per_day:
            continue
        arrive = day0 + d * US_PER_DAY + int(rng.uniform(*v.arrive) * US_PER_MIN)
        leave = arrive + int(rng.uniform(*v.duration) * US_PER_MIN)
        if v.door:
            for at in (arrive, leave):
                out.add(np.array([at]), np.array([floor.code[v.door]]), "visitor",
                        hold_s=rng.uniform(3, 15, size=1))
        t, room = arrive, rooms[rng.integers(len(rooms))]
        while t < leave:
            until = min(leave, t + int(rng.uniform(*v.room_minutes) * US_PER_MIN))
            codes = floor.by_room[room]
            times, sensors = bursts(rng, model.motion, t, until, v.rate, model.motion.burst,
                                    codes, np.full(len(codes), 1 / len(codes)))
            out.add(times, sensors, "visitor")
            t, room = until, rooms[rng.integers(len(rooms))]


def pet(model: ActivityModel, floor: Floor, out: Emitter, day0: int, days: int) -> None:
    """Short walks between neighbouring motion sensors at any hour."""
    rng, walks = out.rng, model.pet.walks_per_hour * 24 * days
    n = rng.poisson(walks) if walks else 0
    if n == 0 or len(floor.motion) < 2:
        return
    table = floor.neighbours()
    position = {c: i for i, c in enumerate(floor.motion)}
    low, high = model.pet.steps
    lengths = rng.integers(int(low), int(high) + 1, size=n)
    current = floor.motion[rng.integers(len(floor.motion), size=n)]
    t = day0 + rng.integers(0, days * US_PER_DAY, size=n)
    for step in range(int(lengths.max())):
        moving = lengths > step
        out.add(t[moving], current[moving], "pet")
        rows = np.array([position[c] for c in current])
        current = table[rows, rng.integers(table.shape[1], size=n)]
        t = t + (rng.uniform(1, 4, size=n) * US_PER_S).astype(np.int64)
