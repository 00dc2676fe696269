"""Text vectors by caption, one store per text encoder, shared by every home and run.

The text stage's cache entry is keyed by the whole set of a data set's captions, so without a
store a new set of homes (16 more for a larger pretraining run, one more target home) would
embed again every caption it shares with earlier sets. The store keeps each caption's vector
once per encoder identity (model, weights, pooling, precision, compute), in shards: each build
adds one shard holding only the captions no shard had, written through a temporary file and
renamed, so concurrent runs never see half a shard and at worst embed a caption twice.

    cache/text_store/<encoder key>/shard-<id>.npz      texts [n], vectors [n, dim]
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sensorclip.data.cache import load_npz, spec_key
from sensorclip.errors import CacheError
from sensorclip.files import save_npz

STORE_DIR = "text_store"


class CaptionStore:
    def __init__(self, cache_root: str | Path, encoder_identity: dict[str, Any]):
        self.directory = Path(cache_root) / STORE_DIR / spec_key(encoder_identity)

    def shards(self) -> list[Path]:
        return sorted(self.directory.glob("shard-*.npz")) if self.directory.is_dir() else []

    def known(self) -> dict[str, np.ndarray]:
        """Every caption the store holds, with its vector."""
        vectors: dict[str, np.ndarray] = {}
        dim = None
        for shard in self.shards():
            arrays = load_npz(shard, required=("texts", "vectors"))
            texts, rows = arrays["texts"], arrays["vectors"]
            if rows.ndim != 2 or len(rows) != len(texts) or (dim and rows.shape[1] != dim):
                raise CacheError(f"{shard}: a text store shard of the wrong shape "
                                 f"{rows.shape} for {len(texts)} captions; delete it and rerun")
            dim = rows.shape[1]
            vectors.update(zip(texts.tolist(), rows))
        return vectors

    def embed(self, texts: Sequence[str],
              encode: Callable[[list[str]], np.ndarray]) -> tuple[np.ndarray, int]:
        """(vectors in ``texts`` order, how many distinct captions came from the store).
        ``encode`` is called once, on the captions the store lacks, and its vectors are added
        as a new shard."""
        known = self.known()
        distinct = list(dict.fromkeys(texts))
        missing = [t for t in distinct if t not in known]
        if missing:
            fresh = encode(missing)
            self.directory.mkdir(parents=True, exist_ok=True)
            save_npz(self.directory / f"shard-{uuid.uuid4().hex[:12]}.npz",
                     texts=np.array(missing), vectors=fresh.astype(np.float32))
            known.update(zip(missing, fresh))
        hits = len(distinct) - len(missing)
        return np.stack([known[t] for t in texts]).astype(np.float32), hits
