"""The cached pipeline: raw log -> events -> windows -> captions -> text embeddings, and
home layout -> (sensor, state) images -> vision embeddings.

Each stage is a pure function of its inputs and config (``sensorclip.data``, ``sensorclip.frozen``)
stored in the content-addressed cache (``sensorclip.data.cache``): fresh entries are reused, so a
second run only loads arrays. ``prepare`` runs the stages and returns a ``Prepared`` bundle of
arrays, which the DataModule serves and the evaluation reads. ``python -m sensorclip.prepare``
is its command line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PIL import Image

from sensorclip.config import (
    CaptionConfig,
    DataConfig,
    RenderConfig,
    SplitConfig,
    TextEncoderConfig,
    VisionConfig,
    WindowConfig,
)
from sensorclip.data import casas, known_logs
from sensorclip.data.cache import Cache, load_npz, provenance
from sensorclip.data.captions import Captions
from sensorclip.data.dataset import caption, label_windows
from sensorclip.data.generate import GENERATOR_VERSION, write_generated
from sensorclip.data.homes import Home, load_home
from sensorclip.data.simulate import activity_model_path, load_activity_model, simulate
from sensorclip.data.states import is_active
from sensorclip.data.windows import Windows
from sensorclip.errors import CacheError, SensorClipError
from sensorclip.files import file_digest, read_json, save_npz, texts_digest
from sensorclip.frozen.describe import describe_pairs, room_words
from sensorclip.frozen.render import (
    check_pairs_covered,
    contact_sheet,
    image_key,
    pair_table,
    render_home,
    sensor_state_pairs,
)
from sensorclip.frozen.store import CaptionStore
from sensorclip.frozen.text import TextEncoder, text_encoder_identity
from sensorclip.frozen.vision import VisionBackbone, vision_identity
from sensorclip.plots import pca_2d, scatter_by_group
from sensorclip.resources import (
    CAPTION_BYTES,
    guard,
    images_bytes,
    span_seconds,
    windows_bytes,
)

# Bump a stage's version when its algorithm changes: the new key retires every old entry.
STAGE_VERSIONS = {"simulate": 2, "events": 4, "windows": 1, "captions": 2, "text": 1,
                  "images": 1, "vision": 1, "sentences": 1}
STAGES = ("data", "text", "images", "vision")


@dataclass
class Prepared:
    """Everything the model side needs, as arrays, plus where each piece came from."""

    home: Home
    time_us: np.ndarray | None = None
    sensor: np.ndarray | None = None
    state: np.ndarray | None = None
    activity: np.ndarray | None = None
    resident: np.ndarray | None = None       # who caused each event (0: not recorded)
    activity2: np.ndarray | None = None      # a second activity of each event (0: none)
    resident2: np.ndarray | None = None      # whose the second activity is (0: not recorded)
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
    pair_xy: np.ndarray | None = None                  # [pairs, 2] position in [0, 1] of its home
    pair_embeddings: np.ndarray | None = None          # [pairs, dim] frozen input vectors
    input_parts: list[int] | None = None               # their column blocks (image, sentence)
    input_combine: str = "concat"                      # how the model joins the blocks
    event_pair: np.ndarray | None = None               # int32 pair row per event
    vision_identity: dict | None = None
    entries: dict[str, Path] = field(default_factory=dict)
    built: dict[str, bool] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Stages


def generated_home(data: DataConfig, cache: Cache) -> tuple[DataConfig, Path, bool]:
    """``data=generated``: home ``data.seed``'s layout and activity model written once into the
    cache (``sensorclip.data.generate``), then simulated like any other home."""
    spec = {"version": GENERATOR_VERSION, "seed": data.seed}
    if data.residents != 1:           # one-resident homes keep the entries they always had
        spec["residents"] = data.residents

    def build(tmp: Path):
        write_generated(data.seed, tmp, data.residents)
        return {"home": data.home_key}

    entry, built = cache.get_or_build("homes", spec, build)
    return replace(data, source="simulate", layout=str(entry / "layout.yaml"),
                   activity_model=str(entry / "activity_model.yaml")), entry, built


def home_name(data: DataConfig) -> str:
    """The name of the home a data config reads (without building anything)."""
    if data.source == "multi":
        return "+".join(map(str, data.homes))
    return data.home_key if data.source == "generate" else load_home(data.layout).name


# An upper estimate of one simulated day in memory (events a day x bytes per event at the
# simulation's peak), with room above the busiest shipped home; docs/robustness.md has the
# measurement it rests on.
SIMULATED_DAY_BYTES = 10_000 * 400


def stage_log(data: DataConfig, home: Home, cache: Cache) -> tuple[Path, Path | None, bool]:
    """(log file, cache entry or None, built_now): a simulated log or the user's own file."""
    if data.source == "file":
        return _log_file(Path(data.raw_path).expanduser()), None, False
    model = load_activity_model(data.activity_model)
    spec = {"version": STAGE_VERSIONS["simulate"], "layout": file_digest(home.source),
            "activity_model": file_digest(activity_model_path(data.activity_model)),
            "days": data.days,
            "seed": data.seed, "start_date": data.start_date}

    guard(f"simulating {data.days} days", data.days * SIMULATED_DAY_BYTES,
          "lower data.days (a simulated home needs a few weeks)")

    def build(tmp: Path):
        log = simulate(home, model, days=data.days, seed=data.seed, start_date=data.start_date)
        log.write(tmp / "log.txt")
        return {"lines": len(log.time_us)}

    entry, built = cache.get_or_build("simulate", spec, build)
    return entry / "log.txt", entry, built


