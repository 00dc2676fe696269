import itertools
import json

import lightning as L
import pytest
import torch
import yaml
from lightning.pytorch.plugins import MixedPrecision
from omegaconf import OmegaConf

from helpers import CONF
from helpers.commands import assert_clean_failure, run_module
from helpers.models import tiny_timm_weights, tiny_vision_model
from sensorclip.config import GROUP_SCHEMAS, stage_configs, typed
from sensorclip.errors import SensorClipError
from sensorclip.model.losses import build_loss
from sensorclip.runs import build_run
from sensorclip.train import objective, train


def fresh_run(compose_config, tmp_path, *overrides):
    return build_run(OmegaConf.to_container(compose_config(*overrides), resolve=True), tmp_path)


def test_optimizer_really_holds_the_text_projection_and_no_decay_on_temperature(
        compose_config, tmp_path):
    model = fresh_run(compose_config, tmp_path, "text_projection=mlp").model
    groups = model.parameter_groups()
    decayed = {id(p) for p in groups[0]["params"]}
    plain = {id(p) for p in groups[1]["params"]}
    assert all(id(p) in decayed | plain for p in model.text_head.parameters())
    assert any(id(p) in decayed for p in model.text_head.parameters())
    assert id(model.loss_fn.log_scale) in plain and id(model.encoder.cls) in plain
    assert not any(p.requires_grad for p in model.encoder.features.inputs.parameters())


@pytest.mark.slow
@pytest.mark.parametrize("backbone", ["tiny", "clip", "dinov2", "siglip", "timm", "learned"])
def test_two_batch_training_smoke_run_per_backbone(compose_config, tmp_path, backbone):
    overrides = [f"model={backbone}"]
    if backbone in ("clip", "dinov2", "siglip"):
        overrides.append(f"model.path={tiny_vision_model(tmp_path / backbone, backbone)}")
    elif backbone == "timm":
        weights = tiny_timm_weights(tmp_path / "timm" / "model.safetensors")
        overrides += ["model.model_id=vit_tiny_patch16_224", f"model.path={weights.parent}"]
    metrics = train(compose_config("trainer=debug", *overrides, "features=coords_time"))
    for key in ("recall@1_sensor_to_text", "recall@10_text_to_sensor",
                "median_rank_sensor_to_text", "cosine_gap"):
        assert key in metrics
    assert 0 <= metrics["recall@1_sensor_to_text"] <= 1
    assert metrics["pretrained"] == (backbone not in ("tiny", "learned"))
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved["n_test_windows"] == metrics["n_test_windows"] > 0
    phases = [saved[f"seconds_{phase}"] for phase in ("prepare", "fit", "evaluate")]
    assert min(phases) >= 0 and sum(phases) == pytest.approx(saved["seconds"], abs=0.2)
    assert (tmp_path / "run" / "config.yaml").is_file()


@pytest.mark.slow
def test_bf16_mixed_precision_trains_with_gradient_clipping(compose_config):
    """The GPU presets run bf16-mixed with clipping; the fused optimizer must allow both."""
    cfg = compose_config("trainer=debug", "trainer.precision=bf16-mixed",
                         "trainer.gradient_clip_val=1.0")
    assert 0 <= train(cfg)["recall@1_sensor_to_text"] <= 1


def test_learned_inputs_replace_the_images_and_train(compose_config, tmp_path):
    run = fresh_run(compose_config, tmp_path, "model=learned")
    inputs = run.model.encoder.features.inputs
    prep = run.datamodule.prepared
    assert prep.pair_embeddings is None and "vision" not in prep.entries
    assert inputs.sensor_embed.num_embeddings == len(prep.home.sensor_ids)
    assert inputs.sensor_embed.weight.requires_grad and inputs.state_embed.weight.requires_grad
    sensors = inputs.pair_sensor[prep.event_pair[:20]].tolist()
    assert [prep.home.sensor_ids[s] for s in sensors] == \
        [prep.sensor_names[s] for s in prep.sensor[:20]]
    plain = {id(p) for p in run.model.parameter_groups()[1]["params"]}
    assert id(inputs.sensor_embed.weight) in plain                  # embeddings: no decay
    batch = run.datamodule.eval_dataset("train")[list(range(8))]
    sensor, text = run.model(batch)
    run.model.loss_fn(sensor, text, run.model.positives(batch)).backward()
    assert inputs.sensor_embed.weight.grad.abs().sum() > 0


