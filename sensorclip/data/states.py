"""The sensor-state vocabulary, shared by the reader, the simulator, captions and the renderer.

CASAS logs spell states loosely (``ON0``, ``ON``` with a backtick, ``OFF5``, ``OPENED``,
``closed``); ``normalise_state`` maps each to its canonical form, and every stage that asks
"is this an active state?" asks it of the canonical form.
"""

from __future__ import annotations

import re

STATES_BY_TYPE = {
    "motion": ("ON", "OFF"), "door": ("OPEN", "CLOSE"), "item": ("PRESENT", "ABSENT"),
    "light": ("ON", "OFF"), "switch": ("ON", "OFF"), "unknown": ("ON", "OFF"),
    "handset": ("START", "END"),      # a telephone in use (CASAS 'asterisk')
}
DEFAULT_STATES = ("ON", "OFF")
ACTIVE = frozenset({"ON", "OPEN", "PRESENT", "START"})     # something happened at the sensor
OPENED = frozenset({"OPEN"})
_CANONICAL = {"ON": "ON", "OFF": "OFF", "OPEN": "OPEN", "OPENED": "OPEN", "CLOSE": "CLOSE",
              "CLOSED": "CLOSE", "PRESENT": "PRESENT", "ABSENT": "ABSENT", "START": "START",
              "STOP": "STOP", "END": "END"}
CANONICAL = frozenset(_CANONICAL.values())


def normalise_state(state: str) -> str:
    """'on0' -> 'ON', 'ON`' -> 'ON', 'OFF5' -> 'OFF', 'closed' -> 'CLOSE'; unknown forms kept."""
    letters = re.sub(r"[^A-Za-z]", "", state).upper()
    return _CANONICAL.get(letters, state.strip().upper())


def states_of_type(sensor_type: str) -> tuple[str, ...]:
    """The canonical states a binary sensor of this type emits."""
    return STATES_BY_TYPE.get(sensor_type, DEFAULT_STATES)


def is_active(state: str) -> bool:
    return normalise_state(state) in ACTIVE


def is_opened(state: str) -> bool:
    return normalise_state(state) in OPENED
