"""Every data stage, cached: raw log -> events -> windows -> captions -> text embeddings.

    python -m sensorclip.prepare                          # the embedded demo home
    python -m sensorclip.prepare data=milan data.raw_path=PATH/milan/data
    python -m sensorclip.prepare data.layout=my_home.yaml data.raw_path=my_log.txt

Each stage is a pure function of its inputs and config, stored in the content-addressed cache
(``sensorclip.cache``); fresh entries are reused, so a second run only loads arrays.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from sensorclip import casas
from sensorclip.cache import Cache, file_digest, load_npz, provenance, save_npz
from sensorclip.captions import CaptionConfig, Captions, build_phrasebook, caption_windows, \
    home_labels
from sensorclip.errors import SensorClipError
from sensorclip.homes import Home, load_home
from sensorclip.simulate import load_activity_model, simulate
from sensorclip.windows import SPLITS, SplitConfig, WindowConfig, Windows, coarse_vocabulary, \
    make_windows

# Bump a stage's version when its algorithm changes: the new key retires every old entry.
STAGE_VERSIONS = {"simulate": 1, "events": 1, "windows": 1, "captions": 1, "text": 1}


@dataclass(frozen=True)
class DataConfig:
    name: str = "demo"
    layout: str = "demo"
    source: str = "simulate"           # simulate | file
    raw_path: str | None = None
    format: str = "auto"
    strict: bool = True
    unknown_sensors: str = "error"     # error | drop
    activity_model: str | None = "demo"
    days: int = 21
    seed: int = 0
    start_date: str = "2024-03-04"


@dataclass
class Prepared:
    """Everything the model side needs, as arrays, plus where each piece came from."""

    home: Home
    time_us: np.ndarray
    sensor: np.ndarray
    state: np.ndarray
    activity: np.ndarray
    sensor_names: list[str]
    state_names: list[str]
    fine_names: list[str]
    coarse_names: list[str]
    coarse_of_fine: np.ndarray
    windows: Windows
    days: np.ndarray
    captions: Captions
    text_embeddings: np.ndarray | None
    entries: dict[str, Path] = field(default_factory=dict)
    built: dict[str, bool] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Stages


def stage_log(data: DataConfig, home: Home, cache: Cache) -> tuple[Path, Path | None, bool]:
    """(log file, cache entry or None, built_now): a simulated log or the user's own file."""
    if data.source == "file":
        if not data.raw_path:
            raise SensorClipError(f"data={data.name} reads a real log: pass data.raw_path=PATH "
                                  "to the CASAS 'data' file (the logs are not redistributable)")
        path = Path(data.raw_path).expanduser()
        if not path.is_file():
            raise SensorClipError(f"data.raw_path={path} does not exist; point it at the log")
        return path, None, False
    if data.source != "simulate":
        raise SensorClipError(f"data.source must be simulate or file, got {data.source!r}")
    model = load_activity_model(data.activity_model)
    spec = {"version": STAGE_VERSIONS["simulate"], "layout": file_digest(home.source),
            "activity_model": _model_digest(data.activity_model), "days": data.days,
            "seed": data.seed, "start_date": data.start_date}

    def build(tmp: Path):
        log = simulate(home, model, days=data.days, seed=data.seed, start_date=data.start_date)
        log.write(tmp / "log.txt")
        return {"lines": len(log.time_us)}

    entry, built = cache.get_or_build("simulate", spec, build)
    return entry / "log.txt", entry, built


def _model_digest(name_or_path: str) -> str:
    from sensorclip.simulate import MODEL_DIR
    path = Path(name_or_path)
    return file_digest(path if path.suffix else MODEL_DIR / f"{name_or_path}.yaml")


def stage_events(log_path: Path, data: DataConfig, home: Home, cache: Cache):
    spec = {"version": STAGE_VERSIONS["events"], "log": file_digest(log_path),
            "layout": file_digest(home.source), "format": data.format, "strict": data.strict,
            "unknown_sensors": data.unknown_sensors}

    def build(tmp: Path):
        events = casas.read_casas(log_path, fmt=data.format, strict=data.strict, home=home)
        events = casas.attach_layout(events, home, on_unknown=data.unknown_sensors)
        save_npz(tmp / "events.npz", time_us=events.time.astype(np.int64), sensor=events.sensor,
                 state=events.state, activity=events.activity, line=events.line,
                 sensor_names=np.array(events.sensor_names), state_names=np.array(events.state_names),
                 activity_names=np.array(events.activity_names),
                 numeric_time_us=events.numeric.time.astype(np.int64),
                 numeric_sensor=events.numeric.sensor, numeric_value=events.numeric.value)
        return events.report.as_dict()

    return cache.get_or_build("events", spec, build)


