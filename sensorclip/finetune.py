"""Train an activity classifier on a pretrained encoder, and the same from scratch to compare.

    python -m sensorclip.finetune ckpt_path=RUN/checkpoints/X.ckpt finetune.labels_fraction=0.1
    python -m sensorclip.finetune ckpt_path=... finetune.freeze_encoder=true    # head only
    python -m sensorclip.finetune -m ckpt_path=... finetune.labels_fraction=0.01,0.1,1.0

Same data, splits and labelled windows for both encoders (``sensorclip.downstream.finetune``);
the best epoch is chosen on validation macro-F1; test accuracy, macro-F1, balanced accuracy
and the confusion matrix of each go to ``metrics.json``, beside the majority reference and the
difference pretrained - scratch with a 95% interval over test days. A sweep over label
fractions also writes the label-efficiency curve (``curve.md``, ``curve.csv``, ``curve.png``).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import hydra
import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger
from omegaconf import DictConfig
from rich.table import Table

from sensorclip.config import FinetuneConfig, checked, typed
from sensorclip.downstream.finetune import (
    ActivityClassifier,
    LabelledData,
    class_weights,
    labelled_subset,
)
from sensorclip.entrypoint import console, run_cleanly
from sensorclip.eval.classification import classification_metrics, confusion
from sensorclip.eval.probe import majority_label
from sensorclip.eval.references import paired_bootstrap
from sensorclip.runs import Run, load_run, untrained_model, write_metrics


def finetune(cfg: DictConfig) -> dict[str, Any]:
    config = typed(FinetuneConfig, cfg.finetune)
    run = load_run(cfg.ckpt_path, cache_dir=cfg.cache_dir)
    data = run.datamodule
    train_labels = data.eval_dataset("train").fine.numpy()
    test_labels = data.eval_dataset("test").fine.numpy()
    n_classes = len(data.prepared.fine_names)
    rows = labelled_subset(train_labels, config.labels_fraction, config.seed)
    out = Path(cfg.paths.output_dir)
    metrics: dict[str, Any] = {
        "labels_fraction": config.labels_fraction, "freeze_encoder": config.freeze_encoder,
        "labelled_windows": len(rows), "n_test_windows": len(test_labels),
        "checkpoint": str(run.checkpoint), "home": data.prepared.home.name,
        "labels": data.prepared.fine_names}
    majority = np.full(len(test_labels), majority_label(train_labels[rows]))
    metrics.update(classification_metrics(test_labels, majority, n_classes, "majority_"))
    inits = ("pretrained", "scratch") if config.init == "both" else (config.init,)
    predicted = {}
    for init in inits:
        predicted[init] = fit_and_test(run, init, rows, train_labels, n_classes, config, cfg,
                                       out)
        metrics.update(classification_metrics(test_labels, predicted[init], n_classes,
                                              f"{init}_"))
        metrics[f"{init}_confusion"] = confusion(test_labels, predicted[init],
                                                 n_classes).tolist()
    if len(inits) == 2:
        delta, interval = paired_bootstrap(test_labels, predicted["pretrained"],
                                           predicted["scratch"],
                                           data.prepared.windows.of_split("test").day, n_classes,
                                           seed=config.seed)
        metrics["delta_macro_f1_pretrained_vs_scratch"] = delta
        metrics["delta_macro_f1_pretrained_vs_scratch_ci95"] = interval
    write_metrics(out, metrics)
    show(metrics, inits, out)
    return metrics


def fit_and_test(run: Run, init: str, rows: np.ndarray, train_labels: np.ndarray,
                 n_classes: int, config: FinetuneConfig, cfg: DictConfig,
                 out: Path) -> np.ndarray:
    """Train one classifier (``init``: the run's encoder, or the same architecture freshly
    initialised) on the labelled rows; test predictions of its best validation epoch."""
    encoder = (copy.deepcopy(run.model.encoder) if init == "pretrained"
               else untrained_model(run.config, run.datamodule).encoder)
    L.seed_everything(config.seed, workers=True, verbose=False)
    classifier = ActivityClassifier(encoder, n_classes,
                                    class_weights(train_labels[rows], n_classes), config)
    best = ModelCheckpoint(dirpath=out / init / "checkpoints", filename="best",
                           monitor="val/macro_f1",
                           mode="max", save_top_k=1, enable_version_counter=False)
    trainer: L.Trainer = hydra.utils.instantiate(
        cfg.trainer, max_epochs=config.epochs, callbacks=[best],
        logger=CSVLogger(out, name=init), default_root_dir=str(out),
        enable_progress_bar=bool(cfg.progress_bar), enable_model_summary=False)
    labelled = LabelledData(run.datamodule, rows, config.batch_size, config.seed)
    trainer.fit(classifier, datamodule=labelled)
    state = torch.load(best.best_model_path, map_location="cpu", weights_only=False)
    classifier.load_state_dict(state["state_dict"])
    trainer.test(classifier, dataloaders=run.datamodule.test_dataloader(), verbose=False)
    return classifier.predictions()[0]


def show(metrics: dict[str, Any], inits, out: Path) -> None:
    table = Table(title=f"activity classifier, {metrics['labelled_windows']} labelled training "
                        f"windows ({metrics['labels_fraction']:g} of them), test "
                        f"{metrics['n_test_windows']} windows")
    for column in ("encoder", "accuracy", "macro F1", "balanced acc."):
        table.add_column(column, justify="left" if column == "encoder" else "right")
    for init in (*inits, "majority"):
        label = {"pretrained": "pretrained (this run)", "scratch": "from scratch",
                 "majority": "majority (reference)"}[init]
        if init != "majority" and metrics["freeze_encoder"]:
            label += ", frozen"
        table.add_row(label, *(f"{metrics[f'{init}_{m}']:.3f}" for m in (
            "accuracy", "macro_f1", "balanced_accuracy")))
    out_console = console()
    out_console.print(table)
    if "delta_macro_f1_pretrained_vs_scratch" in metrics:
        interval = metrics["delta_macro_f1_pretrained_vs_scratch_ci95"]
        shown = "no interval (one test day)" if interval is None else \
            f"95% interval [{interval[0]:+.3f}, {interval[1]:+.3f}] over test days"
        out_console.print(f"pretrained - scratch macro-F1: "
                          f"{metrics['delta_macro_f1_pretrained_vs_scratch']:+.3f}, {shown}")
    out_console.print(f"metrics: {out / 'metrics.json'}")


@hydra.main(version_base="1.3", config_path="../conf", config_name="finetune")
def main(cfg: DictConfig) -> None:
    run_cleanly(lambda: finetune(checked(cfg)))


if __name__ == "__main__":
    main()
