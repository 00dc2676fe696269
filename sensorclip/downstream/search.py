"""Search a log's windows with a sentence or with an example window.

Scores are cosine similarities in the shared space: a query sentence goes through the frozen
text encoder and the run's text projection, an example window is its own sensor embedding (its
own row is left out of the results).
"""

from __future__ import annotations

import numpy as np
import torch

from sensorclip.errors import SensorClipError
from sensorclip.frozen.text import TextEncoder
from sensorclip.model.module import SensorClipModule


@torch.inference_mode()
def text_query(model: SensorClipModule, encoder: TextEncoder, query: str) -> np.ndarray:
    if not query or not query.strip():
        raise SensorClipError("the query is empty: pass query=\"some words\" (or window=ID to "
                              "search with an example window)")
    raw = torch.as_tensor(encoder.encode([query.strip()], progress=False))
    return model.embed_text(raw)[0].float().numpy()


def window_query(embeddings: np.ndarray, window_ids: np.ndarray, window: int) -> np.ndarray:
    rows = np.flatnonzero(window_ids == window)
    if len(rows) == 0:
        raise SensorClipError(f"window={window} is not among the searched windows "
                              f"({len(window_ids)} windows, ids {int(window_ids.min())}.."
                              f"{int(window_ids.max())})")
    return embeddings[rows[0]]


def best_matches(embeddings: np.ndarray, vector: np.ndarray, top_k: int,
                 exclude: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(row indices, scores) of the ``top_k`` highest cosine scores, best first."""
    scores = embeddings @ vector
    if exclude is not None:
        scores[exclude] = -np.inf
    order = np.argsort(-scores, kind="stable")[:top_k]
    return order, scores[order]
