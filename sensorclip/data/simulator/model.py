"""Activity models: what a simulated resident does, how the sensors see it, how it is annotated.

An activity model is a YAML file (shipped ones in ``sensorclip/data/activity_models/``)::

    name: milan
    routine:    {day_shift_sd: 25, weekend_shift: 40}          # day-to-day variability
    motion:     {hold_median_s: 3, step_median_s: 1.6, ...}    # how motion sensors fire
    annotation: {boundary_sd_s: 40, unannotated: 0.1}          # how the labels were written
    faults:     {missed: 0.02, spurious_per_hour: 0.5, ...}    # sensor faults
    visitor:    {per_day: 0.08, rooms: [living_room, kitchen], door: D001}
    pet:        {walks_per_hour: 1.5}
    activities:
      Kitchen_Activity:
        rooms: [kitchen]
        focus: {M022: 3}                 # sensors the resident is near more often
        start: ["07:50", "12:10"]        # preferred clock times
        duration: [15, 40]               # minutes
        rate: 6                          # motion triggers per minute
        interruptions: {Guest_Bathroom: 0.15, Phone: 0.2}

Every section but ``activities`` is optional, and so is every key: the defaults below are the
ones calibrated against the real Milan excerpt (docs/simulator.md), so a model that states only
its activities gets realistic sensors and annotation. A mistake names the file, the key and the
fix (``SensorClipError``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from sensorclip.errors import SensorClipError

MODEL_DIR = Path(__file__).resolve().parent.parent / "activity_models"
DAY_RULES = ("all", "weekdays", "weekends")
DOOR_MOMENTS = ("start", "end")
# Keys of the first model format and where they live now.
MOVED_KEYS = {"idle_rate": "motion.idle_rate", "spurious_per_hour": "faults.spurious_per_hour"}


class ModelError(ValueError):
    """A mistake in an activity model; the loader adds the file name."""


# ---------------------------------------------------------------------------------------------
# Value parsers: each takes (value, where) and says what it expected when the value is wrong


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ModelError(f"{where} must be a number, got {value!r}")
    return float(value)


def _count(value: Any, where: str) -> int:
    number = _number(value, where)
    if number != int(number) or number < 0:
        raise ModelError(f"{where} must be a whole number >= 0, got {value!r}")
    return int(number)


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ModelError(f"{where} must be true or false, got {value!r}")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ModelError(f"{where} must be a name, got {value!r}")
    return value.strip()


def _optional_text(value: Any, where: str) -> str | None:
    return None if value is None else _text(value, where)


def _range(value: Any, where: str) -> tuple[float, float]:
    """[low, high] with low <= high; a single number means exactly that value."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (float(value), float(value))
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ModelError(f"{where} must be [low, high], got {value!r}")
    low, high = (_number(v, where) for v in value)
    if low > high:
        raise ModelError(f"{where} must be [low, high] with low <= high, got {value!r}")
    return (low, high)


def _optional_range(value: Any, where: str) -> tuple[float, float] | None:
    return None if value is None else _range(value, where)


def _clock(value: Any, where: str) -> float:
    """'HH:MM' -> minutes after midnight."""
    try:
        hours, minutes = str(value).split(":")
        result = int(hours) * 60 + float(minutes)
    except ValueError:
        raise ModelError(f"{where} must be a clock time 'HH:MM', got {value!r}") from None
    if not 0 <= result < 24 * 60:
        raise ModelError(f"{where} must lie between 00:00 and 23:59, got {value!r}")
    return result


def _clocks(value: Any, where: str) -> tuple[float, ...]:
    values = [value] if isinstance(value, (str, int, float)) else value
    if not isinstance(values, (list, tuple)):
        raise ModelError(f"{where} must be a clock time or a list of them, got {value!r}")
    return tuple(_clock(v, where) for v in values)


def _clock_range(value: Any, where: str) -> tuple[float, float]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ModelError(f"{where} must be ['HH:MM', 'HH:MM'], got {value!r}")
    low, high = (_clock(v, where) for v in value)
    if low >= high:
        raise ModelError(f"{where} must run forward within one day, got {value!r}")
    return (low, high)


