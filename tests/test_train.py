import itertools
import json
import subprocess
import sys

import lightning as L
import pytest
import torch
from hydra import compose, initialize_config_dir
from lightning.pytorch.plugins import MixedPrecision
from omegaconf import OmegaConf

from conftest import REPO
from helpers import tiny_timm_weights, tiny_vision_model
from sensorclip.encoder import EncoderConfig
from sensorclip.features import FeatureConfig
from sensorclip.losses import build_loss
from sensorclip.prepare import configs_from
from sensorclip.train import build, train

CONF = REPO / "conf"


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


def config(tmp_path, cache, tiny_bert, *overrides):
    common = ["data.days=4", "captions.per_window=2", f"text.path={tiny_bert}",
              "text.package=null", "trainer=debug", f"paths.cache_dir={cache}",
              f"paths.output_dir={tmp_path / 'run'}", "callbacks.progress_bar=null",
              "render.image_size=64", "loader.batch_size=16"]
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose(config_name="train", overrides=common + list(overrides))


def test_optimizer_really_holds_the_text_projection_and_no_decay_on_temperature(
        tmp_path, shared_cache, tiny_bert):
    cfg = config(tmp_path, shared_cache, tiny_bert, "text_projection=mlp")
    _, model = build(OmegaConf.to_container(cfg, resolve=True))
    groups = model.parameter_groups()
    decayed = {id(p) for p in groups[0]["params"]}
    plain = {id(p) for p in groups[1]["params"]}
    assert all(id(p) in decayed | plain for p in model.text_head.parameters())
    assert any(id(p) in decayed for p in model.text_head.parameters())
    assert id(model.loss_fn.log_scale) in plain and id(model.encoder.cls) in plain
    assert not any(p.requires_grad for p in model.encoder.features.inputs.parameters())


@pytest.mark.parametrize("backbone", ["tiny", "clip", "dinov2", "siglip", "timm"])
def test_two_batch_training_smoke_run_per_backbone(tmp_path, shared_cache, tiny_bert, backbone):
    overrides = [f"model={backbone}"]
    if backbone in ("clip", "dinov2", "siglip"):
        overrides.append(f"model.path={tiny_vision_model(tmp_path / backbone, backbone)}")
    elif backbone == "timm":
        weights = tiny_timm_weights(tmp_path / "timm" / "model.safetensors")
        overrides += ["model.model_id=vit_tiny_patch16_224", f"model.path={weights.parent}"]
    metrics = train(config(tmp_path, shared_cache, tiny_bert, *overrides,
                           "features=coords_time"))
    for key in ("recall@1_sensor_to_text", "recall@10_text_to_sensor",
                "median_rank_sensor_to_text", "cosine_gap"):
        assert key in metrics
    assert 0 <= metrics["recall@1_sensor_to_text"] <= 1
    assert metrics["pretrained"] == (backbone != "tiny")
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved["n_test_windows"] == metrics["n_test_windows"] > 0
    assert (tmp_path / "run" / "config.yaml").is_file()


def test_bf16_mixed_precision_trains_with_gradient_clipping(tmp_path, shared_cache, tiny_bert):
    """The GPU presets run bf16-mixed with clipping; the fused optimizer must allow both."""
    cfg = config(tmp_path, shared_cache, tiny_bert, "trainer.precision=bf16-mixed",
                 "trainer.gradient_clip_val=1.0")
    assert 0 <= train(cfg)["recall@1_sensor_to_text"] <= 1


def test_fp16_loss_scaling_uses_an_unfused_optimizer_and_clips(tmp_path, shared_cache, tiny_bert):
    """With a gradient scaler, clipping must see unscaled gradients: no fused step then."""
    datamodule, model = build(OmegaConf.to_container(
        config(tmp_path, shared_cache, tiny_bert), resolve=True))
    plugin = MixedPrecision("16-mixed", "cpu", scaler=torch.amp.GradScaler("cpu"))
    trainer = L.Trainer(accelerator="cpu", plugins=[plugin], gradient_clip_val=1.0, max_steps=2,
                        logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        limit_val_batches=0, enable_model_summary=False)
    trainer.fit(model, datamodule=datamodule)
    assert trainer.global_step == 2
    assert not trainer.optimizers[0].defaults["fused"]


