"""The tables an entry point prints: test metrics beside their references, the backbone used."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.table import Table

from sensorclip.entrypoint import console


def describe_backbone(identity: Mapping[str, Any]) -> str:
    """'dinov2 facebook/dinov2-base (pretrained)' or '... (random init, NOT pretrained)'."""
    if identity.get("family") == "learned":
        return "none: learned sensor and state embeddings (sequence-based encoder)"
    sentences = (f"sentences of each (sensor, state) embedded by {identity.get('text_model_id')}"
                 " (pretrained text encoder)")
    if identity.get("inputs") == "text":
        return f"{sentences}; no images"
    status = "pretrained" if identity.get("pretrained") else "random init, NOT pretrained"
    image = f"{identity.get('family')} {identity.get('model_id')} ({status})"
    if identity.get("inputs") == "image_text":
        return f"{image} + {sentences}, {identity.get('combine', 'concat')}"
    return image


def _number(value, fmt: str = "{:.3f}") -> str:
    return "–" if value is None else fmt.format(value)


def retrieval_table(metrics: Mapping[str, Any]) -> Table:
    """Both directions, beside the untrained encoder and a random ranking."""
    table = Table(title=f"retrieval, test split: {metrics['n_test_windows']} windows")
    for column in ("metric", "sensor -> text", "text -> sensor", "untrained s->t", "chance"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for name in ("recall@1", "recall@5", "recall@10", "median_rank"):
        if f"{name}_sensor_to_text" not in metrics:
            continue
        fmt = "{:.0f}" if name == "median_rank" else "{:.3f}"
        table.add_row(name, *(_number(metrics.get(key), fmt) for key in (
            f"{name}_sensor_to_text", f"{name}_text_to_sensor",
            f"untrained_{name}_sensor_to_text", f"chance_{name}")))
    return table


METHODS = (("zeroshot", "zero-shot"), ("keyword_zeroshot", "  keyword overlap (reference)"),
           ("linear_probe", "linear probe"),
           ("untrained_linear_probe", "  untrained encoder (reference)"),
           ("bag", "  bag of events (reference)"), ("majority", "  majority (reference)"))
COMMON_METHODS = (("common_zeroshot", "zero-shot"),
                  ("common_keyword_zeroshot", "  keyword overlap (reference)"),
                  ("caption_oracle_zeroshot", "  own captions, text encoder (caption oracle)"),
                  ("agnostic_bag", "  layout-agnostic bag from the source homes (reference)"),
                  ("sentence_ref_mean", "  sentence vectors (mean), source labels (reference)"),
                  ("sentence_ref_meanmax",
                   "  sentence vectors (mean+max), source labels (reference)"))
COMMON_DELTAS = (("common_delta_zeroshot_macro_f1_vs_keyword", "zero-shot - keyword"),
                 ("delta_zeroshot_macro_f1_vs_agnostic_bag", "zero-shot - layout-agnostic bag"),
                 ("delta_zeroshot_macro_f1_vs_sentence_ref_mean",
                  "zero-shot - sentence vectors (mean)"),
                 ("delta_zeroshot_macro_f1_vs_sentence_ref_meanmax",
                  "zero-shot - sentence vectors (mean+max)"),
                 ("delta_common_zeroshot_macro_f1_vs_caption_oracle",
                  "zero-shot - caption oracle"))
DELTAS = (("delta_zeroshot_macro_f1_vs_keyword", "zero-shot - keyword"),
          ("delta_probe_macro_f1_vs_untrained", "probe - untrained"),
          ("delta_probe_macro_f1_vs_bag", "probe - bag of events"))


def recognition_table(metrics: Mapping[str, Any]) -> Table:
    """Each method above its references, for fine and coarse labels."""
    table = Table(title="activity recognition (test)")
    for column in ("labels", "method", "accuracy", "macro F1", "balanced acc."):
        table.add_column(column, justify="left" if column in ("labels", "method") else "right")
    for prefix, level in (("", "fine"), ("coarse_", "coarse")):
        for method, label in METHODS:
            key = f"{prefix}{method}_"
            if f"{key}accuracy" in metrics:
                table.add_row(level, label, *(_number(metrics[key + m]) for m in (
                    "accuracy", "macro_f1", "balanced_accuracy")))
    for method, label in COMMON_METHODS:
        if f"{method}_accuracy" in metrics:
            table.add_row("common", label, *(_number(metrics[f"{method}_{m}"]) for m in (
                "accuracy", "macro_f1", "balanced_accuracy")))
    return table


def evidence_table(metrics: Mapping[str, Any]) -> Table:
    """Paired differences of macro-F1 with their 95% intervals (test days resampled; for the
    few-shot probes against the bag of events, the draws of labelled windows too)."""
    table = Table(title="does training help? macro-F1 differences, 95% interval over test days")
    for column in ("labels", "difference", "value", "95% interval", "verdict"):
        table.add_column(column, justify="left" if column in ("labels", "difference", "verdict")
                         else "right")
    for prefix, level in (("", "fine"), ("coarse_", "coarse")):
        for key, label in DELTAS:
            if prefix + key in metrics:
                table.add_row(level, label, *_difference(metrics, prefix + key))
    for key, label in COMMON_DELTAS:
        if key in metrics:
            table.add_row("common", label, *_difference(metrics, key))
    for k in _shots(metrics, FEW_SHOT):
        ours, bag = metrics[f"fewshot_{k}_macro_f1"], metrics.get(f"bag_fewshot_{k}_macro_f1")
        if ours is None or bag is None:
            continue
        label = f"{k}-shot probe - bag of events ({ours:.3f} vs {bag:.3f})"
        key = f"delta_fewshot_{k}_macro_f1_vs_bag"
        untrained = f"delta_fewshot_{k}_macro_f1_vs_untrained"
        if untrained in metrics:
            table.add_row("fine", f"{k}-shot probe - untrained encoder ({ours:.3f} vs "
                                  f"{metrics[f'untrained_fewshot_{k}_macro_f1']:.3f})",
                          *_difference(metrics, untrained))
        if key in metrics:
            table.add_row("fine", label, *_difference(metrics, key))
        else:                                   # runs evaluated before few-shot intervals
            sd = metrics[f"fewshot_{k}_macro_f1_sd"]
            table.add_row("fine", label, f"{ours - bag:+.3f}", f"(sd over draws {sd:.3f})",
                          "no interval")
    for k in _shots(metrics, TEXT_INIT):
        ours = metrics[f"fewshot_text_init_{k}_macro_f1"]
        for tag, name in (("probe", "plain probe"), ("untrained", "untrained encoder"),
                          ("bag", "bag of events")):
            key = f"delta_fewshot_text_init_{k}_macro_f1_vs_{tag}"
            if key in metrics:
                theirs = metrics[f"fewshot_text_init_{k}_{tag}_macro_f1"]
                table.add_row("fine", f"{k}-shot from the text - {name} ({ours:.3f} vs "
                                      f"{theirs:.3f})", *_difference(metrics, key))
    return table


FEW_SHOT = re.compile(r"^fewshot_(\d+)_macro_f1$")
TEXT_INIT = re.compile(r"^fewshot_text_init_(\d+)_macro_f1$")


def _shots(metrics: Mapping[str, Any], pattern: re.Pattern) -> list[int]:
    """The k of every few-shot figure the pattern names, in order."""
    return sorted(int(m.group(1)) for key in metrics if (m := pattern.match(key)))


def _difference(metrics: Mapping[str, Any], key: str) -> tuple[str, str, str]:
    """(value, interval, verdict) of one paired difference."""
    value, interval = f"{metrics[key]:+.3f}", metrics[f"{key}_ci95"]
    if interval is None:
        return value, "–", "one test day: no interval"
    low, high = interval
    verdict = "better" if low > 0 else "worse" if high < 0 else "no difference shown"
    return value, f"[{low:+.3f}, {high:+.3f}]", verdict


def print_metrics(metrics: Mapping[str, Any], run_dir: Path) -> None:
    out = console()
    if metrics.get("train_home", metrics.get("home")) != metrics.get("home"):
        out.print(f"home: {metrics['home']} (encoder trained in {metrics['train_home']})")
    out.print("backbone: " + describe_backbone({
        "family": metrics["backbone_family"], "model_id": metrics["backbone"],
        "pretrained": metrics["pretrained"], "inputs": metrics.get("inputs", "image"),
        "text_model_id": metrics.get("sentence_encoder"), "combine": metrics.get("combine")}))
    if metrics.get("labelaware_weight"):
        out.print(f"label-aware pretraining: loss.label_weight={metrics['labelaware_weight']:g} "
                  "(training windows aligned with their activity's descriptions)")
    out.print(retrieval_table(metrics))
    out.print(recognition_table(metrics))
    evidence = evidence_table(metrics)
    if evidence.row_count:
        out.print(evidence)
    excluded = metrics.get("zeroshot_excluded_windows")
    if excluded:
        out.print(f"zero-shot leaves out {excluded} background (no activity / other) test windows")
    seconds = f"  ({metrics['seconds']} s{phase_seconds(metrics)})" if "seconds" in metrics else ""
    out.print(f"run directory: {run_dir}{seconds}")


def phase_seconds(metrics: Mapping[str, Any]) -> str:
    """Where the time of a run went (e.g. ``: prepare 51.2, fit 40.3, evaluate 12.0``), for the
    runs that recorded their phases."""
    phases = [(name, metrics.get(f"seconds_{name}")) for name in ("prepare", "fit", "evaluate")]
    shown = [f"{name} {value}" for name, value in phases if value is not None]
    return f": {', '.join(shown)}" if shown else ""