def _names(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise ModelError(f"{where} must be a list of names, got {value!r}")
    return tuple(_text(v, where) for v in value)


def _weights(value: Any, where: str) -> dict[str, float]:
    if not isinstance(value, Mapping):
        raise ModelError(f"{where} must be a mapping {{name: number}}, got {value!r}")
    return {_text(k, where): _number(v, f"{where}.{k}") for k, v in value.items()}


def _door_moments(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ModelError(f"{where} must be a mapping {{door: start|end}}, got {value!r}")
    out = {}
    for door, moment in value.items():
        if moment not in DOOR_MOMENTS:
            raise ModelError(f"{where}.{door} must be start or end, got {moment!r}")
        out[_text(door, where)] = moment
    return out


def _share(value: Any, where: str) -> float:
    number = _number(value, where)
    if not 0 <= number <= 1:
        raise ModelError(f"{where} must lie in [0, 1], got {value!r}")
    return number


def _optional_share(value: Any, where: str) -> float | None:
    return None if value is None else _share(value, where)


def _positive(value: Any, where: str) -> float:
    number = _number(value, where)
    if number < 0:
        raise ModelError(f"{where} must be >= 0, got {value!r}")
    return number


def _day_rule(value: Any, where: str) -> str:
    if value not in DAY_RULES:
        raise ModelError(f"{where} must be one of {', '.join(DAY_RULES)}, got {value!r}")
    return value


def parsed(default: Any, parse: Callable[[Any, str], Any]) -> Any:
    """A dataclass field with its default and the parser that reads it from YAML."""
    if isinstance(default, (dict, list)):
        return field(default_factory=lambda: type(default)(default), metadata={"parse": parse})
    return field(default=default, metadata={"parse": parse})


# ---------------------------------------------------------------------------------------------
# The schema. Defaults are the Milan calibration (docs/simulator.md).


@dataclass(frozen=True)
class Routine:
    """How one day differs from the next."""

    day_shift_sd: float = parsed(25.0, _positive)      # minutes: the whole day moves together
    weekend_shift: float = parsed(40.0, _number)       # minutes later on Saturdays and Sundays
    extra_hours: tuple[float, float] = parsed((8 * 60.0, 22 * 60.0), _clock_range)  # extras
    squeeze_limit: float = parsed(90.0, _positive)     # minutes an activity may be pushed late
    #                                                    before that day's occurrence is skipped


@dataclass(frozen=True)
class Motion:
    """How motion sensors see a moving person."""

    hold_median_s: float = parsed(3.0, _positive)      # ON time of a single trigger
    hold_sigma: float = parsed(0.45, _positive)        # log-normal spread of the ON time
    step_median_s: float = parsed(1.6, _positive)      # between triggers within a burst
    step_sigma: float = parsed(0.9, _positive)
    burst: float = parsed(4.0, _positive)              # mean triggers per burst (geometric)
    stay: float = parsed(0.45, _share)                 # next trigger of a burst: same sensor
    walk_step_s: tuple[float, float] = parsed((1.0, 3.0), _range)   # per sensor on a walk
    idle_rate: float = parsed(0.15, _positive)         # triggers/minute between activities
    stamp_s: float = parsed(1.0, _positive)            # the logger's clock: times are whole
    #                                                    multiples of this (0: exact)


@dataclass(frozen=True)
class Annotation:
    """How the (simulated) annotator labelled the log."""

    boundary_sd_s: float = parsed(45.0, _positive)     # begin/end marks miss the edges by this
    unannotated: float = parsed(0.1, _share)           # occurrences nobody labelled


@dataclass(frozen=True)
class Faults:
    """What goes wrong with the sensors."""

    missed: float = parsed(0.02, _share)               # triggers that never reach the log
    spurious_per_hour: float = parsed(0.4, _positive)  # lone triggers of a random motion sensor
    stuck_per_day: float = parsed(0.1, _positive)      # a motion sensor stays ON ...
    stuck_minutes: tuple[float, float] = parsed((15.0, 90.0), _range)   # ... this long
    door_left_open: float = parsed(0.05, _share)       # door uses after which it stays open ...
    door_open_minutes: tuple[float, float] = parsed((5.0, 45.0), _range)  # ... this long


@dataclass(frozen=True)
class Visitor:
    """Someone else in the home now and then, moving at the same time (never annotated)."""

    per_day: float = parsed(0.1, _share)               # probability of a visit on a day
    arrive: tuple[float, float] = parsed((10 * 60.0, 19 * 60.0), _clock_range)
    duration: tuple[float, float] = parsed((45.0, 180.0), _range)   # minutes
    rate: float = parsed(2.0, _positive)               # triggers/minute
    rooms: tuple[str, ...] = parsed((), _names)        # empty: every room with motion sensors
    door: str | None = parsed(None, _optional_text)    # opened on arrival and departure
    room_minutes: tuple[float, float] = parsed((5.0, 30.0), _range)  # before changing room


@dataclass(frozen=True)
class Pet:
    """A pet that wanders at any hour: short walks between neighbouring motion sensors."""

    walks_per_hour: float = parsed(0.0, _positive)
    steps: tuple[float, float] = parsed((2.0, 5.0), _range)


@dataclass(frozen=True)
class Activity:
    name: str
    rooms: tuple[str, ...] = parsed((), _names)
    start: tuple[float, ...] = parsed((), _clocks)     # preferred clock times
    start_sd: float = parsed(20.0, _positive)          # minutes
    duration: tuple[float, float] = parsed((10.0, 20.0), _range)    # minutes, uniform
    rate: float = parsed(1.0, _positive)               # motion triggers per minute
    burst: float | None = parsed(None, _positive)      # None: motion.burst
    days: str = parsed("all", _day_rule)
    probability: float = parsed(1.0, _share)           # per preferred start time (within:
    #                                                    per possible occurrence)
    extra: float = parsed(0.0, _positive)              # unscheduled occurrences per day (mean)
    focus: dict[str, float] = parsed({}, _weights)     # sensor -> extra weight
    doors: dict[str, str] = parsed({}, _door_moments)  # door -> start | end
    away: tuple[float, float] | None = parsed(None, _optional_range)  # minutes out of the home
    away_labelled: bool = parsed(False, _flag)         # the span lasts until the return
    on_return: str | None = parsed(None, _optional_text)  # activity on coming back
    within: str | None = parsed(None, _optional_text)  # only ever inside this activity
    max_count: int = parsed(1, _count)                 # within: most per parent occurrence
    interruptions: dict[str, float] = parsed({}, _weights)  # activity -> probability
    labelled: bool = parsed(True, _flag)               # false: background, never annotated
    label: str | None = parsed(None, _optional_text)   # the label written (default: the name),
    #                                                    so two behaviours can share one label
    unannotated: float | None = parsed(None, _optional_share)   # None: annotation.unannotated


@dataclass(frozen=True)
class ActivityModel:
    name: str
    activities: tuple[Activity, ...]
    routine: Routine = field(default_factory=Routine)
    motion: Motion = field(default_factory=Motion)
    annotation: Annotation = field(default_factory=Annotation)
    faults: Faults = field(default_factory=Faults)
    visitor: Visitor = field(default_factory=Visitor)
    pet: Pet = field(default_factory=Pet)
    numeric_every: tuple[float, float] = (20.0, 40.0)  # minutes between temperature readings
    residents: int = 1      # 2: a second person living the same model's days, on their own draws

    def activity(self, name: str) -> Activity:
        return next(a for a in self.activities if a.name == name)

    def label(self, activity: Activity) -> str:
        return activity.label or activity.name

    def unannotated(self, activity: Activity) -> float:
        if not activity.labelled:
            return 1.0
        return (self.annotation.unannotated if activity.unannotated is None
                else activity.unannotated)


SECTIONS = {"routine": Routine, "motion": Motion, "annotation": Annotation, "faults": Faults,
            "visitor": Visitor, "pet": Pet}


# ---------------------------------------------------------------------------------------------
# Loading


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
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SensorClipError(f"{path}: not valid YAML ({exc})") from None
    return parse_activity_model(raw, source=str(path))


def parse_activity_model(raw: Any, source: str = "activity model") -> ActivityModel:
    """The model from its YAML mapping; every mistake is a ``SensorClipError`` naming ``source``
    and the key."""
    try:
        return _parse(raw)
    except ModelError as exc:
        raise SensorClipError(f"{source}: {exc}") from None


def _parse(raw: Any) -> ActivityModel:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("activities"), Mapping):
        raise ModelError("needs an 'activities' mapping {name: {rooms: [...], ...}}")
    top = {"name", "activities", "numeric_every", "residents", *SECTIONS}
    for key in raw:
        if key in MOVED_KEYS:
            raise ModelError(f"'{key}' moved to {MOVED_KEYS[key]}; write it there")
        if key not in top:
            raise ModelError(f"unknown key {key!r}; known: {', '.join(sorted(top))}")
    sections = {key: _build(cls, raw.get(key) or {}, key) for key, cls in SECTIONS.items()}
    activities = tuple(_build(Activity, spec or {}, f"activities.{name}", name=str(name))
                       for name, spec in raw["activities"].items())
    residents = _count(raw.get("residents", 1), "residents")
    if residents not in (1, 2):
        raise ModelError(f"residents must be 1 or 2, got {residents}")
    model = ActivityModel(name=str(raw.get("name", "model")), activities=activities,
                          numeric_every=_range(raw.get("numeric_every", (20, 40)),
                                               "numeric_every"), residents=residents,
                          **sections)
    _check_references(model)
    return model


def _build(cls, raw: Any, where: str, **given):
    """One section (or activity) from its mapping: unknown keys and bad values are named."""
    if not isinstance(raw, Mapping):
        raise ModelError(f"{where} must be a mapping, got {raw!r}")
    known = {f.name: f for f in fields(cls) if f.name not in given}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ModelError(f"{where}: unknown key(s) {', '.join(map(str, unknown))}; "
                         f"known: {', '.join(sorted(known))}")
    values = {key: known[key].metadata["parse"](value, f"{where}.{key}")
              for key, value in raw.items()}
    missing = [f.name for f in known.values()
               if f.default is MISSING and f.default_factory is MISSING and f.name not in values]
    if missing:
        raise ModelError(f"{where}: missing {', '.join(missing)}")
    return cls(**given, **values)


def _check_references(model: ActivityModel) -> None:
    """Names between activities resolve, and every activity can happen somehow."""
    names = {a.name for a in model.activities}
    referenced = set()
    for act in model.activities:
        where = f"activities.{act.name}"
        if not act.rooms:
            raise ModelError(f"{where}.rooms: list at least one room of the layout")
        targets = [("within", act.within), ("on_return", act.on_return)]
        targets += [("interruptions", name) for name in act.interruptions]
        for key, target in targets:
            if target is not None and target not in names:
                raise ModelError(f"{where}.{key} names unknown activity {target!r}; "
                                 f"known: {', '.join(sorted(names))}")
            if target == act.name:
                raise ModelError(f"{where}.{key} names the activity itself")
            referenced.add(target)
        for key, share in act.interruptions.items():
            if not 0 <= share <= 1:
                raise ModelError(f"{where}.interruptions.{key} must lie in [0, 1]")
        if act.on_return and not act.away:
            raise ModelError(f"{where}.on_return needs away: [min, max] minutes")
    if model.visitor.room_minutes[0] <= 0:
        raise ModelError("visitor.room_minutes must be above 0 minutes")
    for act in model.activities:
        scheduled = act.start or act.extra > 0
        if act.within and scheduled:
            raise ModelError(f"activities.{act.name}: within activities happen only inside "
                             "their parent; remove start/extra")
        if not (scheduled or act.within or act.name in referenced):
            raise ModelError(f"activities.{act.name} never happens: give it start times, "
                             "extra > 0, within: PARENT, or name it in another activity's "
                             "interruptions or on_return")
