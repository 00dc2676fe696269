"""Crashes, resumes and determinism of training (CPU, tiny models)."""

import json

import pytest
import torch

from sensorclip.errors import SensorClipError
from sensorclip.eval import suite
from sensorclip.train import train

pytestmark = pytest.mark.slow
VOLATILE = {"seconds", "seconds_prepare", "seconds_fit", "seconds_evaluate",
            "checkpoint"}


def run(compose_config, tmp_path, name, *overrides):
    return train(compose_config("trainer=cpu", "trainer.max_epochs=3",
                                "+trainer.limit_train_batches=4", "callbacks.early_stopping=null",
                                f"paths.output_dir={tmp_path / name}", *overrides))


def stable(metrics):
    return {k: v for k, v in metrics.items() if k not in VOLATILE}


def test_same_seed_and_config_give_identical_metrics(compose_config, tmp_path):
    first = run(compose_config, tmp_path, "a")
    second = run(compose_config, tmp_path, "b")
    assert stable(first) == stable(second)
    other = run(compose_config, tmp_path, "c", "seed=7")
    assert stable(other) != stable(first)


@pytest.mark.parametrize("precision", ["32-true", "bf16-mixed"])
def test_killed_mid_epoch_and_resumed_ends_like_an_uninterrupted_run(compose_config, tmp_path,
                                                                     precision):
    reference = run(compose_config, tmp_path, "whole", f"trainer.precision={precision}")
    with pytest.raises(SystemExit):
        run(compose_config, tmp_path, "killed", f"trainer.precision={precision}",
            "+callbacks.kill._target_=helpers.callbacks.StopAt", "+callbacks.kill.epoch=1",
            "+callbacks.kill.batch=2")
    last = tmp_path / "killed" / "checkpoints" / "last.ckpt"
    assert torch.load(last, weights_only=False)["epoch"] == 0          # the epoch-0 checkpoint
    assert not list(last.parent.glob(".*.tmp-*"))                     # no half-written file
    resumed = run(compose_config, tmp_path, "killed", f"trainer.precision={precision}",
                  "ckpt_path=last")
    assert stable(resumed) == stable(reference)
    # not only the best epoch: the last epoch's weights are the same too
    final = [torch.load(tmp_path / name / "checkpoints" / "last.ckpt", weights_only=False)
             for name in ("whole", "killed")]
    assert final[0]["epoch"] == final[1]["epoch"] == 2
    assert all(torch.equal(final[0]["state_dict"][k], v) for k, v in final[1]["state_dict"].items())


def test_nan_loss_stops_with_the_step_and_keeps_the_last_good_checkpoint(compose_config,
                                                                          tmp_path):
    with pytest.raises(SensorClipError) as info:
        run(compose_config, tmp_path, "nan",
            "+callbacks.poison._target_=helpers.callbacks.PoisonAt",
            "+callbacks.poison.epoch=1", "+callbacks.poison.batch=1")
    message = str(info.value)
    assert "loss is nan at step 6" in message                # epoch 1, batch 2 = global step 6
    assert "last good checkpoint" in message and "ckpt_path=last" in message
    state = torch.load(tmp_path / "nan" / "checkpoints" / "last.ckpt", weights_only=False)
    assert all(torch.isfinite(v).all() for v in state["state_dict"].values()
               if v.is_floating_point())


def test_training_writes_metrics_before_any_figure(compose_config, tmp_path, monkeypatch):
    """A figure that fails after training must not cost the numbers."""
    def fail_drawing(*args, **kwargs):
        raise RuntimeError("drawing failed")

    monkeypatch.setattr(suite, "write_figures", fail_drawing)
    with pytest.raises(RuntimeError, match="drawing failed"):
        train(compose_config("trainer=debug", f"paths.output_dir={tmp_path / 'run'}"))
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved["n_test_windows"] > 0 and saved["checkpoint"].endswith(".ckpt")


def test_bf16_metrics_stay_within_seed_noise_of_fp32(compose_config, tmp_path):
    """Paired, same seed: bf16-mixed moves the metrics less than changing the seed does."""
    keys = ("recall@10_mean", "linear_probe_macro_f1", "zeroshot_macro_f1")
    cheap = ["eval.references=false"]
    fp32 = run(compose_config, tmp_path, "fp32", "trainer.precision=32-true", *cheap)
    bf16 = run(compose_config, tmp_path, "bf16", "trainer.precision=bf16-mixed", *cheap)
    other_seed = run(compose_config, tmp_path, "seed", "trainer.precision=32-true", "seed=7",
                     *cheap)
    for key in keys:
        noise = max(abs(fp32[key] - other_seed[key]), 0.02)
        assert abs(bf16[key] - fp32[key]) <= noise, (key, fp32[key], bf16[key], other_seed[key])
