"""The tables an entry point prints: test metrics beside their references, the backbone used."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.table import Table

from sensorclip.entrypoint import console


def describe_backbone(identity: Mapping[str, Any]) -> str:
    """'dinov2 facebook/dinov2-base (pretrained)' or '... (random init, NOT pretrained)'."""
    status = "pretrained" if identity.get("pretrained") else "random init, NOT pretrained"
    return f"{identity.get('family')} {identity.get('model_id')} ({status})"


def retrieval_table(metrics: Mapping[str, Any]) -> Table:
    table = Table(title=f"test split: {metrics['n_test_windows']} windows")
    table.add_column("metric")
    table.add_column("sensor -> text", justify="right")
    table.add_column("text -> sensor", justify="right")
    for name in ("recall@1", "recall@5", "recall@10", "median_rank"):
        s2t, t2s = metrics.get(f"{name}_sensor_to_text"), metrics.get(f"{name}_text_to_sensor")
        if s2t is not None:
            fmt = "{:.0f}" if name == "median_rank" else "{:.3f}"
            table.add_row(name, fmt.format(s2t), fmt.format(t2s))
    return table


def recognition_table(metrics: Mapping[str, Any]) -> Table:
    table = Table(title="activity recognition (test)")
    for column in ("labels", "method", "accuracy", "macro F1", "balanced acc."):
        table.add_column(column, justify="left" if column in ("labels", "method") else "right")
    for prefix, level in (("", "fine"), ("coarse_", "coarse")):
        for method in ("zeroshot", "linear_probe", "majority"):
            key = f"{prefix}{method}_"
            if f"{key}accuracy" in metrics:
                table.add_row(level, method.replace("_", " "), f"{metrics[key + 'accuracy']:.3f}",
                              f"{metrics[key + 'macro_f1']:.3f}",
                              f"{metrics[key + 'balanced_accuracy']:.3f}")
    return table


def print_metrics(metrics: Mapping[str, Any], run_dir: Path) -> None:
    out = console()
    out.print("backbone: " + describe_backbone({"family": metrics["backbone_family"],
                                                "model_id": metrics["backbone"],
                                                "pretrained": metrics["pretrained"]}))
    out.print(retrieval_table(metrics))
    out.print(recognition_table(metrics))
    seconds = f"  ({metrics['seconds']} s)" if "seconds" in metrics else ""
    out.print(f"run directory: {run_dir}{seconds}")
