"""One activity vocabulary across homes: the level at which homes can be compared.

Every home names its activities its own way (Milan's ``Kitchen_Activity``, Aruba's
``Meal_Preparation``, Cairo's ``Breakfast``); a model pretrained in some homes and measured in
another needs one set of names that means the same everywhere. A layout maps each of its fine
labels to one of these names (its ``common`` field); a layout written by a user joins by adding
that map, and a label it leaves out is an error naming it.

The names follow the activities CASAS homes annotate, merged where homes disagree on the split:
- ``personal_hygiene`` holds washing, grooming and bathroom visits whose purpose the annotation
  does not say (Milan's ``Master_Bathroom``); ``bathe`` and ``toilet`` are kept for homes that
  annotate them apart;
- ``relax`` holds watching TV and resting (no home tells TV apart by its sensors), ``read`` is
  kept apart because Milan and the demo annotate it;
- ``work`` holds desk work and study (Kyoto's ``Study``, Milan's ``Desk_Activity``);
  ``housekeeping`` holds cleaning, chores and laundry; ``wash_dishes`` is kept apart (Aruba,
  Tulum) since it happens at the sink, not around the house;
- ``other`` takes what fits nowhere (Milan's ``Master_Bedroom_Activity``, Cairo's ``wake``,
  Tulum's ``Group_Meeting``); windows without any label stay ``no_activity`` in every home.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

COMMON_ACTIVITIES: dict[str, tuple[str, ...]] = {
    "sleep": ("the resident is sleeping in bed", "someone is asleep at night",
              "a person resting in the bedroom for the night"),
    "bed_to_toilet": ("the resident gets out of bed to use the toilet at night",
                      "someone walking from the bedroom to the bathroom at night",
                      "a night-time trip to the toilet"),
    "personal_hygiene": ("the resident is washing and grooming in the bathroom",
                         "someone brushing teeth at the sink",
                         "a person doing personal hygiene"),
    "bathe": ("the resident is taking a shower or a bath", "someone is bathing",
              "a person washing in the shower"),
    "toilet": ("the resident is using the toilet", "someone goes to the toilet",
               "a person visiting the toilet during the day"),
    "cook": ("someone is cooking in the kitchen", "the resident is preparing a meal",
             "a person making food at the stove"),
    "eat": ("the resident is eating a meal", "someone is having food at the table",
            "a person sitting down to eat"),
    "wash_dishes": ("the resident is washing the dishes", "someone cleaning up at the sink "
                    "after a meal", "a person doing the washing-up"),
    "take_medicine": ("the resident is taking medicine", "someone takes their pills",
                      "a person getting medication from the cabinet"),
    "relax": ("the resident is relaxing on the sofa", "someone is watching tv",
              "a person resting in the living room"),
    "read": ("the resident is reading", "someone sits quietly with a book",
             "a person reading in an armchair"),
    "work": ("the resident is working at a desk", "someone is studying or using the computer",
             "a person doing office work at home"),
    "housekeeping": ("the resident is cleaning the house", "someone doing chores or laundry",
                     "a person tidying up around the home"),
    "leave_home": ("the resident is leaving the house", "someone goes out through the door",
                   "a person exiting the home"),
    "enter_home": ("the resident is coming home", "someone enters through the front door",
                   "a person arriving at the house"),
    "other": ("the resident is doing something else", "some other activity at home",
              "a person doing a miscellaneous task"),
}
COMMON_NAMES = tuple(COMMON_ACTIVITIES)


def check_common_map(common: Mapping[str, str]) -> list[str]:
    """The targets of a fine -> common map that are not common names (empty: all are)."""
    return sorted({name for name in common.values() if name not in COMMON_ACTIVITIES})


def unmapped(labels: Iterable[str], common: Mapping[str, str],
             background: Iterable[str] = ()) -> list[str]:
    """Fine labels that the map leaves out (``background`` labels need no entry)."""
    skip = set(background)
    return sorted({label for label in labels if label not in common and label not in skip})
