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
from sensorclip.errors import CacheError, SensorClipError
from sensorclip.homes import Home, load_home
from sensorclip.render import ACTIVE, RenderConfig, check_pairs_covered, contact_sheet, image_key, \
    normalise_state, pair_table, render_home
from sensorclip.simulate import load_activity_model, simulate
from sensorclip.vision import VisionConfig
from sensorclip.windows import SPLITS, SplitConfig, WindowConfig, Windows, coarse_vocabulary, \
    make_windows

# Bump a stage's version when its algorithm changes: the new key retires every old entry.
STAGE_VERSIONS = {"simulate": 1, "events": 1, "windows": 1, "captions": 1, "text": 1,
                  "images": 1, "vision": 1}
STAGES = ("data", "text", "images", "vision")


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
    time_us: np.ndarray | None = None
    sensor: np.ndarray | None = None
    state: np.ndarray | None = None
    activity: np.ndarray | None = None
    sensor_names: list[str] | None = None
    state_names: list[str] | None = None
    fine_names: list[str] | None = None
    coarse_names: list[str] | None = None
    coarse_of_fine: np.ndarray | None = None
    windows: Windows | None = None
    days: np.ndarray | None = None
    captions: Captions | None = None
    text_embeddings: np.ndarray | None = None
    pairs: list[tuple[str, str]] | None = None         # (sensor, state) per image
    pair_embeddings: np.ndarray | None = None          # [pairs, dim] frozen vision vectors
    event_pair: np.ndarray | None = None               # int32 pair row per event
    vision_identity: dict | None = None
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


def stage_images(home: Home, render: RenderConfig, cache: Cache):
    plan = render.floor_plan or home.floor_plan
    spec = {"version": STAGE_VERSIONS["images"], "layout": file_digest(home.source),
            "plan": file_digest(plan) if plan and Path(plan).is_file() else plan,
            "render": vars(render)}

    def build(tmp: Path):
        images, pairs = render_home(home, render)
        keys = [image_key(*p) for p in pairs]
        (tmp / "images").mkdir()
        for image, key in zip(images, keys):
            image.save(tmp / "images" / f"{key}.png")
        contact_sheet(images, keys).save(tmp / "contact_sheet.png")
        (tmp / "pairs.json").write_text(json.dumps(pairs))
        return {"images": len(images), "image_size": render.image_size}

    return cache.get_or_build("images", spec, build)


def stage_vision(home: Home, images_entry: Path, render: RenderConfig, vision: VisionConfig,
                 cache: Cache):
    from PIL import Image

    from sensorclip.plots import pca_2d, scatter_by_group
    from sensorclip.vision import VisionBackbone, vision_identity
    identity = vision_identity(vision)
    spec = {"version": STAGE_VERSIONS["vision"], "images": images_entry.name, "backbone": identity}

    def build(tmp: Path):
        pairs = [tuple(p) for p in json.loads((images_entry / "pairs.json").read_text())]
        keys = [image_key(*p) for p in pairs]
        images = [Image.open(images_entry / "images" / f"{k}.png").convert("RGB") for k in keys]
        vectors = VisionBackbone(vision).embed(images)
        save_npz(tmp / "embeddings.npz", embeddings=vectors,
                 sensor_ids=np.array([p[0] for p in pairs]), states=np.array([p[1] for p in pairs]),
                 image_keys=np.array(keys), backbone=np.array(vision.model_id),
                 revision=np.array(identity["weights"]), dim=np.array(vectors.shape[1]),
                 image_size=np.array(render.image_size), render_hash=np.array(images_entry.name))
        rooms = [home.sensors[p[0]].room for p in pairs]
        inactive = np.array([normalise_state(p[1]) not in ACTIVE for p in pairs])
        tag = "" if vision.pretrained else " (random init, not pretrained)"
        scatter_by_group(pca_2d(vectors), rooms, tmp / "pca_rooms.png",
                         f"{home.name}: {vision.name} pair embeddings{tag}, PCA by room",
                         labels=keys, hollow=inactive)
        return {"pairs": len(pairs), "dim": int(vectors.shape[1]), **identity}

    return cache.get_or_build("vision", spec, build)


# ---------------------------------------------------------------------------------------------
# The whole chain


