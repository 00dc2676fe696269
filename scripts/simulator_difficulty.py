"""How hard is a simulated home? The references every evaluation reports, without training.

    python scripts/simulator_difficulty.py                         # demo, milan_sim, aruba_sim
    python scripts/simulator_difficulty.py data=milan_sim data.seed=3
    python scripts/simulator_difficulty.py --homes demo --seeds 0 1 2 --captions
    python scripts/simulator_difficulty.py --homes generated --seeds $(seq 0 31)   # 32 homes

Run it as a script (its directory, with ``calibrate_simulator``, is then on ``sys.path``).
For each home (a ``data=`` option, plus any overrides) the simulated log is windowed as the
pipeline does (``windows`` and ``split`` options; here the split defaults to chronological) and
two references are fit on the training days and scored on the test days, fine labels,
macro-F1:

- ``bag``: the bag-of-events logistic regression of every evaluation (``bag_macro_f1``):
  ``sensorclip.eval.references.bag_of_events`` features, ``sensorclip.eval.probe.fit_probe``
  (C chosen on validation);
- ``room x hour``: the most common training label per (dominant room of the window, clock hour
  of its first event); an unseen pair falls back to the room's most common label, then to the
  overall one.

A simulated home is as hard as real ones when ``bag`` lies between 0.45 and 0.80 and the lookup
stays below it (docs/simulator.md). ``--captions`` also counts unique captions (what the text
encoder has to embed).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from calibrate_simulator import composed

from sensorclip.config import DataConfig, SplitConfig, WindowConfig
from sensorclip.data.casas import EventLog, attach_layout, parse_lines
from sensorclip.data.dataset import caption, label_windows
from sensorclip.data.generate import write_generated
from sensorclip.data.homes import Home, load_home
from sensorclip.data.simulate import load_activity_model, simulate
from sensorclip.data.windows import SPLITS, Windows, expand
from sensorclip.eval.classification import classification_metrics
from sensorclip.eval.probe import fit_probe
from sensorclip.eval.references import bag_of_events
from sensorclip.pipeline import read_events
from sensorclip.units import US_PER_DAY, US_PER_HOUR

HOMES = ("demo", "milan_sim", "aruba_sim")
TARGET = (0.45, 0.80)


def simulated_events(data: DataConfig) -> tuple[Home, EventLog]:
    if data.source == "generate":              # data=generated: write home data.seed first
        with tempfile.TemporaryDirectory() as tmp:
            layout, model = write_generated(data.seed, tmp, data.residents)
            return simulated_events(replace(data, source="simulate", layout=str(layout),
                                            activity_model=str(model)))
    home = load_home(data.layout)
    if data.source == "file":                  # a real log: the same figures, for comparison
        return home, read_events(Path(data.raw_path).expanduser(), data, home)
    log = simulate(home, load_activity_model(data.activity_model), days=data.days,
                   seed=data.seed, start_date=data.start_date)
    return home, attach_layout(parse_lines(log.lines(), source=data.name), home)


def dominant_room(events: EventLog, home: Home, windows: Windows) -> np.ndarray:
    """Index into ``home.room_names`` of the most frequent room among each window's events."""
    rooms = home.room_names
    room_of_sensor = np.array([rooms.index(home.sensors[s].room) for s in events.sensor_names])
    owner, event = expand(windows.start, windows.length)
    counts = np.bincount(owner * len(rooms) + room_of_sensor[events.sensor[event]],
                         minlength=len(windows) * len(rooms))
    return counts.reshape(len(windows), len(rooms)).argmax(axis=1)


def lookup_predict(train_keys: np.ndarray, train_y: np.ndarray, test_keys: np.ndarray,
                   n_classes: int) -> np.ndarray:
    """Most common training label per key (rows of ``keys``: room, hour); unseen keys fall back
    to the most common label of their first column, then to the overall majority."""
    overall = int(np.bincount(train_y, minlength=n_classes).argmax())

    def table(columns: int) -> dict[tuple, int]:
        votes: dict[tuple, np.ndarray] = {}
        for key, y in zip(map(tuple, train_keys[:, :columns]), train_y):
            votes.setdefault(key, np.zeros(n_classes, int))[y] += 1
        return {key: int(v.argmax()) for key, v in votes.items()}

    full, by_room = table(train_keys.shape[1]), table(1)
    return np.array([full.get(tuple(k), by_room.get((k[0],), overall)) for k in test_keys])


