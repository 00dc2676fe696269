"""Compare the runs of a sweep: one row per run (its overrides and key metrics).

Writes ``report.md``, ``report.csv`` and ``report.png`` (grouped bars: backbone x features) into
the directory and prints the table. A run is any folder below DIR holding a ``metrics.json``; its
overrides come from Hydra's ``.hydra/overrides.yaml`` when present.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sensorclip.errors import SensorClipError
from sensorclip.files import atomic_write_text, check_shape, read_json
from sensorclip.plots import plain

# each figure followed by its references (eval.suite): a run is read against them, not alone
COLUMNS = ("recall@5_sensor_to_text", "untrained_recall@5_sensor_to_text", "chance_recall@5",
           "median_rank_sensor_to_text", "zeroshot_macro_f1", "keyword_zeroshot_macro_f1",
           "delta_zeroshot_macro_f1_vs_keyword_ci95", "coarse_zeroshot_macro_f1",
           "linear_probe_macro_f1", "untrained_linear_probe_macro_f1", "bag_macro_f1",
           "majority_macro_f1", "delta_probe_macro_f1_vs_untrained_ci95",
           "delta_probe_macro_f1_vs_bag_ci95", "fewshot_5_macro_f1", "bag_fewshot_5_macro_f1",
           "delta_fewshot_5_macro_f1_vs_bag_ci95", "common_zeroshot_macro_f1",
           "common_keyword_zeroshot_macro_f1", "caption_oracle_zeroshot_macro_f1",
           "agnostic_bag_macro_f1", "delta_zeroshot_macro_f1_vs_agnostic_bag_ci95")
CHART = ("recall@5_sensor_to_text", "zeroshot_macro_f1", "keyword_zeroshot_macro_f1",
         "linear_probe_macro_f1", "bag_macro_f1")


def collect_runs(root: Path) -> list[dict[str, Any]]:
    runs = []
    for metrics_file in sorted(root.rglob("metrics.json")):
        run_dir = metrics_file.parent
        metrics = read_json(metrics_file, dict, "run's metrics")
        overrides_file = run_dir / ".hydra" / "overrides.yaml"
        overrides = check_shape(yaml.safe_load(overrides_file.read_text()) or [], list,
                                overrides_file, "Hydra overrides") \
            if overrides_file.is_file() else []
        runs.append({"run": str(run_dir.relative_to(root)) or ".",
                     "overrides": " ".join(overrides or []), "metrics": metrics})
    return runs


def table_rows(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for run in runs:
        m = run["metrics"]
        row = {"run": run["run"], "overrides": run["overrides"],
               "backbone": m.get("backbone", "?") + {"text": " (sentences)", "image_text":
                                                     " + sentences"}.get(m.get("inputs"), ""),
               "pretrained": m.get("pretrained", "?")}
        row.update({k: m.get(k) for k in COLUMNS})
        rows.append(row)
    return rows


def to_markdown(rows: list[dict[str, Any]]) -> str:
    headers = list(rows[0])
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row[h]) for h in headers) + " |")
    return "\n".join(lines) + "\n"


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, list):
        return "[" + ", ".join(f"{v:+.3f}" for v in value) + "]"
    return "" if value is None else str(value)


def to_csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def bar_chart(rows: list[dict[str, Any]], path: Path) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    labels = [r["overrides"] or r["run"] for r in rows]
    x = np.arange(len(rows))
    width = 0.8 / len(CHART)
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(rows) + 2), 4.5), dpi=110)
    for k, metric in enumerate(CHART):
        values = [r[metric] if r[metric] is not None else 0 for r in rows]
        ax.bar(x + (k - (len(CHART) - 1) / 2) * width, values, width, label=metric)
    ax.set_xticks(x, [plain(label).replace(" ", "\n") for label in labels], fontsize=7)
    ax.set_ylim(0, 1)
    ax.set_ylabel("test score (references beside each figure)")
    ax.set_title("sweep comparison (test split)", fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def write_report(root: str | Path) -> list[dict[str, Any]]:
    root = Path(root).expanduser()
    if not root.is_dir():
        raise SensorClipError(f"{root} is not a directory; pass a sweep directory "
                              "(outputs/sweeps/<time>)")
    runs = collect_runs(root)
    if not runs:
        raise SensorClipError(f"no metrics.json below {root}: did the sweep finish?")
    rows = table_rows(runs)
    atomic_write_text(root / "report.md", "# sweep report\n\n" + to_markdown(rows))
    atomic_write_text(root / "report.csv", to_csv(rows))
    bar_chart(rows, root / "report.png")
    return rows