def prepare(data: DataConfig, windows: WindowConfig, split: SplitConfig, captions: CaptionConfig,
            text=None, render: RenderConfig | None = None, vision: VisionConfig | None = None,
            cache_dir: str | Path = "cache", stages: tuple[str, ...] = STAGES) -> Prepared:
    """Run (or reuse) the stages and load the results.

    ``stages`` picks among data, text, images and vision (text needs data, vision needs images);
    a stage whose config is None is skipped.
    """
    unknown = sorted(set(stages) - set(STAGES))
    if unknown:
        raise SensorClipError(f"unknown prepare stage(s) {unknown}; choose from {list(STAGES)}")
    cache = Cache(cache_dir)
    cache.clean_stale_temps()
    home = load_home(data.layout)
    entries, built = {}, {}
    if "data" in stages or "text" in stages:
        log_path, log_entry, log_built = stage_log(data, home, cache)
        if log_entry is not None:
            entries["simulate"], built["simulate"] = log_entry, log_built
        entries["events"], built["events"] = stage_events(log_path, data, home, cache)
        entries["windows"], built["windows"] = stage_windows(entries["events"], windows, split,
                                                             home, cache)
        entries["captions"], built["captions"] = stage_captions(
            entries["events"], entries["windows"], captions, home, cache)
    if "text" in stages and text is not None:
        entries["text"], built["text"] = stage_text(entries["captions"], text, cache)
    if render is not None and ("images" in stages or "vision" in stages):
        entries["images"], built["images"] = stage_images(home, render, cache)
    if vision is not None and render is not None and "vision" in stages:
        entries["vision"], built["vision"] = stage_vision(home, entries["images"], render, vision,
                                                          cache)
    prep = _load(home, entries, built)
    if prep.pairs is not None and "events" in entries:
        table = pair_table(prep.sensor_names, prep.state_names, prep.pairs)
        check_pairs_covered(table, prep.sensor, prep.state, prep.sensor_names, prep.state_names)
        prep.event_pair = table[prep.sensor, prep.state]
    return prep


def _load(home: Home, entries: dict[str, Path], built: dict[str, bool]) -> Prepared:
    prep = Prepared(home=home, entries=entries, built=built)
    if "events" in entries:
        ev = load_npz(entries["events"] / "events.npz")
        win = load_npz(entries["windows"] / "windows.npz")
        cap = load_npz(entries["captions"] / "captions.npz")
        prep.time_us, prep.sensor, prep.state = ev["time_us"], ev["sensor"], ev["state"]
        prep.activity = ev["activity"]
        prep.sensor_names, prep.state_names = ev["sensor_names"].tolist(), ev["state_names"].tolist()
        prep.fine_names, prep.coarse_names = win["fine_names"].tolist(), win["coarse_names"].tolist()
        prep.coarse_of_fine, prep.days = win["coarse_of_fine"], win["days"]
        prep.windows = Windows(**{k: win[k] for k in Windows.__dataclass_fields__})
        prep.captions = Captions(cap["texts"].tolist(), cap["index"])
    if "text" in entries:
        path = entries["text"] / "text.npz"
        vectors = _checked(load_npz(path, ("embeddings",))["embeddings"], path,
                           rows=len(prep.captions.texts) if prep.captions else None)
        # held in float16 (unit vectors: cosine error < 1e-3), half the memory of a large home's
        # captions (0.12 GB at Milan scale); batches convert their rows back to float32
        prep.text_embeddings = vectors.astype(np.float16)
    if "vision" in entries:
        path = entries["vision"] / "embeddings.npz"
        vis = load_npz(path, ("embeddings", "sensor_ids", "states", "dim"))
        prep.pairs = list(zip(vis["sensor_ids"].tolist(), vis["states"].tolist()))
        prep.pair_embeddings = _checked(vis["embeddings"], path, rows=len(prep.pairs),
                                        dim=int(vis["dim"]))
        prep.vision_identity = provenance(entries["vision"])["summary"]
    return prep