def _log_file(path: Path) -> Path:
    """The user's log, refused early when it is not a regular file (a pipe would block)."""
    if path.is_dir():
        casas.session_files(path)          # refuses a folder without session files
        return path
    if path.exists() and not path.is_file():
        raise SensorClipError(f"data.raw_path={path} is not a regular file (a pipe or a device); "
                              "point it at the log file")
    if not path.exists():
        raise SensorClipError(f"data.raw_path={path} does not exist; point it at the log")
    return path


def read_events(log_path: Path, data: DataConfig, home: Home) -> casas.EventLog:
    """A log read as ``data`` says (format, strictness, repeated lines, unknown sensors, odd
    states) and attached to the layout: what the events stage caches, for tools that need the
    same events without the cache."""
    events = casas.read_casas(log_path, fmt=data.format, strict=data.strict, home=home,
                              duplicates=data.duplicates)
    return casas.attach_layout(events, home, on_unknown=data.unknown_sensors,
                               odd_states="keep" if data.strict else "drop")


def stage_events(log_path: Path, data: DataConfig, home: Home, cache: Cache):
    log_sha256, log_git_blob = known_logs.fingerprint(log_path)      # one read for both
    spec = {"version": STAGE_VERSIONS["events"], "log": log_sha256,
            "layout": file_digest(home.source), "format": data.format, "strict": data.strict,
            "unknown_sensors": data.unknown_sensors, "duplicates": data.duplicates}

    def build(tmp: Path):
        events = read_events(log_path, data, home)
        save_npz(tmp / "events.npz", time_us=events.time.astype(np.int64), sensor=events.sensor,
                 state=events.state, activity=events.activity, line=events.line,
                 resident=events.resident, activity2=events.activity2,
                 resident2=events.resident2,
                 sensor_names=np.array(events.sensor_names),
                 state_names=np.array(events.state_names),
                 activity_names=np.array(events.activity_names),
                 numeric_time_us=events.numeric.time.astype(np.int64),
                 numeric_sensor=events.numeric.sensor, numeric_value=events.numeric.value)
        return {**events.report.as_dict(), **known_logs.recognised(log_sha256, log_git_blob)}

    return cache.get_or_build("events", spec, build)


