"""Label an unlabelled log with a trained encoder: activity segments and a CASAS log to read back.

    python -m sensorclip.annotate ckpt_path=RUN/checkpoints/X.ckpt   # the run's own test split
    python -m sensorclip.annotate ckpt_path=RUN/checkpoints/X.ckpt data.raw_path=LOG \\
        data.layout=milan                          # zero-shot, from the layout's descriptions
    python -m sensorclip.annotate ... labels=my_labels.yaml      # label -> [descriptions]
    python -m sensorclip.annotate ... examples=LABELLED_LOG      # few-shot prototypes

Writes ``segments.csv`` (label, start, end, confidence, windows, events), ``annotated.txt`` (the
log's binary events with ``Label begin``/``Label end`` lines, readable by
``python -m sensorclip.prepare``) and, when the log carries labels of its own, prints and writes
the agreement (``agreement.json``: window accuracy and macro-F1, event accuracy and overlap).
How windows become segments: ``sensorclip.downstream.annotate``.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import hydra
import numpy as np
import yaml
from omegaconf import DictConfig, open_dict
from rich.table import Table

from sensorclip.config import DataConfig, checked, stage_configs, typed
from sensorclip.downstream.annotate import (
    agreement,
    annotated_lines,
    annotation_labels,
    event_labels,
    example_prototypes,
    merge_segments,
    softmax_confidence,
)
from sensorclip.downstream.logs import EmbeddedLog, embed_log, has_labels
from sensorclip.entrypoint import console, run_cleanly
from sensorclip.errors import SensorClipError
from sensorclip.eval.suite import project_descriptions
from sensorclip.files import atomic_write_text
from sensorclip.frozen.text import TextEncoder


def read_label_file(path: str | Path) -> dict[str, tuple[str, ...]]:
    """``label: [descriptions]`` (a single string is one description)."""
    path = Path(path).expanduser()
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise SensorClipError(f"labels={path}: cannot read it ({exc})") from None
    if not isinstance(raw, dict) or not raw:
        raise SensorClipError(f"labels={path}: must map each label to a list of descriptions")
    out = {}
    for label, texts in raw.items():
        texts = [texts] if isinstance(texts, str) else texts
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            raise SensorClipError(f"labels={path}: {label} needs a list of descriptions")
        out[str(label)] = tuple(texts)
    return out


def prototypes(log: EmbeddedLog, labels: str | None, examples: str | None,
               data: DataConfig, cache_dir: str | None) -> tuple[list[str], np.ndarray]:
    """Label names and their prototypes: few-shot from ``examples``, else zero-shot from the
    ``labels`` file or the layout."""
    if examples:
        labelled = embed_log(log.checkpoint, DataConfig(**{**vars(data), "raw_path": examples}),
                             cache_dir)
        if not has_labels(labelled.prep):
            raise SensorClipError(f"examples={examples} carries no activity labels")
        names = np.array(labelled.prep.fine_names)[labelled.prep.windows.fine[
            labelled.window_ids]]
        return example_prototypes(labelled.embeddings, names)
    described = read_label_file(labels) if labels else annotation_labels(log.prep.home)
    if not described:
        raise SensorClipError(f"layout {log.prep.home.name!r} names no activities: pass "
                              "labels=FILE (label -> descriptions) or examples=LABELLED_LOG")
    encoder = TextEncoder(stage_configs(log.config)["text"])
    return list(described), project_descriptions(log.model, encoder, list(described.values()))


def own_split(cfg: DictConfig) -> bool:
    """Neither ``data.raw_path`` nor ``data.layout`` given: label the run's own test split."""
    data = cfg.get("data")
    return data is None or (data.get("raw_path") is None and data.get("layout") is None)


