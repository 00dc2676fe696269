"""Rule-based captions: several paraphrases per window, built only from what the sensors saw.

A caption says when (time of day, weekday), how long, where (rooms in order of visit, the
dominant room, sensors with a detail such as "near the fridge"), which doors moved and how much
movement there was. It never names the activity: every phrase taken from the layout (room names,
sensor details) is cleaned once per home of all activity labels and their synonyms, and
``find_leaks`` checks a caption against that list.

Randomness is a hash of (seed, window start, window length, paraphrase, slot), so a window's
captions do not depend on which other windows were captioned before it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import groupby

import numpy as np

from sensorclip.config import CaptionConfig
from sensorclip.data.homes import NO_ACTIVITY, Home, label_phrase
from sensorclip.data.states import is_active, is_opened
from sensorclip.units import EPOCH_WEEKDAY, US_PER_DAY, US_PER_HOUR

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# Words that would give an activity away, keyed by a word that may occur in a label's name.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "sleep": ("sleep", "sleeps", "sleeping", "asleep", "slept", "nap", "napping"),
    "cook": ("cook", "cooks", "cooking", "cooked", "meal preparation", "preparing food"),
    "meal": ("meal", "meals", "meal preparation"),
    "preparation": ("meal preparation", "preparing food"),
    "eat": ("eat", "eats", "eating", "ate", "meal", "meals", "breakfast", "lunch", "dinner",
            "snack", "dining"),
    "breakfast": ("breakfast",), "lunch": ("lunch",), "dinner": ("dinner",), "snack": ("snack",),
    "dining": ("dining",),
    "read": ("read", "reads", "reading"),
    "tv": ("tv", "television", "watching"), "watch": ("watch", "watches", "watching"),
    "meds": ("medicine", "medicines", "medication", "meds", "pill", "pills"),
    "medicine": ("medicine", "medicines", "medication", "meds", "pill", "pills"),
    "bathing": ("bath", "bathe", "bathing", "shower", "showering"),
    "bath": ("bath", "bathe", "bathing"),
    "work": ("work", "works", "working", "chores", "housework", "housekeeping"),
    "chores": ("chores", "housework"), "housekeeping": ("housekeeping", "housework", "cleaning"),
    "clean": ("clean", "cleaning"),
    "relax": ("relax", "relaxes", "relaxing", "resting"),
    "leave": ("leave", "leaves", "leaving", "left home", "going out", "goes out", "went out"),
    "enter": ("enter", "enters", "entering", "arrive", "arrives", "arriving", "coming home",
              "comes home"),
    "meditate": ("meditate", "meditates", "meditating", "meditation"),
    "hygiene": ("hygiene", "grooming", "washing up", "brushing teeth"),
    "wake": ("wake", "wakes", "waking", "woke", "getting up"),
    "wandering": ("wander", "wanders", "wandering"),
    "laundry": ("laundry",),
    "wash": ("wash", "washes", "washing"), "dishes": ("dishes",),
    "respirate": ("respirate", "breathing"),
    "meeting": ("meeting",),
    "toilet": ("toilet trip",),
}
GENERIC_ROOMS = {"unk", "unknown", "other", "none", ""}
ROOM_NOUNS = {"living": "living room", "dining": "dining room"}   # CASAS names a few by adjective


@dataclass
class Captions:
    texts: list[str]          # unique caption strings
    index: np.ndarray         # int32 [windows, per_window] into texts


# ---------------------------------------------------------------------------------------------
# Leak guard


def forbidden_phrases(labels: Iterable[str]) -> list[str]:
    """Label phrases and their synonyms that a caption must never contain."""
    phrases = set()
    for label in labels:
        phrase = label_phrase(label)
        if not phrase:
            continue
        phrases.add(phrase)
        for word in phrase.split():
            phrases.update(SYNONYMS.get(word, ()))
    return sorted(phrases, key=len, reverse=True)


def _phrase_pattern(phrases: Sequence[str]) -> re.Pattern:
    alternatives = "|".join(re.escape(p) for p in phrases) or r"(?!x)x"
    return re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE)


def find_leaks(text: str, forbidden: Sequence[str]) -> list[str]:
    return sorted({m.group(0).lower() for m in _phrase_pattern(forbidden).finditer(text)})


def home_labels(home: Home, extra: Iterable[str] = ()) -> set[str]:
    labels = set(home.labels) | set(home.labels.values()) | set(extra)
    return labels | {NO_ACTIVITY, home.coarse_label(NO_ACTIVITY)}


# ---------------------------------------------------------------------------------------------
# Per-home phrase vocabulary


@dataclass
class PhraseBook:
    """Leak-free phrases for the home's rooms and sensors, computed once per home."""

    room_names: list[str]
    room: list[str]                 # per room code: "the kitchen"
    detail: list[str | None]        # per sensor code: "near the fridge" or None
    door: list[str | None]          # per sensor code: "the front door" for door sensors
    sensor_room: np.ndarray         # int32 room code per sensor code
    forbidden: list[str]

    def rename(self, text: str) -> str:
        """Text in the captions' vocabulary: a room the captions call by another name (Milan's
        guest bathroom is "the south bathroom") is called that here too."""
        for name, phrase in zip(self.room_names, self.room):
            plain = room_plain_name(name)
            if phrase != f"the {plain}" and plain not in GENERIC_ROOMS:
                bare = phrase.removeprefix("the ")
                text = re.sub(rf"\b(?:the )?{re.escape(plain)}\b",
                              lambda m, p=phrase, b=bare: p if m.group(0).lower().startswith("the ")
                              else b, text, flags=re.IGNORECASE)
        return text


