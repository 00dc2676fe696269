"""Real vs simulated: a real CASAS log's statistics beside a simulated home's, with distances.

    python scripts/calibrate_simulator.py LAYOUT REAL_LOG [overrides] [--out DIR]
    python scripts/calibrate_simulator.py milan ~/casas/milan/data_excerpt_first3350lines.txt \\
        data=milan_sim data.days=28
    make calibrate ARGS="milan PATH/TO/LOG data=milan_sim"

The real log is read with the layout ``LAYOUT`` (sensors it does not know are dropped and
counted); the simulated one comes from the ``data=`` option and its overrides (default
``data=LAYOUT_sim``), cut to whole simulated days. When the real log covers less than a day,
both are compared on the clock hours it covers. The table (``calibration.md``, also printed),
the figures (``calibration.png``) and the numbers (``calibration.json``) go to ``--out``
(default ``outputs/calibration/<data name>``). What the statistics and distances mean:
``sensorclip.data.logstats``; the Milan table and what was tuned: docs/simulator.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
from hydra import compose, initialize_config_dir

import sensorclip  # noqa: F401  (registers the config schemas the option files inherit)
from sensorclip.config import GROUP_SCHEMAS, typed
from sensorclip.data.casas import EventLog, attach_layout, parse_lines, read_casas
from sensorclip.data.homes import load_home
from sensorclip.data.logstats import (
    LogStatistics,
    Row,
    clock_window,
    compare,
    log_statistics,
)
from sensorclip.data.simulate import load_activity_model, simulate
from sensorclip.errors import SensorClipError
from sensorclip.units import US_PER_DAY

CONF = Path(__file__).resolve().parents[1] / "conf"
GROUPS = ("data", "windows", "split", "captions")


def composed(overrides: list[str]) -> dict:
    """The data-side configs (data, windows, split, captions) as their dataclasses, composed
    like ``python -m sensorclip.prepare`` composes them."""
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(config_name="prepare", overrides=overrides)
    return {group: typed(GROUP_SCHEMAS[group], cfg[group]) for group in GROUPS}


def statistics(events: EventLog, window: tuple[float, float]) -> LogStatistics:
    return log_statistics(events.time.astype(np.int64), events.sensor, events.state,
                          events.activity, events.sensor_names, events.state_names,
                          events.activity_names, window)


def simulated_log(overrides: list[str]) -> tuple[str, EventLog]:
    """(data name, events) of the simulated home, cut to its whole days."""
    data = composed(overrides)["data"]
    if data.source != "simulate":
        raise SensorClipError(f"data={data.name} reads a file; pick a simulated home "
                              "(data=milan_sim, data=aruba_sim, data=demo)")
    home = load_home(data.layout)
    log = simulate(home, load_activity_model(data.activity_model), days=data.days,
                   seed=data.seed, start_date=data.start_date)
    end = log.time_us[0] // US_PER_DAY * US_PER_DAY + data.days * US_PER_DAY
    lines = [line for line, t in zip(log.lines(), log.time_us) if t < end]
    return data.name, attach_layout(parse_lines(lines, source=data.name), home)


def calibrate(layout: str, real_log: Path, overrides: list[str]) -> tuple[str, list[Row], dict]:
    home = load_home(layout)
    real = attach_layout(read_casas(real_log, home=home), home, on_unknown="drop")
    name, sim = simulated_log(overrides or [f"data={layout}_sim"])
    if sim.sensor_names != real.sensor_names:
        print("note: the simulated layout differs from LAYOUT; per-sensor shares compare "
              "sensor ids by name", file=sys.stderr)
    window = clock_window(real.time.astype(np.int64))
    stats = {"real": statistics(real, window), "simulated": statistics(sim, window)}
    return name, compare(stats["real"], stats["simulated"]), {"window": window, **stats}


def markdown(rows: list[Row], title: str) -> str:
    lines = [f"**{title}**", "", "| statistic | real | simulated | distance |",
             "|---|---|---|---|"]
    lines += [f"| {r.statistic} | {r.real} | {r.simulated} | {r.distance:.3f} ({r.measure}) |"
              for r in rows]
    return "\n".join(lines) + "\n"


def figure(stats: dict, rows: list[Row], path: Path) -> None:
    """Small multiples: one panel per statistic, real and simulated side by side."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    real, sim = stats["real"], stats["simulated"]
    fig, axes = plt.subplots(2, 5, figsize=(19, 7), dpi=80)
    for ax, row in zip(axes.flat, rows):
        PANELS.get(row.key, _bars)(ax, real, sim, row.key)
        ax.set_title(f"{row.statistic.split(',')[0]}\n{row.measure} {row.distance:.3f}",
                     fontsize=9)
    axes.flat[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _bars(ax, real: LogStatistics, sim: LogStatistics, key: str) -> None:
    """Shares side by side (categories sorted by the real share)."""
    a, b = getattr(real, key), getattr(sim, key)
    if isinstance(a, dict):
        names = sorted(set(a) | set(b), key=lambda k: -a.get(k, 0.0))[:20]
        a, b = np.array([a.get(k, 0.0) for k in names]), np.array([b.get(k, 0.0) for k in names])
        ax.set_xticks(range(len(names)), names, rotation=90, fontsize=6)
    x = np.arange(len(a))
    ax.bar(x - 0.2, a / max(a.sum(), 1e-9), 0.4, label="real")
    ax.bar(x + 0.2, b / max(b.sum(), 1e-9), 0.4, label="simulated")


def _cdf(ax, real: LogStatistics, sim: LogStatistics, key: str) -> None:
    for stats, label in ((real, "real"), (sim, "simulated")):
        values = np.sort(getattr(stats, key))
        if len(values):
            ax.plot(values, np.arange(1, len(values) + 1) / len(values), label=label)
    ax.set_xscale("symlog")


def _pair(ax, real: LogStatistics, sim: LogStatistics, key: str) -> None:
    def value(s: LogStatistics) -> float:
        return s.events / max(s.days, 1e-9) if key == "events" else getattr(s, key)

    ax.bar([0, 1], [value(real), value(sim)], color=["C0", "C1"])
    ax.set_xticks([0, 1], ["real", "simulated"])


PANELS = {"events": _pair, "gaps_s": _cdf, "on_s": _cdf, "runs": _cdf, "unlabelled": _pair,
          "durations_min": _cdf}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("layout", help="the real log's layout (a shipped name or a YAML path)")
    parser.add_argument("real_log", type=Path, help="the real CASAS log (format a/b/c)")
    parser.add_argument("overrides", nargs="*", help="the simulated home: data=... and overrides")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    try:
        name, rows, stats = calibrate(args.layout, args.real_log, args.overrides)
    except SensorClipError as exc:
        raise SystemExit(f"error: {exc}") from None
    out = args.out or Path("outputs") / "calibration" / name
    out.mkdir(parents=True, exist_ok=True)
    first, last = stats["window"]
    title = (f"{args.real_log.name} vs {name} ({' '.join(args.overrides) or 'defaults'}), "
             f"clock hours {first:.2f}-{last:.2f}")
    table = markdown(rows, title)
    (out / "calibration.md").write_text(table)
    (out / "calibration.json").write_text(json.dumps(
        {"window": stats["window"], "rows": [asdict(r) for r in rows]}, indent=2) + "\n")
    figure(stats, rows, out / "calibration.png")
    print(table)
    print(f"written: {out}/calibration.md, calibration.json, calibration.png")


if __name__ == "__main__":
    main()
