"""A smart-home simulator that writes realistic CASAS logs (format a) for any layout.

It feeds the demo data set (``data=demo``), the simulated CASAS homes (``data=milan_sim``,
``data=aruba_sim``), the tests and the benchmarks, so that nothing needs the licensed CASAS logs.
An *activity model* (YAML, ``sensorclip/data/activity_models/``, schema in
``sensorclip.data.simulator.model``) says what the resident does and how the sensors and the
annotator behave; the stages in ``sensorclip/data/simulator/`` turn it into a log:

    schedule (day-to-day variability, interruptions, time away)
      -> movement (bursts of motion, walks, doors, a visitor, a pet)
      -> sensors (faults; overlapping triggers merged into ON ... OFF pairs; temperatures)
      -> annotate (begin/end markers with fuzzy boundaries; unannotated occurrences)

Labels follow the reader's span rule (``sensorclip.data.casas``): the innermost open span wins.
Why all this: a simulated home as regular as a timetable makes every reference look strong and
every model look good; docs/simulator.md compares the output with a real log and measures how
hard the simulated homes are. The output is a pure function of (layout, activity model, days,
start date, seed), and parses back exactly with ``sensorclip.data.casas``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sensorclip.data.homes import Home
from sensorclip.data.simulator import annotate, movement, schedule, sensors
from sensorclip.data.simulator.model import (
    ActivityModel,
    activity_model_path,
    load_activity_model,
    parse_activity_model,
)
from sensorclip.data.simulator.movement import ORIGINS, Floor
from sensorclip.data.simulator.schedule import Span
from sensorclip.errors import SensorClipError

__all__ = ["ORIGINS", "ActivityModel", "SimulatedLog", "activity_model_path",
           "load_activity_model", "parse_activity_model", "simulate"]


@dataclass
class SimulatedLog:
    """Sorted events; ``marker`` is '' or 'Activity begin' / 'Activity end'. ``origin`` (index
    into ``ORIGINS``, -1 for temperature readings) and ``spans`` (every occurrence, annotated or
    not) are the ground truth the log itself does not show."""

    time_us: np.ndarray
    sensor: np.ndarray
    state: np.ndarray
    marker: np.ndarray
    sensor_names: list[str]
    state_names: list[str]
    origin: np.ndarray
    spans: list[Span]

    def lines(self) -> list[str]:
        stamps = np.datetime_as_string(self.time_us.astype("datetime64[us]"), unit="us")
        sensor_ids = np.asarray(self.sensor_names, dtype=object)[self.sensor]
        states = np.asarray(self.state_names, dtype=object)[self.state]
        return [f"{t[:10]} {t[11:]}\t{s}\t{st}\t{m}" if m else f"{t[:10]} {t[11:]}\t{s}\t{st}"
                for t, s, st, m in zip(stamps, sensor_ids, states, self.marker)]

    def write(self, path: str | Path) -> None:
        Path(path).write_text("\n".join(self.lines()) + "\n", encoding="utf-8")


def simulate(home: Home, model: ActivityModel, days: int, seed: int = 0,
             start_date: str = "2024-03-04") -> SimulatedLog:
    floor = Floor(home)
    _check_model_against_home(model, home, floor)
    day0 = int(np.datetime64(start_date, "D").astype("datetime64[us]").astype(np.int64))
    rng = np.random.default_rng(seed)
    out = movement.Emitter(model.motion, rng)
    lives = []                        # each resident's spans: their own draws of the same days
    for _ in range(model.residents):
        lives.append(schedule.schedule(model, days, day0, start_date, rng))
        movement.resident(lives[-1], model, floor, out, day0)
    movement.visitor(model, floor, out, day0, days)
    movement.pet(model, floor, out, day0, days)
    triggers = sensors.with_faults(out.table(), model.faults, floor, day0, days, rng)
    time, sensor, state, origin = sensors.events(sensors.merge(triggers), floor)
    readings = sensors.temperature(floor, model.numeric_every, day0, days, rng)
    markers = [m for spans in lives for m in annotate.marker_times(spans, model, rng)]
    if model.residents > 1:           # one annotation stream, as a two-resident CASAS log has
        markers.sort(key=lambda marker: marker[0])
    spans = [span for spans in lives for span in spans]
    log = _assemble(time, sensor, state, origin, readings, markers, floor, spans)
    log.time_us = sensors.stamp(log.time_us, model.motion.stamp_s)
    return log


def _assemble(time, sensor, state, origin, readings, markers, floor: Floor,
              spans: list[Span]) -> SimulatedLog:
    """Binary events and temperature readings in one time-sorted stream, markers placed."""
    state_names = list(sensors.STATES)
    value_names = sorted({f"{v:.1f}" for _, _, values in readings for v in values})
    state_names += value_names
    code = {name: i for i, name in enumerate(state_names)}
    parts = [(time, sensor, state, origin)]
    for times, sensor_code, values in readings:
        parts.append((times, np.full(len(times), sensor_code, np.int32),
                      np.array([code[f"{v:.1f}"] for v in values], dtype=np.int32),
                      np.full(len(times), -1, np.int8)))
    time, sensor, state, origin = (np.concatenate(column) for column in zip(*parts))
    order = np.argsort(time, kind="stable")
    time, sensor, state, origin = time[order], sensor[order], state[order], origin[order]
    marker = annotate.place(markers, time, origin >= 0)
    return SimulatedLog(time, sensor.astype(np.int32), state, marker, floor.ids, state_names,
                        origin, spans)


def _check_model_against_home(model: ActivityModel, home: Home, floor: Floor) -> None:
    """Every room and sensor the model names exists, and every activity can be seen."""
    rooms = set(home.room_names)

    def refuse(where: str, missing) -> None:
        raise SensorClipError(f"activity model {model.name!r}: {where} names {sorted(missing)}, "
                              f"which layout {home.name!r} does not have; use its rooms "
                              f"({', '.join(sorted(rooms))}) and sensor ids")

    for act in model.activities:
        missing = [r for r in act.rooms if r not in rooms]
        missing += [s for s in list(act.focus) + list(act.doors) if s not in home.sensors]
        if missing:
            refuse(f"activities.{act.name}", missing)
        kinds = {**dict.fromkeys(act.focus, "motion"), **dict.fromkeys(act.doors, "door")}
        wrong = [f"{s} (a {home.sensors[s].type} sensor, not {kind})"
                 for s, kind in kinds.items() if home.sensors[s].type != kind]
        if wrong:
            raise SensorClipError(f"activity model {model.name!r}: activities.{act.name} "
                                  f"focus lists motion sensors and doors lists doors: {wrong}")
        if len(floor.sensors_for(act)[0]) == 0:
            raise SensorClipError(f"activity model {model.name!r}: activities.{act.name} has no "
                                  f"motion sensor in {list(act.rooms)}; add a room with one or a "
                                  "focus sensor")
    visitor = model.visitor
    missing = [r for r in visitor.rooms if r not in rooms]
    missing += [visitor.door] if visitor.door and visitor.door not in home.sensors else []
    if missing:
        refuse("visitor", missing)
    if len(floor.motion) == 0:
        raise SensorClipError(f"layout {home.name!r} has no motion sensor to simulate")