def stage_windows(events_entry: Path, windows: WindowConfig, split: SplitConfig, home: Home,
                  cache: Cache):
    spec = {"version": STAGE_VERSIONS["windows"], "events": events_entry.name,
            "windows": vars(windows), "split": vars(split), "labels": dict(home.labels)}

    def build(tmp: Path):
        ev = load_npz(events_entry / "events.npz")
        times = ev["time_us"]
        guard("the windows", windows_bytes(len(times), span_seconds(times), windows.kind,
                                           windows.size, windows.stride, windows.max_events),
              "raise windows.size or lower windows.overlap")
        labelled = label_windows(times, ev["activity"], ev["activity_names"].tolist(),
                                 home, windows, split)
        result = labelled.windows
        save_npz(tmp / "windows.npz", **vars(result), days=labelled.days.astype(str),
                 fine_names=np.array(labelled.fine_names),
                 coarse_names=np.array(labelled.coarse_names),
                 coarse_of_fine=labelled.coarse_of_fine)
        return {"windows": len(result),
                "per_split": np.bincount(result.split, minlength=3).tolist()}

    return cache.get_or_build("windows", spec, build)


def stage_captions(events_entry: Path, windows_entry: Path, config: CaptionConfig, home: Home,
                   cache: Cache):
    spec = {"version": STAGE_VERSIONS["captions"], "windows": windows_entry.name,
            "captions": vars(config), "layout": file_digest(home.source)}

    def build(tmp: Path):
        ev = load_npz(events_entry / "events.npz")
        win = load_npz(windows_entry / "windows.npz")
        guard("the captions", len(win["start"]) * config.per_window * CAPTION_BYTES,
              "lower captions.per_window")
        windows = Windows(**{k: win[k] for k in Windows.__dataclass_fields__})
        captions = caption(ev["time_us"], ev["sensor"], ev["state"], ev["sensor_names"].tolist(),
                           ev["state_names"].tolist(), ev["activity_names"].tolist(), home,
                           windows, config)
        save_npz(tmp / "captions.npz", texts=np.array(captions.texts), index=captions.index)
        return {"unique_captions": len(captions.texts), "windows": len(captions.index)}

    return cache.get_or_build("captions", spec, build)


def stage_text(captions_entry: Path, text_config: TextEncoderConfig, cache: Cache):
    texts = load_npz(captions_entry / "captions.npz")["texts"]
    source, _, identity = text_encoder_identity(text_config)
    spec = {"version": STAGE_VERSIONS["text"], "texts": texts_digest(texts.tolist()),
            "encoder": identity}

    def build(tmp: Path):
        store = CaptionStore(cache.root, spec["encoder"])
        vectors, from_store = store.embed(
            texts.tolist(), lambda missing: TextEncoder(text_config).encode(missing))
        save_npz(tmp / "text.npz", embeddings=vectors, texts_digest=np.array(spec["texts"]))
        return {"captions": len(texts), "from_store": from_store, "dim": int(vectors.shape[1]),
                "model": text_config.model_id, "source": str(source)}

    return cache.get_or_build("text", spec, build)


def stage_images(home: Home, render: RenderConfig, cache: Cache):
    plan = render.floor_plan or home.floor_plan
    spec = {"version": STAGE_VERSIONS["images"], "layout": file_digest(home.source),
            "plan": file_digest(plan) if plan and Path(plan).is_file() else plan,
            "render": vars(render)}
    if render.labels:   # the words drawn depend on the sentence rules too
        spec["sentences_version"] = STAGE_VERSIONS["sentences"]

    def build(tmp: Path):
        pairs = sensor_state_pairs(home)
        guard("the images", images_bytes(len(pairs), render.image_size, render.supersample),
              "lower render.image_size or render.supersample")
        words = describe_pairs(home, pairs) if render.labels else None
        rooms = room_words(home) if render.labels else None
        images, pairs = render_home(home, render, pairs, words, rooms)
        keys = [image_key(*p) for p in pairs]
        (tmp / "images").mkdir()
        for image, key in zip(images, keys):
            image.save(tmp / "images" / f"{key}.png")
        contact_sheet(images, keys).save(tmp / "contact_sheet.png")
        (tmp / "pairs.json").write_text(json.dumps(pairs))
        return {"images": len(images), "image_size": render.image_size}

    return cache.get_or_build("images", spec, build)


