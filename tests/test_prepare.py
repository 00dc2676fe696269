import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO, SHARED_CASAS
from sensorclip.captions import CaptionConfig
from sensorclip.errors import SensorClipError
from sensorclip.prepare import DataConfig, prepare
from sensorclip.text import TextEncoderConfig
from sensorclip.windows import SplitConfig, WindowConfig


def run(tmp_path, data=DataConfig(days=4), windows=WindowConfig(), text=None):
    return prepare(data, windows, SplitConfig(), CaptionConfig(per_window=2), text,
                   cache_dir=tmp_path / "cache")


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


def test_real_log_needs_a_path(tmp_path):
    with pytest.raises(SensorClipError, match="data.raw_path"):
        run(tmp_path, data=DataConfig(name="milan", layout="milan", source="file"))


def test_cli_prints_the_summary(tmp_path, tiny_bert):
    result = subprocess.run(
        [sys.executable, "-m", "sensorclip.prepare", "data.days=3", f"text.path={tiny_bert}",
         "text.package=null", f"paths.cache_dir={tmp_path / 'cache'}",
         f"paths.log_dir={tmp_path / 'logs'}"],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    for fact in ("events", "days", "windows", "unique captions", "text embeddings", "Sleep"):
        assert fact in result.stdout


def test_cli_reports_user_errors_without_a_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "sensorclip.prepare", "data=milan",
         f"data.raw_path={tmp_path / 'nope.txt'}", f"paths.cache_dir={tmp_path}"],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr


MILAN = SHARED_CASAS / "milan" / "data_excerpt_first3350lines.txt"


@pytest.mark.skipif(not MILAN.exists(), reason="shared/casas/milan excerpt not present")
def test_cli_on_the_real_milan_excerpt(tmp_path, tiny_bert):
    result = subprocess.run(
        [sys.executable, "-m", "sensorclip.prepare", "data=milan", f"data.raw_path={MILAN}",
         "split.train=1.0", "split.val=0", "split.test=0", f"text.path={tiny_bert}",
         "text.package=null", f"paths.cache_dir={tmp_path}", f"paths.log_dir={tmp_path / 'l'}"],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "3,319" in result.stdout                 # binary events of the excerpt
