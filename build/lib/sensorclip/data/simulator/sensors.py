"""Triggers -> events: what the sensors get wrong, and what they write.

Faults (``faults`` in the activity model), applied to the people's triggers:
- ``missed``: a trigger never reaches the log (neither its ON nor its OFF);
- ``spurious_per_hour``: lone short triggers of a random motion sensor, at any hour;
- ``stuck_per_day``: a motion sensor goes ON and stays ON for ``stuck_minutes``; whatever it
  would have reported meanwhile disappears into that one long ON;
- ``door_left_open``: after this share of door uses the door stays open ``door_open_minutes``.

A motion sensor that is still ON when it is triggered again stays ON (real sensors re-arm
their timer), so overlapping triggers of one sensor merge into one ON ... OFF pair: every ON
has its OFF and every OPEN its CLOSE. Temperature sensors report on their own, every
``numeric_every`` minutes, a daily curve plus noise.
"""

from __future__ import annotations

import numpy as np

from sensorclip.data.simulator.model import Faults
from sensorclip.data.simulator.movement import ORIGINS, Floor, Triggers
from sensorclip.units import US_PER_DAY, US_PER_HOUR, US_PER_MIN, US_PER_S

STATES = ("ON", "OFF", "OPEN", "CLOSE")
STAMP_SPREAD_US = 100          # microseconds within a clock tick that keep events in order


def with_faults(triggers: Triggers, faults: Faults, floor: Floor, day0: int, days: int,
                rng: np.random.Generator) -> Triggers:
    """The people's triggers after the sensors' faults (see the module docstring)."""
    kept = triggers.subset(rng.random(len(triggers)) >= faults.missed)
    is_door = np.isin(kept.sensor, floor.doors)
    left_open = is_door & (rng.random(len(kept)) < faults.door_left_open)
    kept.off[left_open] = kept.on[left_open] + (
        rng.uniform(*faults.door_open_minutes, size=int(left_open.sum())) * US_PER_MIN
    ).astype(np.int64)
    return Triggers.concat([kept, _spurious(faults, floor, day0, days, rng),
                            _stuck(faults, floor, day0, days, rng)])


def _spurious(faults: Faults, floor: Floor, day0: int, days: int,
              rng: np.random.Generator) -> Triggers:
    n = rng.poisson(faults.spurious_per_hour * 24 * days)
    on = day0 + rng.integers(0, days * US_PER_DAY, size=n)
    off = on + (rng.uniform(0.5, 3.0, size=n) * US_PER_S).astype(np.int64)
    return Triggers(on, off, floor.motion[rng.integers(len(floor.motion), size=n)].astype(np.int32),
                    np.full(n, ORIGINS.index("spurious"), np.int8))


def _stuck(faults: Faults, floor: Floor, day0: int, days: int,
           rng: np.random.Generator) -> Triggers:
    n = rng.poisson(faults.stuck_per_day * days)
    on = day0 + rng.integers(0, days * US_PER_DAY, size=n)
    off = on + (rng.uniform(*faults.stuck_minutes, size=n) * US_PER_MIN).astype(np.int64)
    return Triggers(on, off, floor.motion[rng.integers(len(floor.motion), size=n)].astype(np.int32),
                    np.full(n, ORIGINS.index("stuck"), np.int8))


def merge(triggers: Triggers) -> Triggers:
    """Overlapping triggers of one sensor as one activation (the first one's origin)."""
    if len(triggers) == 0:
        return triggers
    order = np.lexsort((triggers.on, triggers.sensor))
    t = triggers.subset(order)
    t0 = int(t.on.min())
    span = int(max(t.off.max(), t.on.max()) - t0) + 1
    # one number line for all sensors: each sensor's times sit in their own stretch of it
    key_on = t.sensor.astype(np.int64) * span + (t.on - t0)
    key_off = t.sensor.astype(np.int64) * span + (t.off - t0)
    reach = np.maximum.accumulate(key_off)
    fresh = np.r_[True, key_on[1:] > reach[:-1]]
    heads = np.flatnonzero(fresh)
    return Triggers(t.on[heads], np.maximum.reduceat(t.off, heads), t.sensor[heads],
                    t.origin[heads])


def events(triggers: Triggers, floor: Floor) -> tuple[np.ndarray, ...]:
    """(time, sensor, state code into STATES, origin) sorted by time: ON/OFF for motion and
    OPEN/CLOSE for doors."""
    door = np.isin(triggers.sensor, floor.doors)
    first = np.where(door, STATES.index("OPEN"), STATES.index("ON"))
    second = np.where(door, STATES.index("CLOSE"), STATES.index("OFF"))
    time = np.r_[triggers.on, triggers.off]
    order = np.argsort(time, kind="stable")
    return (time[order], np.r_[triggers.sensor, triggers.sensor][order],
            np.r_[first, second][order].astype(np.int32),
            np.r_[triggers.origin, triggers.origin][order])


def stamp(time_us: np.ndarray, resolution_s: float) -> np.ndarray:
    """Times as a logger with a coarse clock writes them: the start of their tick, plus a few
    microseconds that grow with the true time within the tick, so the order survives (the real
    logs look like that: 00:01:04.000059, 00:01:06.000046)."""
    tick = int(resolution_s * US_PER_S)
    if tick <= 1:
        return time_us
    return time_us // tick * tick + (time_us % tick) * STAMP_SPREAD_US // tick


def temperature(floor: Floor, every: tuple[float, float], day0: int, days: int,
                rng: np.random.Generator) -> list[tuple[np.ndarray, int, np.ndarray]]:
    """(times, sensor code, values) per numeric sensor: a daily curve with noise, in 0.5 steps."""
    readings = []
    for sensor in floor.home.sensors.values():
        if not sensor.is_numeric:
            continue
        gaps = rng.uniform(*every, size=int(days * 24 * 60 / every[0]) + 1) * US_PER_MIN
        times = day0 + np.cumsum(gaps).astype(np.int64)
        times = times[times < day0 + days * US_PER_DAY]
        hours = (times % US_PER_DAY) / US_PER_HOUR
        values = 21 + 1.5 * np.sin(2 * np.pi * (hours - 9) / 24)
        values = np.round((values + rng.normal(0, 0.3, len(times))) * 2) / 2
        readings.append((times, floor.code[sensor.id], values))
    return readings
