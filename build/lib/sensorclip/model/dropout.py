"""Dropout that is cheap on the CPU.

``torch.nn.functional.dropout`` on the CPU draws one float Bernoulli sample per element and keeps
a float mask for backward, a large share of a CPU training step (docs/performance.md). Here one
64-bit random word gives four 16-bit lanes, an element is dropped when its lane falls under ``p``
(rounded to a multiple of 1/65536), and the input is multiplied by a factor (0 or 1/(1-p)) of its
own dtype, which forward and backward multiply faster than a bool mask. The draws come from
torch's default generator, so ``torch.manual_seed`` governs them exactly as it governs
``nn.Dropout``. On CUDA the fused native kernel is already fast and is used unchanged.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

_LANE_LEVELS = 1 << 16
_LANE_MIN = -(1 << 15)


def keep_mask(shape: torch.Size, p: float, device: torch.device) -> torch.Tensor:
    """Bool tensor of ``shape``, False where an element is dropped (probability ~``p``)."""
    count = shape.numel()
    words = torch.empty((count + 3) // 4, dtype=torch.int64, device=device)
    words.random_(-(1 << 63), (1 << 63) - 1)          # full range: every 16-bit lane is uniform
    lanes = words.view(torch.int16)[:count].view(shape)
    return lanes >= _LANE_MIN + round(p * _LANE_LEVELS)


def dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    if not training or p == 0:
        return x
    if x.device.type != "cpu" or p >= 1:
        return F.dropout(x, p, training=True)
    factor = keep_mask(x.shape, p, x.device).to(x.dtype).mul_(1 / (1 - p))
    return x * factor


class Dropout(nn.Module):
    """Drop-in for ``nn.Dropout`` (same ``p``, same train/eval behaviour)."""

    def __init__(self, p: float = 0.1):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"dropout probability must be in [0, 1], got {p}")
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
