"""Train a sensor encoder against caption embeddings, then evaluate it on the test split.

    python -m sensorclip.train                         # demo home, tiny ViT, small encoder, CPU
    python -m sensorclip.train model=dinov2 features=coords_time
    python -m sensorclip.train experiment=milan_dinov2 data.raw_path=PATH trainer=gpu
    python -m sensorclip.train -m model=clip,dinov2,siglip features=none,coords_time \
        model.pretrained=false                         # a sweep, one run directory per job
    python -m sensorclip.train run_name=NAME ckpt_path=last   # resume run NAME where it stopped

Each run directory holds the resolved ``config.yaml``, ``checkpoints/`` (best on the validation
retrieval metric, and last), the logger's files and ``metrics.json``.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import hydra
import lightning as L
import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO
from omegaconf import DictConfig, OmegaConf

from sensorclip.cache import atomic_write_text
from sensorclip.cli import run_cleanly
from sensorclip.datamodule import LoaderConfig, SensorClipDataModule
from sensorclip.errors import SensorClipError
from sensorclip.evaluate import evaluate_model
from sensorclip.lit_module import SensorClipModule
from sensorclip.prepare import configs_from, describe_backbone


def build(cfg: dict[str, Any]) -> tuple[SensorClipDataModule, SensorClipModule]:
    """DataModule (caches built if missing) and a fresh model sized from the data."""
    datamodule = SensorClipDataModule(configs_from(cfg), LoaderConfig(**cfg["loader"]),
                                      cfg["paths"]["cache_dir"], seed=cfg["seed"])
    datamodule.setup()              # builds missing caches, then loads them
    prep = datamodule.prepared
    # seed here: whether caches were built or reused must not change the initial weights
    L.seed_everything(cfg["seed"], workers=True, verbose=False)
    model = SensorClipModule(
        encoder=cfg["encoder"], features=cfg["features"], loss=cfg["loss"], optim=cfg["optim"],
        text_projection=cfg["text_projection"], text_dim=datamodule.text_dim,
        n_pairs=len(prep.pairs), image_dim=int(prep.pair_embeddings.shape[1]),
        label_positives=cfg.get("label_positives"), seed=cfg["seed"],
        pair_embeddings=datamodule.pair_embeddings,
        pair_xy=datamodule.pair_xy)
    return datamodule, model


def instantiate_all(group: DictConfig | None, **kwargs) -> list:
    if not group:
        return []
    return [hydra.utils.instantiate(node, **kwargs) for node in group.values()
            if node is not None and "_target_" in node]


def train(cfg: DictConfig) -> dict[str, Any]:
    started = time.perf_counter()
    resolved = OmegaConf.to_container(cfg, resolve=True)
    # absolute paths, so the saved config works from anywhere (evaluate, notebooks)
    resolved["paths"] = {k: str(Path(v).expanduser().resolve()) for k, v in resolved["paths"].items()}
    run_dir = Path(resolved["paths"]["output_dir"])
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "config.yaml", OmegaConf.to_yaml(OmegaConf.create(resolved)))
    L.seed_everything(resolved["seed"], workers=True)
    datamodule, model = build(resolved)
    callbacks = instantiate_all(cfg.get("callbacks"))
    loggers = instantiate_all(cfg.get("logger"))
    trainer: L.Trainer = hydra.utils.instantiate(cfg.trainer, callbacks=callbacks,
                                                 logger=loggers or False,
                                                 default_root_dir=str(run_dir),
                                                 plugins=[AtomicCheckpointIO()])
    try:
        trainer.fit(model, datamodule=datamodule, ckpt_path=resolved.get("ckpt_path"))
    except FloatingPointError as exc:
        last = run_dir / "checkpoints" / "last.ckpt"
        kept = (f"the last good checkpoint is {last}; resume with run_name={run_dir.name} "
                "ckpt_path=last after lowering optim.lr or fixing the data"
                if last.is_file() else "no checkpoint had been saved yet")
        raise SensorClipError(f"training stopped: {exc}; {kept}") from None
    if trainer.global_rank != 0:          # data parallel: one process evaluates and reports
        return {}
    best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
    if best:                      # chosen on validation retrieval, never on test
        model = SensorClipModule.load_from_checkpoint(best, map_location="cpu")
    metrics = evaluate_model(model.cpu(), datamodule, configs_from(resolved)["text"], run_dir)
    metrics.update(describe_run(datamodule), checkpoint=best or "final weights",
                   seconds=round(time.perf_counter() - started, 1))
    write_metrics(run_dir, metrics)
    print_metrics(metrics, run_dir)
    return metrics


class AtomicCheckpointIO(TorchCheckpointIO):
    """Checkpoints go to a temporary file renamed into place: a kill never leaves half a file."""

    def save_checkpoint(self, checkpoint, path, storage_options=None) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        torch.save(checkpoint, tmp)
        os.replace(tmp, path)


def describe_run(datamodule: SensorClipDataModule) -> dict[str, Any]:
    identity = datamodule.prepared.vision_identity
    return {"backbone": identity["model_id"], "backbone_family": identity["family"],
            "pretrained": bool(identity["pretrained"]), "home": datamodule.prepared.home.name}


def write_metrics(run_dir: Path, metrics: dict[str, Any]) -> None:
    atomic_write_text(Path(run_dir) / "metrics.json", json.dumps(metrics, indent=2, default=float))


def print_metrics(metrics: dict[str, Any], run_dir: Path) -> None:
    from rich.table import Table

    from sensorclip.cli import console as make_console
    backbone = describe_backbone({"family": metrics["backbone_family"],
                                  "model_id": metrics["backbone"],
                                  "pretrained": metrics["pretrained"]})
    table = Table(title=f"test split: {metrics['n_test_windows']} windows")
    table.add_column("metric")
    table.add_column("sensor -> text", justify="right")
    table.add_column("text -> sensor", justify="right")
    for name in ("recall@1", "recall@5", "recall@10", "median_rank"):
        s2t, t2s = metrics.get(f"{name}_sensor_to_text"), metrics.get(f"{name}_text_to_sensor")
        if s2t is not None:
            fmt = "{:.0f}" if name == "median_rank" else "{:.3f}"
            table.add_row(name, fmt.format(s2t), fmt.format(t2s))
    console = make_console()
    console.print(f"backbone: {backbone}")
    console.print(table)
    labels = Table(title="activity recognition (test)")
    for column in ("labels", "method", "accuracy", "macro F1", "balanced acc."):
        labels.add_column(column, justify="left" if column in ("labels", "method") else "right")
    for prefix, level in (("", "fine"), ("coarse_", "coarse")):
        for method in ("zeroshot", "linear_probe", "majority"):
            key = f"{prefix}{method}_"
            if f"{key}accuracy" in metrics:
                labels.add_row(level, method.replace("_", " "), f"{metrics[key + 'accuracy']:.3f}",
                               f"{metrics[key + 'macro_f1']:.3f}",
                               f"{metrics[key + 'balanced_accuracy']:.3f}")
    console.print(labels)
    console.print(f"run directory: {run_dir}" + (f"  ({metrics['seconds']} s)"
                                                  if "seconds" in metrics else ""))


@hydra.main(version_base="1.3", config_path="../conf", config_name="train")
def main(cfg: DictConfig) -> dict[str, Any]:
    return run_cleanly(lambda: train(cfg))


if __name__ == "__main__":
    main()
