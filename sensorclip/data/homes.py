"""Home layouts: where each sensor sits, what it is, and how activities are named.

A layout is a small YAML/JSON file (schema below). It is validated on load so that a typo
surfaces as one message naming the file, the field and the fix, not as a KeyError later.

    name: my_home
    floor_plan: plan.png        # optional, relative to the layout file
    floor_plan_transform: [sx, sy, ox, oy]   # optional: pixel = (sx * x + ox, sy * y + oy)
    size: [width, height]       # coordinate space of xy
    rooms: {kitchen: [x0, y0, x1, y1]}                 # optional
    sensors: {M001: {room: kitchen, xy: [120, 340], type: motion, detail: fridge}}
    labels: {Kitchen_Activity: Cook}                     # optional fine -> coarse label map
    common: {Kitchen_Activity: cook}     # optional fine -> common name (sensorclip.data.vocabulary)
    descriptions: {Cook: ["someone is cooking in the kitchen"]}   # optional, for zero-shot
    activity_ids: {1: Fill_medication_dispenser}   # optional: logs that annotate by number
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sensorclip.data.vocabulary import COMMON_NAMES, check_common_map, unmapped
from sensorclip.errors import LayoutError

LAYOUT_DIR = Path(__file__).resolve().parent / "layouts"
NO_ACTIVITY = "no_activity"
NO_ACTIVITY_COARSE = "No_Activity"

# Sensor types whose readings are numbers: kept out of the token stream.
NUMERIC_TYPES = frozenset({"temperature", "humidity", "light_level", "battery", "analog", "power"})


@dataclass(frozen=True)
class Sensor:
    id: str
    room: str
    xy: tuple[float, float]
    type: str
    detail: str | None = None

    @property
    def is_numeric(self) -> bool:
        return self.type in NUMERIC_TYPES


@dataclass(frozen=True)
class Home:
    name: str
    size: tuple[float, float]
    sensors: Mapping[str, Sensor]
    rooms: Mapping[str, tuple[float, float, float, float]] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    descriptions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    common: Mapping[str, str] = field(default_factory=dict)     # fine label -> common name
    # logs that annotate activities by number (ADL multi-resident, interweave): id -> label
    activity_ids: Mapping[str, str] = field(default_factory=dict)
    floor_plan: Path | None = None
    floor_plan_transform: tuple[float, float, float, float] | None = None
    source: Path | None = None

    @property
    def sensor_ids(self) -> list[str]:
        return list(self.sensors)

    @property
    def room_names(self) -> list[str]:
        """Rooms in a stable order: declared rectangles first, then rooms only sensors name."""
        names = list(self.rooms)
        for sensor in self.sensors.values():
            if sensor.room not in names:
                names.append(sensor.room)
        return names

    def room_centre(self, room: str) -> tuple[float, float]:
        """Centre of the room's rectangle, else the mean position of its sensors."""
        if room in self.rooms:
            x0, y0, x1, y1 = self.rooms[room]
            return ((x0 + x1) / 2, (y0 + y1) / 2)
        points = [s.xy for s in self.sensors.values() if s.room == room]
        if not points:
            raise KeyError(f"room {room!r} has neither a rectangle nor sensors in {self.name}")
        return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))

    def common_label(self, fine: str) -> str:
        """The fine label's name in the common vocabulary (``no_activity`` stays itself)."""
        if fine == NO_ACTIVITY:
            return NO_ACTIVITY
        if fine not in self.common:
            where = self.source or self.name
            raise LayoutError(f"{where}: common: the label {fine!r} has no common name; add "
                              f"'{fine}: NAME' with NAME one of {', '.join(COMMON_NAMES)}")
        return self.common[fine]

    def coarse_label(self, fine: str) -> str:
        """Coarse label of a fine one; unmapped labels stand for themselves."""
        if fine == NO_ACTIVITY:
            return self.labels.get(NO_ACTIVITY, NO_ACTIVITY_COARSE)
        return self.labels.get(fine, fine)


def label_phrase(label: str) -> str:
    """'Kitchen_Activity' -> 'kitchen activity'; 'R1_Sleep' -> 'sleep' (resident tags dropped)."""
    words = re.split(r"[_\s\-]+", label.strip())
    words = [w for w in words if w and not re.fullmatch(r"[Rr]\d+", w)]
    return " ".join(words).lower()


def generated_descriptions(label: str) -> tuple[str, ...]:
    phrase = label_phrase(label) or label.lower()
    return (
        phrase,
        f"the resident is doing {phrase}",
        f"sensor activity during {phrase}",
        f"a period of {phrase} at home",
    )