def _checked(vectors: np.ndarray, path: Path, rows: int | None = None,
             dim: int | None = None) -> np.ndarray:
    """Refuse an embedding cache of the wrong shape or with NaN/inf in it."""
    fix = f"delete {path.parent} and rerun `python -m sensorclip.prepare`"
    if vectors.ndim != 2 or (rows is not None and vectors.shape[0] != rows):
        raise CacheError(f"{path}: embeddings have shape {vectors.shape}, expected {rows} rows; "
                         + fix)
    if dim is not None and vectors.shape[1] != dim:
        raise CacheError(f"{path}: embeddings are {vectors.shape[1]}-d but the cache records "
                         f"dim {dim}; " + fix)
    if not np.isfinite(vectors).all():
        raise CacheError(f"{path}: embeddings contain NaN or inf; " + fix)
    return vectors


def configs_from(cfg: Mapping[str, Any]):
    """Typed stage configs from a resolved Hydra/OmegaConf mapping."""
    text_cfg = None
    if cfg.get("text") is not None:
        from sensorclip.text import TextEncoderConfig
        text_cfg = TextEncoderConfig(**cfg["text"])
    render = RenderConfig(**cfg["render"]) if cfg.get("render") is not None else None
    vision = VisionConfig(**cfg["model"]) if cfg.get("model") is not None else None
    return dict(data=DataConfig(**cfg["data"]), windows=WindowConfig(**cfg["windows"]),
                split=SplitConfig(**cfg["split"]), captions=CaptionConfig(**cfg["captions"]),
                text=text_cfg, render=render, vision=vision)


# ---------------------------------------------------------------------------------------------
# Summary


def summary_rows(prep: Prepared) -> dict[str, Any]:
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
            parse_report=provenance(prep.entries["events"])["summary"])
    if prep.text_embeddings is not None:
        info["text_dim"] = int(prep.text_embeddings.shape[1])
    if prep.pair_embeddings is not None:
        info["vision"] = {**prep.vision_identity, "pairs": len(prep.pairs)}
    return info


def describe_backbone(identity: dict) -> str:
    """'dinov2 facebook/dinov2-base (pretrained)' or '... (random init, NOT pretrained)'."""
    status = "pretrained" if identity.get("pretrained") else "random init, NOT pretrained"
    return f"{identity.get('family')} {identity.get('model_id')} ({status})"


def print_summary(prep: Prepared, seconds: float) -> None:
    from rich.table import Table

    from sensorclip.cli import console as make_console
    info = summary_rows(prep)
    console = make_console()
    stages = Table(title=f"sensorclip prepare: {info['home']} ({seconds:.1f} s)")
    for column in ("stage", "cache", "entry"):
        stages.add_column(column)
    for stage, entry in prep.entries.items():
        stages.add_row(stage, "built" if prep.built.get(stage) else "reused", str(entry))
    console.print(stages)
    facts = Table(show_header=False)
    if "events" in info:
        report = info["parse_report"]
        facts.add_row("events", f"{info['events']:,} (+{report['numeric_readings']:,} numeric "
                                "readings kept apart)")
        facts.add_row("days", str(info["days"]))
        facts.add_row("windows", ", ".join(f"{k} {v:,}" for k, v in info["windows"].items()))
        facts.add_row("unique captions", f"{info['unique_captions']:,} "
                                         f"({info['captions_per_window']} per window)")
        problems = {k: report[k] for k in ("skipped", "out_of_order", "unclosed_spans",
                                           "unmatched_ends", "dropped_unknown_sensors")
                    if report[k]}
        if problems:
            facts.add_row("log issues", json.dumps(problems))
    if "text_dim" in info:
        facts.add_row("text embeddings", f"{info['unique_captions']:,} x {info['text_dim']}")
    if "vision" in info:
        vision = info["vision"]
        facts.add_row("vision embeddings", f"{vision['pairs']} (sensor, state) pairs x "
                                           f"{vision['dim']}: {describe_backbone(vision)}")
    console.print(facts)
    if "coarse_labels" in info:
        labels = Table(title="windows per coarse label (majority label)")
        for column in ("coarse label", "train", "val", "test"):
            labels.add_column(column, justify="left" if column == "coarse label" else "right")
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
        prep = run_cleanly(lambda: prepare(**configs_from(resolved),
                                           cache_dir=resolved["paths"]["cache_dir"],
                                           stages=tuple(resolved.get("stages", STAGES))))
        print_summary(prep, time.perf_counter() - started)

    _main()


if __name__ == "__main__":
    main()
