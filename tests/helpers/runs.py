"""A run directory without training: config.yaml and an untrained model's checkpoint, for tests
of what loads, resumes and evaluates runs (seconds instead of a training run)."""

from pathlib import Path

import lightning as L
import torch
from omegaconf import OmegaConf

from sensorclip.runs import build_run, save_config


def untrained_run(cfg, run_dir: Path) -> Path:
    """Write ``run_dir`` as training would (resolved config.yaml, checkpoints/last.ckpt) for a
    fresh model of the composed ``cfg``; returns the checkpoint."""
    resolved = OmegaConf.to_container(cfg, resolve=True)
    save_config(run_dir, resolved)
    model = build_run(resolved, run_dir).model
    checkpoint = run_dir / "checkpoints" / "last.ckpt"
    checkpoint.parent.mkdir(parents=True)
    torch.save({"state_dict": model.state_dict(), "hyper_parameters": dict(model.hparams),
                "pytorch-lightning_version": L.__version__}, checkpoint)
    return checkpoint
