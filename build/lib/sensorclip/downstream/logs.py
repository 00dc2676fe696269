"""A trained encoder applied to a log: every window embedded once, cached per (checkpoint, log).

``embed_log`` is what search, annotate and export share, on top of ``runs.load_run``. Without
``data`` it embeds the run's own test split; with a ``data`` config (another log of the same
home, or of another home with its layout) it embeds every window of that log: the log goes
through the run's own stages (windows, captions, images, the same frozen backbone) but not the
text encoder, which these tools do not need for the windows themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from sensorclip.config import SplitConfig
from sensorclip.data.cache import Cache, load_npz
from sensorclip.data.windows import SPLITS
from sensorclip.errors import SensorClipError
from sensorclip.files import file_digest, save_npz
from sensorclip.model.datamodule import event_inputs
from sensorclip.model.module import SensorClipModule
from sensorclip.pipeline import Prepared
from sensorclip.runs import load_run

EMBEDDINGS_VERSION = 1
ALL_DAYS = SplitConfig(train=1.0, val=0.0, test=0.0)


@dataclass
class EmbeddedLog:
    config: dict[str, Any]        # the run's config, with the log's data when one was given
    checkpoint: Path
    model: SensorClipModule       # reading this log's home
    prep: Prepared                # the log's events, windows and captions
    window_ids: np.ndarray        # rows of prep.windows that were embedded, in time order
    embeddings: np.ndarray        # [windows, dim] float32, L2-normalised
    source: str                   # what was embedded, for people

    def split_names(self) -> list[str]:
        return [SPLITS[s] for s in self.prep.windows.split[self.window_ids]]


def embed_log(path: str | Path, data: Any = None, cache_dir: str | Path | None = None,
              split: str = "test") -> EmbeddedLog:
    """Embed a log's windows with a trained run's encoder (see the module docstring); the
    embeddings are cached, keyed by the checkpoint's bytes and the log's windows."""
    run = load_run(path, cache_dir=cache_dir, data=data,
                   split=ALL_DAYS if data is not None else None, text=False)
    model, prep = run.model.eval(), run.datamodule.prepared
    chosen = None if data is not None else SPLITS.index(split)
    window_ids = np.arange(len(prep.windows)) if chosen is None \
        else np.flatnonzero(prep.windows.split == chosen)
    if len(window_ids) == 0:
        raise SensorClipError(f"the log has no {split} windows to embed")
    spec = {"version": EMBEDDINGS_VERSION, "checkpoint": file_digest(run.checkpoint)[:20],
            "windows": prep.entries["windows"].name,
            "vision": prep.entries["vision"].name if "vision" in prep.entries else (
                "sentences only" if "sentences" in prep.entries else "learned"),
            "rows": "all" if chosen is None else split}
    if "sentences" in prep.entries:             # model=text|image_text: the sentences' vectors
        spec["sentences"] = prep.entries["sentences"].name

    def build(tmp: Path):
        save_npz(tmp / "embeddings.npz", embeddings=embed_windows(model, prep, window_ids),
                 window_ids=window_ids)
        return {"windows": len(window_ids)}

    entry, _ = Cache(run.datamodule.cache_dir).get_or_build("window_embeddings", spec, build)
    cached = load_npz(entry / "embeddings.npz", ("embeddings", "window_ids"))
    log = run.config["data"].get("raw_path") or run.config["data"]["name"]
    source = f"test split of {run.checkpoint}" if data is None else f"every window of {log}"
    return EmbeddedLog(run.config, run.checkpoint, model, prep, cached["window_ids"],
                       cached["embeddings"], source)


@torch.inference_mode()
def embed_windows(model: SensorClipModule, prep: Prepared, window_ids: np.ndarray,
                  batch_size: int = 512) -> np.ndarray:
    """L2-normalised sensor embeddings [windows, dim] of the given rows of ``prep.windows``."""
    event_pair = torch.as_tensor(prep.event_pair, dtype=torch.long)
    event_time = torch.as_tensor(prep.time_us, dtype=torch.long)
    start = torch.as_tensor(prep.windows.start[window_ids], dtype=torch.long)
    length = torch.as_tensor(prep.windows.length[window_ids], dtype=torch.long)
    parts = []
    batches = range(0, len(window_ids), batch_size)
    for lo in tqdm(batches, desc="embedding windows", unit="batch", disable=len(batches) < 4):
        batch = event_inputs(event_pair, event_time, len(prep.pairs), start[lo:lo + batch_size],
                             length[lo:lo + batch_size])
        parts.append(model.embed_sensor(batch).float().numpy())
    return np.concatenate(parts)


def has_labels(prep: Prepared) -> bool:
    """Whether the log carries activity annotations (an unlabelled log has only no_activity)."""
    return bool(len(prep.fine_names) > 1 and (prep.activity > 0).any())


def describe_window(prep: Prepared, window_id: int) -> dict[str, Any]:
    """What a person wants to see of a window: when, where (rooms in order), a caption, and its
    label when the log has labels."""
    w = prep.windows
    start, length = int(w.start[window_id]), int(w.length[window_id])
    times = prep.time_us[[start, start + length - 1]].astype("datetime64[us]")
    rooms = [prep.home.sensors[prep.sensor_names[s]].room
             for s in prep.sensor[start:start + length]]
    visited = [r for i, r in enumerate(rooms) if i == 0 or rooms[i - 1] != r]
    caption = prep.captions.texts[int(prep.captions.index[window_id, 0])]
    info = {"window": int(window_id), "start": str(times[0]), "end": str(times[1]),
            "rooms": visited, "caption": caption}
    if has_labels(prep):
        info["label"] = prep.fine_names[int(w.fine[window_id])]
    return info
