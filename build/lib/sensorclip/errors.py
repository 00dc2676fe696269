"""User-facing errors: entry points print these as one clean message, never a traceback."""

from __future__ import annotations


class SensorClipError(Exception):
    """A problem the user can fix; the message says what is wrong, where, and how to fix it."""


class LayoutError(SensorClipError):
    """A home layout file is malformed or inconsistent."""


class LogFormatError(SensorClipError):
    """A CASAS event log cannot be read."""


class UnknownSensorError(SensorClipError):
    """The log names sensors that the layout does not describe."""


class ModelNotAvailableError(SensorClipError):
    """Model weights are not on disk and cannot be downloaded."""


class CacheError(SensorClipError):
    """A cache entry is unreadable or inconsistent with what the pipeline expects."""