def read_pairs(path: Path) -> list[tuple[str, str]]:
    """The (sensor, state) pairs an images entry was drawn for, in image order."""
    pairs = read_json(path, list, "image pairs")
    for pair in pairs:
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(v, str)
                                                                   for v in pair)):
            raise SensorClipError(f"{path}: the image pairs should be [sensor, state] string "
                                  f"pairs, found {str(pair)[:40]!r}; delete its cache entry")
    return [tuple(p) for p in pairs]


def stage_vision(home: Home, images_entry: Path, render: RenderConfig, vision: VisionConfig,
                 cache: Cache):
    identity = vision_identity(vision)
    spec = {"version": STAGE_VERSIONS["vision"], "images": images_entry.name, "backbone": identity}

    def build(tmp: Path):
        pairs = read_pairs(images_entry / "pairs.json")
        keys = [image_key(*p) for p in pairs]
        images = [Image.open(images_entry / "images" / f"{k}.png").convert("RGB") for k in keys]
        vectors = VisionBackbone(vision).embed(images)
        save_npz(tmp / "embeddings.npz", embeddings=vectors,
                 sensor_ids=np.array([p[0] for p in pairs]), states=np.array([p[1] for p in pairs]),
                 image_keys=np.array(keys), backbone=np.array(vision.model_id),
                 revision=np.array(identity["weights"]), dim=np.array(vectors.shape[1]),
                 image_size=np.array(render.image_size), render_hash=np.array(images_entry.name))
        rooms = [home.sensors[p[0]].room for p in pairs]
        inactive = np.array([not is_active(p[1]) for p in pairs])
        tag = "" if vision.pretrained else " (random init, not pretrained)"
        scatter_by_group(pca_2d(vectors), rooms, tmp / "pca_rooms.png",
                         f"{home.name}: {vision.name} pair embeddings{tag}, PCA by room",
                         labels=keys, hollow=inactive)
        return {"pairs": len(pairs), "dim": int(vectors.shape[1]), **identity}

    return cache.get_or_build("vision", spec, build)


def stage_sentences(home: Home, text_config: TextEncoderConfig, cache: Cache):
    """One sentence per (sensor, state) of the layout, embedded by the frozen text encoder
    (``model.inputs=text|image_text``); the sentences are kept beside the vectors."""
    pairs = sensor_state_pairs(home)
    sentences = describe_pairs(home, pairs)
    spec = {"version": STAGE_VERSIONS["sentences"], "sentences": texts_digest(sentences),
            "pairs": texts_digest([f"{s}\t{t}" for s, t in pairs]),
            "encoder": text_encoder_identity(text_config)[2]}

    def build(tmp: Path):
        encoder = TextEncoder(text_config)
        vectors = encoder.encode(sentences, progress=False)
        save_npz(tmp / "embeddings.npz", embeddings=vectors,
                 sensor_ids=np.array([p[0] for p in pairs]), states=np.array([p[1] for p in pairs]),
                 dim=np.array(vectors.shape[1]))
        (tmp / "sentences.txt").write_text(
            "".join(f"{sid}\t{state}\t{text}\n" for (sid, state), text in zip(pairs, sentences)))
        return {"pairs": len(pairs), "dim": int(vectors.shape[1]),
                "model": text_config.model_id, "source": str(encoder.source)}

    return cache.get_or_build("sentences", spec, build)


def inputs_identity(vision: VisionConfig, text: TextEncoderConfig | None) -> dict:
    """What the (sensor, state) inputs are when sentences are among them, for metrics.json and
    the printed tables."""
    sentences = {"inputs": vision.inputs, "text_model_id": text.model_id,
                 "text_weights": text_encoder_identity(text)[2]["weights"]}
    if vision.inputs == "text":
        return {"family": "text", "model_id": text.model_id, "pretrained": True,
                "weights": sentences["text_weights"], **sentences}
    return {**vision_identity(vision), **sentences, "combine": vision.combine}


# ---------------------------------------------------------------------------------------------
# The whole chain


