"""A training run on disk, and the one way to build or load one.

    outputs/train/<run_name>/
        config.yaml      the resolved config (absolute paths), written when training starts
        checkpoints/     epochNNN.ckpt (best on validation) and last.ckpt (every epoch)
        metrics.json     the test-split evaluation (``sensorclip.eval.suite``)
        plots/           its figures

``build_run`` makes the DataModule and a fresh model from a config; ``load_run`` rebuilds both
from a run directory (or one of its checkpoints) exactly as training saw them. Train, evaluate,
the notebook and the tests all go through these two.
"""

from __future__ import annotations

import json
import os
import pickle
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO
from omegaconf import OmegaConf

from sensorclip.config import (
    GROUP_SCHEMAS,
    DataConfig,
    EncoderConfig,
    LoaderConfig,
    SplitConfig,
    WindowConfig,
    as_dict,
    stage_configs,
    typed,
)
from sensorclip.errors import SensorClipError
from sensorclip.files import (
    atomic_write_text,
    check_shape,
    read_json,
    read_yaml_mapping,
    temporary_sibling,
)
from sensorclip.model.datamodule import SensorClipDataModule, label_text_inputs
from sensorclip.model.module import SensorClipModule
from sensorclip.pipeline import STAGES
from sensorclip.resources import guard, training_bytes

CONFIG_FILE = "config.yaml"
METRICS_FILE = "metrics.json"
CHECKPOINT_KEYS = frozenset({"state_dict", "hyper_parameters"})
# The hyper-parameters SensorClipModule needs to be rebuilt, and their types.
MODEL_HPARAMS = {"encoder": dict, "features": dict, "loss": dict, "optim": dict,
                 "text_projection": str, "text_dim": int, "n_pairs": int, "image_dim": int}
# What a resume must keep: everything that shapes the data, the split or the model ...
RESUME_KEYS = ("data", "windows", "split", "captions", "text", "render", "model", "encoder",
               "features", "loss", "text_projection", "label_positives", "seed")
# ... but for where and how fast the frozen encoders run
RUNTIME_ONLY = frozenset({"text.device", "text.batch_size", "text.allow_download",
                          "model.device", "model.batch_size", "model.allow_download"})


@dataclass
class Run:
    directory: Path
    config: dict[str, Any]               # resolved, as saved in config.yaml
    datamodule: SensorClipDataModule     # set up: caches built or reused and loaded
    model: SensorClipModule
    checkpoint: Path | None              # None: a fresh, untrained model


def build_datamodule(cfg: Mapping[str, Any], cache_dir: str | Path | None = None,
                     stages: tuple[str, ...] = STAGES) -> SensorClipDataModule:
    """The DataModule of a resolved config, set up (missing caches are built first)."""
    datamodule = SensorClipDataModule(stage_configs(cfg), typed(LoaderConfig, cfg["loader"]),
                                      str(cache_dir or cfg["paths"]["cache_dir"]),
                                      seed=cfg["seed"], stages=stages)
    datamodule.setup()
    return datamodule


def build_model(cfg: Mapping[str, Any], datamodule: SensorClipDataModule) -> SensorClipModule:
    """A fresh model sized from the data, its weights a function of ``cfg["seed"]`` alone."""
    parts = {group: as_dict(typed(GROUP_SCHEMAS[group], cfg[group]))
             for group in ("encoder", "features", "loss", "optim")}
    labels = {}
    if parts["loss"]["label_weight"] > 0:          # before seeding: loading a text encoder
        labels = label_text_inputs(datamodule.prepared, stage_configs(cfg)["text"])
    L.seed_everything(cfg["seed"], workers=True, verbose=False)
    return SensorClipModule(**parts, text_projection=cfg["text_projection"],
                            text_dim=datamodule.text_dim,
                            label_positives=cfg.get("label_positives"), seed=cfg["seed"],
                            **datamodule.model_inputs(), **labels)


def untrained_model(cfg: Mapping[str, Any], datamodule: SensorClipDataModule) -> SensorClipModule:
    """The model before any training step, for the references (the untrained encoder, a
    fine-tune from scratch): the same architecture and seed, so the same initial weights, but
    without the label term (it only acts in training), so a home whose labels have no
    descriptions can still be scored and no text encoder is loaded for it."""
    plain = {**dict(cfg), "loss": {**dict(cfg["loss"]), "label_weight": 0.0}}
    return build_model(plain, datamodule)


