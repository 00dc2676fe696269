"""The sensor encoder: event features -> transformer with ALiBi -> pooled, projected embedding.

Plain ``nn.Module``s (no Lightning, no Hydra). Pre-LN transformer layers use PyTorch's fused
``scaled_dot_product_attention`` with one additive mask that combines the ALiBi distance bias
(geometric slopes per head) with the key padding mask. The CLS token sits at position 0 and is
exempt from the distance penalty in both directions, so it summarises the whole window; real
tokens are penalised by their distance. Padding sits after the real tokens, so it never shifts a
real token's position and, being masked as a key, never changes the output.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from sensorclip.config import EncoderConfig, FeatureConfig
from sensorclip.errors import SensorClipError
from sensorclip.model.dropout import Dropout, dropout
from sensorclip.model.features import EventFeatures


def alibi_slopes(n_heads: int) -> torch.Tensor:
    """Geometric slopes 2^(-8/n), 2^(-16/n), ... (Press et al.), interleaved for non-powers of 2."""
    def powers(n):
        start = 2 ** (-8 / n)
        return [start ** (i + 1) for i in range(n)]
    if math.log2(n_heads).is_integer():
        return torch.tensor(powers(n_heads))
    closest = 2 ** math.floor(math.log2(n_heads))
    extra = powers(2 * closest)[0::2][: n_heads - closest]
    return torch.tensor(powers(closest) + extra)


def alibi_bias(n_heads: int, length: int, device=None) -> torch.Tensor:
    """[heads, L, L] additive bias -slope * |i - j|, zero on the CLS row and column (index 0)."""
    position = torch.arange(length, device=device)
    distance = (position[None, :] - position[:, None]).abs().float()
    distance[0, :] = 0
    distance[:, 0] = 0
    return -alibi_slopes(n_heads).to(device)[:, None, None] * distance


class SelfAttention(nn.Module):
    def __init__(self, d_model: int, n_heads: int, dropout: float):
        super().__init__()
        self.n_heads = n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.dropout = dropout

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        batch, length, width = x.shape
        q, k, v = self.qkv(x).view(batch, length, 3, self.n_heads, -1).permute(2, 0, 3, 1, 4)
        if self.training and self.dropout > 0 and x.device.type == "cpu":
            # SDPA's CPU path with dropout is this same math but draws float Bernoulli samples
            scores = q @ k.transpose(-2, -1) * q.shape[-1] ** -0.5 + mask
            y = dropout(scores.softmax(-1), self.dropout, True) @ v
        else:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask,
                                               dropout_p=self.dropout if self.training else 0.0)
        return self.out(y.transpose(1, 2).reshape(batch, length, width))


class Block(nn.Module):
    """Pre-LN: x + attn(LN(x)); x + mlp(LN(x))."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float):
        super().__init__()
        self.norm1 = nn.LayerNorm(d_model)
        self.attn = SelfAttention(d_model, n_heads, dropout)
        self.norm2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), Dropout(dropout),
                                 nn.Linear(d_ff, d_model))
        self.drop = Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = x + self.drop(self.attn(self.norm1(x), mask))
        return x + self.drop(self.mlp(self.norm2(x)))


def projection_head(kind: str, d_in: int, d_out: int, hidden: int, dropout: float) -> nn.Module:
    if kind == "linear":
        return nn.Linear(d_in, d_out, bias=False)
    return nn.Sequential(nn.Linear(d_in, hidden), nn.GELU(), Dropout(dropout),
                         nn.Linear(hidden, d_out, bias=False))


