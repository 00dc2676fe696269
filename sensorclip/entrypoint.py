"""Shared behaviour of the entry points: user errors become one clean line and a non-zero exit."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

from rich.console import Console

from sensorclip.errors import SensorClipError
from sensorclip.quiet import quiet_third_party

T = TypeVar("T")


def run_cleanly(task: Callable[[], T]) -> T:
    quiet_third_party()
    try:
        return task()
    except SensorClipError as exc:
        one_line = " ".join(str(exc).split())      # quoted library text may hold line breaks
        print(f"error: {one_line}", file=sys.stderr)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        print("interrupted: caches are only ever renamed into place when complete, "
              "so rerunning resumes safely", file=sys.stderr)
        raise SystemExit(130) from None


def console() -> Console:
    """A rich console that does not wrap tables at 80 columns when output is piped to a file."""
    return Console(width=None if sys.stdout.isatty() else 120)
