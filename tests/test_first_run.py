"""A first run prints nothing a user must learn to ignore: no advertisements, no deprecation
walls, no FLOPs column of zeros, no per-fit solver warnings, no weight-loading bars."""

from __future__ import annotations

import pytest

from helpers.commands import run_module

NOISE = {
    "Lightning's logger advertisement": "Tip:",
    "torch's LeafSpec deprecation (inside Lightning)": "LeafSpec",
    "a FLOPs column of zeros": "FLOPs",
    "scikit-learn's ConvergenceWarning per few-shot fit": "ConvergenceWarning",
    "transformers' weight-loading bars": "Loading weights",
    "Lightning's note that it skipped its own summary": "Skipping setting a default",
}


@pytest.mark.slow
def test_a_first_training_run_prints_none_of_the_known_noise(tiny_bert, tmp_path):
    result = run_module("sensorclip.train", "data.days=6", "captions.per_window=1",
                        "trainer.max_epochs=1", "text.package=null", f"text.path={tiny_bert}",
                        f"paths.cache_dir={tmp_path / 'cache'}",
                        f"paths.output_dir={tmp_path / 'run'}", timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    output = result.stdout + result.stderr
    assert "trainable" in output                      # the parameter table is still printed
    heard = {what: needle for what, needle in NOISE.items() if needle in output}
    assert not heard, heard