class SensorEncoder(nn.Module):
    """Window of events -> L2-normalised embedding of size ``projection_dim``."""

    def __init__(self, inputs: nn.Module, pair_xy: torch.Tensor, config: EncoderConfig,
                 features: FeatureConfig, projection_dim: int):
        """``inputs`` maps pair indices to d_model vectors (``features.InputProjection`` or
        ``features.LearnedInputs``); ``pair_xy`` is each pair's sensor position in [0, 1]."""
        super().__init__()
        self.config = config
        d = config.d_model
        self.features = EventFeatures(inputs, pair_xy, d, features)
        self.cls = nn.Parameter(torch.randn(1, 1, d) * 0.02)
        if config.positions == "learned":
            self.position = nn.Embedding(config.max_len + 1, d)
            nn.init.normal_(self.position.weight, std=0.02)
        self.drop = Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(d, config.n_heads, config.d_ff, config.dropout)
                                    for _ in range(config.n_layers))
        self.norm = nn.LayerNorm(d)
        self.head = projection_head(config.head, d, projection_dim, config.head_hidden,
                                    config.dropout)
        self._bias_cache: dict[tuple, torch.Tensor] = {}
        if not config.train_body:
            for param in self.body_parameters():
                param.requires_grad_(False)

    def body_parameters(self):
        """Everything before the projection head: event features, CLS, positions, blocks."""
        return (param for name, param in self.named_parameters() if not name.startswith("head."))

    @property
    def pad_index(self) -> int:
        return self.features.pad_index

    def attention_mask(self, valid: torch.Tensor) -> torch.Tensor:
        """[B, H or 1, L+1, L+1] additive mask: ALiBi bias plus -inf on padded keys."""
        batch, length = valid.shape
        keys = torch.cat([valid.new_ones(batch, 1), valid], dim=1)
        pad = torch.zeros(batch, 1, 1, length + 1, device=valid.device)
        pad = pad.masked_fill(~keys[:, None, None, :], float("-inf"))
        if self.config.positions != "alibi":
            return pad
        key = (length + 1, str(valid.device))
        if key not in self._bias_cache:
            self._bias_cache = {key: alibi_bias(self.config.n_heads, length + 1, valid.device)}
        return pad + self._bias_cache[key][None]

    def encode_tokens(self, pair_index, valid, delta_s=None, hour=None) -> torch.Tensor:
        """Final hidden states [B, L+1, d] (CLS first)."""
        return self.encode_features(self.features(pair_index, delta_s, hour), valid)

    def encode_features(self, x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """Transformer over per-event features [B, L, d] (without CLS)."""
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1)
        if self.config.positions == "learned":
            if x.shape[1] > self.config.max_len + 1:
                raise SensorClipError(f"window of {x.shape[1] - 1} events exceeds encoder.max_len")
            x = x + self.position.weight[: x.shape[1]]
        x = self.drop(x)
        mask = self.attention_mask(valid).to(x.dtype)
        for block in self.blocks:
            x = block(x, mask)
        return self.norm(x)

    def pool(self, hidden: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        cls = hidden[:, 0]
        weights = valid.to(hidden.dtype).unsqueeze(-1)
        mean = (hidden[:, 1:] * weights).sum(1) / weights.sum(1).clamp(min=1)
        if self.config.pooling == "cls":
            return cls
        if self.config.pooling == "mean":
            return mean
        w = self.config.pooling_cls_weight
        return w * cls + (1 - w) * mean

    def represent(self, pair_index, valid, delta_s=None, hour=None) -> torch.Tensor:
        """The pooled window representation [B, d], before the projection head (which only the
        contrastive task shapes): what the probes read with ``eval.probe_on=pooled``."""
        return self.pool(self.encode_tokens(pair_index, valid, delta_s, hour), valid)

    def project(self, pooled: torch.Tensor) -> torch.Tensor:
        """Pooled representation -> L2-normalised embedding in the shared space."""
        return F.normalize(self.head(pooled), dim=-1)

    def forward(self, pair_index, valid, delta_s=None, hour=None) -> torch.Tensor:
        return self.project(self.represent(pair_index, valid, delta_s, hour))


class TextProjection(nn.Module):
    """Optional trainable map of the frozen text embeddings into the shared space."""

    def __init__(self, kind: str, d_in: int, d_out: int, hidden: int = 1024,
                 dropout: float = 0.1):
        super().__init__()
        if kind == "none":
            if d_in != d_out:
                raise SensorClipError(f"text embeddings are {d_in}-d but encoder.projection_dim is "
                                 f"{d_out}: set text_projection=linear|mlp or projection_dim=null")
            self.head = nn.Identity()
        else:
            self.head = projection_head(kind, d_in, d_out, hidden, dropout)

    def forward(self, text: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.head(text), dim=-1)
