"""Train a sensor encoder against caption embeddings, then evaluate it on the test split.

    python -m sensorclip.train                         # demo home, tiny ViT, small encoder, CPU
    python -m sensorclip.train model=dinov2 features=coords_time
    python -m sensorclip.train experiment=milan_dinov2 data.raw_path=PATH trainer=gpu
    python -m sensorclip.train -m model=clip,dinov2,siglip features=none,coords_time \\
        model.pretrained=false                         # a sweep, one run directory per job
    python -m sensorclip.train run_name=NAME ckpt_path=last   # resume run NAME where it stopped

Each run directory holds the resolved ``config.yaml``, ``checkpoints/`` (best on the validation
retrieval metric, and last), the logger's files and ``metrics.json`` (``sensorclip.runs``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import hydra
import lightning as L
from omegaconf import DictConfig, OmegaConf

from sensorclip.config import EvalConfig, check_config, stage_configs, typed
from sensorclip.entrypoint import run_cleanly
from sensorclip.errors import SensorClipError
from sensorclip.eval.suite import evaluate_model
from sensorclip.eval.tables import print_metrics
from sensorclip.runs import (
    AtomicCheckpointIO,
    build_run,
    check_batch_memory,
    describe_run,
    load_checkpoint,
    resume_checkpoint,
    save_config,
    untrained_model,
    write_metrics,
)


def instantiate_all(group: DictConfig | None) -> list:
    """Every ``_target_`` node of a group (callbacks, loggers); null entries are switched off."""
    if not group:
        return []
    return [hydra.utils.instantiate(node) for node in group.values()
            if node is not None and "_target_" in node]


def train(cfg: DictConfig) -> dict[str, Any]:
    started = time.perf_counter()
    resolved = OmegaConf.to_container(cfg, resolve=True)
    # absolute paths, so the saved config works from anywhere (evaluate, notebooks)
    resolved["paths"] = {k: str(Path(v).expanduser().resolve())
                         for k, v in resolved["paths"].items()}
    run_dir = Path(resolved["paths"]["output_dir"])
    check_config(resolved)
    check_batch_memory(resolved)
    resume = resume_checkpoint(resolved, run_dir)      # before the run directory is touched
    save_config(run_dir, resolved)
    L.seed_everything(resolved["seed"], workers=True)
    run = build_run(resolved, run_dir)
    prepared = time.perf_counter()
    trainer: L.Trainer = hydra.utils.instantiate(
        cfg.trainer, callbacks=instantiate_all(cfg.get("callbacks")),
        logger=instantiate_all(cfg.get("logger")) or False, default_root_dir=str(run_dir),
        plugins=[AtomicCheckpointIO()])
    try:
        trainer.fit(run.model, datamodule=run.datamodule, ckpt_path=resume)
    except FloatingPointError as exc:
        last = run_dir / "checkpoints" / "last.ckpt"
        kept = (f"the last good checkpoint is {last}; resume with run_name={run_dir.name} "
                "ckpt_path=last after lowering optim.lr or fixing the data"
                if last.is_file() else "no checkpoint had been saved yet")
        raise SensorClipError(f"training stopped: {exc}; {kept}") from None
    if trainer.global_rank != 0:          # data parallel: one process evaluates and reports
        return {}
    fitted = time.perf_counter()
    best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
    model = load_checkpoint(Path(best)) if best else run.model.cpu()   # chosen on validation

    def record(metrics: dict[str, Any]) -> None:
        now = time.perf_counter()
        metrics.update(describe_run(run.datamodule), checkpoint=best or "final weights",
                       seconds=round(now - started, 1),
                       seconds_prepare=round(prepared - started, 1),
                       seconds_fit=round(fitted - prepared, 1),
                       seconds_evaluate=round(now - fitted, 1))
        write_metrics(run_dir, metrics)

    metrics = evaluate_model(model, run.datamodule, stage_configs(resolved)["text"],
                             typed(EvalConfig, resolved["eval"]), run_dir,
                             untrained=untrained_model(resolved, run.datamodule), record=record)
    print_metrics(metrics, run_dir)
    return metrics


def objective(metrics: dict[str, Any], name: str | None) -> float | None:
    """What a sweeper (``hparams_search=``) maximises: a validation metric, never a test one."""
    if not name:
        return None
    if not name.startswith(("val_", "val/")):
        raise SensorClipError(f"optimized_metric={name}: configurations are chosen on "
                              "validation only; pick a val_* key of metrics.json")
    if name not in metrics:
        raise SensorClipError(f"optimized_metric={name} is not in metrics.json; choose one of "
                              f"{sorted(k for k in metrics if k.startswith('val_'))}")
    return float(metrics[name])


@hydra.main(version_base="1.3", config_path="../conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    metrics = run_cleanly(lambda: train(cfg))
    return run_cleanly(lambda: objective(metrics, cfg.get("optimized_metric")))


if __name__ == "__main__":
    main()