def build_phrasebook(home: Home, sensor_names: Sequence[str], labels: Iterable[str]) -> PhraseBook:
    forbidden = forbidden_phrases(labels)
    pattern = _phrase_pattern(forbidden)
    room_names = home.room_names
    rooms = _room_phrases(home, room_names, pattern)
    details, doors = [], []
    for sid in sensor_names:
        sensor = home.sensors[sid]
        detail = _clean(sensor.detail or "", pattern)
        room_words = set(sensor.room.lower().replace("_", " ").split())
        if detail and set(detail.split()) <= room_words | {"the", "in", "at", "near"}:
            detail = ""   # a detail that only repeats the room adds nothing
        details.append(_near(detail) if detail and sensor.type != "door" else None)
        doors.append(_door_phrase(detail) if sensor.type == "door" else None)
    room_of = {name: i for i, name in enumerate(room_names)}
    sensor_room = np.array([room_of[home.sensors[s].room] for s in sensor_names], dtype=np.int32)
    return PhraseBook(room_names, rooms, details, doors, sensor_room, forbidden)


def _clean(text: str, pattern: re.Pattern) -> str:
    """Remove forbidden phrases and the connectives they leave dangling."""
    text = pattern.sub(" ", text.lower().replace("_", " "))
    words = text.split()
    while words and words[0] in {"and", "or", "of", "with", "for"}:
        words.pop(0)
    while words and words[-1] in {"and", "or", "of", "with", "for", "the", "a", "in", "at",
                                  "near", "to"}:
        words.pop()
    cleaned = " ".join(words)
    return re.sub(r"\b(and|or) (and|or)\b", r"\1", cleaned)


def _near(detail: str) -> str:
    if re.match(r"^(near|in|on|at|by|between|close to|next to)\b", detail):
        return detail
    return f"near the {detail}"


def _door_phrase(detail: str) -> str:
    detail = re.sub(r"^(on|at|in) ", "", detail)
    if not detail:
        return "a door"
    return detail if detail.startswith(("the ", "a ")) else f"the {detail}"


def _room_phrases(home: Home, room_names: Sequence[str], pattern: re.Pattern) -> list[str]:
    """'the kitchen'; a room named like an activity gets a positional name instead."""
    phrases = []
    for name in room_names:
        plain = room_plain_name(name)
        if plain in GENERIC_ROOMS:
            phrases.append("an unmapped area")
        elif pattern.search(plain):
            phrases.append(_positional_name(home, name, plain, pattern))
        else:
            phrases.append(f"the {plain}")
    return phrases


def room_plain_name(name: str) -> str:
    """'guest_bathroom' -> 'guest bathroom'; 'living' -> 'living room'."""
    plain = name.lower().replace("_", " ").strip()
    return ROOM_NOUNS.get(plain, plain)