def check_batch_memory(cfg: Mapping[str, Any]) -> None:
    """Refuse a training batch (and an evaluation batch) the device cannot hold, from the
    config alone: before any cache is built."""
    encoder = typed(EncoderConfig, cfg["encoder"])
    windows = typed(WindowConfig, cfg["windows"])
    loader = typed(LoaderConfig, cfg["loader"])
    length = int(windows.size if windows.kind == "length" else windows.max_events) + 1  # CLS
    free = None
    accelerator = str((cfg.get("trainer") or {}).get("accelerator", "cpu"))
    if accelerator in ("gpu", "cuda", "auto") and torch.cuda.is_available():
        free = torch.cuda.mem_get_info()[0]
    shape = (length, encoder.d_model, encoder.d_ff, encoder.n_heads, encoder.n_layers)
    guard(f"one training batch of {loader.batch_size} windows",
          training_bytes(loader.batch_size, *shape),
          "lower loader.batch_size, the window length or the encoder (encoder=small)", free)
    guard(f"one evaluation batch of {loader.eval_batch_size} windows",
          training_bytes(loader.eval_batch_size, *shape, backward=False),
          "lower loader.eval_batch_size", free)


def build_run(cfg: Mapping[str, Any], directory: Path) -> Run:
    datamodule = build_datamodule(cfg)
    return Run(Path(directory), dict(cfg), datamodule, build_model(cfg, datamodule), None)


def run_dir_of(checkpoint: Path) -> Path:
    """The run directory around a checkpoint (``RUN/checkpoints/X.ckpt`` -> ``RUN``)."""
    return checkpoint.parent.parent if checkpoint.parent.name == "checkpoints" \
        else checkpoint.parent


def locate(path: str | Path, checkpoint: str | Path | None = None) -> tuple[Path, Path]:
    """(run directory, checkpoint) from a run directory (its best checkpoint as metrics.json
    records it, else last.ckpt) or from a checkpoint file inside one; clear errors otherwise."""
    path = Path(path).expanduser()
    if checkpoint is None and path.suffix == ".ckpt":
        path, checkpoint = run_dir_of(path), path
    if checkpoint is not None and not Path(checkpoint).expanduser().is_file():
        raise SensorClipError(f"checkpoint {checkpoint} does not exist; pass ckpt_path=PATH to "
                              "a .ckpt in a run's checkpoints/ directory")
    if not (path / CONFIG_FILE).is_file():
        raise SensorClipError(f"{path / CONFIG_FILE} is missing: pass a run directory "
                              "(outputs/train/NAME) that python -m sensorclip.train wrote, or a "
                              "checkpoint in its checkpoints/")
    checkpoint = Path(checkpoint).expanduser() if checkpoint else default_checkpoint(path)
    if not checkpoint.is_file():
        raise SensorClipError(f"{path} holds no checkpoint ({checkpoint} is missing): did its "
                              "training save one?")
    return path, checkpoint


def load_run(path: str | Path, checkpoint: str | Path | None = None,
             cache_dir: str | Path | None = None, data: Any = None,
             split: SplitConfig | None = None, text: bool = True,
             windows: WindowConfig | None = None) -> Run:
    """A trained run from its directory or one of its checkpoints (``locate``): the one way to
    load a run, for evaluate, search, annotate, finetune, embed, the notebook and the tests.

    The data are rebuilt from the run's config.yaml and its recorded cache directory unless
    ``cache_dir`` is given. ``data`` (a ``data`` config) reads another log instead: of another
    home, whose images go through the same backbone and whose pairs the model is rebound to
    (``SensorClipModule.rehome``, image-based encoders only), or of the same home; ``Run.config``
    then holds that data (and the run's own under ``train_data``). ``split`` replaces the run's
    day split (e.g. every day in one split for a new log); ``text=False`` skips the text
    encoder, for tools that only embed windows. ``windows`` replaces the run's windowing (e.g.
    presegmented windows of a labelled target, the published cross-home protocol).
    """
    path, checkpoint = locate(path, checkpoint)
    model = load_checkpoint(checkpoint)          # before any cache is built: fail fast
    cfg = read_run_config(path / CONFIG_FILE)
    if data is not None:
        data = typed(DataConfig, data)
        if data.home_key != typed(DataConfig, cfg["data"]).home_key:
            model.check_transferable()            # learned embeddings stay in their home
        cfg = {**cfg, "train_data": cfg["data"], "data": as_dict(data)}
    if split is not None:
        cfg = {**cfg, "split": as_dict(split)}
    if windows is not None:
        cfg = {**cfg, "windows": as_dict(typed(WindowConfig, windows))}
    stages = STAGES if text else tuple(s for s in STAGES if s != "text")
    datamodule = build_datamodule(cfg, cache_dir, stages)
    inputs = datamodule.model_inputs()
    if data is not None and inputs["inputs"] == "image":
        model = model.rehome(**inputs)
    trained = (model.hparams.n_pairs, model.hparams.image_dim)
    if trained != (inputs["n_pairs"], inputs["image_dim"]):
        raise SensorClipError(
            f"{checkpoint} was trained on {trained[0]} (sensor, state) pairs of {trained[1]}-d "
            f"inputs but the data now give {inputs['n_pairs']} x {inputs['image_dim']}; use the "
            "layout and backbone the run was trained with")
    return Run(path, cfg, datamodule, model, checkpoint)


