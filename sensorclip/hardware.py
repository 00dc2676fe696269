"""Defaults that follow the host: bf16 where the CPU multiplies bf16 matrices natively.

Measured figures for bf16 against fp32 are in docs/performance.md. Without native bf16 matrix
units bf16 is not expected to gain, so fp32 stays the default there. The configs ask through the
``if_native_bf16`` resolver (``trainer.precision: ${if_native_bf16:bf16-mixed,32-true}``) and the
text encoder through ``text.precision=auto``; an explicit override (``trainer.precision=32-true``)
always wins.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from omegaconf import OmegaConf


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The first CPU's feature flags (empty where /proc/cpuinfo does not exist)."""
    try:
        lines = cpuinfo.read_text().splitlines()
    except OSError:
        return set()
    return next((set(line.split(":", 1)[1].split()) for line in lines
                 if line.startswith("flags")), set())


@lru_cache(maxsize=1)
def native_bf16_matmul() -> bool:
    return "amx_bf16" in cpu_flags()


def if_native_bf16(native: str, otherwise: str) -> str:
    return native if native_bf16_matmul() else otherwise


def register_resolvers() -> None:
    if not OmegaConf.has_resolver("if_native_bf16"):
        OmegaConf.register_new_resolver("if_native_bf16", if_native_bf16)
