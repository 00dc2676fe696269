"""Search a log with words (or with an example window) using a trained encoder.

    python -m sensorclip.search ckpt_path=RUN/checkpoints/X.ckpt query="someone up at night"
    python -m sensorclip.search ckpt_path=... window=1234                # more like this one
    python -m sensorclip.search ckpt_path=... query="..." data=milan data.raw_path=LOG

Searches the run's own test split, or every window of another log (``data=...``; a log of
another home needs its layout and an image-based encoder). Window embeddings are cached per
(checkpoint, log), so later queries only load them. Prints the best matches (time span, rooms
in order, a caption, the score) and writes ``results.csv`` and ``results.json``.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig
from rich.table import Table

from sensorclip.config import checked, stage_configs
from sensorclip.downstream.logs import describe_window, embed_log
from sensorclip.downstream.search import best_matches, text_query, window_query
from sensorclip.entrypoint import console, run_cleanly
from sensorclip.errors import SensorClipError
from sensorclip.files import atomic_write_text
from sensorclip.frozen.text import TextEncoder


def search(ckpt_path: str, query: str | None = None, window: int | None = None,
           top_k: int = 10, data: Any = None, cache_dir: str | None = None,
           out_dir: Path | None = None) -> list[dict[str, Any]]:
    if (query is None) == (window is None):
        raise SensorClipError("pass exactly one of query=\"some words\" or window=ID")
    if query is not None and not str(query).strip():
        raise SensorClipError("the query is empty: pass query=\"some words\"")
    log = embed_log(ckpt_path, data, cache_dir)
    if query is not None:
        encoder = TextEncoder(stage_configs(log.config)["text"])
        vector, exclude = text_query(log.model, encoder, str(query)), None
    else:
        vector = window_query(log.embeddings, log.window_ids, int(window))
        exclude = int((log.window_ids == int(window)).argmax())
    rows, scores = best_matches(log.embeddings, vector, top_k, exclude)
    results = [{"rank": rank, "score": round(float(score), 4),
                **describe_window(log.prep, int(log.window_ids[row]))}
               for rank, (row, score) in enumerate(zip(rows, scores), start=1)]
    show(results, query if query is not None else f"like window {window}", log.source)
    if out_dir is not None:
        write_results(results, Path(out_dir))
    return results


def show(results: list[dict[str, Any]], query: str, source: str) -> None:
    table = Table(title=f"{query!r} in the {source}", title_justify="left")
    for column in ("rank", "score", "window", "start", "end", "rooms", "caption", "label"):
        table.add_column(column, overflow="fold")
    for r in results:
        table.add_row(str(r["rank"]), f"{r['score']:.3f}", str(r["window"]), r["start"][:19],
                      r["end"][11:19], " -> ".join(r["rooms"]), r["caption"], r.get("label", ""))
    console().print(table)


def write_results(results: list[dict[str, Any]], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out_dir / "results.json", json.dumps(results, indent=2))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(results[0]))
    writer.writeheader()
    writer.writerows({**r, "rooms": " -> ".join(r["rooms"])} for r in results)
    atomic_write_text(out_dir / "results.csv", buffer.getvalue())
    console().print(f"results: {out_dir / 'results.csv'}, {out_dir / 'results.json'}")


@hydra.main(version_base="1.3", config_path="../conf", config_name="search")
def main(cfg: DictConfig) -> None:
    run_cleanly(lambda: search(checked(cfg).ckpt_path, cfg.query, cfg.window, cfg.top_k,
                               cfg.get("data"), cfg.cache_dir, Path(cfg.paths.output_dir)))


if __name__ == "__main__":
    main()
