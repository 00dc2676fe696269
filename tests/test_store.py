"""The caption store: a caption shared by two homes (or two runs) is embedded once per encoder."""

from __future__ import annotations

import numpy as np
import pytest

from sensorclip.config import (
    CaptionConfig,
    DataConfig,
    SplitConfig,
    TextEncoderConfig,
    WindowConfig,
)
from sensorclip.data.cache import provenance
from sensorclip.errors import CacheError
from sensorclip.frozen.store import CaptionStore
from sensorclip.pipeline import prepare


def fake_encoder(calls: list):
    def encode(texts: list[str]) -> np.ndarray:
        calls.append(list(texts))
        return np.array([[len(t), t.count("a"), 1.0] for t in texts], np.float32)
    return encode


def test_only_captions_the_store_lacks_are_embedded(tmp_path):
    calls: list = []
    store = CaptionStore(tmp_path, {"model": "m", "precision": "fp32"})
    first, hits = store.embed(["a cat", "a dog", "a cat"], fake_encoder(calls))
    assert hits == 0 and calls == [["a cat", "a dog"]]
    second, hits = store.embed(["a dog", "a bat"], fake_encoder(calls))
    assert hits == 1 and calls[-1] == ["a bat"]
    np.testing.assert_array_equal(second[0], first[1])
    _, hits = store.embed(["a bat", "a cat"], fake_encoder(calls))
    assert hits == 2 and len(calls) == 2                      # nothing left to embed
    other = CaptionStore(tmp_path, {"model": "m", "precision": "bf16"})
    other.embed(["a cat"], fake_encoder(calls))
    assert calls[-1] == ["a cat"]                             # another encoder, another store


def test_a_broken_shard_is_one_clear_error(tmp_path):
    store = CaptionStore(tmp_path, {"model": "m"})
    store.embed(["a cat"], fake_encoder([]))
    store.shards()[0].write_bytes(b"not an npz")
    with pytest.raises(CacheError, match="corrupt or truncated"):
        store.embed(["a cat"], fake_encoder([]))


def test_a_second_home_reuses_the_captions_it_shares_with_the_first(tmp_path, tiny_bert):
    text = TextEncoderConfig(path=str(tiny_bert), package=None, device="cpu", precision="fp32")
    common = dict(windows=WindowConfig(), split=SplitConfig(), captions=CaptionConfig(per_window=1),
                  text=text, cache_dir=tmp_path, stages=("data", "text"))
    prepare(DataConfig(days=3, seed=0), **common)
    second = prepare(DataConfig(days=3, seed=1), **common)
    summary = provenance(second.entries["text"])["summary"]
    assert 0 < summary["from_store"] < summary["captions"]
    fresh = prepare(DataConfig(days=3, seed=1), **{**common, "cache_dir": tmp_path / "alone"})
    np.testing.assert_allclose(second.text_embeddings, fresh.text_embeddings, atol=1e-5)
    assert provenance(fresh.entries["text"])["summary"]["from_store"] == 0
