"""Generated homes: reproducible, varied layouts with a resident to simulate, one per seed.

``data=generated data.seed=N`` selects home N. Each seed draws:

- a **floor plan**: a studio or one to three bedrooms, one or two bathrooms, a kitchen, a living
  room, and each with its own chance a dining room, office, entrance, hallway, garage and laundry
  (rooms named in a few styles: "living_room", "lounge", "family_room"), laid out by slicing
  the home's rectangle in proportion to room areas;
- **sensors**: a density that gives roughly 8 to 40 motion sensors, one near each of a room's
  fixtures ("stove", "bed", "shower", with details worded in a few ways: "above the bed") and
  the rest spread over the room, doors (front, back, garage, bathroom, fridge, medicine
  cabinet, each with its chance) and one to three temperature sensors;
- a **resident**: early, ordinary or late; working away from home, at home or not at all;
  napping or not; taking medicine or not; with a visitor now and then and sometimes a pet.

The activities are written once, in terms of room *types* and fixtures (``ACTIVITIES``: the
bedroom's bed, the kitchen's stove), and resolved for each layout into an ordinary activity
model (``sensorclip.data.simulator``) naming its rooms and sensor ids, so any generated layout
can be simulated. Fine labels are worded in the styles real annotations use (``Meal_Preparation``
in one home, ``Cook_Dinner`` in another), and every layout maps them into the common vocabulary
(``sensorclip.data.vocabulary``). A home and its activity model are a pure function of
(seed, ``GENERATOR_VERSION``); ``write_generated`` puts both in a directory as YAML.

    python -m sensorclip.data.generate --seeds 0 1 2 --out generated/   # inspect a few homes
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sensorclip.config import generated_home_name
from sensorclip.data.vocabulary import COMMON_ACTIVITIES

GENERATOR_VERSION = 1

# Room type -> (area range in square metres, fixtures a motion sensor can sit near, in order of
# importance).
ROOM_TYPES: dict[str, tuple[tuple[float, float], tuple[str, ...]]] = {
    "bedroom": ((9, 16), ("bed", "wardrobe", "nightstand")),
    "bathroom": ((4, 8), ("shower", "toilet", "sink", "bathtub")),
    "kitchen": ((8, 15), ("stove", "fridge", "sink", "cabinet")),
    "living_room": ((14, 26), ("sofa", "tv", "armchair", "bookshelf")),
    "dining_room": ((8, 13), ("dining table", "sideboard")),
    "office": ((7, 11), ("desk", "bookshelf")),
    "entrance": ((3, 6), ("coat rack",)),
    "hallway": ((4, 9), ()),
    "garage": ((15, 24), ("workbench",)),
    "laundry": ((3, 6), ("washing machine",)),
    "studio": ((22, 34), ("bed", "stove", "sofa", "fridge", "desk", "dining table")),
}
ROOM_NAMES = {   # the names a room of this type goes by, in different homes
    "living_room": ("living_room", "lounge", "family_room"),
    "entrance": ("entrance", "foyer", "entry"),
    "hallway": ("hallway", "corridor", "hall"),
    "office": ("office", "study_room", "workroom"),
    "laundry": ("laundry", "utility_room"),
}
DETAIL_STYLES = ("{}", "near the {}", "above the {}", "by the {}")


@dataclass
class Room:
    name: str
    kind: str
    box: tuple[float, float, float, float] = (0, 0, 0, 0)
    fixtures: dict[str, str] = field(default_factory=dict)     # fixture -> motion sensor id

    @property
    def area(self) -> float:
        x0, y0, x1, y1 = self.box
        return (x1 - x0) * (y1 - y0)


@dataclass
class Profile:
    """Who lives there: the resident's routine, as the activity model will say it."""

    shift: float          # minutes: early (< 0) or late (> 0) riser
    work: str             # away | home | none
    naps: bool
    medicine: bool
    reads: bool
    pet: float            # pet walks per hour (0: no pet)
    visitors: float       # probability of a visit on a day
    labels: dict[str, str]   # activity key -> fine label written in the log