def test_clipping_without_a_scaler_bounds_the_gradient_norm(tmp_path, shared_cache, tiny_bert):
    _, model = build(OmegaConf.to_container(config(tmp_path, shared_cache, tiny_bert),
                                            resolve=True))
    optimizer = torch.optim.AdamW(model.parameter_groups())
    trainable = [p for p in model.parameters() if p.requires_grad]
    for p in trainable:
        p.grad = torch.full_like(p, 10.0)
    model.configure_gradient_clipping(optimizer, gradient_clip_val=1.0)
    norm = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in trainable]))
    assert norm == pytest.approx(1.0, rel=1e-4)


def test_resume_from_the_last_checkpoint(tmp_path, shared_cache, tiny_bert):
    base = ["trainer=cpu", "trainer.max_epochs=1", "+trainer.limit_train_batches=3",
            "+trainer.limit_val_batches=1", "+trainer.limit_test_batches=1"]
    train(config(tmp_path, shared_cache, tiny_bert, *base))
    last = tmp_path / "run" / "checkpoints" / "last.ckpt"
    assert torch.load(last, weights_only=False)["global_step"] == 3
    # resuming a finished run trains nothing more: the state really came from the checkpoint
    train(config(tmp_path, shared_cache, tiny_bert, *base, "ckpt_path=last"))
    assert torch.load(last, weights_only=False)["global_step"] == 3
    more = [b for b in base if "max_epochs" not in b] + ["trainer.max_epochs=2", "ckpt_path=last"]
    train(config(tmp_path, shared_cache, tiny_bert, *more))
    assert torch.load(last, weights_only=False)["global_step"] == 6


def group_options(group):
    return sorted(p.stem for p in (CONF / group).glob("*.yaml"))


@pytest.mark.parametrize("group", ["data", "windows", "split", "captions", "text", "render",
                                   "model", "encoder", "features", "loss", "optim", "trainer",
                                   "logger", "callbacks", "experiment"])
def test_every_group_value_composes_and_parses(tmp_path, group, tiny_bert):
    for option in group_options(group):
        cfg = config(tmp_path, tmp_path, tiny_bert, f"{group}={option}")
        resolved = OmegaConf.to_container(cfg, resolve=True)
        configs_from(resolved)                                   # typed stage configs
        EncoderConfig(**resolved["encoder"])
        FeatureConfig(**resolved["features"])
        loss = dict(resolved["loss"])
        build_loss(loss.pop("kind"), **loss)
        for node in list(resolved["logger"].values()) + list(resolved["callbacks"].values()):
            if node:
                assert "_target_" in node
        assert resolved["trainer"]["_target_"] == "lightning.Trainer"


def test_sweep_grid_composes(tmp_path, tiny_bert):
    for backbone, features in itertools.product(["clip", "dinov2", "siglip"],
                                                ["none", "coords_time"]):
        cfg = config(tmp_path, tmp_path, tiny_bert, f"model={backbone}", f"features={features}",
                     "model.pretrained=false")
        assert cfg.model.name == backbone and cfg.model.pretrained is False
        assert cfg.features.coords == (features == "coords_time")


def test_cli_runs_and_reports_without_traceback(tmp_path, tiny_bert):
    command = [sys.executable, "-m", "sensorclip.train", "trainer=debug", "data.days=4",
               f"text.path={tiny_bert}", "text.package=null", f"paths.cache_dir={tmp_path}",
               f"paths.log_dir={tmp_path / 'logs'}", "run_name=cli", "render.image_size=64"]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "recall@1" in result.stdout and "NOT pretrained" in result.stdout
    assert (tmp_path / "logs" / "train" / "cli" / "metrics.json").is_file()
    bad = subprocess.run(command + ["encoder.n_heads=3"], cwd=REPO, capture_output=True,
                         text=True, timeout=600)
    assert bad.returncode == 1 and "divisible" in bad.stderr and "Traceback" not in bad.stderr


def test_data_parallel_on_two_cpu_processes_reports_once(tmp_path, tiny_bert):
    """trainer=ddp (gloo on the CPU here): ranks share the work, rank 0 alone evaluates."""
    command = [sys.executable, "-m", "sensorclip.train", "trainer=ddp", "trainer.accelerator=cpu",
               "trainer.devices=2", "trainer.precision=32-true", "trainer.max_epochs=1",
               "+trainer.limit_train_batches=2", "data.days=4", f"text.path={tiny_bert}",
               "text.package=null", f"paths.cache_dir={tmp_path}", "render.image_size=64",
               f"paths.log_dir={tmp_path / 'logs'}", "run_name=ddp", "callbacks.progress_bar=null"]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count("run directory:") == 1
    assert (tmp_path / "logs" / "train" / "ddp" / "metrics.json").is_file()

