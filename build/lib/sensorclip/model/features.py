"""Per-event input features: the frozen (sensor, state) image embedding and optional extras.

Every event is a row of the frozen pair table (one image embedding per (sensor, state)). The
input projection maps it to ``d_model``; it is frozen by default, and then the product
embedding x projection is folded once into a ``[pairs + 1, d_model]`` table, so an event costs
one gather (the extra last row is the padding token). ``LearnedInputs`` replaces the images by
trainable sensor and state embeddings (``model=learned``). Optional additions (Hydra group
``features``): Fourier features of the sensor's (x, y) normalised by the home's size,
log-bucketed time since the previous event, and time of day.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from sensorclip.config import FeatureConfig


class InputProjection(nn.Module):
    """Pair embedding -> d_model: centre, L2-normalise, project (orthogonal init), RMS 1.

    Centring over the pairs matters: every image shows the same floor plan, so the raw vectors
    share one large component and differ only in a small sensor-specific part.

    ``parts`` splits the columns into blocks of different origin (an image embedding and a
    sentence embedding, ``model.inputs=image_text``), each centred and normalised on its own so
    that neither dominates by scale. ``combine="concat"`` projects the joined blocks at once;
    ``"sum"`` projects each block with its own columns of the same matrix, normalises each
    result and adds them (RMS 1 again).
    """

    def __init__(self, pair_embeddings: torch.Tensor, d_model: int, trainable: bool = False,
                 parts: tuple[int, ...] | None = None, combine: str = "concat"):
        super().__init__()
        self.trainable = trainable
        self.parts = tuple(parts) if parts else (pair_embeddings.shape[1],)
        if sum(self.parts) != pair_embeddings.shape[1] or combine not in ("concat", "sum"):
            raise ValueError(f"parts {self.parts} must add up to the embedding width "
                             f"{pair_embeddings.shape[1]}; combine is concat or sum")
        self.combine = combine
        blocks = [_centred_unit(block) for block in pair_embeddings.float().split(self.parts, 1)]
        self.register_buffer("pairs", torch.cat(blocks, dim=1) / math.sqrt(len(blocks)))
        self.linear = nn.Linear(pair_embeddings.shape[1], d_model, bias=False)
        nn.init.orthogonal_(self.linear.weight)
        self.scale = math.sqrt(d_model)
        self.linear.requires_grad_(trainable)
        if not trainable:
            self.register_buffer("folded", self._table().detach())

    def refold(self) -> None:
        """Recompute the folded table after ``linear`` or ``pairs`` changed outside training
        (loading a projection trained in another home)."""
        if not self.trainable:
            self.folded = self._table().detach()

    def project(self, vectors: torch.Tensor) -> torch.Tensor:
        """The per-token definition; the folded table is this applied once per pair."""
        if self.combine == "concat" or len(self.parts) == 1:
            return nn.functional.normalize(self.linear(vectors), dim=-1) * self.scale
        weights = self.linear.weight.split(self.parts, dim=1)
        projected = [nn.functional.normalize(block @ w.T, dim=-1)
                     for block, w in zip(vectors.split(self.parts, dim=-1), weights)]
        return sum(projected) / math.sqrt(len(projected)) * self.scale

    def _table(self) -> torch.Tensor:
        table = self.project(self.pairs)
        return torch.cat([table, table.new_zeros(1, table.shape[1])])   # last row: padding

    def forward(self, pair_index: torch.Tensor) -> torch.Tensor:
        table = self.folded if not self.trainable else self._table()
        return table[pair_index]

    @property
    def pad_index(self) -> int:
        return self.pairs.shape[0]


def _centred_unit(vectors: torch.Tensor) -> torch.Tensor:
    centred = vectors - vectors.mean(dim=0, keepdim=True) if len(vectors) > 1 else vectors
    return nn.functional.normalize(centred, dim=-1)


def fourier(values: torch.Tensor, frequencies: int) -> torch.Tensor:
    """[..., n] in [0, 1] -> [..., n * 2 * frequencies] of sin/cos(pi * 2^k * v)."""
    scales = math.pi * 2.0 ** torch.arange(frequencies, device=values.device, dtype=values.dtype)
    angles = values.unsqueeze(-1) * scales
    return torch.cat([angles.sin(), angles.cos()], dim=-1).flatten(-2)


def delta_bucket(delta_s: torch.Tensor, buckets: int, max_delta_s: float) -> torch.Tensor:
    """Logarithmic buckets: 0 s -> 0, max_delta_s and above -> buckets - 1."""
    scaled = torch.log1p(delta_s.clamp(min=0)) / math.log1p(max_delta_s)
    return (scaled * (buckets - 1)).floor().clamp(0, buckets - 1).long()


class LearnedInputs(nn.Module):
    """Trainable sensor and state embeddings instead of frozen images (the seed's sequence-based
    encoder, ``model=learned``): a pair's vector is ``sensor_embed[s] + state_embed[t]``.

    Initialised so that a pair's vector has RMS about 1, the scale ``InputProjection`` gives, so
    that the two inputs meet the same transformer on equal terms. The vectors belong to one
    home's sensor ids: they cannot transfer to another home.
    """

    def __init__(self, pair_sensor: torch.Tensor, pair_state: torch.Tensor, n_sensors: int,
                 n_states: int, d_model: int):
        super().__init__()
        self.register_buffer("pair_sensor", pair_sensor.long())
        self.register_buffer("pair_state", pair_state.long())
        self.sensor_embed = nn.Embedding(n_sensors, d_model)
        self.state_embed = nn.Embedding(n_states, d_model)
        for table in (self.sensor_embed, self.state_embed):
            nn.init.normal_(table.weight, std=2 ** -0.5)

    def forward(self, pair_index: torch.Tensor) -> torch.Tensor:
        table = self.sensor_embed(self.pair_sensor) + self.state_embed(self.pair_state)
        return torch.cat([table, table.new_zeros(1, table.shape[1])])[pair_index]

    @property
    def pad_index(self) -> int:
        return self.pair_sensor.shape[0]


class EventFeatures(nn.Module):
    """Sum of the pair's input vector (``InputProjection`` of its frozen image embedding, or
    ``LearnedInputs``) and the enabled extra features, per event."""

    def __init__(self, inputs: nn.Module, pair_xy: torch.Tensor, d_model: int,
                 config: FeatureConfig):
        super().__init__()
        self.config = config
        self.inputs = inputs
        xy = torch.cat([pair_xy.float(), pair_xy.new_zeros(1, 2).float()])    # padding row
        self.register_buffer("pair_xy", xy)
        if config.coords:
            self.coord_proj = nn.Linear(4 * config.coord_frequencies, d_model)
        if config.time_delta:
            self.delta_embed = nn.Embedding(config.delta_buckets, d_model)
            nn.init.normal_(self.delta_embed.weight, std=0.02)
        if config.time_of_day:
            self.tod_proj = nn.Linear(2 * config.tod_harmonics, d_model)
        if config.day_of_week:
            self.weekday_embed = nn.Embedding(7, d_model)
            nn.init.normal_(self.weekday_embed.weight, std=0.02)

    @property
    def pad_index(self) -> int:
        return self.inputs.pad_index

    def forward(self, pair_index: torch.Tensor, delta_s: torch.Tensor | None = None,
                hour: torch.Tensor | None = None) -> torch.Tensor:
        """``hour``: hours since Monday 00:00 of each event (an hour of the day works for the
        time-of-day features alone, which are periodic in 24 hours)."""
        x = self.inputs(pair_index)
        if self.config.coords:
            xy = self.pair_xy[pair_index]
            x = x + self.coord_proj(fourier(xy, self.config.coord_frequencies))
        if self.config.time_delta:
            if delta_s is None:
                raise ValueError("features.time_delta needs per-event time deltas")
            x = x + self.delta_embed(delta_bucket(delta_s, self.config.delta_buckets,
                                                  self.config.max_delta_s))
        if self.config.time_of_day:
            if hour is None:
                raise ValueError("features.time_of_day needs per-event hours")
            k = torch.arange(1, self.config.tod_harmonics + 1, device=hour.device, dtype=hour.dtype)
            angles = 2 * math.pi * hour.unsqueeze(-1) / 24.0 * k
            x = x + self.tod_proj(torch.cat([angles.sin(), angles.cos()], dim=-1))
        if self.config.day_of_week:
            if hour is None:
                raise ValueError("features.day_of_week needs per-event hours of the week")
            x = x + self.weekday_embed((hour // 24).long().clamp(0, 6))
        return x
