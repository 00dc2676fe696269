"""Defaults that follow the host: bf16 where the CPU multiplies bf16 matrices natively.

Native means AMX-BF16 tiles or AVX512-BF16 instructions (x86 flags in /proc/cpuinfo); where the
flags do not say (another architecture, no /proc/cpuinfo), a one-second probe times bf16 against
fp32 matrix products and its verdict is cached per machine. Measured figures for bf16 against
fp32 are in docs/performance.md. The configs ask through the ``if_native_bf16`` resolver
(``trainer.precision: ${if_native_bf16:bf16-mixed,32-true}``) and the text encoder through
``text.precision=auto``; an explicit override (``trainer.precision=32-true``) always wins.
"""

from __future__ import annotations

import json
import os
import platform
import time
from functools import lru_cache
from pathlib import Path

import torch
from omegaconf import OmegaConf

NATIVE_BF16_FLAGS = frozenset({"amx_bf16", "avx512_bf16"})
X86_FLAGS = frozenset({"sse2", "avx", "avx2"})      # flags that show the list is x86's
PROBE_SPEEDUP = 1.5                                 # bf16 must beat fp32 by this to be chosen


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The first CPU's feature flags (x86 ``flags`` or ARM ``Features``; empty where
    /proc/cpuinfo does not exist)."""
    try:
        lines = cpuinfo.read_text().splitlines()
    except OSError:
        return set()
    return next((set(line.split(":", 1)[1].split()) for line in lines
                 if line.startswith(("flags", "Features"))), set())


# Instruction sets that decide which precisions run natively, by their /proc/cpuinfo flag.
CAPABILITY_FLAGS = {"amx_bf16": "AMX-BF16", "avx512_bf16": "AVX512-BF16", "avx512f": "AVX-512",
                    "avx512_vnni": "AVX512-VNNI", "avx_vnni": "AVX-VNNI", "avx2": "AVX2"}


def capabilities(flags: set[str] | None = None) -> dict[str, bool]:
    """Which of ``CAPABILITY_FLAGS`` the CPU has (by their names), and whether bf16 matrix
    products run natively here."""
    flags = cpu_flags() if flags is None else flags
    found = {name: flag in flags for flag, name in CAPABILITY_FLAGS.items()}
    verdict = _native_by_flags(flags)
    found["native bf16"] = native_bf16_matmul() if verdict is None else verdict
    return found


def _native_by_flags(flags: set[str]) -> bool | None:
    """What x86 flags say about native bf16 products; None where they do not say."""
    if flags & NATIVE_BF16_FLAGS:
        return True
    return False if flags & X86_FLAGS else None


def native_precisions() -> tuple[str, ...]:
    """The precisions worth timing on this CPU: bf16 only where it is native (emulated bf16
    products run hundreds of times slower than fp32)."""
    return ("fp32", "bf16") if native_bf16_matmul() else ("fp32",)


@lru_cache(maxsize=1)
def native_bf16_matmul() -> bool:
    verdict = _native_by_flags(cpu_flags())      # x86 without either flag: emulated, slow
    return verdict if verdict is not None else \
        probe_cache().get("bf16_speedup", 0.0) >= PROBE_SPEEDUP


def probe_cache(path: Path | None = None) -> dict:
    """The probe's verdict for this machine, measured once and kept in the user's cache."""
    path = path or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / \
        "sensorclip" / "bf16_probe.json"
    machine = f"{platform.machine()} {platform.processor()} torch {torch.__version__}"
    try:
        cached = json.loads(path.read_text())
        if isinstance(cached, dict) and cached.get("machine") == machine \
                and isinstance(cached.get("bf16_speedup"), (int, float)):
            return cached
    except (OSError, ValueError):
        pass
    result = {"machine": machine, "bf16_speedup": measure_bf16_speedup()}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result))
    except OSError:
        pass                          # a read-only home: measure again next time
    return result


def matmul_flops(dtype: torch.dtype, size: int = 2048, seconds: float = 0.5) -> float:
    """FLOP/s of a square ``size`` x ``size`` matrix product in ``dtype`` on the CPU, after one
    warm-up product: the bf16 probe below, and the roofline's ceiling in ``scripts/bench.py``."""
    a, b = (torch.randn(size, size).to(dtype) for _ in range(2))
    a @ b
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        a @ b
        count += 1
    return 2 * size ** 3 * count / (time.perf_counter() - started)


def measure_bf16_speedup(size: int = 512, seconds: float = 0.5) -> float:
    """How many times faster a bf16 matrix product runs than an fp32 one, on the CPU."""
    return (matmul_flops(torch.bfloat16, size, seconds)
            / matmul_flops(torch.float32, size, seconds))


def if_native_bf16(native: str, otherwise: str) -> str:
    return native if native_bf16_matmul() else otherwise


def register_resolvers() -> None:
    if not OmegaConf.has_resolver("if_native_bf16"):
        OmegaConf.register_new_resolver("if_native_bf16", if_native_bf16)