def test_rehoming_to_the_same_home_changes_nothing(compose_config, tmp_path):
    run = fresh_run(compose_config, tmp_path, "features=coords_time")
    model = run.model.eval()
    moved = model.rehome(**run.datamodule.model_inputs()).eval()
    batch = run.datamodule.eval_dataset("test")[list(range(6))]
    with torch.no_grad():
        assert torch.allclose(model(batch)[0], moved(batch)[0], atol=1e-6)
    assert moved.encoder.features.inputs.folded.data_ptr() != \
        model.encoder.features.inputs.folded.data_ptr()


def test_fp16_loss_scaling_uses_an_unfused_optimizer_and_clips(compose_config, tmp_path):
    """With a gradient scaler, clipping must see unscaled gradients: no fused step then."""
    run = fresh_run(compose_config, tmp_path)
    plugin = MixedPrecision("16-mixed", "cpu", scaler=torch.amp.GradScaler("cpu"))
    trainer = L.Trainer(accelerator="cpu", plugins=[plugin], gradient_clip_val=1.0, max_steps=2,
                        logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        limit_val_batches=0, enable_model_summary=False)
    trainer.fit(run.model, datamodule=run.datamodule)
    assert trainer.global_step == 2
    assert not trainer.optimizers[0].defaults["fused"]


def test_clipping_without_a_scaler_bounds_the_gradient_norm(compose_config, tmp_path):
    model = fresh_run(compose_config, tmp_path).model
    optimizer = torch.optim.AdamW(model.parameter_groups())
    trainable = [p for p in model.parameters() if p.requires_grad]
    for p in trainable:
        p.grad = torch.full_like(p, 10.0)
    model.configure_gradient_clipping(optimizer, gradient_clip_val=1.0)
    norm = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in trainable]))
    assert norm == pytest.approx(1.0, rel=1e-4)


@pytest.mark.slow
def test_resume_from_the_last_checkpoint(compose_config, tmp_path):
    base = ["trainer.max_epochs=1", "+trainer.limit_train_batches=3",
            "+trainer.limit_val_batches=1", "+trainer.limit_test_batches=1"]
    train(compose_config(*base))
    last = tmp_path / "run" / "checkpoints" / "last.ckpt"
    assert torch.load(last, weights_only=False)["global_step"] == 3
    # resuming a finished run trains nothing more: the state really came from the checkpoint
    train(compose_config(*base, "ckpt_path=last"))
    assert torch.load(last, weights_only=False)["global_step"] == 3
    train(compose_config(*base, "trainer.max_epochs=2", "ckpt_path=last"))
    assert torch.load(last, weights_only=False)["global_step"] == 6


def group_options(group):
    return sorted(p.stem for p in (CONF / group).glob("*.yaml"))


@pytest.mark.parametrize("group", ["data", "windows", "split", "captions", "text", "render",
                                   "model", "encoder", "features", "loss", "optim", "loader",
                                   "trainer", "logger", "callbacks", "experiment"])
def test_every_group_option_composes_and_validates(compose_config, group):
    for option in group_options(group):
        # what an option leaves to the user: a real log's path, and for data=log its layout
        data = compose_config(f"{group}={option}").data
        needs = [f"data.{key}={value}" for key, value in (("raw_path", "data"), ("layout", "demo"))
                 if data.source == "file" and data[key] is None]
        resolved = OmegaConf.to_container(compose_config(f"{group}={option}", *needs),
                                          resolve=True)
        stage_configs(resolved)                                  # typed stage configs
        for name in ("encoder", "features", "loss", "optim", "loader"):
            typed(GROUP_SCHEMAS[name], resolved[name])
        build_loss(typed(GROUP_SCHEMAS["loss"], resolved["loss"]))
        for node in list(resolved["logger"].values()) + list(resolved["callbacks"].values()):
            if node:
                assert "_target_" in node
        assert resolved["trainer"]["_target_"] == "lightning.Trainer"


