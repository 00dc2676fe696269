"""Many homes, one data set (``data=multi data.homes=[...]``): each home is prepared on its own
(its own cache entries, reused by any run that names it), then the homes are joined into one
``Prepared`` that the DataModule serves like a single home's.

Joining keeps each home's windows, days and split, and makes everything else common:

- labels are the common vocabulary (``sensorclip.data.vocabulary``) at both levels, so every
  home must map its labels (the layout's ``common``), and zero-shot reads the vocabulary's
  descriptions;
- sensors are named ``home/sensor``; their positions are normalised per home;
- each home's (sensor, state) vectors are centred on that home's own mean, as a single home's
  are (``InputProjection``): every image of a home shares its floor plan, which would otherwise
  tell the homes apart instead of the sensors;
- captions are embedded per home (each home's own text entry, reused by every run that names
  the home) and deduplicated across homes when joined (few repeat: captions name rooms,
  details, times and durations, docs/performance.md).

``data.homes`` entries: a data option name (``demo``, ``milan_sim``, ``aruba_sim``),
``generated:N`` or ``generated:A-B`` (generated homes A to B, ``data.days`` days each;
``generated2:...`` the same homes with two residents), ``OPTION=PATH`` (a real-log data option
read from PATH: ``adlmr=data/real/adlmr``, for transfer between real homes), or a mapping of
data fields (a real log: ``{layout: milan, source: file, raw_path: PATH}``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sensorclip.config import (
    CaptionConfig,
    DataConfig,
    RenderConfig,
    SplitConfig,
    TextEncoderConfig,
    VisionConfig,
    WindowConfig,
    typed,
)
from sensorclip.data.cache import Cache
from sensorclip.data.captions import Captions
from sensorclip.data.homes import NO_ACTIVITY, Home, Sensor
from sensorclip.data.vocabulary import COMMON_ACTIVITIES, COMMON_NAMES
from sensorclip.data.windows import Windows
from sensorclip.errors import SensorClipError
from sensorclip.pipeline import STAGES, Prepared, prepare

DATA_OPTIONS = Path(__file__).resolve().parent.parent / "conf" / "data"
GENERATED = re.compile(r"^generated(2?)[:_](\d+)(?:-(\d+))?$")


def home_configs(data: DataConfig) -> list[DataConfig]:
    """The homes ``data.homes`` names, each as its own data config."""
    homes = []
    for entry in data.homes:
        homes += _entry_configs(entry, data)
    keys = [h.home_key for h in homes]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise SensorClipError(f"data.homes names {repeated} more than once")
    return homes


def _entry_configs(entry: Any, data: DataConfig) -> list[DataConfig]:
    if isinstance(entry, dict):
        return [typed(DataConfig, entry)]
    text = str(entry).strip()
    option, given, path = text.partition("=")
    if given:
        return [typed(DataConfig, {**_option_fields(option.strip(), text),
                                   "raw_path": path.strip()})]
    match = GENERATED.match(text)
    if match:
        residents = 2 if match.group(1) else 1
        first, last = int(match.group(2)), int(match.group(3) or match.group(2))
        if last < first:
            raise SensorClipError(f"data.homes: {text!r} counts down; write generated:LOW-HIGH")
        return [DataConfig(name="generated", layout="generated", source="generate", seed=seed,
                           days=data.days, activity_model=None, residents=residents)
                for seed in range(first, last + 1)]
    fields = _option_fields(text, text)
    if fields.get("source") == "file" and not fields.get("raw_path"):
        raise SensorClipError(f"data.homes: {text} reads a real log; name it with its path, "
                              f"{text}=PATH")
    if fields.get("source") == "generate":
        return [typed(DataConfig, {**fields, "days": data.days})]
    return [typed(DataConfig, fields)]


def _option_fields(option: str, entry: str) -> dict[str, Any]:
    """The fields a data option file sets (``conf/data/OPTION.yaml``)."""
    path = DATA_OPTIONS / f"{option}.yaml"
    if not path.is_file() or option == "multi":
        known = sorted(p.stem for p in DATA_OPTIONS.glob("*.yaml") if p.stem != "multi")
        raise SensorClipError(f"data.homes: unknown home {entry!r}; use a data option "
                              f"({', '.join(known)}), OPTION=PATH for a real log, generated:N, "
                              "generated:A-B or a mapping of data fields")
    fields = yaml.safe_load(path.read_text()) or {}
    fields.pop("defaults", None)
    return fields


def prepare_homes(data: DataConfig, *args, **kwargs) -> Prepared:
    """``sensorclip.pipeline.prepare`` for one home, ``prepare_multi`` for ``data=multi``."""
    return (prepare_multi if data.source == "multi" else prepare)(data, *args, **kwargs)


def prepare_multi(data: DataConfig, windows: WindowConfig, split: SplitConfig,
                  captions: CaptionConfig, text: TextEncoderConfig | None = None,
                  render: RenderConfig | None = None, vision: VisionConfig | None = None,
                  cache_dir: str | Path = "cache", stages: tuple[str, ...] = STAGES,
                  sentences: TextEncoderConfig | None = None) -> Prepared:
    """Every home through its own cached stages, joined (see the module docstring)."""
    if vision is not None and vision.family == "learned" and "vision" in stages:
        raise SensorClipError("model=learned cannot train on several homes: its sensor and state "
                              "embeddings belong to one home's sensor ids; use model=text, "
                              "model=tiny or another frozen backbone")
    homes = [prepare(h, windows, split, captions, text, render, vision, cache_dir, stages,
                     sentences) for h in home_configs(data)]
    for prep in homes:
        if not prep.home.common:
            raise SensorClipError(f"data=multi: home {prep.home.name} ({prep.home.source}) has no "
                                  "common map; add 'common: {LABEL: NAME}' to its layout "
                                  f"(NAME one of {', '.join(COMMON_NAMES)})")
    joined = join_homes(homes)
    joined.entries["windows"], _ = Cache(cache_dir).get_or_build(
        "multi", {"version": 1, "homes": [str(p.entries["windows"].name) for p in homes]},
        lambda tmp: {"homes": [p.home.name for p in homes]})
    return joined


# ---------------------------------------------------------------------------------------------
# Joining


def join_homes(homes: list[Prepared]) -> Prepared:
    """One ``Prepared`` of several homes (text embeddings are added by the caller)."""
    fine_names = [NO_ACTIVITY] + sorted({h.home.common_label(f) for h in homes
                                         for f in h.fine_names} - {NO_ACTIVITY})
    code = {name: i for i, name in enumerate(fine_names)}
    state_names = sorted({s for h in homes for s in h.state_names})
    parts: dict[str, list] = {k: [] for k in ("time", "sensor", "state", "activity",
                                              "windows", "days", "index", "pair", "xy", "emb")}
    sensor_names, pairs, texts, vectors = [], [], {}, []
    events = day_offset = 0
    for h in homes:
        to_common = np.array([code[h.home.common_label(f)] for f in h.fine_names], np.int32)
        to_state = np.array([state_names.index(s) for s in h.state_names], np.int32)
        known = len(texts)
        text_rows = np.array([texts.setdefault(t, len(texts)) for t in h.captions.texts])
        if h.text_embeddings is not None:
            vectors.append(h.text_embeddings[text_rows >= known])   # first occurrences only
        parts["time"].append(h.time_us)
        parts["sensor"].append(h.sensor + len(sensor_names))
        parts["state"].append(to_state[h.state])
        parts["activity"].append(to_common[h.activity])
        w = h.windows
        fine = to_common[w.fine]
        last = to_common[w.last_fine]
        parts["windows"].append(Windows(w.start + events, w.length, w.day + day_offset, w.split,
                                        fine, fine.copy(), last, last.copy()))
        parts["days"].append(h.days)
        parts["index"].append(text_rows[h.captions.index])
        if h.pairs is not None:
            parts["pair"].append(h.event_pair + len(pairs))
            parts["xy"].append(h.pair_xy)
            if h.pair_embeddings is not None:
                parts["emb"].append(_centred_blocks(h.pair_embeddings, h.input_parts))
            pairs += [(f"{h.home.name}/{s}", state) for s, state in h.pairs]
        sensor_names += [f"{h.home.name}/{s}" for s in h.sensor_names]
        events += len(h.time_us)
        day_offset += len(h.days)
    first = homes[0]
    joined = Prepared(home=_joined_home(homes, fine_names), time_us=np.concatenate(parts["time"]),
                      sensor=np.concatenate(parts["sensor"]).astype(np.int32),
                      state=np.concatenate(parts["state"]),
                      activity=np.concatenate(parts["activity"]), sensor_names=sensor_names,
                      state_names=state_names, fine_names=fine_names, coarse_names=fine_names,
                      coarse_of_fine=np.arange(len(fine_names), dtype=np.int32),
                      windows=Windows(*(np.concatenate(c) for c in zip(
                          *(vars(w).values() for w in parts["windows"])))),
                      days=np.concatenate(parts["days"]),
                      captions=Captions(list(texts), np.concatenate(parts["index"])))
    if vectors:
        joined.text_embeddings = np.concatenate(vectors)
    joined.entries = {f"{h.home.name}:{k}": v for h in homes for k, v in h.entries.items()}
    joined.built = {f"{h.home.name}:{k}": v for h in homes for k, v in h.built.items()}
    if parts["pair"]:
        joined.pairs, joined.event_pair = pairs, np.concatenate(parts["pair"])
        joined.pair_xy = np.concatenate(parts["xy"])
        joined.vision_identity = {**first.vision_identity,
                                  "homes": [h.home.name for h in homes]}
        joined.input_parts, joined.input_combine = first.input_parts, first.input_combine
        if parts["emb"]:
            if len({tuple(h.input_parts) for h in homes}) > 1:
                raise SensorClipError("the homes' (sensor, state) vectors differ in size; use "
                                      "one model for all of them")
            joined.pair_embeddings = np.concatenate(parts["emb"])
    return joined


def _centred_blocks(vectors: np.ndarray, parts: list[int]) -> np.ndarray:
    """Each column block centred on this home's mean over its pairs."""
    blocks = np.split(vectors.astype(np.float32), np.cumsum(parts)[:-1], axis=1)
    return np.concatenate([b - b.mean(axis=0, keepdims=True) for b in blocks], axis=1)


def _joined_home(homes: list[Prepared], fine_names: list[str]) -> Home:
    """A home standing for all of them: sensors ``home/sensor`` at their per-home normalised
    positions, labels and descriptions from the common vocabulary."""
    sensors = {}
    for h in homes:
        width, height = h.home.size
        for sid, s in h.home.sensors.items():
            key = f"{h.home.name}/{sid}"
            sensors[key] = Sensor(key, s.room, (s.xy[0] / width, s.xy[1] / height), s.type,
                                  s.detail)
    names = [n for n in fine_names if n != NO_ACTIVITY]
    return Home(name=f"multi_{len(homes)}_homes", size=(1.0, 1.0), sensors=sensors,
                labels={n: n for n in names}, common={n: n for n in names},
                descriptions={n: COMMON_ACTIVITIES[n] for n in names})