def difficulty(home: Home, events: EventLog, windows: WindowConfig,
               split: SplitConfig) -> dict[str, float]:
    """Test macro-F1 (fine labels) of the bag-of-events probe and of the room x hour lookup."""
    labelled = label_windows(events.time, events.activity, events.activity_names, home,
                             windows, split)
    w, n = labelled.windows, len(events.activity_names)
    time_us = events.time.astype(np.int64)
    parts = {s: w.of_split(s) for s in SPLITS}
    bags = {s: bag_of_events(time_us, events.sensor, events.state, len(events.sensor_names),
                             len(events.state_names), p.start, p.length)
            for s, p in parts.items()}
    probe = fit_probe(bags["train"], parts["train"].fine, bags["val"], parts["val"].fine, n)
    test_y = parts["test"].fine
    bag = classification_metrics(test_y, probe.predict(bags["test"]), n, "")
    keys = {s: np.c_[dominant_room(events, home, p), (time_us[p.start] % US_PER_DAY)
                     // US_PER_HOUR] for s, p in parts.items()}
    lookup = classification_metrics(
        test_y, lookup_predict(keys["train"], parts["train"].fine, keys["test"], n), n, "")
    return {"bag_macro_f1": bag["macro_f1"], "bag_accuracy": bag["accuracy"],
            "room_hour_macro_f1": lookup["macro_f1"], "room_hour_accuracy": lookup["accuracy"],
            "test_windows": int(len(test_y)), "labels": n}


def measure(overrides: list[str], with_captions: bool) -> dict:
    cfg = composed(["split=chronological", *overrides])
    data = cfg["data"]
    started = time.perf_counter()
    home, events = simulated_events(data)
    simulated_s = time.perf_counter() - started
    days = len(np.unique(events.time.astype("datetime64[D]")))
    row = {"home": data.name, "seed": data.seed, "days": days,
           "events_per_day": len(events) / days, "simulate_and_parse_s": simulated_s,
           "unlabelled": float((events.activity == 0).mean()), "calendar_days": days,
           **difficulty(home, events, cfg["windows"], cfg["split"])}
    if with_captions:
        labelled = label_windows(events.time, events.activity, events.activity_names, home,
                                 cfg["windows"], cfg["split"])
        texts = caption(events.time, events.sensor, events.state, events.sensor_names,
                        events.state_names, events.activity_names, home, labelled.windows,
                        cfg["captions"])
        row.update(windows=len(labelled.windows), unique_captions=len(texts.texts))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("overrides", nargs="*", help="Hydra overrides (data=..., data.days=...)")
    parser.add_argument("--homes", nargs="+", default=None,
                        help=f"data options to measure (default {' '.join(HOMES)}, or the "
                             "data= of the overrides)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--captions", action="store_true", help="also count unique captions")
    parser.add_argument("--out", type=Path, default=None, help="write the rows as JSON here")
    args = parser.parse_args()
    chosen = [o for o in args.overrides if o.startswith("data=")]
    rest = [o for o in args.overrides if not o.startswith("data=")]
    homes = args.homes or [o.split("=", 1)[1] for o in chosen] or list(HOMES)
    rows = [measure([f"data={h}", *rest, f"data.seed={s}"], args.captions)
            for h in homes for s in args.seeds]
    print_rows(rows)
    if args.out:
        args.out.write_text(json.dumps(rows, indent=2) + "\n")


def print_rows(rows: list[dict]) -> None:
    columns = ["home", "seed", "days", "events_per_day", "unlabelled", "test_windows",
               "bag_macro_f1", "room_hour_macro_f1", "bag_accuracy", "room_hour_accuracy"]
    columns += [c for c in ("windows", "unique_captions") if c in rows[0]]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        cells = [f"{row[c]:.3f}" if isinstance(row[c], float) and c != "events_per_day"
                 else f"{row[c]:.0f}" if isinstance(row[c], float) else str(row[c])
                 for c in columns]
        print("| " + " | ".join(cells) + " |")
    for row in rows:
        low, high = TARGET
        inside = low <= row["bag_macro_f1"] <= high and row["room_hour_macro_f1"] < \
            row["bag_macro_f1"]
        print(f"{row['home']} seed {row['seed']}: "
              f"{'in range' if inside else 'OUT OF RANGE'} (bag {low}-{high}, lookup below bag)")


if __name__ == "__main__":
    main()