@pytest.mark.parametrize("group", sorted(GROUP_SCHEMAS))
def test_option_files_state_only_differences_from_their_schema(group):
    """A key and its default live in the schema alone: an option file that inherits the schema
    sets only keys whose values differ from the defaults."""
    defaults = OmegaConf.to_container(OmegaConf.structured(GROUP_SCHEMAS[group]))
    for path in sorted((CONF / group).glob("*.yaml")):
        option = yaml.safe_load(path.read_text()) or {}
        if option.pop("defaults", None) != ["schema"]:
            continue                                  # inherits another option (fd60_p: fd60)
        repeated = [k for k, v in option.items() if k in defaults and defaults[k] == v]
        assert repeated == [], f"{path.name} repeats schema defaults {repeated}"


def test_sweep_grid_composes(compose_config):
    for backbone, features in itertools.product(["clip", "dinov2", "siglip"],
                                                ["none", "coords_time"]):
        cfg = compose_config(f"model={backbone}", f"features={features}",
                             "model.pretrained=false")
        assert cfg.model.name == backbone and cfg.model.pretrained is False
        assert cfg.features.coords == (features == "coords_time")


def test_experiments_set_the_backbone_and_the_command_line_wins(compose_config):
    assert compose_config("experiment=milan_clip").model.name == "clip"
    assert compose_config("experiment=milan", "model=siglip").model.name == "siglip"
    assert compose_config("experiment=milan").encoder.projection_dim == 512


@pytest.mark.slow
def test_cli_refuses_a_bad_config_in_one_line(tmp_path, tiny_bert):
    """The working command is tests/test_readme_commands.py's."""
    args = ["trainer=debug", "data.days=4", f"text.path={tiny_bert}", "text.package=null",
            f"paths.cache_dir={tmp_path}", f"paths.log_dir={tmp_path / 'logs'}", "run_name=cli",
            "render.image_size=64"]
    assert_clean_failure(run_module("sensorclip.train", *args, "encoder.n_heads=3"), "divisible")
    assert not (tmp_path / "logs" / "train" / "cli" / "metrics.json").exists()


@pytest.mark.slow
def test_data_parallel_on_two_cpu_processes_reports_once(tmp_path, tiny_bert):
    """trainer=ddp (gloo on the CPU here): ranks share the work, rank 0 alone evaluates."""
    result = run_module(
        "sensorclip.train", "trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=2",
        "trainer.precision=32-true", "trainer.max_epochs=1", "+trainer.limit_train_batches=2",
        "data.days=4", f"text.path={tiny_bert}", "text.package=null",
        f"paths.cache_dir={tmp_path}", "render.image_size=64", f"paths.log_dir={tmp_path / 'logs'}",
        "run_name=ddp", "callbacks.progress_bar=null")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count("run directory:") == 1
    assert (tmp_path / "logs" / "train" / "ddp" / "metrics.json").is_file()


def test_sweeps_optimise_validation_metrics_only():
    metrics = {"val_linear_probe_macro_f1": 0.7, "linear_probe_macro_f1": 0.9}
    assert objective(metrics, "val_linear_probe_macro_f1") == 0.7
    assert objective(metrics, None) is None
    with pytest.raises(SensorClipError, match="validation only"):
        objective(metrics, "linear_probe_macro_f1")
    with pytest.raises(SensorClipError, match="not in metrics.json"):
        objective(metrics, "val_bag_macro_f1")


@pytest.mark.slow
def test_optuna_search_runs_trials_and_reports_the_best(tmp_path, tiny_bert):
    result = run_module(
        "sensorclip.train", "-m", "hparams_search=optuna", "hydra.sweeper.n_trials=2",
        "trainer=debug", "data.days=4", f"text.path={tiny_bert}", "text.package=null",
        "render.image_size=64", f"paths.cache_dir={tmp_path}", f"paths.log_dir={tmp_path / 'l'}",
        "eval.fewshot_k=[1]", "eval.fewshot_draws=1", "eval.bootstrap_resamples=100",
        "callbacks.progress_bar=null")
    assert result.returncode == 0, result.stderr[-2000:]
    (results,) = (tmp_path / "l" / "sweeps").glob("*/optimization_results.yaml")
    best = yaml.safe_load(results.read_text())
    assert 0 < best["best_value"] <= 1 and "features" in best["best_params"]
    assert len(list(results.parent.glob("*/metrics.json"))) == 2
