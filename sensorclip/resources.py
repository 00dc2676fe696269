"""Refuse, before allocating, what the machine cannot hold.

A config value can ask for more memory than any machine has (1 ms duration windows with 99%
overlap over a month are billions of windows). numpy or torch would try, and on a large host
swap it to a halt before failing. Each stage whose allocation scales with a config value first
estimates its size here (pure arithmetic, no allocation) and ``guard`` refuses with the figure,
what the machine has free and the key to change.
"""

from __future__ import annotations

import os

import numpy as np

from sensorclip.errors import SensorClipError

# Share of the currently available memory one allocation may take: the rest is for the
# interpreter, the libraries and the other arrays of the same stage.
USABLE_SHARE = 0.8
FLOAT_BYTES = 4
# Bytes per window in the windows and captions stages, beside its events: start, length, day,
# split, four labels (windows.npz) and the bookkeeping of the ragged index arithmetic.
WINDOW_BYTES = 96
# A caption string and its index entry, roughly (captions average about 120 characters).
CAPTION_BYTES = 200


def available_bytes() -> int:
    """Memory free for new allocations now (physical, not swap)."""
    try:
        import psutil
        return int(psutil.virtual_memory().available)
    except ImportError:        # pragma: no cover - psutil comes with Lightning's dependencies
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))


def human(nbytes: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(nbytes) < 1024 or unit == "PiB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.1f} {unit}"
        nbytes /= 1024
    raise AssertionError("unreachable")


def guard(what: str, nbytes: float, fix: str, available: int | None = None) -> None:
    """Refuse when ``nbytes`` exceeds the usable share of free memory; ``fix`` names the keys."""
    free = available_bytes() if available is None else available
    if nbytes > USABLE_SHARE * free:
        raise SensorClipError(f"{what} would need about {human(nbytes)}, more than this machine "
                              f"has free ({human(free)}); {fix}")


# ---------------------------------------------------------------------------------------------
# Estimates: arithmetic on the config and the data's extent, nothing allocated


def window_count(n_events: int, span_s: float, kind: str, size: float, stride: float) -> float:
    """An upper estimate of the number of windows of a log (one segment over its span)."""
    if kind == "length":
        return max(0.0, (n_events - size) / stride + 1)
    return span_s / stride + 1


def windows_bytes(n_events: int, span_s: float, kind: str, size: float, stride: float,
                  max_events: int) -> float:
    """Windows with their events (the majority labels walk every event of every window)."""
    count = window_count(n_events, span_s, kind, size, stride)
    if kind == "length":
        events = size
    else:
        rate = n_events / span_s if span_s > 0 else float(n_events)
        events = min(max_events, max(1.0, rate * size))
    return count * (WINDOW_BYTES + 16 * events)


def images_bytes(n_pairs: int, image_size: int, supersample: int) -> float:
    """Every (sensor, state) image kept in memory, plus the supersampled canvases it is drawn
    on (the plan and one pair at a time)."""
    side = image_size * supersample
    return n_pairs * image_size ** 2 * 3 + 3 * side ** 2 * 4


def training_bytes(batch: int, length: int, d_model: int, d_ff: int, n_heads: int,
                   n_layers: int, backward: bool = True) -> float:
    """Activations of one batch through the transformer: per layer the residual stream,
    attention projections and feed-forward (about 6 d_model + 2 d_ff floats per token) and the
    attention scores (heads x length^2); kept for the backward pass, which doubles the peak."""
    per_token = 6 * d_model + 2 * d_ff
    per_layer = batch * (length * per_token + 2 * n_heads * length ** 2) * FLOAT_BYTES
    return n_layers * per_layer * (2 if backward else 1)


def span_seconds(times_us: np.ndarray) -> float:
    return float(times_us[-1] - times_us[0]) / 1e6 if len(times_us) else 0.0