def _positional_name(home: Home, name: str, plain: str, pattern: re.Pattern) -> str:
    """'guest bathroom' -> 'the south bathroom': head noun plus where it lies among its peers."""
    head = plain.split()[-1]
    if pattern.search(head):
        head = "room"
    peers = [r for r in home.room_names if r.lower().replace("_", " ").split()[-1] == head]
    centre = np.mean([home.room_centre(r) for r in peers], axis=0) if len(peers) > 1 else \
        np.asarray(home.size) / 2
    dx, dy = np.asarray(home.room_centre(name)) - centre
    if abs(dx) < 1e-9 and abs(dy) < 1e-9:
        return f"the {head}"
    direction = ("east" if dx > 0 else "west") if abs(dx) >= abs(dy) else \
        ("north" if dy > 0 else "south")
    return f"the {direction} {head}"


# ---------------------------------------------------------------------------------------------
# Window facts and rendering


@dataclass(frozen=True)
class WindowFacts:
    weekday: int
    hour: int
    seconds: float
    rooms: tuple[int, ...]          # room codes in order of visit
    dominant: int
    details: tuple[int, ...]        # sensor codes with a detail, most triggered first
    doors: tuple[int, ...]          # door sensor codes that opened
    per_minute: float               # active events per minute


def window_facts(time_us: np.ndarray, sensor: np.ndarray, state: np.ndarray,
                 state_names: Sequence[str], starts: np.ndarray, lengths: np.ndarray,
                 book: PhraseBook, config: CaptionConfig) -> list[WindowFacts]:
    ends = starts + lengths
    first, last = time_us[starts], time_us[ends - 1]
    seconds = (last - first) / 1e6
    hour = (first // US_PER_HOUR) % 24
    weekday = (first // US_PER_DAY + EPOCH_WEEKDAY) % 7
    active = np.array([is_active(s) for s in state_names], dtype=bool)[state]
    opened = np.array([is_opened(s) for s in state_names], dtype=bool)[state]
    room = book.sensor_room[sensor]
    has_detail = np.array([d is not None for d in book.detail])[sensor] & active
    is_door = np.array([d is not None for d in book.door])[sensor] & opened
    cum_active = np.r_[0, np.cumsum(active)]
    per_minute = (cum_active[ends] - cum_active[starts]) / np.maximum(seconds / 60, 0.5)
    room_list, sensor_list = room.tolist(), sensor.tolist()
    detail_list, door_list = has_detail.tolist(), is_door.tolist()
    facts = []
    for i, (s, e) in enumerate(zip(starts.tolist(), ends.tolist())):
        visited = tuple(k for k, _ in groupby(room_list[s:e]))
        counts = Counter(room_list[s:e])
        details = Counter(sensor_list[j] for j in range(s, e) if detail_list[j])
        doors = tuple(dict.fromkeys(sensor_list[j] for j in range(s, e) if door_list[j]))
        facts.append(WindowFacts(
            weekday=int(weekday[i]), hour=int(hour[i]), seconds=float(seconds[i]),
            rooms=visited, dominant=max(counts, key=counts.get),
            details=tuple(d for d, _ in details.most_common(config.max_details)),
            doors=doors, per_minute=float(per_minute[i])))
    return facts


TIME_OF_DAY = (  # (last hour, phrases)
    (5, ("in the middle of the night", "at night", "during the night")),
    (8, ("early in the morning", "in the early morning", "at dawn")),
    (12, ("in the morning", "during the morning", "in the late morning")),
    (14, ("around midday", "at noon", "around noon")),
    (17, ("in the afternoon", "during the afternoon", "in the mid afternoon")),
    (20, ("in the evening", "during the early evening", "in the early evening")),
    (24, ("late in the evening", "in the late evening", "late at night")),
)
SUBJECTS = ("The resident", "Someone", "A person", "The occupant")
ONE_ROOM_VERBS = ("moves around", "is active", "is detected", "moves about")
MOVE_VERBS = ("moves", "walks", "goes")
PASSIVE = ("Motion is detected", "Movement is recorded", "Sensors register motion")


def _pick(options: Sequence[str], r: int) -> str:
    return options[r % len(options)]


def _time_phrase(facts: WindowFacts, r: int) -> str:
    for limit, phrases in TIME_OF_DAY:
        if facts.hour < limit:
            when = _pick(phrases, r)
            break
    day = WEEKDAYS[facts.weekday]
    return _pick((f"on {day} {when}", f"{when} on a {day}", f"on a {day}, {when}"), r >> 3)


def _duration_phrase(seconds: float, r: int) -> str:
    if seconds < 45:
        return _pick(("within seconds", "for less than a minute", "briefly"), r)
    minutes = round(seconds / 60)
    if minutes <= 1:
        return _pick(("for about a minute", "over roughly one minute"), r)
    if minutes < 90:
        return _pick((f"for about {minutes} minutes", f"over {minutes} minutes",
                      f"for roughly {minutes} minutes"), r)
    hours = round(seconds / 3600, 1)
    return _pick((f"for about {hours:g} hours", f"over {hours:g} hours"), r)


def _rooms_phrase(facts: WindowFacts, book: PhraseBook, r: int, max_rooms: int) -> str:
    names = [book.room[k] for k in facts.rooms]
    if len(names) == 1:
        return f"in {names[0]}"
    if len(names) == 2:
        return f"from {names[0]} to {names[1]}"
    if len(names) <= max_rooms:
        middle = ", ".join(names[1:-1])
        return f"from {names[0]} through {middle} to {names[-1]}"
    return (f"through {len(set(facts.rooms))} rooms, from {names[0]} to {names[-1]}, "
            f"mostly in {book.room[facts.dominant]}")


def _movement_phrase(per_minute: float, r: int) -> str:
    if per_minute < 0.5:
        return _pick(("with very little movement", "with only occasional motion"), r)
    if per_minute < 3:
        return _pick(("with some movement", "with moderate motion"), r)
    return _pick(("with a lot of movement", "with busy, frequent motion"), r)


def paraphrase(facts: WindowFacts, book: PhraseBook, r: np.ndarray, max_rooms: int) -> str:
    """One paraphrase; ``r`` holds independent random integers, one per choice slot."""
    r = [int(x) for x in r]
    place = _rooms_phrase(facts, book, r[0], max_rooms)
    if len(facts.rooms) == 1:
        verb = _pick(ONE_ROOM_VERBS, r[1])
        core = (f"{_pick(SUBJECTS, r[2])} {verb} {place}" if r[3] % 2
                else f"{_pick(PASSIVE, r[2])} {place}")
    else:
        core = (f"{_pick(SUBJECTS, r[2])} {_pick(MOVE_VERBS, r[1])} {place}" if r[3] % 2
                else f"{_pick(PASSIVE, r[2])} {place}")
    extras = []
    if facts.details:
        spots = [book.detail[s] for s in facts.details]
        extras.append(" and ".join(dict.fromkeys(spots)))
    if len(facts.rooms) > 1 and len(facts.rooms) <= max_rooms and r[4] % 2:
        extras.append(f"mostly in {book.room[facts.dominant]}")
    if facts.doors:
        doors = " and ".join(book.door[d] for d in facts.doors[:2])
        verb = "opens" if len(facts.doors) == 1 else "open"
        extras.append(f"while {doors} {verb}")
    extras.append(_movement_phrase(facts.per_minute, r[5]))
    when, lasting = _time_phrase(facts, r[6]), _duration_phrase(facts.seconds, r[7])
    body = ", ".join([core] + extras)
    if r[8] % 2:
        sentence = f"{when[0].upper()}{when[1:]}, {body[0].lower()}{body[1:]}, {lasting}."
    else:
        sentence = f"{body}, {when}, {lasting}."
    return sentence.replace("  ", " ")


SLOTS = 9


def random_slots(seed: int, keys: np.ndarray, per_window: int) -> np.ndarray:
    """uint64 [windows, per_window, SLOTS] from a counter-based hash (splitmix64)."""
    keys = np.asarray(keys, dtype=np.uint64)
    counter = (keys[:, None, None] * np.uint64(1_000_003)
               + np.arange(per_window, dtype=np.uint64)[None, :, None] * np.uint64(SLOTS)
               + np.arange(SLOTS, dtype=np.uint64)[None, None, :])
    x = counter + np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return x >> np.uint64(16)   # keep the value positive in Python ints


def caption_windows(time_us, sensor, state, state_names, starts, lengths, book: PhraseBook,
                    config: CaptionConfig) -> Captions:
    facts = window_facts(time_us, sensor, state, state_names, starts, lengths, book, config)
    keys = np.asarray(starts, dtype=np.uint64) * np.uint64(4099) + np.asarray(lengths, np.uint64)
    slots = random_slots(config.seed, keys, config.per_window)
    unique: dict[str, int] = {}
    index = np.empty((len(facts), config.per_window), dtype=np.int32)
    for i, f in enumerate(facts):
        for k in range(config.per_window):
            text = paraphrase(f, book, slots[i, k], config.max_rooms)
            index[i, k] = unique.setdefault(text, len(unique))
    return Captions(texts=list(unique), index=index)