def generate_home(seed: int, residents: int = 1) -> tuple[dict[str, Any], dict[str, Any]]:
    """(layout, activity model) of generated home ``seed``, as the mappings their YAML holds.
    ``residents=2``: the same home with a second person living the same kind of days on their
    own draws (one annotation stream, spans overlapping as in two-resident CASAS logs); the
    draws of the home itself do not change, so home N with one resident stays home N."""
    rng = np.random.default_rng([GENERATOR_VERSION, int(seed)])
    rooms = _draw_rooms(rng)
    size = _lay_out(rooms, rng)
    sensors = _place_sensors(rooms, rng)
    profile = _draw_profile(rng, rooms, sensors)
    model = _activity_model(seed, rooms, sensors, profile, rng)
    labels = {label: _coarse(label, profile) for label in _labels_of(model)}
    common = {label: COARSE_TO_COMMON[coarse] for label, coarse in labels.items()}
    name = generated_home_name(seed, residents)
    if residents == 2:
        model["residents"] = 2
        model["name"] = name
    layout = {"name": name, "size": [math.ceil(size[0]), math.ceil(size[1])],
              "rooms": {r.name: [round(v, 1) for v in r.box] for r in rooms},
              "sensors": sensors, "labels": labels, "common": common,
              "descriptions": {coarse: list(COMMON_ACTIVITIES[COARSE_TO_COMMON[coarse]])
                               for coarse in sorted(set(labels.values()))}}
    return layout, model


def write_generated(seed: int, directory: str | Path, residents: int = 1) -> tuple[Path, Path]:
    """Write home ``seed``'s layout.yaml and activity_model.yaml into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    layout, model = generate_home(seed, residents)
    header = (f"# Generated home {seed} (sensorclip.data.generate, version {GENERATOR_VERSION}); "
              "regenerate, do not edit.\n")
    paths = directory / "layout.yaml", directory / "activity_model.yaml"
    for path, content in zip(paths, (layout, model)):
        path.write_text(header + yaml.safe_dump(content, sort_keys=False, width=100))
    return paths


# ---------------------------------------------------------------------------------------------
# Floor plan


def _draw_rooms(rng: np.random.Generator) -> list[Room]:
    bedrooms = int(rng.choice([0, 1, 2, 3], p=[0.15, 0.3, 0.3, 0.25]))
    kinds = ["studio"] if bedrooms == 0 else ["living_room", "kitchen"] + ["bedroom"] * bedrooms
    kinds.append("bathroom")
    if bedrooms >= 2 and rng.random() < 0.6:
        kinds.append("bathroom")
    chances = {"dining_room": 0.5 if bedrooms else 0.0, "office": 0.45 if bedrooms else 0.1,
               "entrance": 0.6, "hallway": 0.85 if bedrooms >= 2 else 0.3,
               "garage": 0.3 if bedrooms else 0.0, "laundry": 0.3}
    kinds += [kind for kind, p in chances.items() if rng.random() < p]
    return _name_rooms(kinds, rng)


def _name_rooms(kinds: list[str], rng: np.random.Generator) -> list[Room]:
    rooms, seen = [], {}
    for kind in kinds:
        seen[kind] = seen.get(kind, 0) + 1
        if kind == "bedroom" and kinds.count("bedroom") > 1:
            name = "master_bedroom" if seen[kind] == 1 else f"bedroom_{seen[kind]}"
        elif kind == "bathroom" and seen[kind] == 2:
            name = str(rng.choice(["guest_bathroom", "second_bathroom", "shower_room"]))
        else:
            name = str(rng.choice(ROOM_NAMES.get(kind, (kind,))))
        rooms.append(Room(name, kind))
    return rooms


def _lay_out(rooms: list[Room], rng: np.random.Generator) -> tuple[float, float]:
    """Areas drawn per room, then the home's rectangle sliced in proportion (1 unit = 1 cm)."""
    order = ["entrance", "living_room", "studio", "dining_room", "kitchen", "laundry", "garage",
             "hallway", "bedroom", "bathroom", "office"]
    rooms.sort(key=lambda r: order.index(r.kind))
    areas = [rng.uniform(*ROOM_TYPES[r.kind][0]) for r in rooms]
    total = sum(areas) * 1e4
    aspect = rng.uniform(1.0, 1.8)
    width, height = math.sqrt(total * aspect), math.sqrt(total / aspect)
    _slice(rooms, areas, (0.0, 0.0, width, height))
    return width, height


