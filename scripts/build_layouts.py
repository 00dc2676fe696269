"""Regenerate sensorclip/data/layouts/{milan,aruba,cairo,kyoto,tulum}.yaml from CASAS facts.

Input: ../shared/casas/homes.json (sensor coordinates, rooms, sensor types, details and the
coarse label maps). Only these facts are carried over; no CASAS event data is involved.

    python scripts/build_layouts.py [--homes ../shared/casas/homes.json]

Normalisations (written as comments into each file):
- door-like types ("closet door", "garage door", "kitchen cabinet") become type `door`, the
  original wording moves into `detail` (their events are OPEN/CLOSE, so they need door images);
- sensors without coordinates (Tulum M017, M018) are placed at the centroid of the other sensors
  in their room, a little apart, and flagged in the header;
- the empty-string label key in Milan's map is dropped.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DOOR_LIKE = {"closet door", "garage door", "kitchen cabinet"}
# Pixel transform of the annotated CASAS Milan plan (1227 x 1252 px), fitted on the motion-sensor
# circles (shared/casas/milan/LAYOUT-NOTES.md): x_px = 0.486 x - 45, y_px = 1303 - 0.496 y.
PLAN_TRANSFORMS = {"milan": [0.486, -0.496, -45, 1303]}

# Zero-shot descriptions of coarse labels shared by the CASAS homes; fine labels without an
# entry get generated ones from their names (sensorclip.data.homes.generated_descriptions).
COARSE_DESCRIPTIONS = {
    "Sleep": ["the resident is sleeping in bed", "someone is asleep at night",
              "a person resting in the bedroom for the night"],
    "Cook": ["someone is cooking in the kitchen", "the resident is preparing a meal",
             "a person making food at the stove"],
    "Eat": ["the resident is eating a meal", "someone is having food at the table",
            "a person sitting down to eat"],
    "Relax": ["the resident is relaxing on the sofa", "someone is reading or watching tv",
              "a person resting in the living room"],
    "Work": ["the resident is working at a desk", "someone doing chores around the house",
             "a person busy with housework or office work"],
    "Bathing": ["the resident is using the bathroom", "someone is showering or washing",
                "a person in the bathroom"],
    "Take_medicine": ["the resident is taking medicine", "someone takes their pills",
                      "a person getting medication from the cabinet"],
    "Leave_Home": ["the resident is leaving the house", "someone goes out through the door",
                   "a person exiting the home"],
    "Enter_Home": ["the resident is coming home", "someone enters through the front door",
                   "a person arriving at the house"],
    "Bed_to_toilet": ["the resident gets out of bed to use the toilet at night",
                      "someone walking from the bedroom to the bathroom at night",
                      "a night-time trip to the toilet"],
    "Bed_to_Toilet": ["the resident gets out of bed to use the toilet at night",
                      "someone walking from the bedroom to the bathroom at night",
                      "a night-time trip to the toilet"],
    "Personal_hygiene": ["the resident is washing and grooming", "someone brushing teeth",
                         "a person doing personal hygiene in the bathroom"],
    "Other": ["the resident is doing something else", "some other activity at home",
              "a person doing a miscellaneous task"],
    "No_Activity": ["no particular activity", "the house is quiet or someone moves around",
                    "background movement in the home"],
}


# Each home's fine labels in the common vocabulary (sensorclip.data.vocabulary says why the
# names are split as they are); the map must cover every label of label_l2.
COMMON_MAPS = {
    "milan": {"Master_Bedroom_Activity": "other", "Meditate": "relax", "Chores": "housekeeping",
              "Desk_Activity": "work", "Morning_Meds": "take_medicine",
              "Eve_Meds": "take_medicine", "Sleep": "sleep", "Read": "read", "Watch_TV": "relax",
              "Leave_Home": "leave_home", "Dining_Rm_Activity": "eat",
              "Kitchen_Activity": "cook", "Bed_to_Toilet": "bed_to_toilet",
              "Master_Bathroom": "personal_hygiene", "Guest_Bathroom": "personal_hygiene"},
    "aruba": {"Sleeping": "sleep", "Bed_to_Toilet": "bed_to_toilet", "Eating": "eat",
              "Meal_Preparation": "cook", "Wash_Dishes": "wash_dishes", "Work": "work",
              "Relax": "relax", "Respirate": "other", "Housekeeping": "housekeeping",
              "Enter_Home": "enter_home", "Leave_Home": "leave_home"},
    "cairo": {"R1 sleep": "sleep", "R2 sleep": "sleep", "Bed to toilet": "bed_to_toilet",
              "Night wandering": "other", "R1 wake": "other", "R2 wake": "other",
              "Breakfast": "eat", "Lunch": "eat", "Dinner": "eat", "R1 work in office": "work",
              "Laundry": "housekeeping", "R2 take medicine": "take_medicine",
              "Leave home": "leave_home", "no_sensor_readings": "other"},
    "kyoto": {"Meal_Preparation": "cook", "R1_Sleep": "sleep", "R1_Work": "work",
              "R1_Personal_Hygiene": "personal_hygiene", "Clean": "housekeeping",
              "R1_Bed_to_Toilet": "bed_to_toilet", "R2_Sleep": "sleep", "R2_Work": "work",
              "R2_Personal_Hygiene": "personal_hygiene", "Watch_TV": "relax", "Study": "work",
              "R2_Bed_to_Toilet": "bed_to_toilet"},
    "tulum": {"Cook_Breakfast": "cook", "Cook_Lunch": "cook", "Wash_Dishes": "wash_dishes",
              "R1_Eat_Breakfast": "eat", "R2_Eat_Breakfast": "eat", "R1_Snack": "eat",
              "Enter_Home": "enter_home", "Leave_Home": "leave_home", "Watch_TV": "relax",
              "Group_Meeting": "other"},
}


def build_layout(key: str, facts: dict) -> tuple[dict, list[str]]:
    notes: list[str] = []
    coords = facts["sensor_coordinates"]
    details = facts.get("sensor_details") or {}
    sensors = {}
    for sid, room in facts["sensor_location"].items():
        stype = facts["sensor_type"].get(sid, "unknown")
        detail = (details.get(sid) or "").strip() or None
        if stype in DOOR_LIKE:
            notes.append(f"{sid}: type {stype!r} -> door (detail keeps the wording)")
            detail = detail if detail and detail != "door" else stype
            stype = "door"
        spec = {"room": room, "type": stype}
        spec["xy"] = list(coords[sid]) if sid in coords else None
        if detail:
            spec["detail"] = detail
        sensors[sid] = spec
    _place_missing(sensors, notes)
    xs = [s["xy"][0] for s in sensors.values()]
    ys = [s["xy"][1] for s in sensors.values()]
    size = [_round_up(max(xs) + 100), _round_up(max(ys) + 100)]
    labels = {k: v for k, v in facts["label_l2"].items() if k.strip()}
    coarse = sorted(set(labels.values()))
    descriptions = {c: COARSE_DESCRIPTIONS[c] for c in coarse if c in COARSE_DESCRIPTIONS}
    layout = {"name": key, "size": size}
    if key in PLAN_TRANSFORMS:   # the plan itself is CASAS material: pass render.floor_plan=PATH
        layout["floor_plan_transform"] = PLAN_TRANSFORMS[key]
    layout.update(sensors=sensors, labels=labels, common=COMMON_MAPS[key],
                  descriptions=descriptions)
    return layout, notes


def _place_missing(sensors: dict, notes: list[str]) -> None:
    for sid, spec in sensors.items():
        if spec["xy"] is not None:
            continue
        mates = [s["xy"] for s in sensors.values() if s["room"] == spec["room"] and s["xy"]]
        cx = sum(p[0] for p in mates) / len(mates)
        cy = sum(p[1] for p in mates) / len(mates)
        taken = {tuple(s["xy"]) for s in sensors.values() if s["xy"]}
        offset = 0
        while (round(cx + offset), round(cy)) in taken:
            offset += 10
        spec["xy"] = [round(cx + offset), round(cy)]
        notes.append(f"{sid}: no coordinates in the source; placed at the centroid of "
                     f"room {spec['room']!r} ({spec['xy']}) - an estimate")


def _round_up(value: float) -> int:
    return int(math.ceil(value / 100.0) * 100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--homes", type=Path, default=ROOT.parent / "shared/casas/homes.json")
    parser.add_argument("--out", type=Path, default=ROOT / "sensorclip/data/layouts")
    args = parser.parse_args()
    facts = json.loads(args.homes.read_text())
    for key, home in facts.items():
        layout, notes = build_layout(key, home)
        header = [f"# {home['name']} (CASAS), {home['num_residents']} resident(s).",
                  "# Generated by scripts/build_layouts.py from the layout facts of homes.json;",
                  "# coordinates are in the CASAS layout frame (y grows upwards).",
                  *[f"# note: {n}" for n in notes]]
        text = "\n".join(header) + "\n" + yaml.safe_dump(layout, sort_keys=False, width=100,
                                                         default_flow_style=None)
        (args.out / f"{key}.yaml").write_text(text)
        print(f"wrote {args.out / f'{key}.yaml'} ({len(layout['sensors'])} sensors)")


if __name__ == "__main__":
    main()
