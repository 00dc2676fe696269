"""The benchmark's naive reference path: the sensor encoder as the prior research code ran it.

``scripts/bench.py`` times sensorclip's training path against this one. It is deliberately slow
in the ways the prior code was (one Python dict per event, timestamps re-parsed from strings on
every access, a per-sample Python collate, a dictionary lookup of every token's image embedding
with the frozen input projection applied per token, hand-written attention with a bias built per
batch, ``torch.nn.functional.dropout``), and it shares no code with ``sensorclip.model``: it is an
independent implementation of the same architecture, so equal outputs are evidence, not identity.

Interface
    Data
        ``naive_records(events)``: an ``EventLog`` (``sensorclip.data.casas``) -> one
        ``(sensor id, state, ISO timestamp string)`` tuple per event.
        ``NaiveWindows(records, starts, lengths, captions, text)``: a map-style ``Dataset`` over
        windows (event ``starts``/``lengths``, ``captions`` ``[windows, paraphrases]`` caption
        ids, ``text`` ``[captions, text_dim]`` embeddings). Item ``i`` is
        ``{"sensor_sequence": [{"sensor_id", "event_type", "timestamp"}, ...], "caption": int,
        "text": ndarray}``, with the paraphrase drawn by Python's ``random``.
        ``naive_collate(items)`` -> ``{"keys": list[list[str]]`` (``"sensor_state"``, padded
        with ``PAD``), ``"valid"``: bool ``[B, L]``, ``"delta_s"``: float ``[B, L]`` (seconds since
        the previous event, 0 for the first and for padding), ``"caption"``: long ``[B]``,
        ``"text"``: float ``[B, text_dim]``}.
    Model
        ``NaiveEncoder(pair_embeddings, pairs, config, projection_dim, features=None)``: the raw
        frozen image embedding of every (sensor, state) pair ``[P, image_dim]``, the pairs as
        ``(sensor, state)`` names in the same order, a ``sensorclip.config.EncoderConfig`` (every
        option is implemented) and the output size. ``features`` must leave every extra input
        feature off (coordinates, time deltas and time of day are not implemented here).
        ``naive(keys, valid)`` -> ``[B, projection_dim]``, L2-normalised.

Contract
    For the same pair embeddings and configs, ``naive.load_state_dict(fast.state_dict())``
    (``fast`` a ``sensorclip.model.encoder.SensorEncoder``, strict key matching) loads the very
    same weights under the same names, and then ``naive(batch["keys"], batch["valid"])`` computes
    the same function as ``fast(pair_index, valid)`` for the same windows, up to float rounding,
    in eval mode. In training mode dropout acts at the same places with the same rate but draws
    different masks (torch's dropout here, sensorclip's own there).

    Two buffers of the fast encoder are ignored on loading, and only these (``IGNORED_FAST_KEYS``):
    ``features.inputs.folded``, the fast path's table of every pair's projected embedding, which
    is derived from ``features.inputs.pairs`` and ``features.inputs.linear.weight`` (both loaded)
    and which this path recomputes token by token; and ``features.pair_xy``, the sensors'
    coordinates, read only by the coordinate feature that this path does not implement. Every
    other key must match in both directions.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import datetime

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import Dataset

from sensorclip.config import EncoderConfig, FeatureConfig

PAD = "PAD"
IGNORED_FAST_KEYS = ("features.inputs.folded", "features.pair_xy")


# ---------------------------------------------------------------------------------------------
# Data: Python objects per event, a Python collate


def naive_records(events) -> list[tuple[str, str, str]]:
    """One ``(sensor id, state, ISO timestamp)`` per event, as a text log would give them."""
    stamps = np.datetime_as_string(events.time, unit="us").tolist()
    sensors = [events.sensor_names[s] for s in events.sensor]
    states = [events.state_names[s] for s in events.state]
    return list(zip(sensors, states, stamps))


class NaiveWindows(Dataset):
    """One Python dict per event, built on every access."""

    def __init__(self, records, starts, lengths, captions, text):
        self.records, self.starts, self.lengths = records, starts, lengths
        self.captions, self.text = captions, text

    def __len__(self):
        return len(self.starts)

    def __getitem__(self, i):
        start, length = int(self.starts[i]), int(self.lengths[i])
        sequence = [{"sensor_id": s, "event_type": st, "timestamp": ts}
                    for s, st, ts in self.records[start:start + length]]
        caption = int(random.choice(self.captions[i]))
        return {"sensor_sequence": sequence, "caption": caption, "text": self.text[caption]}


def naive_collate(items):
    """Per-sample Python padding; timestamps parsed from strings for every event."""
    longest = max(len(item["sensor_sequence"]) for item in items)
    keys, valid, deltas = [], [], []
    for item in items:
        events = item["sensor_sequence"]
        times = [datetime.fromisoformat(e["timestamp"]).timestamp() for e in events]
        row_keys = [f"{e['sensor_id']}_{e['event_type']}" for e in events]
        row_delta = [0.0] + [b - a for a, b in zip(times, times[1:])]
        pad = longest - len(events)
        keys.append(row_keys + [PAD] * pad)
        valid.append([True] * len(events) + [False] * pad)
        deltas.append(row_delta + [0.0] * pad)
    return {"keys": keys, "valid": torch.tensor(valid), "delta_s": torch.tensor(deltas),
            "caption": torch.tensor([item["caption"] for item in items]),
            "text": torch.tensor(np.stack([item["text"] for item in items]))}


# ---------------------------------------------------------------------------------------------
# Model: the same architecture, written out the plain way


class NaiveInputProjection(nn.Module):
    """One image embedding -> d_model: linear (no bias), L2-normalise, times sqrt(d_model).

    ``pairs`` holds the embeddings centred over the pairs and L2-normalised, once.
    """

    def __init__(self, pair_embeddings: torch.Tensor, d_model: int, trainable: bool):
        super().__init__()
        vectors = torch.as_tensor(pair_embeddings, dtype=torch.float32)
        if len(vectors) > 1:
            vectors = vectors - vectors.mean(dim=0, keepdim=True)
        self.register_buffer("pairs", F.normalize(vectors, dim=-1))
        self.linear = nn.Linear(vectors.shape[1], d_model, bias=False)
        self.linear.requires_grad_(trainable)
        self.scale = math.sqrt(d_model)

    def forward(self, vector: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.linear(vector), dim=-1) * self.scale


class NaiveFeatures(nn.Module):
    """Token keys -> [B, L, d_model]: a dictionary lookup and a projection per token."""

    def __init__(self, pair_embeddings, pairs: Sequence[tuple[str, str]], d_model: int,
                 trainable: bool):
        super().__init__()
        self.inputs = NaiveInputProjection(pair_embeddings, d_model, trainable)
        self.row = {f"{sensor}_{state}": i for i, (sensor, state) in enumerate(pairs)}
        self.d_model = d_model

    def forward(self, keys: list[list[str]]) -> torch.Tensor:
        device = self.inputs.pairs.device
        tokens = []
        for row in keys:
            for key in row:
                if key == PAD:
                    tokens.append(torch.zeros(self.d_model, device=device))
                else:
                    tokens.append(self.inputs(self.inputs.pairs[self.row[key]]))
        return torch.stack(tokens).view(len(keys), len(keys[0]), self.d_model)


def alibi_slopes(n_heads: int) -> list[float]:
    """The ALiBi paper's head slopes (Press et al., reference implementation)."""
    def power_of_2(n):
        start = 2 ** (-(2 ** -(math.log2(n) - 3)))
        return [start * start ** i for i in range(n)]
    if math.log2(n_heads).is_integer():
        return power_of_2(n_heads)
    closest = 2 ** math.floor(math.log2(n_heads))
    return power_of_2(closest) + alibi_slopes(2 * closest)[0::2][:n_heads - closest]


