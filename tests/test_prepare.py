import numpy as np
import pytest

from helpers import MILAN_EXCERPT
from helpers.commands import run_module
from sensorclip.config import (
    CaptionConfig,
    DataConfig,
    SplitConfig,
    TextEncoderConfig,
    WindowConfig,
)
from sensorclip.pipeline import prepare


def run(tmp_path, data=None, windows=None, text=None):
    return prepare(data or DataConfig(days=4), windows or WindowConfig(), SplitConfig(),
                   CaptionConfig(per_window=2), text, cache_dir=tmp_path / "cache")


def test_prepare_builds_then_reuses_and_invalidates(tmp_path, tiny_bert):
    text = TextEncoderConfig(path=str(tiny_bert), package=None, device="cpu")
    first = run(tmp_path, text=text)
    assert all(first.built.values())
    assert first.text_embeddings.shape == (len(first.captions.texts), 32)
    assert first.captions.index.max() < len(first.captions.texts)
    assert len(first.windows) == len(first.captions.index)
    second = run(tmp_path, text=text)
    assert not any(second.built.values())
    assert np.array_equal(first.text_embeddings, second.text_embeddings)
    third = run(tmp_path, windows=WindowConfig(size=10), text=text)
    assert third.built == {"simulate": False, "events": False, "windows": True,
                           "captions": True, "text": True}
    fourth = run(tmp_path, data=DataConfig(days=4, seed=1))
    assert fourth.built["simulate"] and fourth.built["events"]


@pytest.mark.slow
@pytest.mark.skipif(not MILAN_EXCERPT.exists(), reason="shared/casas/milan excerpt not present")
def test_cli_on_the_real_milan_excerpt(tmp_path, tiny_bert):
    result = run_module("sensorclip.prepare", "data=milan", f"data.raw_path={MILAN_EXCERPT}",
                        "split.train=1.0", "split.val=0", "split.test=0", f"text.path={tiny_bert}",
                        "text.package=null", f"paths.cache_dir={tmp_path}",
                        f"paths.log_dir={tmp_path / 'l'}", timeout=300)
    assert result.returncode == 0, result.stderr
    assert "3,319" in result.stdout                 # binary events of the excerpt
