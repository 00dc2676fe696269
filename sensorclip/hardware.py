"""Defaults that follow the host: bf16 where the CPU multiplies bf16 matrices natively.

On CPUs with AMX-BF16 tiles (Intel Sapphire Rapids and later) bf16 autocast gave 2.4-2.6x the
fp32 training throughput at the 768-d encoder size and ran the text encoder 2.2-2.6x faster, with
results of the same quality (docs/performance.md). Without native bf16 matrix units it gains
little and may lose (not measured here), so fp32 stays the default there: the configs ask through the ``if_native_bf16`` resolver, e.g. ``${if_native_bf16:bf16-mixed,32-true}``,
and an explicit override (``trainer.precision=32-true``) always wins.
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