def _slice(rooms: list[Room], areas: list[float], box) -> None:
    if len(rooms) == 1:
        rooms[0].box = box
        return
    share = np.cumsum(areas) / sum(areas)
    split = int(np.argmin(np.abs(share[:-1] - 0.5))) + 1
    fraction = sum(areas[:split]) / sum(areas)
    x0, y0, x1, y1 = box
    if x1 - x0 >= y1 - y0:
        cut = x0 + (x1 - x0) * fraction
        first, second = (x0, y0, cut, y1), (cut, y0, x1, y1)
    else:
        cut = y0 + (y1 - y0) * fraction
        first, second = (x0, y0, x1, cut), (x0, cut, x1, y1)
    _slice(rooms[:split], areas[:split], first)
    _slice(rooms[split:], areas[split:], second)


# ---------------------------------------------------------------------------------------------
# Sensors


def _place_sensors(rooms: list[Room], rng: np.random.Generator) -> dict[str, dict]:
    density = float(np.exp(rng.uniform(np.log(0.8), np.log(4.5))))   # per 10 square metres
    counts = [max(1, round(r.area / 1e5 * density)) for r in rooms]
    target = int(np.clip(sum(counts), 8, 40))
    while sum(counts) < target:                        # small homes: more in the big rooms
        counts[int(np.argmax([r.area / c for r, c in zip(rooms, counts)]))] += 1
    while sum(counts) > target:
        counts[int(np.argmax(counts))] -= 1
    style = str(rng.choice(DETAIL_STYLES))
    sensors: dict[str, dict] = {}
    for room, count in zip(rooms, counts):
        fixtures = ROOM_TYPES[room.kind][1][:count]
        for fixture in fixtures:
            sid = f"M{sum(s['type'] == 'motion' for s in sensors.values()) + 1:03d}"
            sensors[sid] = {"room": room.name, "xy": _inside(room.box, rng, 0.15),
                            "type": "motion", "detail": style.format(fixture)}
            room.fixtures[fixture] = sid
        for _ in range(count - len(fixtures)):
            sid = f"M{sum(s['type'] == 'motion' for s in sensors.values()) + 1:03d}"
            sensors[sid] = {"room": room.name, "xy": _inside(room.box, rng, 0.2),
                            "type": "motion"}
    _place_doors(rooms, sensors, rng)
    numeric = [r for r in rooms if r.kind in ("kitchen", "living_room", "bathroom", "studio")]
    for k in range(int(rng.integers(1, 4))):
        room = numeric[k % len(numeric)]
        sensors[f"T{k + 1:03d}"] = {"room": room.name, "xy": _inside(room.box, rng, 0.1),
                                    "type": "temperature"}
    return sensors


def _place_doors(rooms: list[Room], sensors: dict[str, dict], rng: np.random.Generator) -> None:
    def room_of(*kinds):
        return next((r for kind in kinds for r in rooms if r.kind == kind), None)

    wanted = [("front door", room_of("entrance", "hallway", "living_room", "studio"), 1.0),
              ("back door", room_of("kitchen", "studio"), 0.45),
              ("garage door", room_of("garage"), 1.0),
              ("bathroom door", room_of("bathroom"), 0.4),
              ("fridge door", room_of("kitchen", "studio"), 0.25),
              ("medicine cabinet", room_of("bathroom") if rng.random() < 0.5
               else room_of("kitchen", "studio"), 0.35)]
    number = 0
    for detail, room, chance in wanted:
        if room is None or rng.random() >= chance:
            continue
        number += 1
        sid = f"D{number:03d}"
        sensors[sid] = {"room": room.name, "xy": _on_wall(room.box, rng), "type": "door",
                        "detail": detail}
        room.fixtures[detail] = sid


def _inside(box, rng: np.random.Generator, margin: float) -> list[float]:
    x0, y0, x1, y1 = box
    return [round(float(rng.uniform(x0 + margin * (x1 - x0), x1 - margin * (x1 - x0))), 1),
            round(float(rng.uniform(y0 + margin * (y1 - y0), y1 - margin * (y1 - y0))), 1)]


def _on_wall(box, rng: np.random.Generator) -> list[float]:
    x0, y0, x1, y1 = box
    x, y = _inside(box, rng, 0.1)
    return [x, round(y0 + 0.03 * (y1 - y0), 1)] if rng.random() < 0.5 else \
        [round(x0 + 0.03 * (x1 - x0), 1), y]


# ---------------------------------------------------------------------------------------------
# The resident and the activity model