def stage_windows(events_entry: Path, windows: WindowConfig, split: SplitConfig, home: Home,
                  cache: Cache):
    spec = {"version": STAGE_VERSIONS["windows"], "events": events_entry.name,
            "windows": vars(windows), "split": vars(split), "labels": dict(home.labels)}

    def build(tmp: Path):
        ev = load_npz(events_entry / "events.npz")
        fine_names = ev["activity_names"].tolist()
        coarse_names, coarse_of_fine = coarse_vocabulary(fine_names, home.coarse_label)
        result, days = make_windows(ev["time_us"].astype("datetime64[us]"), ev["activity"],
                                    coarse_of_fine, windows, split)
        save_npz(tmp / "windows.npz", **vars(result), days=days.astype("datetime64[D]").astype(str),
                 fine_names=np.array(fine_names), coarse_names=np.array(coarse_names),
                 coarse_of_fine=coarse_of_fine)
        return {"windows": len(result), "per_split": np.bincount(result.split, minlength=3).tolist()}

    return cache.get_or_build("windows", spec, build)


def stage_captions(events_entry: Path, windows_entry: Path, config: CaptionConfig, home: Home,
                   cache: Cache):
    spec = {"version": STAGE_VERSIONS["captions"], "windows": windows_entry.name,
            "captions": vars(config), "layout": file_digest(home.source)}

    def build(tmp: Path):
        ev = load_npz(events_entry / "events.npz")
        win = load_npz(windows_entry / "windows.npz")
        book = build_phrasebook(home, ev["sensor_names"].tolist(),
                                home_labels(home, ev["activity_names"].tolist()))
        captions = caption_windows(ev["time_us"], ev["sensor"], ev["state"],
                                   ev["state_names"].tolist(), win["start"], win["length"],
                                   book, config)
        save_npz(tmp / "captions.npz", texts=np.array(captions.texts), index=captions.index)
        return {"unique_captions": len(captions.texts), "windows": len(captions.index)}

    return cache.get_or_build("captions", spec, build)


def stage_text(captions_entry: Path, text_config, cache: Cache):
    from sensorclip.text import TextEncoder, text_encoder_identity
    texts = load_npz(captions_entry / "captions.npz")["texts"]
    spec = {"version": STAGE_VERSIONS["text"], "texts": _texts_digest(texts),
            "encoder": text_encoder_identity(text_config)[2]}

    def build(tmp: Path):
        encoder = TextEncoder(text_config)
        vectors = encoder.encode(texts.tolist())
        save_npz(tmp / "text.npz", embeddings=vectors, texts_digest=np.array(spec["texts"]))
        return {"captions": len(texts), "dim": int(vectors.shape[1]),
                "model": text_config.model_id, "source": str(encoder.source)}

    return cache.get_or_build("text", spec, build)


def _texts_digest(texts: np.ndarray) -> str:
    import hashlib
    return hashlib.sha256("\n".join(texts.tolist()).encode()).hexdigest()[:20]


# ---------------------------------------------------------------------------------------------
# The whole chain


def prepare(data: DataConfig, windows: WindowConfig, split: SplitConfig, captions: CaptionConfig,
            text=None, cache_dir: str | Path = "cache") -> Prepared:
    """Run (or reuse) every stage and load the results; ``text=None`` skips text embeddings."""
    cache = Cache(cache_dir)
    cache.clean_stale_temps()
    home = load_home(data.layout)
    log_path, log_entry, log_built = stage_log(data, home, cache)
    events_entry, events_built = stage_events(log_path, data, home, cache)
    windows_entry, windows_built = stage_windows(events_entry, windows, split, home, cache)
    captions_entry, captions_built = stage_captions(events_entry, windows_entry, captions, home,
                                                    cache)
    entries, built = {}, {}
    if log_entry is not None:
        entries["simulate"], built["simulate"] = log_entry, log_built
    entries.update(events=events_entry, windows=windows_entry, captions=captions_entry)
    built.update(events=events_built, windows=windows_built, captions=captions_built)
    embeddings = None
    if text is not None:
        text_entry, built["text"] = stage_text(captions_entry, text, cache)
        entries["text"] = text_entry
        embeddings = load_npz(text_entry / "text.npz", ("embeddings",))["embeddings"]
    return _load(home, entries, built, embeddings)


