"""Time parse + windows + captions on a Milan-scale simulated log (430,000 lines).

    python scripts/bench_prep.py [--events 430000] [--repeats 3] [--windows fl20]
    python scripts/bench_prep.py --scale 43000 430000 4300000    # time and peak RSS per size

The log is simulated on the real Milan layout with the Milan-like activity model, cut to exactly
``--events`` lines, then each stage runs ``--repeats`` times after a warm-up; the medians print as
a table and go to ``--out`` (JSON). Text embedding is not part of this figure (see bench.py).

``--scale`` measures each size in a fresh process (``scale_point``), so that its peak resident
memory is the data stages' own and not a larger size's left-over: the process imports what
``python -m sensorclip.prepare`` imports, warms up on a small log, then times one pass.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from sensorclip.config import CaptionConfig, SplitConfig, WindowConfig
from sensorclip.data.casas import attach_layout, read_casas
from sensorclip.data.dataset import caption, label_windows
from sensorclip.data.homes import load_home
from sensorclip.data.simulate import load_activity_model, simulate

WARMUP_LINES = 30_000         # a warm-up log of several days (the split needs three)
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


def memory_gb(field: str = "VmHWM") -> float:
    """This process's peak (``VmHWM``) or current (``VmRSS``) resident memory, GB (10^9 B)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024 / 1e9
    return float("nan")


def scale_point(log: Path, warmup: Path, windows: str) -> dict:
    """One size, measured in this (fresh) process: one pass after a warm-up on a small log."""
    run_once(warmup, WINDOWS[windows])
    before = memory_gb("VmRSS")
    result = run_once(log, WINDOWS[windows])
    result.update(seconds=result["parse_s"] + result["windows_s"] + result["captions_s"],
                  peak_rss_gb=memory_gb(), rss_before_gb=before)
    return result


def scale(sizes: list[int], windows: str = "fl20") -> list[dict]:
    """``scale_point`` for each size, each in its own process, on nested cuts of one log."""
    with tempfile.TemporaryDirectory() as tmp:
        full = Path(tmp) / "full.txt"
        milan_scale_log(full, max(sizes))
        lines = full.read_text().splitlines(keepends=True)
        points = []
        for size in sorted({WARMUP_LINES, *sizes}):
            (Path(tmp) / f"{size}.txt").write_text("".join(lines[:size]))
        del lines
        for size in sorted(sizes):
            out = subprocess.run([sys.executable, __file__, "--scale-point",
                                  str(Path(tmp) / f"{size}.txt"), "--windows", windows,
                                  "--warmup-log", str(Path(tmp) / f"{WARMUP_LINES}.txt")],
                                 capture_output=True, text=True, check=True)
            points.append({"lines": size, **json.loads(out.stdout.strip().splitlines()[-1])})
    return points


def print_scale(points: list[dict]) -> None:
    print(f"{'lines':>10}{'seconds':>10}{'us/line':>10}{'peak RSS GB':>13}{'windows':>10}")
    for p in points:
        print(f"{p['lines']:>10,}{p['seconds']:>10.2f}{p['seconds'] / p['lines'] * 1e6:>10.2f}"
              f"{p['peak_rss_gb']:>13.2f}{p['windows']:>10,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=430_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--windows", choices=sorted(WINDOWS), default="fl20")
    parser.add_argument("--out", type=Path, default=Path("bench_prep.json"))
    parser.add_argument("--scale", type=int, nargs="+", metavar="LINES",
                        help="time and peak RSS of each size, each in a fresh process")
    parser.add_argument("--scale-point", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--warmup-log", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scale_point:
        print(json.dumps(scale_point(args.scale_point, args.warmup_log, args.windows)))
        return
    if args.scale:
        points = scale(args.scale, args.windows)
        print_scale(points)
        args.out.write_text(json.dumps(points, indent=2))
        return
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
