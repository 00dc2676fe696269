"""Window embeddings with their metadata, as a file other tools read."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np

from sensorclip.downstream.logs import EmbeddedLog, has_labels
from sensorclip.errors import SensorClipError
from sensorclip.files import save_npz

FORMATS = (".npz", ".parquet")


def export_columns(log: EmbeddedLog) -> dict[str, np.ndarray]:
    """One row per window: id, start/end (datetime64[us]), split, labels when the log has any,
    the first caption, and the embedding."""
    prep, ids = log.prep, log.window_ids
    w = prep.windows
    first, last = w.start[ids], w.start[ids] + w.length[ids] - 1
    columns = {"window": ids.astype(np.int64),
               "start_time": prep.time_us[first].astype("datetime64[us]"),
               "end_time": prep.time_us[last].astype("datetime64[us]"),
               "events": w.length[ids].astype(np.int32),
               "split": np.array(log.split_names()),
               "caption": np.array([prep.captions.texts[k] for k in prep.captions.index[ids, 0]])}
    if has_labels(prep):
        columns["fine_label"] = np.array(prep.fine_names)[w.fine[ids]]
        columns["coarse_label"] = np.array(prep.coarse_names)[w.coarse[ids]]
    columns["embedding"] = log.embeddings.astype(np.float32)
    return columns


def write_embeddings(log: EmbeddedLog, out: str | Path) -> Path:
    out = Path(out).expanduser()
    if out.suffix not in FORMATS:
        raise SensorClipError(f"out={out}: write .npz or .parquet (got {out.suffix or 'none'})")
    out.parent.mkdir(parents=True, exist_ok=True)
    columns = export_columns(log)
    meta = {"home": log.prep.home.name, "checkpoint": str(log.checkpoint), "source": log.source}
    if out.suffix == ".npz":
        save_npz(out, **columns, **{k: np.array(v) for k, v in meta.items()})
    else:
        _write_parquet(out, columns, meta)
    return out


def _write_parquet(out: Path, columns: dict[str, np.ndarray], meta: dict[str, str]) -> None:
    try:
        pa = importlib.import_module("pyarrow")
        pq = importlib.import_module("pyarrow.parquet")
    except ImportError:
        raise SensorClipError("out=*.parquet needs pyarrow: pip install -e '.[parquet]' (or "
                              "write .npz)") from None
    table = pa.table({k: list(v) if k == "embedding" else v for k, v in columns.items()})
    table = table.replace_schema_metadata({k: str(v) for k, v in meta.items()})
    tmp = out.with_name(f".{out.name}.tmp")
    pq.write_table(table, tmp)
    tmp.replace(out)