def without_own_split_data(cfg: DictConfig) -> DictConfig:
    """``cfg`` with the ``data`` group dropped when it only stands for the run's own split (the
    ``data: log`` default, with no log), so that the checks see what the run will read."""
    if not own_split(cfg) or cfg.get("data") is None:
        return cfg
    trimmed = cfg.copy()
    with open_dict(trimmed):
        trimmed.data = None
    return trimmed


def annotate(cfg: DictConfig) -> dict[str, Any]:
    """Label ``data.raw_path`` (a log of ``data.layout``), or with neither given the run's own
    test split, as ``search`` does."""
    own = own_split(cfg)
    data = None if own else typed(DataConfig, cfg.data)
    if own and cfg.examples:
        raise SensorClipError("examples=LOG needs the log to label too: pass data.raw_path=LOG "
                              "and data.layout=LAYOUT")
    log = embed_log(cfg.ckpt_path, data, cfg.cache_dir)
    names, vectors = prototypes(log, cfg.labels, cfg.examples, data, cfg.cache_dir)
    codes, confidence = softmax_confidence(log.embeddings @ vectors.T,
                                           float(log.model.loss_fn.scale.detach()))
    windows = log.prep.windows
    ids = log.window_ids
    segments = merge_segments(windows.start[ids], windows.length[ids], windows.day[ids], codes,
                              confidence, cfg.min_confidence)
    out = Path(cfg.paths.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_segments(log, segments, names, out / "segments.csv")
    atomic_write_text(out / "annotated.txt",
                      "\n".join(annotated_lines(log.prep, segments, names)) + "\n")
    summary: dict[str, Any] = {"windows": len(ids), "segments": len(segments),
                               "labelled_events": int(sum(s.last_event - s.first_event + 1
                                                          for s in segments)),
                               "events": len(log.prep.time_us)}
    if has_labels(log.prep):
        predicted = np.where(confidence >= cfg.min_confidence, np.array(names)[codes], "")
        summary.update(agreement(
            np.array(log.prep.fine_names)[windows.fine[ids]], predicted,
            np.array(log.prep.fine_names)[log.prep.activity],
            event_labels(len(log.prep.time_us), segments, names)))
        atomic_write_text(out / "agreement.json", json.dumps(summary, indent=2))
    show(summary, segments, names, out)
    return summary


def write_segments(log: EmbeddedLog, segments, names, path: Path) -> None:
    stamps = log.prep.time_us.astype("datetime64[us]")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["label", "start", "end", "confidence", "windows", "events"])
    for s in segments:
        writer.writerow([names[s.label], stamps[s.first_event], stamps[s.last_event],
                         f"{s.confidence:.3f}", s.windows, s.last_event - s.first_event + 1])
    atomic_write_text(path, buffer.getvalue())


def show(summary: dict[str, Any], segments, names, out: Path) -> None:
    counts = Table(title=f"{summary['segments']} segments over {summary['windows']} windows "
                         f"({summary['labelled_events']:,} of {summary['events']:,} events "
                         "labelled)")
    for column in ("label", "segments", "mean confidence"):
        counts.add_column(column, justify="left" if column == "label" else "right")
    for code, name in enumerate(names):
        mine = [s.confidence for s in segments if s.label == code]
        if mine:
            counts.add_row(name, str(len(mine)), f"{np.mean(mine):.3f}")
    console().print(counts)
    if "window_accuracy" in summary:
        console().print(
            f"agreement with the log's own labels ({summary['scored_windows']} activity "
            f"windows): accuracy {summary['window_accuracy']:.3f}, macro-F1 "
            f"{summary['window_macro_f1']:.3f}; events: accuracy "
            f"{summary['event_accuracy']:.3f}, overlap (IoU) {summary['event_iou']:.3f}")
    console().print(f"wrote {out / 'segments.csv'} and {out / 'annotated.txt'}")


@hydra.main(version_base="1.3", config_path="../conf", config_name="annotate")
def main(cfg: DictConfig) -> None:
    run_cleanly(lambda: annotate(checked(without_own_split_data(cfg))))


if __name__ == "__main__":
    main()
