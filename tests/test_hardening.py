"""Crashes, resumes and determinism of training (CPU, tiny models)."""


import pytest
import torch
from hydra import compose, initialize_config_dir

from conftest import REPO
from sensorclip.errors import SensorClipError
from sensorclip.train import train

VOLATILE = {"seconds", "checkpoint"}


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("hardening_cache")


def run(tmp_path, cache, tiny_bert, name, *overrides):
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = compose(config_name="train", overrides=[
            "data.days=5", "captions.per_window=2", f"text.path={tiny_bert}", "text.package=null",
            "trainer=cpu", "trainer.max_epochs=3", "+trainer.limit_train_batches=4",
            f"paths.cache_dir={cache}", f"paths.output_dir={tmp_path / name}",
            "callbacks.progress_bar=null", "callbacks.early_stopping=null",
            "render.image_size=64", "loader.batch_size=16", *overrides])
    return train(cfg)


def stable(metrics):
    return {k: v for k, v in metrics.items() if k not in VOLATILE}


def test_same_seed_and_config_give_identical_metrics(tmp_path, cache, tiny_bert):
    first = run(tmp_path, cache, tiny_bert, "a")
    second = run(tmp_path, cache, tiny_bert, "b")
    assert stable(first) == stable(second)
    other = run(tmp_path, cache, tiny_bert, "c", "seed=7")
    assert stable(other) != stable(first)


@pytest.mark.parametrize("precision", ["32-true", "bf16-mixed"])
def test_killed_mid_epoch_and_resumed_ends_like_an_uninterrupted_run(tmp_path, cache, tiny_bert,
                                                                     precision):
    reference = run(tmp_path, cache, tiny_bert, "whole", f"trainer.precision={precision}")
    with pytest.raises(SystemExit):
        run(tmp_path, cache, tiny_bert, "killed", f"trainer.precision={precision}",
            "+callbacks.kill._target_=helpers.StopAt", "+callbacks.kill.epoch=1",
            "+callbacks.kill.batch=2")
    last = tmp_path / "killed" / "checkpoints" / "last.ckpt"
    assert torch.load(last, weights_only=False)["epoch"] == 0          # the epoch-0 checkpoint
    assert not list(last.parent.glob(".*.tmp-*"))                     # no half-written file
    resumed = run(tmp_path, cache, tiny_bert, "killed", f"trainer.precision={precision}",
                  "ckpt_path=last")
    assert stable(resumed) == stable(reference)
    # not only the best epoch: the last epoch's weights are the same too
    final = [torch.load(tmp_path / name / "checkpoints" / "last.ckpt", weights_only=False)
             for name in ("whole", "killed")]
    assert final[0]["epoch"] == final[1]["epoch"] == 2
    assert all(torch.equal(final[0]["state_dict"][k], v) for k, v in final[1]["state_dict"].items())


def test_nan_loss_stops_with_the_step_and_keeps_the_last_good_checkpoint(tmp_path, cache,
                                                                          tiny_bert):
    with pytest.raises(SensorClipError) as info:
        run(tmp_path, cache, tiny_bert, "nan", "+callbacks.poison._target_=helpers.PoisonAt",
            "+callbacks.poison.epoch=1", "+callbacks.poison.batch=1")
    message = str(info.value)
    assert "loss is nan at step 6" in message                # epoch 1, batch 2 = global step 6
    assert "last good checkpoint" in message and "ckpt_path=last" in message
    state = torch.load(tmp_path / "nan" / "checkpoints" / "last.ckpt", weights_only=False)
    assert all(torch.isfinite(v).all() for v in state["state_dict"].values()
               if v.is_floating_point())
