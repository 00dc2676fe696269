"""Time parse + windows + captions on a Milan-scale simulated log (430,000 lines).

    python scripts/bench_prep.py [--events 430000] [--repeats 3] [--windows fl20]

The log is simulated on the real Milan layout with the Milan-like activity model, cut to exactly
``--events`` lines, then each stage runs ``--repeats`` times after a warm-up; the medians print as
a table and go to ``--out`` (JSON). Text embedding is not part of this figure (see bench.py).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from sensorclip.config import CaptionConfig, SplitConfig, WindowConfig
from sensorclip.data.casas import attach_layout, read_casas
from sensorclip.data.dataset import caption, label_windows
from sensorclip.data.homes import load_home
from sensorclip.data.simulate import load_activity_model, simulate

WINDOWS = {"fl20": WindowConfig(), "fd60": WindowConfig(kind="duration", size=60)}


def milan_scale_log(path: Path, events: int, seed: int = 0) -> None:
    """Write ``events`` lines of a simulated log (Milan layout and activity model) to ``path``."""
    home, model = load_home("milan"), load_activity_model("milan")
    days = max(1, int(np.ceil(events / 5000)) + 5)
    lines = simulate(home, model, days=days, seed=seed, start_date="2009-10-16").lines()
    if len(lines) < events:
        raise SystemExit(f"simulated only {len(lines)} lines; raise the day estimate")
    path.write_text("\n".join(lines[:events]) + "\n")


def run_once(path: Path, windows: WindowConfig) -> dict[str, float]:
    """One timed pass of the data stages: the two halves of
    ``sensorclip.data.dataset.windowed_data`` (``label_windows`` and ``caption``) after parsing."""
    home = load_home("milan")
    t0 = time.perf_counter()
    events = attach_layout(read_casas(path, home=home), home)
    t1 = time.perf_counter()
    labelled = label_windows(events.time, events.activity, events.activity_names, home, windows,
                             SplitConfig())
    t2 = time.perf_counter()
    caps = caption(events.time, events.sensor, events.state, events.sensor_names,
                   events.state_names, events.activity_names, home, labelled.windows,
                   CaptionConfig())
    t3 = time.perf_counter()
    return {"parse_s": t1 - t0, "windows_s": t2 - t1, "captions_s": t3 - t2,
            "events": len(events), "windows": len(labelled.windows),
            "unique_captions": len(caps.texts)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=430_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--windows", choices=sorted(WINDOWS), default="fl20")
    parser.add_argument("--out", type=Path, default=Path("bench_prep.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "milan_scale.txt"
        milan_scale_log(log, args.events)
        run_once(log, WINDOWS[args.windows])                       # warm-up
        runs = [run_once(log, WINDOWS[args.windows]) for _ in range(args.repeats)]
    result = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    result["prep_seconds"] = result["parse_s"] + result["windows_s"] + result["captions_s"]
    result.update(lines=args.events, windows_config=args.windows, repeats=args.repeats)
    print(f"{'stage':<12}{'median s':>10}")
    for key in ("parse_s", "windows_s", "captions_s", "prep_seconds"):
        print(f"{key:<12}{result[key]:>10.2f}")
    print(f"{result['events']:,} binary events, {result['windows']:,} windows, "
          f"{result['unique_captions']:,} unique captions")
    args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
