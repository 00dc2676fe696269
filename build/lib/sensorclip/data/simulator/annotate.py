"""Spans -> begin/end markers on events, written the way a human annotator writes them.

The annotator aims at the resident's first and last sensor activation of an occurrence and
misses by a normal draw of ``annotation.boundary_sd_s`` seconds (at most three of them, and at
most a third of the span), so labels start a little early or late. A begin marker sits on the
first event from its time on, an end marker on the last event up to its time. Occurrences that
nobody annotated (``Span.annotated`` false) get no markers: their events read as
``no_activity`` unless an enclosing span is open.

The label rule is the reader's span rule (``sensorclip.data.casas``): an event takes the label of
the innermost open span. So an interruption (a nested span) labels its own events and the parent
resumes after it; an unannotated interruption leaves its events to the parent's label, and the
walks to and from an interruption belong to the parent. Fuzzy edges never reorder spans: a
begin is never placed before the previous span's end, a nested span's markers stay inside its
parent's, and each marker sits on its own binary event, in time order.
"""

from __future__ import annotations

import numpy as np

from sensorclip.data.simulator.model import ActivityModel, Annotation
from sensorclip.data.simulator.schedule import Span
from sensorclip.units import US_PER_S

MAX_SDS = 3.0            # a boundary misses by at most this many standard deviations ...
MAX_SHARE = 1 / 3        # ... and by at most this share of the span


def marker_times(spans: list[Span], model: ActivityModel,
                 rng: np.random.Generator) -> list[tuple[int, str]]:
    """(time, 'Label begin' | 'Label end') of every annotated span, in the order to place
    them."""
    annotation = model.annotation
    markers: list[tuple[int, str]] = []
    floor = None                      # the previous top-level span's end marker
    for span in spans:
        inner = []
        begin, end = _fuzzy(span, annotation, rng)
        if floor is not None:
            begin = max(begin, floor + US_PER_S)
            end = max(end, begin + US_PER_S)
        low, high = (begin, end) if span.annotated else (span.first, span.last)
        for child in span.children:
            b, e = _fuzzy(child, annotation, rng)
            b, e = max(b, low + US_PER_S), min(e, high - US_PER_S)
            if child.annotated and b < e:
                label = model.label(child.activity)
                inner += [(b, f"{label} begin"), (e, f"{label} end")]
                low = e
        if span.annotated:
            label = model.label(span.activity)
            markers += [(begin, f"{label} begin"), *inner, (end, f"{label} end")]
            floor = end
        elif inner:
            markers += inner
            floor = inner[-1][0]
    return markers


def _fuzzy(span: Span, annotation: Annotation, rng: np.random.Generator) -> tuple[int, int]:
    """Where the annotator put this span's begin and end."""
    length = span.last - span.first
    limit = min(MAX_SDS * annotation.boundary_sd_s * US_PER_S, MAX_SHARE * length)
    shift = rng.normal(0, annotation.boundary_sd_s * US_PER_S, size=2)
    shift = np.clip(shift, -limit, limit).astype(np.int64)
    return span.first + int(shift[0]), span.last + int(shift[1])


def place(marker_list: list[tuple[int, str]], times: np.ndarray,
          binary: np.ndarray) -> np.ndarray:
    """Object array of markers per event. A begin sits on the first binary event at or after
    its time, an end on the last one at or before its time; then each marker moves forward
    until it comes after the previous marker's event (the last ones pulled back when the log
    ends), so that markers keep their order and never share an event."""
    out = np.full(len(times), "", dtype=object)
    slots = np.flatnonzero(binary)
    if not marker_list or len(slots) == 0:
        return out
    at = np.array([t for t, _ in marker_list])
    is_end = np.array([text.endswith(" end") for _, text in marker_list])
    wanted = np.where(is_end, np.searchsorted(times[slots], at, side="right") - 1,
                      np.searchsorted(times[slots], at, side="left"))
    placed = np.maximum.accumulate(wanted - np.arange(len(wanted))) + np.arange(len(wanted))
    ceiling = len(slots) - len(wanted) + np.arange(len(wanted))
    placed = np.minimum(placed, ceiling)
    out[slots[placed]] = [text for _, text in marker_list]
    return out