# ---------------------------------------------------------------------------------------------
# Loading and validation


def resolve_layout_path(name_or_path: str | Path) -> Path:
    """A shipped layout name (milan, aruba, demo, ...) or a path to a YAML/JSON file."""
    candidate = Path(name_or_path).expanduser()
    if candidate.suffix.lower() in {".yaml", ".yml", ".json"} or candidate.exists():
        if not candidate.is_file():
            problem = "is a directory" if candidate.is_dir() else (
                "is not a regular file" if candidate.exists() else "does not exist")
            raise LayoutError(f"layout file {candidate} {problem}; pass data.layout=PATH "
                              f"to a YAML/JSON layout or one of: {', '.join(shipped_layouts())}")
        return candidate
    shipped = LAYOUT_DIR / f"{name_or_path}.yaml"
    if not shipped.is_file():
        raise LayoutError(f"unknown layout {name_or_path!r}: use one of "
                          f"{', '.join(shipped_layouts())} or a path to a YAML/JSON file")
    return shipped


def shipped_layouts() -> list[str]:
    return sorted(p.stem for p in LAYOUT_DIR.glob("*.yaml"))


def load_home(name_or_path: str | Path) -> Home:
    path = resolve_layout_path(name_or_path)
    raw = _read_mapping(path)
    return parse_home(raw, source=path)


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (plain YAML silently keeps the last one)."""


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep=False):
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise LayoutError(
                f"duplicate key {key!r} at line {key_node.start_mark.line + 1} "
                f"(first at line {seen[key]}); each id may appear once")
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                                 _construct_unique_mapping)


def _read_mapping(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LayoutError(f"{path}: cannot read layout ({exc})") from None
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text, object_pairs_hook=_unique_json_object)
        else:
            data = yaml.load(text, Loader=_UniqueKeyLoader)
    except LayoutError as exc:
        raise LayoutError(f"{path}: {exc}") from None
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise LayoutError(f"{path}: not valid {path.suffix.lstrip('.').upper()}: {exc}") from None
    if not isinstance(data, dict):
        raise LayoutError(f"{path}: a layout must be a mapping with name, size and sensors")
    return data


def _unique_json_object(pairs):
    keys = [k for k, _ in pairs]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise LayoutError(f"duplicate keys {duplicates}; each id may appear once")
    return dict(pairs)


def parse_home(raw: Mapping[str, Any], source: Path | None = None) -> Home:
    where = str(source) if source else "<layout>"

    def fail(field_path: str, problem: str) -> LayoutError:
        return LayoutError(f"{where}: {field_path}: {problem}")

    known = {"name", "floor_plan", "floor_plan_transform", "size", "rooms", "sensors", "labels",
             "common", "descriptions", "activity_ids"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise fail(", ".join(unknown), f"unknown field(s); a layout has {sorted(known)}")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise fail("name", "missing or empty; give the home a name")
    size = _pair(raw.get("size"), lambda p: fail("size", p))
    if size[0] <= 0 or size[1] <= 0:
        raise fail("size", f"{list(size)} must be positive [width, height]")
    rooms = _parse_rooms(raw.get("rooms") or {}, size, fail)
    sensors = _parse_sensors(raw.get("sensors"), size, rooms, fail)
    labels = _parse_labels(raw.get("labels") or {}, fail)
    common = _parse_common(raw.get("common") or {}, labels, fail)
    descriptions = _parse_descriptions(raw.get("descriptions") or {}, fail)
    activity_ids = _parse_activity_ids(raw.get("activity_ids") or {}, fail)
    floor_plan = raw.get("floor_plan")
    if floor_plan is not None:
        if not isinstance(floor_plan, str):
            raise fail("floor_plan", "must be a path to an image file")
        floor_plan = Path(floor_plan).expanduser()
        if source is not None and not floor_plan.is_absolute():
            floor_plan = source.parent / floor_plan
    transform = raw.get("floor_plan_transform")
    if transform is not None:
        if (not isinstance(transform, (list, tuple)) or len(transform) != 4
                or not all(_finite_number(v) for v in transform)
                or transform[0] == 0 or transform[1] == 0):
            raise fail("floor_plan_transform", f"{transform!r} must be four finite numbers "
                       "[sx, sy, ox, oy] with nonzero scales: pixel = (sx * x + ox, sy * y + oy)")
        transform = tuple(float(v) for v in transform)
    return Home(name=name.strip(), size=size, sensors=sensors, rooms=rooms, labels=labels,
                descriptions=descriptions, common=common, floor_plan=floor_plan,
                floor_plan_transform=transform, source=source, activity_ids=activity_ids)


def _finite_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _pair(value, fail) -> tuple[float, float]:
    if (not isinstance(value, (list, tuple)) or len(value) != 2
            or not all(_finite_number(v) for v in value)):
        raise fail(f"{value!r} must be two finite numbers [x, y]")
    return float(value[0]), float(value[1])


def _parse_rooms(raw, size, fail) -> dict[str, tuple[float, float, float, float]]:
    if not isinstance(raw, dict):
        raise fail("rooms", "must map room names to [x0, y0, x1, y1]")
    rooms = {}
    for name, rect in raw.items():
        if (not isinstance(rect, (list, tuple)) or len(rect) != 4
                or not all(_finite_number(v) for v in rect)):
            raise fail(f"rooms.{name}", f"{rect!r} must be [x0, y0, x1, y1]")
        x0, y0, x1, y1 = map(float, rect)
        if not (x0 < x1 and y0 < y1):
            raise fail(f"rooms.{name}", f"{rect!r} needs x0 < x1 and y0 < y1")
        if x0 < 0 or y0 < 0 or x1 > size[0] or y1 > size[1]:
            raise fail(f"rooms.{name}", f"{rect!r} lies outside size {list(size)}")
        rooms[str(name)] = (x0, y0, x1, y1)
    return rooms


def _parse_sensors(raw, size, rooms, fail) -> dict[str, Sensor]:
    if not isinstance(raw, dict) or not raw:
        raise fail("sensors", "missing or empty; list each sensor as ID: {room, xy, type}")
    sensors = {}
    for sid, spec in raw.items():
        sid = str(sid)
        where = f"sensors.{sid}"
        if not isinstance(spec, dict):
            raise fail(where, "must be a mapping with room, xy and type")
        extra = sorted(set(spec) - {"room", "xy", "type", "detail"})
        if extra:
            raise fail(where, f"unknown field(s) {extra}; allowed: room, xy, type, detail")
        for required in ("room", "xy", "type"):
            if required not in spec:
                raise fail(where, f"missing {required!r}")
        xy = _pair(spec["xy"], lambda p, where=where: fail(f"{where}.xy", p))
        if not (0 <= xy[0] <= size[0] and 0 <= xy[1] <= size[1]):
            raise fail(f"{where}.xy", f"{list(xy)} lies outside size {list(size)}; "
                                      "fix the coordinate or enlarge size")
        room = str(spec["room"])
        if rooms and room not in rooms:
            raise fail(f"{where}.room", f"{room!r} is not one of the rooms {sorted(rooms)}")
        detail = spec.get("detail")
        detail = str(detail).strip() or None if detail is not None else None
        sensors[sid] = Sensor(id=sid, room=room, xy=xy, type=str(spec["type"]).strip().lower(),
                              detail=detail)
    return sensors


def _parse_labels(raw, fail) -> dict[str, str]:
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise fail("labels", "must map fine activity labels to coarse label names")
    return {str(k).strip(): v.strip() for k, v in raw.items() if str(k).strip()}


def _parse_common(raw, labels: Mapping[str, str], fail) -> dict[str, str]:
    """fine label -> common name: every target a common name, every label of ``labels``
    mapped (a layout without the map is valid, but cannot join the cross-home figures)."""
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise fail("common", "must map fine activity labels to common activity names")
    common = {str(k).strip(): v.strip() for k, v in raw.items() if str(k).strip()}
    wrong = check_common_map(common)
    if wrong:
        raise fail("common", f"{wrong} are not common activity names; use one of "
                             f"{', '.join(COMMON_NAMES)}")
    missing = unmapped(labels, common, background=(NO_ACTIVITY,)) if common else []
    if missing:
        raise fail("common", f"the label(s) {missing} have no common name; add each as "
                             f"'LABEL: NAME' with NAME one of {', '.join(COMMON_NAMES)}")
    return common


def _parse_activity_ids(raw, fail) -> dict[str, str]:
    """``{1: Fill_medication_dispenser, ...}``: whole-number ids to label names."""
    if not isinstance(raw, dict) or not all(
            re.fullmatch(r"[0-9]+", str(k).strip()) and isinstance(v, str) and v.strip()
            for k, v in raw.items()):
        raise fail("activity_ids", "must map whole-number task ids to activity label names")
    return {str(int(str(k).strip())): v.strip() for k, v in raw.items()}


def _parse_descriptions(raw, fail) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, dict):
        raise fail("descriptions", "must map label names to lists of sentences")
    out = {}
    for label, texts in raw.items():
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            raise fail(f"descriptions.{label}", "must be a non-empty list of sentences")
        out[str(label)] = tuple(t.strip() for t in texts)
    return out