def load_checkpoint(checkpoint: Path) -> SensorClipModule:
    """The model of a checkpoint file, on the CPU; one clear error for a broken file."""
    read_checkpoint(checkpoint)
    try:
        return SensorClipModule.load_from_checkpoint(checkpoint, map_location="cpu",
                                                     weights_only=True)
    except (RuntimeError, KeyError, TypeError, ValueError) as exc:
        first_line = str(exc).strip().split("\n")[0][:200]
        raise SensorClipError(f"{checkpoint} does not hold a sensorclip model "
                              f"({exc.__class__.__name__}: {first_line}); pick another file in "
                              "the run's checkpoints/ directory") from None


def read_checkpoint(checkpoint: Path) -> dict[str, Any]:
    """A checkpoint's contents, read by torch's weights-only loader: tensors and plain
    containers, all a sensorclip checkpoint holds. Anything else could run code from the file
    when unpickled, so it is refused, never loaded another way."""
    try:
        with warnings.catch_warnings():          # torch warns before failing on a broken file
            warnings.simplefilter("ignore")
            content = torch.load(checkpoint, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise SensorClipError(f"{checkpoint} is not a sensorclip checkpoint: torch's safe "
                              "loader refused it (not a checkpoint file, or it holds objects "
                              "whose loading could run code from the file, which is unsafe); pick "
                              "a .ckpt in a run's checkpoints/ directory") from None
    except Exception as exc:    # noqa: BLE001  garbage fails the loader in many ways
        raise SensorClipError(f"{checkpoint} is not a readable checkpoint (empty, truncated or "
                              f"not written by torch: {exc.__class__.__name__}); pick another "
                              "file in the run's checkpoints/ directory") from None
    if not isinstance(content, dict) or not content.keys() >= CHECKPOINT_KEYS:
        raise SensorClipError(f"{checkpoint} is a torch file but not a sensorclip checkpoint "
                              f"(it lacks {sorted(CHECKPOINT_KEYS)}); pick a .ckpt in a run's "
                              "checkpoints/ directory")
    check_shape(content["hyper_parameters"], MODEL_HPARAMS, checkpoint, "checkpoint's "
                "hyper-parameters")
    return content


def resume_checkpoint(resolved: Mapping[str, Any], run_dir: Path) -> Path | None:
    """The checkpoint ``ckpt_path`` resumes from (None: a new run), checked before anything in
    the run directory changes: it exists, it is a sensorclip checkpoint, and the config keeps
    everything that shaped the run's data, split and model (``RESUME_KEYS``)."""
    wanted = resolved.get("ckpt_path")
    if not wanted:
        return None
    checkpoint = run_dir / "checkpoints" / "last.ckpt" if wanted == "last" \
        else Path(wanted).expanduser()
    if not checkpoint.is_file():
        raise SensorClipError(_nothing_to_resume(str(wanted), checkpoint, run_dir))
    read_checkpoint(checkpoint)
    check_same_setup(run_dir_of(checkpoint), resolved, f"ckpt_path={wanted}")
    return checkpoint


def _nothing_to_resume(wanted: str, checkpoint: Path, run_dir: Path) -> str:
    if wanted != "last":
        return (f"ckpt_path={wanted} does not exist; pass ckpt_path=last with the run's "
                "run_name, or the path of a .ckpt in a run's checkpoints/ directory")
    if (run_dir / CONFIG_FILE).is_file():
        return (f"run {run_dir.name} has no checkpoint to resume ({checkpoint} is missing: it "
                "stopped before its first epoch ended); start it again without ckpt_path")
    runs = existing_runs(run_dir.parent)
    listed = ", ".join(runs[-20:]) if runs else "none"
    return (f"ckpt_path=last: there is no run {run_dir.name!r} in {run_dir.parent} to resume "
            f"(runs there: {listed}); pass run_name=NAME of one of them")


def existing_runs(parent: Path) -> list[str]:
    """Names of the run directories below ``parent`` (those holding a config.yaml), in order."""
    if not parent.is_dir():
        return []
    return sorted(p.name for p in parent.iterdir() if (p / CONFIG_FILE).is_file())


def check_same_setup(run_dir: Path, resolved: Mapping[str, Any], what: str) -> None:
    """Refuse a resume whose config changes what the run was trained on, naming the keys."""
    config_file = run_dir / CONFIG_FILE
    if not config_file.is_file():
        raise SensorClipError(f"{what}: {config_file} is missing, so the resume cannot be checked "
                              "against the run's config; resume a run that sensorclip.train wrote")
    saved = _setup(read_run_config(config_file))
    now = _setup(resolved)
    changed = [f"{key} ({saved.get(key)!r} in the run, {now.get(key)!r} now)"
               for key in sorted(saved.keys() | now.keys()) if saved.get(key) != now.get(key)]
    if changed:
        raise SensorClipError(f"{what}: run {run_dir.name} was trained with another data, split "
                              f"or model config: {', '.join(changed)}; resume with the run's "
                              "values (drop those overrides) or train a new run_name")


def _setup(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The values a resume must keep, flattened to dotted keys (schemas fill absent keys)."""
    tree = {key: as_dict(typed(GROUP_SCHEMAS[key], cfg[key]))
            if key in GROUP_SCHEMAS and cfg.get(key) is not None else cfg.get(key)
            for key in RESUME_KEYS}
    flat = dict(_flatten(tree))
    return {key: value for key, value in flat.items() if key not in RUNTIME_ONLY}


def _flatten(tree: Mapping[str, Any], prefix: str = ""):
    for key, value in tree.items():
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def default_checkpoint(run_dir: Path) -> Path:
    """The run's best checkpoint as metrics.json records it, else checkpoints/last.ckpt."""
    metrics = run_dir / METRICS_FILE
    if metrics.is_file():
        recorded = read_json(metrics, {"checkpoint": str}, "run's metrics")["checkpoint"]
        if recorded and Path(recorded).is_file():
            return Path(recorded)
    return run_dir / "checkpoints" / "last.ckpt"


# The keys every run's config.yaml holds (what loading a run reads before its schemas check it).
RUN_CONFIG_KEYS = ("paths", "seed", "data", "windows", "split", "captions", "model", "encoder",
                   "features", "loss", "optim", "loader", "text_projection")


def read_run_config(config_file: Path) -> dict[str, Any]:
    """A run's saved config as plain containers, checked for the keys loading it needs (the
    groups' values are then checked by their schemas)."""
    raw = read_yaml_mapping(config_file, "run config", RUN_CONFIG_KEYS)
    return OmegaConf.to_container(OmegaConf.create(raw), resolve=True)


def save_config(run_dir: Path, resolved: Mapping[str, Any]) -> None:
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    atomic_write_text(Path(run_dir) / CONFIG_FILE, OmegaConf.to_yaml(OmegaConf.create(resolved)))


def write_metrics(run_dir: Path, metrics: Mapping[str, Any]) -> None:
    atomic_write_text(Path(run_dir) / METRICS_FILE, json.dumps(metrics, indent=2, default=float))


def describe_run(datamodule: SensorClipDataModule) -> dict[str, Any]:
    """What every metrics.json says about the data and the backbone."""
    identity = datamodule.prepared.vision_identity
    described = {"backbone": identity["model_id"], "backbone_family": identity["family"],
                 "pretrained": bool(identity["pretrained"]),
                 "inputs": identity.get("inputs", "image"),
                 "home": datamodule.prepared.home.name, "train_home": datamodule.prepared.home.name}
    if described["inputs"] != "image":
        described["sentence_encoder"] = identity["text_model_id"]
    if described["inputs"] == "image_text":
        described["combine"] = identity["combine"]
    return described


class AtomicCheckpointIO(TorchCheckpointIO):
    """Checkpoints go to a temporary file renamed into place: a kill never leaves half a file."""

    def save_checkpoint(self, checkpoint, path, storage_options=None) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = temporary_sibling(path)
        torch.save(checkpoint, tmp)
        os.replace(tmp, path)