class NaiveAttention(nn.Module):
    """Multi-head self-attention written out: softmax(q k^T / sqrt(d_head) + bias) v."""

    def __init__(self, d_model: int, n_heads: int, dropout: float):
        super().__init__()
        self.n_heads, self.dropout = n_heads, dropout
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        batch, length, width = x.shape
        q, k, v = (t.reshape(batch, length, self.n_heads, -1).transpose(1, 2)
                   for t in self.qkv(x).chunk(3, dim=-1))
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]) + bias
        weights = F.dropout(scores.softmax(dim=-1), self.dropout, self.training)
        return self.out((weights @ v).transpose(1, 2).reshape(batch, length, width))


class NaiveBlock(nn.Module):
    """Pre-LN: x + dropout(attn(LN(x))), then x + dropout(mlp(LN(x)))."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float):
        super().__init__()
        self.norm1 = nn.LayerNorm(d_model)
        self.attn = NaiveAttention(d_model, n_heads, dropout)
        self.norm2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(d_ff, d_model))
        self.dropout = dropout

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        x = x + F.dropout(self.attn(self.norm1(x), bias), self.dropout, self.training)
        return x + F.dropout(self.mlp(self.norm2(x)), self.dropout, self.training)


class NaiveEncoder(nn.Module):
    """Token keys of a padded batch -> L2-normalised window embeddings (see the module doc)."""

    def __init__(self, pair_embeddings, pairs: Sequence[tuple[str, str]], config: EncoderConfig,
                 projection_dim: int, features: FeatureConfig | None = None):
        super().__init__()
        features = features or FeatureConfig()
        if features.coords or features.time_delta or features.time_of_day:
            raise ValueError("the naive reference implements the image-embedding input only: "
                             "set features.coords, time_delta and time_of_day to false")
        self.config = config
        d = config.d_model
        self.features = NaiveFeatures(pair_embeddings, pairs, d,
                                      config.trainable_input_projection)
        self.cls = nn.Parameter(torch.randn(1, 1, d) * 0.02)
        if config.positions == "learned":
            self.position = nn.Embedding(config.max_len + 1, d)
        self.blocks = nn.ModuleList(NaiveBlock(d, config.n_heads, config.d_ff, config.dropout)
                                    for _ in range(config.n_layers))
        self.norm = nn.LayerNorm(d)
        if config.head == "linear":
            self.head = nn.Linear(d, projection_dim, bias=False)
        else:
            self.head = nn.Sequential(nn.Linear(d, config.head_hidden), nn.GELU(),
                                      nn.Dropout(config.dropout),
                                      nn.Linear(config.head_hidden, projection_dim, bias=False))
        self.register_load_state_dict_pre_hook(_ignore_fast_only_keys)

    def attention_bias(self, valid: torch.Tensor) -> torch.Tensor:
        """[B, H or 1, L+1, L+1]: -inf on padded keys, plus -slope * |i - j| with ALiBi, where the
        CLS token (index 0) is at distance 0 from every token."""
        batch, length = valid.shape
        keys = torch.cat([torch.ones(batch, 1, dtype=torch.bool, device=valid.device), valid], 1)
        bias = torch.zeros(batch, 1, 1, length + 1, device=valid.device)
        bias[~keys[:, None, None, :]] = float("-inf")
        if self.config.positions != "alibi":
            return bias
        position = torch.arange(length + 1, device=valid.device)
        distance = (position[:, None] - position[None, :]).abs().float()
        distance[0, :] = 0
        distance[:, 0] = 0
        slopes = torch.tensor(alibi_slopes(self.config.n_heads), device=valid.device)
        return bias - slopes[None, :, None, None] * distance[None, None]

    def forward(self, keys: list[list[str]], valid: torch.Tensor) -> torch.Tensor:
        p = self.config.dropout
        x = self.features(keys)
        x = torch.cat([self.cls.expand(len(x), -1, -1), x], dim=1)
        if self.config.positions == "learned":
            if x.shape[1] > self.config.max_len + 1:
                raise ValueError(f"window of {x.shape[1] - 1} events exceeds encoder.max_len")
            x = x + self.position(torch.arange(x.shape[1], device=x.device))
        x = F.dropout(x, p, self.training)
        bias = self.attention_bias(valid)
        for block in self.blocks:
            x = block(x, bias)
        hidden = self.norm(x)
        cls = hidden[:, 0]
        weights = valid.unsqueeze(-1).to(hidden.dtype)
        mean = (hidden[:, 1:] * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1)
        if self.config.pooling == "cls":
            pooled = cls
        elif self.config.pooling == "mean":
            pooled = mean
        else:
            w = self.config.pooling_cls_weight
            pooled = w * cls + (1 - w) * mean
        return F.normalize(self.head(pooled), dim=-1)


def _ignore_fast_only_keys(module, state_dict, prefix, *_):
    """Drop exactly ``IGNORED_FAST_KEYS`` (see the module doc) before a strict load."""
    for key in IGNORED_FAST_KEYS:
        state_dict.pop(prefix + key, None)
