"""One sentence per (sensor, state): the input vocabulary of the text-based event encoder.

A frozen sentence encoder gives every (sensor, state) of any home a vector that means something
(``model=text``): "A motion sensor in the kitchen, near the stove, detects motion." The sentence
is built from the layout's facts alone, in the captions' own words (``PhraseBook``: the same
room names, with rooms named like an activity renamed by position, and details cleaned of every
activity label), so a sensor reads the same in its event vector as in the window's caption, and
no sentence names an activity.

Sentences must be unique per (sensor, state), or two sensors would share a vector. Sensors that
the layout's facts do not tell apart (same type, room and detail) are told apart by where they
sit in their room, or in the home when the room has no rectangle ("in the north-west of the
kitchen"), and, when that still ties, by their order from west to east ("the second of three
there, counting from the west"). Output depends only on the layout and the label set.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence

from sensorclip.data.captions import PhraseBook, build_phrasebook, find_leaks, home_labels
from sensorclip.data.homes import Home, Sensor
from sensorclip.data.states import normalise_state
from sensorclip.frozen.render import sensor_state_pairs

SENSOR_NOUNS = {"motion": "A motion sensor", "door": "A door sensor", "item": "An item sensor",
                "light": "A light switch", "switch": "A switch", "handset": "A handset sensor"}
STATE_PHRASES = {
    ("motion", "ON"): "detects motion", ("motion", "OFF"): "stops detecting motion",
    ("door", "OPEN"): "senses the door opening", ("door", "CLOSE"): "senses the door closing",
    ("item", "PRESENT"): "senses the item put back in place",
    ("item", "ABSENT"): "senses the item taken away",
    ("light", "ON"): "is switched on", ("light", "OFF"): "is switched off",
    ("switch", "ON"): "is switched on", ("switch", "OFF"): "is switched off",
    ("handset", "START"): "senses the handset lifted",
    ("handset", "END"): "senses the handset put down",
}
GENERIC_STATES = {"ON": "turns on", "OFF": "turns off", "OPEN": "opens", "CLOSE": "closes",
                  "PRESENT": "reports something present", "ABSENT": "reports something absent",
                  "START": "starts", "STOP": "stops", "END": "ends"}
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
            "tenth")
COUNTS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def state_phrase(sensor_type: str, state: str) -> str:
    """'detects motion', 'senses the door opening', ...; any other pair in generic words."""
    state = normalise_state(state)
    return STATE_PHRASES.get((sensor_type, state), GENERIC_STATES.get(state, f"reports {state}"))


def sensor_noun(sensor_type: str) -> str:
    return SENSOR_NOUNS.get(sensor_type, f"A {sensor_type.replace('_', ' ')} sensor"
                            if sensor_type != "unknown" else "A sensor")


def describe_pairs(home: Home, pairs: Sequence[tuple[str, str]] | None = None,
                   labels: Iterable[str] | None = None) -> list[str]:
    """One sentence per (sensor, state) of ``pairs`` (default: every pair of the home, in
    ``sensor_state_pairs`` order), phrased with the leak-free vocabulary of the home's labels
    (``home_labels``) plus ``labels``."""
    pairs = list(pairs) if pairs is not None else sensor_state_pairs(home)
    sensor_ids = list(dict.fromkeys(s for s, _ in pairs))
    book = build_phrasebook(home, sensor_ids, home_labels(home, labels or ()))
    places = sensor_places(home, sensor_ids, book)
    return [f"{places[sid]} {state_phrase(home.sensors[sid].type, state)}."
            for sid, state in pairs]


def room_words(home: Home, labels: Iterable[str] | None = None) -> dict[str, str]:
    """Each room's name in the captions' leak-free words ('guest_bathroom' -> 'south
    bathroom' where a label names bathing), for writing on images (``render.labels``)."""
    book = build_phrasebook(home, [], home_labels(home, labels or ()))
    return {name: phrase.removeprefix("the ") for name, phrase in zip(book.room_names, book.room)}


def sensor_places(home: Home, sensor_ids: Sequence[str], book: PhraseBook) -> dict[str, str]:
    """'A motion sensor in the kitchen, near the stove' per sensor, unique within the home."""
    base = {}
    for code, sid in enumerate(sensor_ids):
        sensor = home.sensors[sid]
        room = book.room[book.sensor_room[code]]
        what = book.door[code] if sensor.type == "door" else book.detail[code]
        what = _drop_room(what, room) if what and what != "a door" else None
        if sensor.type == "door" and what:
            where = "" if what == room else f" in {room}"
            base[sid] = f"{sensor_noun(sensor.type)} on {what}{where}"
        elif what:
            base[sid] = f"{sensor_noun(sensor.type)} in {room}, {what},"
        else:
            base[sid] = f"{sensor_noun(sensor.type)} in {room}"
    return _disambiguate(home, base)


def _drop_room(detail: str, room: str) -> str:
    """'the garage door in kitchen' in the kitchen -> 'the garage door' (the room is said)."""
    bare = re.escape(room.removeprefix("the "))
    return re.sub(rf"\s+(?:in|of) (?:the )?{bare}$", "", detail)


def _disambiguate(home: Home, base: dict[str, str]) -> dict[str, str]:
    """Sensors sharing a phrase get their position in their room; ties left after that get
    their order from west to east (then south to north, then layout order)."""
    places = dict(base)
    for sids in _groups(base).values():
        if len(sids) > 1:
            for sid in sids:
                places[sid] = _with_position(base[sid], _position_words(home, home.sensors[sid]))
    layout_order = {sid: i for i, sid in enumerate(home.sensors)}
    for sids in _groups(places).values():
        if len(sids) > 1:
            order = sorted(sids, key=lambda s: (*home.sensors[s].xy, layout_order[s]))
            count = COUNTS[len(sids) - 1] if len(sids) <= len(COUNTS) else str(len(sids))
            for rank, sid in enumerate(order):
                nth = ORDINALS[rank] if rank < len(ORDINALS) else f"number {rank + 1}"
                places[sid] = _with_position(
                    places[sid], f"the {nth} of {count} there, counting from the west")
    return places


def _groups(phrases: dict[str, str]) -> dict[str, list[str]]:
    groups = defaultdict(list)
    for sid, phrase in phrases.items():
        groups[phrase].append(sid)
    return groups


def _with_position(phrase: str, position: str) -> str:
    return f"{phrase.rstrip(',')}, {position},"


def _position_words(home: Home, sensor: Sensor) -> str:
    """'in the north-west of the room' (of the home, where the room has no rectangle)."""
    if sensor.room in home.rooms:
        x0, y0, x1, y1 = home.rooms[sensor.room]
        where = "of the room"
    else:
        x0, y0, (x1, y1) = 0.0, 0.0, home.size
        where = "of the home"
    fx = (sensor.xy[0] - x0) / max(x1 - x0, 1e-9)
    fy = (sensor.xy[1] - y0) / max(y1 - y0, 1e-9)
    ns = "south" if fy < 1 / 3 else ("north" if fy > 2 / 3 else "")
    ew = "west" if fx < 1 / 3 else ("east" if fx > 2 / 3 else "")
    compass = "-".join(w for w in (ns, ew) if w)
    return f"in the {compass} {where}" if compass else f"in the middle {where}"


def sentence_leaks(home: Home, sentences: Sequence[str],
                   labels: Iterable[str] = ()) -> dict[str, list[str]]:
    """Sentences that name an activity label of the home (or ``labels``) or a synonym: none
    should (the tests check every shipped layout)."""
    forbidden = build_phrasebook(home, [], home_labels(home, labels)).forbidden
    leaks = {text: find_leaks(text, forbidden) for text in sentences}
    return {text: words for text, words in leaks.items() if words}