# Activity key -> (fine label styles, coarse label). The key is the behaviour; the label is what
# this home's annotator wrote.
LABEL_STYLES: dict[str, tuple[tuple[str, ...], str]] = {
    "sleep": (("Sleep", "Sleeping", "Night_Sleep"), "Sleep"),
    "nap": (("Nap", "Afternoon_Nap"), "Sleep"),
    "bed_to_toilet": (("Bed_to_Toilet", "Night_Toilet"), "Bed_to_Toilet"),
    "hygiene": (("Personal_Hygiene", "Morning_Hygiene", "Groom"), "Personal_Hygiene"),
    "bathe": (("Bathe", "Bathing", "Shower"), "Bathe"),
    "toilet": (("Toilet", "Use_Toilet"), "Toilet"),
    "cook_breakfast": (("Cook_Breakfast", "Meal_Preparation", "Prepare_Breakfast"), "Cook"),
    "cook_lunch": (("Cook_Lunch", "Meal_Preparation", "Prepare_Lunch"), "Cook"),
    "cook_dinner": (("Cook_Dinner", "Meal_Preparation", "Prepare_Dinner"), "Cook"),
    "eat": (("Eat", "Eating", "Dining"), "Eat"),
    "wash_dishes": (("Wash_Dishes", "Dishwashing", "Clean_Up_Kitchen"), "Wash_Dishes"),
    "medicine": (("Take_Medicine", "Medication", "Take_Pills"), "Take_Medicine"),
    "tv": (("Watch_TV", "Relax", "Television"), "Relax"),
    "read": (("Read", "Reading"), "Read"),
    "work": (("Work", "Work_At_Desk", "Desk_Activity", "Study"), "Work"),
    "housekeeping": (("Housekeeping", "Cleaning", "Chores"), "Housekeeping"),
    "laundry": (("Laundry", "Housekeeping", "Chores"), "Housekeeping"),
    "leave": (("Leave_Home", "Go_Out", "Leaving"), "Leave_Home"),
    "enter": (("Enter_Home", "Come_Home", "Arriving"), "Enter_Home"),
}
COARSE_TO_COMMON = {"Sleep": "sleep", "Bed_to_Toilet": "bed_to_toilet",
                    "Personal_Hygiene": "personal_hygiene", "Bathe": "bathe", "Toilet": "toilet",
                    "Cook": "cook", "Eat": "eat", "Wash_Dishes": "wash_dishes",
                    "Take_Medicine": "take_medicine", "Relax": "relax", "Read": "read",
                    "Work": "work", "Housekeeping": "housekeeping", "Leave_Home": "leave_home",
                    "Enter_Home": "enter_home"}


def _draw_profile(rng: np.random.Generator, rooms: list[Room],
                  sensors: dict[str, dict]) -> Profile:
    labels = {}
    for key, (styles, _) in LABEL_STYLES.items():
        labels[key] = str(styles[int(rng.integers(len(styles)))])
    # one label per behaviour family: the cooking styles agree within a home
    cook = str(rng.choice(["Cook_{}", "Meal_Preparation", "Prepare_{}"]))
    for meal in ("breakfast", "lunch", "dinner"):
        labels[f"cook_{meal}"] = cook.format(meal.title())
    if labels["laundry"] == "Housekeeping":
        labels["laundry"] = labels["housekeeping"]
    if labels["tv"] == "Relax" and labels["read"] == "Reading":
        labels["read"] = "Read"
    return Profile(shift=float(rng.choice([-90.0, 0.0, 0.0, 90.0]) + rng.normal(0, 20)),
                   work=str(rng.choice(["away", "home", "none"], p=[0.4, 0.25, 0.35])),
                   naps=bool(rng.random() < 0.3), medicine=bool(rng.random() < 0.6),
                   reads=bool(rng.random() < 0.6),
                   pet=float(rng.uniform(0.5, 2.0)) if rng.random() < 0.3 else 0.0,
                   visitors=float(rng.uniform(0.02, 0.2)), labels=labels)


def _coarse(label: str, profile: Profile) -> str:
    keys = [k for k, v in profile.labels.items() if v == label]
    return LABEL_STYLES[keys[0]][1]


def _labels_of(model: dict) -> list[str]:
    return sorted({spec.get("label", name) for name, spec in model["activities"].items()
                   if spec.get("labelled", True)})


def _clock(minutes: float) -> str:
    minutes = float(np.clip(minutes, 0, 24 * 60 - 1))
    return f"{int(minutes // 60):02d}:{int(minutes % 60):02d}"


