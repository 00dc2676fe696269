"""Contrastive losses between sensor and text embeddings, with duplicate-aware targets.

Both losses take L2-normalised embeddings ``[B, d]`` and a boolean ``positives`` matrix
``[B, B]`` (the diagonal, plus pairs whose captions are identical or, optionally, whose windows
share a label), so that template-identical captions are not pushed apart as negatives.

- ``ClipLoss``: symmetric InfoNCE with a learnable temperature (logit scale initialised at
  1/0.07 and clamped at 100); multi-positive rows use soft targets spread evenly over positives.
- ``SigLipLoss``: pairwise sigmoid loss with a learnable scale and bias (initialised at 10 and -10
  as in the SigLIP paper); every positive pair is a +1 label, every other pair -1.

Their parameters belong in an optimizer group without weight decay (see ``no_decay``).

- ``label_alignment_loss``: the label-aware term (``loss.label_weight``): each labelled window
  against the prototypes of every activity's descriptions, cross-entropy towards its own
  activity, so the source homes' labels pull windows to their activity's words, the very
  prototypes zero-shot reads on a new home.
"""

from __future__ import annotations

import math

import torch
import torch.distributed as dist
import torch.distributed.nn.functional as distributed_functional
from torch import nn
from torch.nn import functional as F

from sensorclip.config import LossConfig


def gather_batch(*tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """The global batch under data parallelism: each tensor from every process, in rank order
    (unchanged in a single process).

    Embeddings are gathered with their gradients: the backward pass returns to each process the
    gradient of its own slice summed over all processes. Every process computes the same loss
    on the global batch, so after DDP averages the parameter gradients, training follows the
    loss of the whole global batch exactly as one process would, every window a negative of
    every other across processes. Integer tensors (caption ids, labels) are gathered plainly.
    """
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return tensors
    gathered = []
    for tensor in tensors:
        if tensor.is_floating_point():
            parts = distributed_functional.all_gather(tensor.contiguous())
        else:
            parts = [torch.empty_like(tensor) for _ in range(dist.get_world_size())]
            dist.all_gather(parts, tensor.contiguous())
        gathered.append(torch.cat(parts))
    return tuple(gathered)


def positive_mask(caption_ids: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    """[B, B] True where two windows share a caption (or a label, when labels are given)."""
    same = caption_ids[:, None] == caption_ids[None, :]
    if labels is not None:
        same = same | (labels[:, None] == labels[None, :])
    return same


class ClipLoss(nn.Module):
    def __init__(self, init_temperature: float = 0.07, max_scale: float = 100.0,
                 learnable: bool = True):
        super().__init__()
        self.log_scale = nn.Parameter(torch.tensor(math.log(1 / init_temperature)),
                                      requires_grad=learnable)
        self.max_log_scale = math.log(max_scale)

    @property
    def scale(self) -> torch.Tensor:
        return self.log_scale.clamp(max=self.max_log_scale).exp()

    def logits(self, sensor: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        return self.scale * sensor @ text.T

    def forward(self, sensor: torch.Tensor, text: torch.Tensor,
                positives: torch.Tensor | None = None) -> torch.Tensor:
        logits = self.logits(sensor, text)
        if positives is None:
            target = torch.arange(len(sensor), device=sensor.device)
            return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2
        targets = positives.float()
        s2t = -(targets / targets.sum(1, keepdim=True) * F.log_softmax(logits, 1)).sum(1)
        t2s = -(targets.T / targets.T.sum(1, keepdim=True) * F.log_softmax(logits.T, 1)).sum(1)
        return (s2t.mean() + t2s.mean()) / 2


class SigLipLoss(nn.Module):
    def __init__(self, init_scale: float = 10.0, init_bias: float = -10.0,
                 max_scale: float = 100.0, learnable: bool = True):
        super().__init__()
        self.log_scale = nn.Parameter(torch.tensor(math.log(init_scale)), requires_grad=learnable)
        self.bias = nn.Parameter(torch.tensor(float(init_bias)), requires_grad=learnable)
        self.max_log_scale = math.log(max_scale)

    @property
    def scale(self) -> torch.Tensor:
        return self.log_scale.clamp(max=self.max_log_scale).exp()

    def logits(self, sensor: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        return self.scale * sensor @ text.T + self.bias

    def forward(self, sensor: torch.Tensor, text: torch.Tensor,
                positives: torch.Tensor | None = None) -> torch.Tensor:
        logits = self.logits(sensor, text)
        if positives is None:
            positives = torch.eye(len(sensor), dtype=torch.bool, device=sensor.device)
        signs = positives.float() * 2 - 1
        return -F.logsigmoid(signs * logits).sum() / len(sensor)


def label_prototypes(projected: torch.Tensor, owner: torch.Tensor, n_labels: int) -> torch.Tensor:
    """[n_labels, d] unit vectors: the mean of each label's projected description vectors
    (``projected`` [descriptions, d], ``owner`` its label row)."""
    sums = projected.new_zeros(n_labels, projected.shape[1]).index_add_(0, owner, projected)
    return F.normalize(sums, dim=-1)


def label_alignment_loss(sensor: torch.Tensor, prototypes: torch.Tensor, targets: torch.Tensor,
                         scale: torch.Tensor | float) -> torch.Tensor:
    """Mean cross-entropy of ``scale * sensor @ prototypes.T`` towards ``targets`` (the row of
    each window's activity; -1 for a window without one, which is left out). Zero when no
    window of the batch is labelled."""
    labelled = targets >= 0
    if not labelled.any():
        return sensor.sum() * 0.0          # keeps the graph (and DDP's gradient sync) intact
    logits = scale * sensor[labelled] @ prototypes.T
    return F.cross_entropy(logits, targets[labelled])


def build_loss(config: LossConfig) -> nn.Module:
    if config.kind == "siglip":
        return SigLipLoss(config.init_scale, config.init_bias, config.max_scale, config.learnable)
    return ClipLoss(config.init_temperature, config.max_scale, config.learnable)
