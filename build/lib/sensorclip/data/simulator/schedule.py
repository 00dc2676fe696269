"""Days -> activity spans: when the resident does what, and whether anyone annotated it.

Day-to-day variability: each day's whole schedule moves by one normal draw
(``routine.day_shift_sd``) plus ``routine.weekend_shift`` on Saturdays and Sundays; each
preferred start time then varies by the activity's ``start_sd`` and happens with its
``probability``; ``extra`` adds unscheduled occurrences at random times of
``routine.extra_hours``. Occurrences never overlap: one that would start inside the previous one
waits for it, and is skipped for the day when that would push it more than
``routine.squeeze_limit`` minutes late.

Interruptions (``interruptions: {Other: p}``, and ``within: Parent`` with ``max_count``) are spans
nested inside their parent's span: the resident leaves the parent's rooms, does the other
activity, and comes back. Time away (``away``) is silence after the span; ``on_return`` starts
another activity when the resident is back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from sensorclip.data.simulator.model import Activity, ActivityModel
from sensorclip.units import US_PER_DAY, US_PER_MIN, US_PER_S

MIN_CHILD_GAP = 2 * US_PER_MIN      # a nested span keeps this far from its parent's edges
WEEKEND = (5, 6)


@dataclass
class Span:
    """One occurrence of an activity. ``first``/``last`` are the resident's first and last
    sensor activation for it (set while emitting motion), where the annotator's marks aim."""

    activity: Activity
    start: int                       # microseconds since the epoch
    end: int
    annotated: bool
    back: int | None = None          # away: when the resident is home again
    parent: Span | None = None
    children: list[Span] = field(default_factory=list)
    first: int | None = None
    last: int | None = None

    @property
    def leaves(self) -> int:
        """When the resident is done here (the return, for time away)."""
        return self.back if self.back is not None else self.end


def schedule(model: ActivityModel, days: int, day0: int, start_date: str,
             rng: np.random.Generator) -> list[Span]:
    """Top-level spans in time order, each with its nested interruptions."""
    wanted = []
    first_weekday = date.fromisoformat(start_date).weekday()
    for d in range(days):
        wanted += _wanted_today(model, day0 + d * US_PER_DAY, (first_weekday + d) % 7, rng)
    wanted.sort(key=lambda item: item[0])
    spans = _place(model, wanted, day0, rng)
    for span in spans:
        _nest(model, span, rng)
    return spans


def _day_matches(rule: str, weekday: int) -> bool:
    return rule == "all" or (rule == "weekends") == (weekday in WEEKEND)


def _wanted_today(model: ActivityModel, midnight: int, weekday: int,
                  rng: np.random.Generator) -> list[tuple[int, Activity]]:
    """(preferred start, activity) of one day's candidate occurrences."""
    routine = model.routine
    shift = rng.normal(0, routine.day_shift_sd) if routine.day_shift_sd else 0.0
    shift += routine.weekend_shift if weekday in WEEKEND else 0.0
    wanted = []
    for act in model.activities:
        if act.within or not _day_matches(act.days, weekday):
            continue
        for start in act.start:
            if rng.random() < act.probability:
                minutes = start + shift + rng.normal(0, act.start_sd)
                wanted.append((midnight + int(minutes * US_PER_MIN), act))
        for _ in range(rng.poisson(act.extra) if act.extra else 0):
            minutes = rng.uniform(*routine.extra_hours)
            wanted.append((midnight + int(minutes * US_PER_MIN), act))
    return wanted


def _place(model: ActivityModel, wanted, day0: int, rng: np.random.Generator) -> list[Span]:
    """Lay the candidates end to end without overlaps (see the module docstring)."""
    limit = model.routine.squeeze_limit * US_PER_MIN
    spans: list[Span] = []
    cursor = day0
    for start, act in wanted:
        earliest = cursor + int(rng.uniform(0.5, 3) * US_PER_MIN)
        if start < earliest:
            if earliest - start > limit:
                continue
            start = earliest
        span = _occurrence(model, act, start, rng)
        spans.append(span)
        cursor = span.leaves
        if act.on_return:
            follow = _occurrence(model, model.activity(act.on_return), cursor, rng)
            spans.append(follow)
            cursor = follow.leaves
    return spans


def _occurrence(model: ActivityModel, act: Activity, start: int,
                rng: np.random.Generator, parent: Span | None = None) -> Span:
    end = start + max(int(rng.uniform(*act.duration) * US_PER_MIN), 10 * US_PER_S)
    back = end + int(rng.uniform(*act.away) * US_PER_MIN) if act.away else None
    annotated = rng.random() >= model.unannotated(act)
    return Span(act, start, end, annotated, back=back, parent=parent)


def _nest(model: ActivityModel, parent: Span, rng: np.random.Generator) -> None:
    """Place the parent's interruptions at random points of its span, in time order, without
    overlapping each other or the parent's edges; those that do not fit are dropped."""
    kinds = []
    for act in model.activities:
        if act.within == parent.activity.name:
            kinds += [act] * int(sum(rng.random() < act.probability
                                     for _ in range(act.max_count)))
    for name, probability in parent.activity.interruptions.items():
        if rng.random() < probability:
            kinds.append(model.activity(name))
    if not kinds or parent.activity.away:
        return
    slots = np.sort(rng.uniform(0.15, 0.85, size=len(kinds)))
    order = rng.permutation(len(kinds))
    earliest = parent.start + MIN_CHILD_GAP
    for slot, k in zip(slots, order):
        start = max(parent.start + int(slot * (parent.end - parent.start)), earliest)
        child = _occurrence(model, kinds[k], start, rng, parent=parent)
        if child.leaves > parent.end - MIN_CHILD_GAP:
            continue
        parent.children.append(child)
        earliest = child.leaves + MIN_CHILD_GAP
