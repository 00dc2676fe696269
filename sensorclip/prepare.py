"""Build (or reuse) every cache a training run needs and print what the data hold.

    python -m sensorclip.prepare                          # the embedded demo home
    python -m sensorclip.prepare data=milan data.raw_path=PATH/milan/data
    python -m sensorclip.prepare data.layout=my_home.yaml data.raw_path=my_log.txt
    python -m sensorclip.prepare 'stages=[images]' data=milan     # floor-plan images only
    python -m sensorclip.prepare 'stages=[vision]' model=text     # the sensors' sentences
"""

from __future__ import annotations

import json
import time
from typing import Any

import hydra
import numpy as np
from omegaconf import DictConfig
from rich.table import Table

from sensorclip.config import checked, stage_configs
from sensorclip.data import known_logs
from sensorclip.data.cache import provenance
from sensorclip.data.windows import SPLITS
from sensorclip.entrypoint import console, run_cleanly
from sensorclip.eval.tables import describe_backbone
from sensorclip.multihome import prepare_homes
from sensorclip.pipeline import Prepared


def summary(prep: Prepared) -> dict[str, Any]:
    """Events, days, windows per split, captions and labels per split of a prepared data set."""
    info: dict[str, Any] = {"home": prep.home.name}
    if prep.windows is not None:
        w = prep.windows
        info.update(
            events=len(prep.time_us), days=len(prep.days),
            windows={name: int((w.split == i).sum()) for i, name in enumerate(SPLITS)},
            unique_captions=len(prep.captions.texts),
            captions_per_window=int(prep.captions.index.shape[1]),
            coarse_labels={prep.coarse_names[k]: np.bincount(w.split[w.coarse == k],
                                                             minlength=3).tolist()
                           for k in np.unique(w.coarse)},
            fine_labels={prep.fine_names[k]: np.bincount(w.split[w.fine == k],
                                                         minlength=3).tolist()
                         for k in np.unique(w.fine)},
            parse_report=parse_report(prep))
    if prep.text_embeddings is not None:
        info["text_dim"] = int(prep.text_embeddings.shape[1])
    if prep.vision_identity is not None:
        info["vision"] = {**prep.vision_identity, "pairs": len(prep.pairs)}
    return info


def parse_report(prep: Prepared) -> dict[str, Any]:
    """The log reader's counts, added up over the homes of a multi-home data set."""
    reports = [provenance(entry)["summary"] for stage, entry in prep.entries.items()
               if stage == "events" or stage.endswith(":events")]
    if len(reports) == 1:
        return reports[0]
    merged: dict[str, Any] = {}
    for report in reports:
        for key, value in report.items():
            if isinstance(value, dict):
                counts = merged.setdefault(key, {})
                for name, n in value.items():
                    counts[name] = counts.get(name, 0) + n
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                merged[key] = (max if key == "largest_gap_days" else sum)(
                    (merged.get(key, 0), value))
    return merged


def print_summary(prep: Prepared, seconds: float) -> None:
    info = summary(prep)
    out = console()
    stages = Table(title=f"sensorclip prepare: {info['home']} ({seconds:.1f} s)")
    for column in ("stage", "cache", "entry"):
        stages.add_column(column)
    for stage, entry in prep.entries.items():
        stages.add_row(stage, "built" if prep.built.get(stage) else "reused", str(entry))
    out.print(stages)
    facts = Table(show_header=False)
    if "events" in info:
        report = info["parse_report"]
        facts.add_row("events", f"{info['events']:,} (+{report['numeric_readings']:,} numeric "
                                "readings kept apart)")
        facts.add_row("days", str(info["days"]))
        facts.add_row("windows", ", ".join(f"{k} {v:,}" for k, v in info["windows"].items()))
        facts.add_row("unique captions", f"{info['unique_captions']:,} "
                                         f"({info['captions_per_window']} per window)")
        problems = {k: report[k] for k in ("skipped", "out_of_order", "duplicate_events",
                                           "dropped_duplicates", "time_jumps", "unclosed_spans",
                                           "unmatched_ends", "dropped_unknown_sensors",
                                           "dropped_odd_states", "unnamed_ids",
                                           "extra_annotations")
                    if report.get(k)}
        if report["time_jumps"]:
            problems["largest_gap_days"] = report["largest_gap_days"]
        if problems:
            facts.add_row("log issues", json.dumps(problems))
        if report.get("log_sha256"):
            facts.add_row("log file", known_logs.describe(report))
    if "text_dim" in info:
        facts.add_row("text embeddings", f"{info['unique_captions']:,} x {info['text_dim']}")
    if "vision" in info:
        vision = info["vision"]
        size = f"x {vision['dim']}" if vision["dim"] else "(learned with the encoder)"
        facts.add_row("vision embeddings", f"{vision['pairs']} (sensor, state) pairs {size}: "
                                           f"{describe_backbone(vision)}")
    if "sentences" in prep.entries:
        facts.add_row("sentences", str(prep.entries["sentences"] / "sentences.txt"))
    out.print(facts)
    if "coarse_labels" in info:
        labels = Table(title="windows per coarse label (majority label)")
        for column in ("coarse label", "train", "val", "test"):
            labels.add_column(column, justify="left" if column == "coarse label" else "right")
        for name, counts in sorted(info["coarse_labels"].items(), key=lambda kv: -sum(kv[1])):
            labels.add_row(name, *map(str, counts))
        out.print(labels)


def run(cfg: DictConfig) -> Prepared:
    started = time.perf_counter()
    prep = prepare_homes(**stage_configs(cfg), cache_dir=cfg.paths.cache_dir,
                         stages=tuple(cfg.stages))
    print_summary(prep, time.perf_counter() - started)
    return prep


@hydra.main(version_base="1.3", config_path="../conf", config_name="prepare")
def main(cfg: DictConfig) -> None:
    run_cleanly(lambda: run(checked(cfg)))


if __name__ == "__main__":
    main()