def _load(home: Home, entries: dict[str, Path], built: dict[str, bool],
          embeddings: np.ndarray | None) -> Prepared:
    ev = load_npz(entries["events"] / "events.npz")
    win = load_npz(entries["windows"] / "windows.npz")
    cap = load_npz(entries["captions"] / "captions.npz")
    windows = Windows(**{k: win[k] for k in Windows.__dataclass_fields__})
    return Prepared(
        home=home, time_us=ev["time_us"], sensor=ev["sensor"], state=ev["state"],
        activity=ev["activity"], sensor_names=ev["sensor_names"].tolist(),
        state_names=ev["state_names"].tolist(), fine_names=win["fine_names"].tolist(),
        coarse_names=win["coarse_names"].tolist(), coarse_of_fine=win["coarse_of_fine"],
        windows=windows, days=win["days"], captions=Captions(cap["texts"].tolist(), cap["index"]),
        text_embeddings=embeddings, entries=entries, built=built)


def configs_from(cfg: Mapping[str, Any]):
    """Typed stage configs from a resolved Hydra/OmegaConf mapping."""
    text_cfg = None
    if cfg.get("text") is not None:
        from sensorclip.text import TextEncoderConfig
        text_cfg = TextEncoderConfig(**cfg["text"])
    return (DataConfig(**cfg["data"]), WindowConfig(**cfg["windows"]), SplitConfig(**cfg["split"]),
            CaptionConfig(**cfg["captions"]), text_cfg)


# ---------------------------------------------------------------------------------------------
# Summary


def summary_rows(prep: Prepared) -> dict[str, Any]:
    w = prep.windows
    per_split = {name: int((w.split == i).sum()) for i, name in enumerate(SPLITS)}
    fine = {prep.fine_names[k]: np.bincount(w.split[w.fine == k], minlength=3).tolist()
            for k in np.unique(w.fine)}
    coarse = {prep.coarse_names[k]: np.bincount(w.split[w.coarse == k], minlength=3).tolist()
              for k in np.unique(w.coarse)}
    report = provenance(prep.entries["events"])["summary"]
    return {"home": prep.home.name, "events": len(prep.time_us), "days": len(prep.days),
            "windows": per_split, "unique_captions": len(prep.captions.texts),
            "captions_per_window": int(prep.captions.index.shape[1]),
            "text_dim": None if prep.text_embeddings is None else prep.text_embeddings.shape[1],
            "fine_labels": fine, "coarse_labels": coarse, "parse_report": report}


def print_summary(prep: Prepared, seconds: float) -> None:
    from rich.console import Console
    from rich.table import Table
    info = summary_rows(prep)
    console = Console()
    stages = Table(title=f"sensorclip prepare: {info['home']} ({seconds:.1f} s)")
    for column in ("stage", "cache", "entry"):
        stages.add_column(column)
    for stage, entry in prep.entries.items():
        stages.add_row(stage, "built" if prep.built.get(stage) else "reused", str(entry))
    console.print(stages)
    facts = Table(show_header=False)
    report = info["parse_report"]
    facts.add_row("events", f"{info['events']:,} (+{report['numeric_readings']:,} numeric readings "
                            f"kept apart)")
    facts.add_row("days", str(info["days"]))
    facts.add_row("windows", ", ".join(f"{k} {v:,}" for k, v in info["windows"].items()))
    facts.add_row("unique captions", f"{info['unique_captions']:,} "
                                     f"({info['captions_per_window']} per window)")
    if info["text_dim"]:
        facts.add_row("text embeddings", f"{info['unique_captions']:,} x {info['text_dim']}")
    problems = {k: report[k] for k in ("skipped", "out_of_order", "unclosed_spans",
                                       "unmatched_ends", "dropped_unknown_sensors") if report[k]}
    if problems:
        facts.add_row("log issues", json.dumps(problems))
    console.print(facts)
    labels = Table(title="windows per coarse label (majority label)")
    for column in ("coarse label", "train", "val", "test"):
        labels.add_column(column, justify="right" if column != "coarse label" else "left")
    for name, counts in sorted(info["coarse_labels"].items(), key=lambda kv: -sum(kv[1])):
        labels.add_row(name, *map(str, counts))
    console.print(labels)


def main() -> None:
    import hydra
    from omegaconf import OmegaConf

    from sensorclip.cli import run_cleanly

    @hydra.main(version_base="1.3", config_path="../conf", config_name="prepare")
    def _main(cfg) -> None:
        resolved = OmegaConf.to_container(cfg, resolve=True)
        started = time.perf_counter()
        prep = run_cleanly(lambda: prepare(*configs_from(resolved),
                                           cache_dir=resolved["paths"]["cache_dir"]))
        print_summary(prep, time.perf_counter() - started)

    _main()


if __name__ == "__main__":
    main()