def prepare(data: DataConfig, windows: WindowConfig, split: SplitConfig, captions: CaptionConfig,
            text: TextEncoderConfig | None = None, render: RenderConfig | None = None,
            vision: VisionConfig | None = None,
            cache_dir: str | Path = "cache", stages: tuple[str, ...] = STAGES,
            sentences: TextEncoderConfig | None = None) -> Prepared:
    """Run (or reuse) the stages and load the results.

    ``stages`` picks among data, text, images and vision (text needs data, vision needs images);
    a stage whose config is None is skipped. ``sentences``: the encoder of the event sentences
    (``model.inputs=text|image_text``) when it is not the caption encoder ``text``.
    """
    unknown = sorted(set(stages) - set(STAGES))
    if unknown:
        raise SensorClipError(f"unknown prepare stage(s) {unknown}; choose from {list(STAGES)}")
    cache = Cache(cache_dir)
    cache.clean_stale_temps()
    entries, built = {}, {}
    if data.source == "generate":
        data, entries["homes"], built["homes"] = generated_home(data, cache)
    home = load_home(data.layout)
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
    images = vision is None or vision.uses_images       # prepare without a model: images
    if render is not None and images and ("images" in stages or "vision" in stages):
        entries["images"], built["images"] = stage_images(home, render, cache)
    if vision is not None and render is not None and vision.uses_images and "vision" in stages:
        entries["vision"], built["vision"] = stage_vision(home, entries["images"], render, vision,
                                                          cache)
    text_for_sentences = sentences if sentences is not None else text
    if vision is not None and vision.uses_sentences and "vision" in stages:
        if text_for_sentences is None:
            raise SensorClipError(f"model.inputs={vision.inputs} embeds its sentences with the "
                                  "text encoder: the config needs a text group (text=minilm)")
        entries["sentences"], built["sentences"] = stage_sentences(home, text_for_sentences,
                                                                   cache)
    prep = _load(home, entries, built)
    if vision is not None and "vision" in stages and vision.family == "learned":
        prep.pairs, prep.vision_identity = sensor_state_pairs(home), vision_identity(vision)
    elif vision is not None and "vision" in stages and vision.uses_sentences:
        prep.vision_identity = {**(prep.vision_identity or {}),
                                **inputs_identity(vision, text_for_sentences),
                                "dim": int(prep.pair_embeddings.shape[1])}
        prep.input_combine = vision.combine
    if prep.pairs is not None:
        xy = np.array([home.sensors[s].xy for s, _ in prep.pairs], dtype=np.float32)
        prep.pair_xy = xy.reshape(-1, 2) / np.asarray(home.size, dtype=np.float32)
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
        prep.resident, prep.activity2 = ev.get("resident"), ev.get("activity2")
        prep.resident2 = ev.get("resident2")
        prep.sensor_names = ev["sensor_names"].tolist()
        prep.state_names = ev["state_names"].tolist()
        prep.fine_names, prep.coarse_names = (win["fine_names"].tolist(),
                                              win["coarse_names"].tolist())
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
        prep.input_parts = [prep.pair_embeddings.shape[1]]
    if "sentences" in entries:
        _add_sentences(prep, entries["sentences"] / "embeddings.npz")
    return prep


def _add_sentences(prep: Prepared, path: Path) -> None:
    """The sentence vectors as the pairs' inputs, or beside their image vectors (image_text)."""
    sen = load_npz(path, ("embeddings", "sensor_ids", "states", "dim"))
    pairs = list(zip(sen["sensor_ids"].tolist(), sen["states"].tolist()))
    vectors = _checked(sen["embeddings"], path, rows=len(pairs), dim=int(sen["dim"]))
    if prep.pair_embeddings is None:
        prep.pairs, prep.pair_embeddings, prep.input_parts = pairs, vectors, [vectors.shape[1]]
        return
    if pairs != prep.pairs:
        raise CacheError(f"{path}: its (sensor, state) pairs differ from the images' "
                         f"({prep.entries.get('vision')}); delete both entries and rerun")
    prep.pair_embeddings = np.concatenate([prep.pair_embeddings, vectors], axis=1)
    prep.input_parts = [*prep.input_parts, vectors.shape[1]]


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