def _activity_model(seed: int, rooms: list[Room], sensors: dict[str, dict], profile: Profile,
                    rng: np.random.Generator) -> dict[str, Any]:
    """The activities, written by room type and fixture, resolved for this layout."""
    def room(*kinds) -> Room | None:
        return next((r for kind in kinds for r in rooms if r.kind == kind), None)

    def near(r: Room | None, *fixtures, weight=4.0) -> dict[str, float]:
        found = {r.fixtures[f]: weight for f in fixtures
                 if r is not None and f in r.fixtures and r.fixtures[f].startswith("M")}
        return found

    def door(*details) -> str | None:
        return next((r.fixtures[d] for d in details for r in rooms if d in r.fixtures), None)

    def at(*clock_times) -> list[str]:
        return [_clock(_minutes(t) + profile.shift) for t in clock_times]

    bed = room("bedroom", "studio")
    bath = room("bathroom")
    kitchen = room("kitchen", "studio")
    living = room("living_room", "studio")
    table = room("dining_room", "kitchen", "studio")
    desk = room("office", "bedroom", "studio")
    entry = room("entrance", "hallway", "living_room", "studio")
    hall = room("hallway")
    labels = profile.labels
    acts: dict[str, dict] = {}

    def add(key: str, **spec) -> None:
        acts[key] = {"label": labels[key], **{k: v for k, v in spec.items() if v is not None}}

    night_path = [bed.name, *([hall.name] if hall else []), bath.name,
                  *([hall.name] if hall else []), bed.name]
    add("sleep", rooms=[bed.name], focus=near(bed, "bed", weight=6.0) or None,
        start=at("23:00"), start_sd=25, duration=[400, 520], rate=0.25, burst=6,
        unannotated=0.15)
    add("bed_to_toilet", within="sleep", rooms=night_path, probability=0.5, max_count=2,
        duration=[3, 7], rate=5)
    bath_door = door("bathroom door")
    add("hygiene", rooms=[bath.name], focus=near(bath, "sink", weight=3.0) or None,
        start=at("07:05"), start_sd=15, duration=[8, 20], rate=6,
        doors={bath_door: "start"} if bath_door else None)
    add("bathe", rooms=[bath.name], focus=near(bath, "shower", "bathtub", weight=5.0) or None,
        start=at(str(rng.choice(["07:30", "20:30"]))), start_sd=40, duration=[15, 30],
        rate=3.6, probability=0.5, doors={bath_door: "start"} if bath_door else None)
    toilet_labelled = bool(rng.random() < 0.4)
    acts["toilet"] = {"label": labels["toilet"], "labelled": toilet_labelled,
                      "rooms": [*([hall.name] if hall else []), bath.name],
                      "duration": [2, 5], "rate": 5, "extra": 2,
                      **({"focus": near(bath, "toilet")} if near(bath, "toilet") else {})}
    stove = near(kitchen, "stove", "fridge", weight=2.0) or None
    fridge = door("fridge door")
    add("cook_breakfast", rooms=[kitchen.name], focus=stove, start=at("07:30"), start_sd=10,
        duration=[8, 20], rate=7, doors={fridge: "start"} if fridge else None)
    add("eat", rooms=[table.name], focus=near(table, "dining table") or None,
        start=at("07:58", "12:30", "19:25") if profile.work != "away" else at("07:58", "19:25"),
        start_sd=10, duration=[15, 30], rate=2.2, interruptions={"phone": 0.15})
    if profile.work != "away":
        add("cook_lunch", rooms=[kitchen.name], focus=stove, start=at("12:05"), start_sd=15,
            duration=[10, 25], rate=6, probability=0.7)
    add("cook_dinner", rooms=[kitchen.name], focus=stove, start=at("18:15"), start_sd=20,
        duration=[25, 50], rate=6, doors={door("back door"): "start"} if door("back door")
        else None, interruptions={"toilet": 0.2, "phone": 0.2})
    add("wash_dishes", rooms=[kitchen.name], focus=near(kitchen, "sink", weight=5.0) or None,
        start=at("20:05"), start_sd=15, duration=[8, 15], rate=5, probability=0.6)
    if profile.medicine:
        cabinet = door("medicine cabinet")
        where = next((r for r in rooms if "medicine cabinet" in r.fixtures), kitchen)
        add("medicine", rooms=[where.name], start=at("08:25", "20:00"), start_sd=12,
            duration=[1, 3], rate=5, probability=0.85,
            doors={cabinet: "start"} if cabinet else None)
    add("tv", rooms=[living.name], focus=near(living, "tv", "sofa", weight=5.0) or None,
        start=at("20:45") + (at("14:00") if profile.work == "none" else []), start_sd=20,
        duration=[45, 110], probability=0.7, rate=1, interruptions={"toilet": 0.3})
    if profile.reads:
        add("read", rooms=[living.name if rng.random() < 0.6 else bed.name],
            focus=near(living, "armchair", "bookshelf", weight=6.0) or None,
            start=at("21:30") + (at("15:30") if profile.work == "none" else []), start_sd=40,
            duration=[30, 80], rate=0.85, probability=0.5)
    if profile.work == "home":
        add("work", rooms=[desk.name], focus=near(desk, "desk", weight=5.0) or None,
            start=at("09:00", "13:30"), start_sd=25, duration=[80, 150], rate=1.7,
            days="weekdays", interruptions={"toilet": 0.3, "phone": 0.2})
    elif rng.random() < 0.4:
        add("work", rooms=[desk.name], focus=near(desk, "desk", weight=5.0) or None,
            start=at("19:00"), start_sd=40, duration=[30, 70], rate=1.5, probability=0.4)
    add("housekeeping", rooms=[r.name for r in rooms if r.kind not in ("garage",)],
        start=at("10:00"), start_sd=30, duration=[40, 80], rate=5.5, days="weekends")
    laundry = room("laundry")
    if laundry is not None:
        add("laundry", rooms=[laundry.name], start=at("11:30"), start_sd=40, duration=[10, 25],
            rate=4, days="weekends", probability=0.6)
    if profile.naps:
        add("nap", rooms=[bed.name if rng.random() < 0.5 else living.name], start=at("14:30"),
            start_sd=30, duration=[30, 70], rate=0.3, burst=6, probability=0.6)
    front = door("front door")
    annotate_enter = bool(rng.random() < 0.5)
    leave = {"rooms": [entry.name], "start_sd": 45, "duration": [2, 4], "rate": 3.6,
             "doors": {front: "end"}}
    if profile.work == "away":
        add("leave", **leave, start=at("07:50"), days="weekdays", away=[480, 560],
            on_return="enter" if annotate_enter else None)
        acts["leave_weekend"] = {**leave, "label": labels["leave"], "start": at("11:00"),
                                 "days": "weekends", "probability": 0.7, "away": [45, 180],
                                 **({"on_return": "enter"} if annotate_enter else {})}
    else:
        add("leave", **leave, start=at("11:00", "16:45"), probability=0.7, away=[45, 150],
            on_return="enter" if annotate_enter else None)
    if annotate_enter:
        add("enter", rooms=[entry.name], duration=[1, 3], rate=4, doors={front: "start"})
    acts["pottering"] = {"labelled": False, "extra": 1, "duration": [5, 20], "rate": 3,
                         "rooms": [r.name for r in (kitchen, living, table, hall) if r]}
    acts["phone"] = {"labelled": False, "duration": [2, 8], "rate": 1.8,
                     "rooms": [r.name for r in (living, hall or living)]}
    visitor_rooms = sorted({r.name for r in (living, kitchen, table, bath)})
    return {"name": f"generated_{seed:03d}", "activities": acts,
            "visitor": {"per_day": round(profile.visitors, 3), "rooms": visitor_rooms,
                        **({"door": front} if front else {})},
            "pet": {"walks_per_hour": round(profile.pet, 2)}}


def _minutes(clock: str) -> float:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def main() -> None:
    parser = argparse.ArgumentParser(description="Write generated homes (layout and activity "
                                                 "model) for inspection")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=Path("generated"))
    parser.add_argument("--residents", type=int, choices=(1, 2), default=1)
    args = parser.parse_args()
    for seed in args.seeds:
        layout_path, _ = write_generated(seed, args.out / generated_home_name(seed, args.residents),
                                         args.residents)
        layout = yaml.safe_load(layout_path.read_text())
        kinds = [s["type"] for s in layout["sensors"].values()]
        print(f"{layout_path.parent}: {len(layout['rooms'])} rooms, {kinds.count('motion')} "
              f"motion, {kinds.count('door')} door sensors, {len(layout['labels'])} labels")


if __name__ == "__main__":
    main()
