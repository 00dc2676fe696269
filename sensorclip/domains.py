"""What values a config key may take, declared once beside the key.

Every field of the structured configs (``sensorclip.config``) carries a ``Domain`` in its
metadata: ``knob(20, Integer(low=1))``. One function, ``sensorclip.config.check_config``, checks a
composed config against all of them before anything is built, and the message names the key,
the value, the domain and a value that would pass. Type conversion stays with OmegaConf (a field
typed ``int`` refuses ``"abc"`` when composing); domains say what a well-typed value may be.

Domains also describe the values just inside and just outside them (``inside``/``outside``), so
the property tests can draw overrides across and beyond every key without a hand-written list.
"""

from __future__ import annotations

import datetime
import math
import re
from dataclasses import dataclass, field
from typing import Any

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Domain:
    """A set of admissible values. ``example`` is a value inside, for the suggested fix."""

    example: Any = None

    def admits(self, value: Any) -> bool:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def inside(self) -> list[Any]:
        """A few values the domain admits, edges included."""
        return [self.example]

    def outside(self) -> list[Any]:
        """A few well-typed values it refuses (the property tests draw these)."""
        return []


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class Integer(Domain):
    low: int | None = None
    high: int | None = None

    def admits(self, value):
        return (isinstance(value, int) and not isinstance(value, bool)
                and (self.low is None or value >= self.low)
                and (self.high is None or value <= self.high))

    def describe(self):
        if self.high is None:
            return "an integer" + (f" >= {self.low}" if self.low is not None else "")
        return f"an integer in [{self.low}, {self.high}]"

    @property
    def example(self):
        return self.low if self.low is not None else 0

    def inside(self):
        return [v for v in (self.low, self.high, self.example + 1) if v is not None
                and self.admits(v)]

    def outside(self):
        return [v for v in (None if self.low is None else self.low - 1,
                            None if self.high is None else self.high + 1) if v is not None]


@dataclass(frozen=True)
class Real(Domain):
    """A finite number in an interval; ``open_low``/``open_high`` exclude the ends."""

    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False

    def admits(self, value):
        if not _number(value) or not math.isfinite(value):
            return False
        if self.low is not None and (value < self.low or (self.open_low and value == self.low)):
            return False
        return self.high is None or not (value > self.high
                                         or (self.open_high and value == self.high))

    def describe(self):
        if self.low is not None and self.high is not None:
            return (f"a number in {'(' if self.open_low else '['}{self.low}, {self.high}"
                    f"{')' if self.open_high else ']'}")
        if self.low is not None:
            return f"a finite number {'>' if self.open_low else '>='} {self.low}"
        if self.high is not None:
            return f"a finite number {'<' if self.open_high else '<='} {self.high}"
        return "a finite number"

    @property
    def example(self):
        if self.low is not None and self.high is not None:
            return (self.low + self.high) / 2
        if self.low is not None:
            return self.low + 1
        return 0.0 if self.high is None or self.high > 0 else self.high - 1

    def inside(self):
        edges = [self.low if not self.open_low else None,
                 self.high if not self.open_high else None]
        return [v for v in [self.example, *edges] if v is not None and self.admits(v)]

    def outside(self):
        values = [math.nan, math.inf, -math.inf]
        if self.low is not None:
            values += [self.low - 1] + ([self.low] if self.open_low else [])
        if self.high is not None:
            values += [self.high + 1] + ([self.high] if self.open_high else [])
        return values


@dataclass(frozen=True)
class OneOf(Domain):
    values: tuple[Any, ...]

    def admits(self, value):
        return any(value == v and type(value) is type(v) for v in self.values)

    def describe(self):
        return "one of " + ", ".join(map(str, self.values))

    @property
    def example(self):
        return self.values[0]

    def inside(self):
        return list(self.values)

    def outside(self):
        return ["typo_" + str(self.values[0])]


@dataclass(frozen=True)
class Flag(Domain):
    example: Any = True

    def admits(self, value):
        return isinstance(value, bool)

    def describe(self):
        return "true or false"

    def inside(self):
        return [True, False]


@dataclass(frozen=True)
class Text(Domain):
    """A non-empty string (a name, an identifier, a path that is checked where it is read)."""

    what: str = "a non-empty string"
    example: Any = "name"

    def admits(self, value):
        return isinstance(value, str) and bool(value.strip())

    def describe(self):
        return self.what

    def outside(self):
        return ["", "   "]


@dataclass(frozen=True)
class Date(Domain):
    example: Any = "2024-03-04"

    def admits(self, value):
        if not isinstance(value, str) or not _DATE.match(value):
            return False
        year, month, day = map(int, value.split("-"))
        try:
            datetime.date(year, month, day)
        except ValueError:
            return False
        return True

    def describe(self):
        return "a date YYYY-MM-DD"

    def outside(self):
        return ["2024-02-30", "03/04/2024", ""]


@dataclass(frozen=True)
class Optional(Domain):
    """``null`` or a value of ``inner``; ``null_means`` says what leaving it out does."""

    inner: Domain
    null_means: str = "unset"

    def admits(self, value):
        return value is None or self.inner.admits(value)

    def describe(self):
        return f"null ({self.null_means}) or {self.inner.describe()}"

    @property
    def example(self):
        return self.inner.example

    def inside(self):
        return [None, *self.inner.inside()]

    def outside(self):
        return self.inner.outside()


@dataclass(frozen=True)
class Items(Domain):
    """A list (or tuple) whose entries each lie in ``inner``."""

    inner: Domain
    min_items: int = 0

    def admits(self, value):
        return (isinstance(value, (list, tuple)) and len(value) >= self.min_items
                and all(self.inner.admits(v) for v in value))

    def describe(self):
        least = f"at least {self.min_items} " if self.min_items else ""
        return f"a list of {least}values, each {self.inner.describe()}"

    @property
    def example(self):
        return [self.inner.example] * max(1, self.min_items)

    def inside(self):
        return [self.example] + ([[]] if self.min_items == 0 else [])

    def outside(self):
        bad = self.inner.outside()
        values = [[self.inner.example] * (self.min_items - 1)] if self.min_items else []
        return values + ([[bad[0]] * max(1, self.min_items)] if bad else [])


@dataclass(frozen=True)
class Anything(Domain):
    """Checked where it is used, by the code that parses it (``why`` says where)."""

    why: str
    example: Any = field(default=None)

    def admits(self, value):
        return True

    def describe(self):
        return self.why


def knob(default: Any = None, domain: Domain | None = None, *,
         factory: Any = None, hint: str | None = None) -> Any:
    """A dataclass field with its domain: ``size: float = knob(20, Real(low=0, open_low=True))``;
    ``hint`` is added to the message when a value falls outside."""
    metadata = {"domain": domain, "hint": hint}
    if factory is not None:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


def domain_of(f: Any) -> Domain | None:
    return f.metadata.get("domain")


def hint_of(f: Any) -> str | None:
    return f.metadata.get("hint")


def one_of(*values: Any) -> OneOf:
    return OneOf(tuple(values))
