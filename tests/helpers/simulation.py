"""Small activity models on the demo layout, with every source of noise off unless a test turns
it on: each realism feature can then be measured on its own."""

from __future__ import annotations

import copy
from typing import Any

from sensorclip.data.simulate import ActivityModel, parse_activity_model

QUIET: dict[str, Any] = {
    "routine": {"day_shift_sd": 0, "weekend_shift": 0},
    "motion": {"stamp_s": 0},
    "annotation": {"boundary_sd_s": 0, "unannotated": 0},
    "faults": {"missed": 0, "spurious_per_hour": 0, "stuck_per_day": 0, "door_left_open": 0},
    "visitor": {"per_day": 0},
    "pet": {"walks_per_hour": 0},
}

# Cooking at noon every day, interrupted by a trip to the bathroom.
COOK_AND_WASH = {
    "Cook": {"rooms": ["kitchen"], "start": "12:00", "start_sd": 0, "duration": [60, 60],
             "rate": 3, "interruptions": {"Wash": 1.0}},
    "Wash": {"rooms": ["bathroom"], "duration": [6, 6], "rate": 6},
}


def quiet_model(activities: dict[str, Any], **sections: dict[str, Any]) -> ActivityModel:
    """A model with the given activities; ``sections`` override keys of the quiet sections."""
    raw = copy.deepcopy(QUIET)
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    raw["activities"] = copy.deepcopy(activities)
    return parse_activity_model(raw, source="test model")
