"""Frozen vision backbones: (sensor, state) images -> one embedding each.

Families (Hydra group ``model``):
- ``clip``: CLIPVisionModelWithProjection, the projected ``image_embeds`` (512-d for ViT-B/32);
- ``dinov2``: Dinov2Model, ``pooler_output`` (the normalised CLS token, 768-d for base);
- ``siglip``: SiglipVisionModel, ``pooler_output`` (attention-pooled, 768-d for base);
- ``timm``: any timm model name, pooled pre-logit features (``num_classes=0``).

``pretrained=false`` builds the same architecture from its config class with seeded random
weights, which needs no download; the ``tiny`` preset is a random ViT-Tiny used by the demo and
tests and is labelled "not pretrained" wherever results are printed. Preprocessing uses the
model's own mean/std and input size and resizes the square render without cropping (DINOv2's
processor would centre-crop 224 of 256 and cut markers at the border).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm.auto import tqdm

from sensorclip.config import VisionConfig
from sensorclip.errors import ModelNotAvailableError, SensorClipError
from sensorclip.frozen.weights import (
    local_weights_file,
    optional_local_dir,
    pick_device,
    resolve_model_dir,
    weights_fingerprint,
)
from sensorclip.quiet import no_loading_bars

MEAN_STD = {
    "clip": ((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)),
    "dinov2": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    "siglip": ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
}


class VisionBackbone:
    """A frozen image model with the preprocessing it expects."""

    def __init__(self, config: VisionConfig):
        self.config = config
        self.device = pick_device(config.device)
        with torch.random.fork_rng(devices=[]):   # seeded weights; the caller's RNG untouched
            torch.manual_seed(config.seed)
            if config.family == "timm":
                self.model, self.revision, data = _load_timm(config)
                self.mean, self.std, self.input_size = data
            else:
                self.model, self.revision, source = _load_hf(config)
                self.mean, self.std = _mean_std(config.family, source)
                # DINOv2 checkpoints say 518, but its processor feeds 224 crops
                self.input_size = (224 if config.family == "dinov2"
                                   else int(self.model.config.image_size))
        self.model.eval().requires_grad_(False).to(self.device)

    @property
    def dim(self) -> int:
        with torch.inference_mode():
            probe = torch.zeros(1, 3, self.input_size, self.input_size, device=self.device)
            return int(self.forward(probe).shape[-1])

    def preprocess(self, images: Sequence) -> torch.Tensor:
        size = self.input_size
        pixels = np.stack([np.asarray(im.convert("RGB").resize((size, size), Image.BICUBIC),
                                      dtype=np.float32) / 255.0 for im in images])
        pixels = (pixels - np.asarray(self.mean, np.float32)) / np.asarray(self.std, np.float32)
        return torch.from_numpy(pixels).permute(0, 3, 1, 2).contiguous()

    def forward(self, pixels) -> torch.Tensor:
        if self.config.family == "timm":
            return self.model(pixels)
        output = self.model(pixel_values=pixels)
        return output.image_embeds if self.config.family == "clip" else output.pooler_output

    def embed(self, images: Sequence, progress: bool = True) -> np.ndarray:
        chunks = []
        size = self.config.batch_size
        with torch.inference_mode():
            for lo in tqdm(range(0, len(images), size), desc=f"vision [{self.config.name}]",
                           unit="batch", disable=not progress):
                pixels = self.preprocess(images[lo:lo + size]).to(self.device)
                chunks.append(self.forward(pixels).float().cpu().numpy())
        vectors = np.concatenate(chunks)
        if not np.isfinite(vectors).all():
            raise SensorClipError(f"backbone {self.config.model_id} produced NaN/inf embeddings; "
                                  "check the weights (model.path) and the rendered images")
        return vectors


def vision_identity(config: VisionConfig) -> dict:
    """What decides the embeddings, found without loading the weights (for cache keys)."""
    identity = {"family": config.family, "model_id": config.model_id,
                "pretrained": config.pretrained}
    if config.family == "learned":
        return {**identity, "weights": "trained with the encoder", "dim": 0}
    if not config.pretrained:
        local = None if config.family == "timm" else optional_local_dir(config.model_id,
                                                                          config.path)
        arch = weights_fingerprint(local, True) if local else "default-config"
        return {**identity, "weights": f"random-init-seed{config.seed}", "arch": arch}
    if config.family == "timm":
        weights = _timm_weights(config)
        return {**identity, "weights": weights_fingerprint(weights, weights is not None)}
    source, is_local = resolve_model_dir(config.model_id, config.path, None, option="model",
                                         allow_download=config.allow_download,
                                         what="vision backbone")
    return {**identity, "weights": weights_fingerprint(source, is_local)}


def _hf_classes(family: str):
    import transformers as tf
    return {"clip": (tf.CLIPVisionModelWithProjection, tf.CLIPVisionConfig),
            "dinov2": (tf.Dinov2Model, tf.Dinov2Config),
            "siglip": (tf.SiglipVisionModel, tf.SiglipVisionConfig)}[family]


def _load_hf(config: VisionConfig):
    """(model, revision, local source or None)."""
    model_class, config_class = _hf_classes(config.family)
    if not config.pretrained:
        source = optional_local_dir(config.model_id, config.path)   # a local config.json
        arch = config_class.from_pretrained(source) if source else config_class()
        return model_class(arch), f"random-init-seed{config.seed}", source
    source, is_local = resolve_model_dir(config.model_id, config.path, None, option="model",
                                         allow_download=config.allow_download,
                                         what="vision backbone")
    try:
        with no_loading_bars():
            model = model_class.from_pretrained(source, local_files_only=is_local)
    except OSError as exc:
        raise ModelNotAvailableError(
            f"vision backbone {config.model_id!r} could not be loaded from {source} "
            f"({exc.__class__.__name__}); point model.path at a complete download or pass "
            "model.pretrained=false for random weights") from None
    return model, weights_fingerprint(source, is_local), source if is_local else None


def _mean_std(family: str, source: str | None):
    if source:
        processor = Path(source) / "preprocessor_config.json"
        if processor.is_file():
            values = json.loads(processor.read_text())
            if "image_mean" in values and "image_std" in values:
                return tuple(values["image_mean"]), tuple(values["image_std"])
    return MEAN_STD[family]


def _load_timm(config: VisionConfig):
    """(model, revision, (mean, std, input size)) for a timm model name."""
    import timm
    from timm.data import resolve_data_config
    kwargs = {"num_classes": 0}
    revision = f"random-init-seed{config.seed}"
    if config.pretrained:
        weights = _timm_weights(config)
        if weights is not None:
            kwargs["pretrained_cfg_overlay"] = {"file": str(weights)}
        revision = weights_fingerprint(weights, weights is not None)
    try:
        model = timm.create_model(config.model_id, pretrained=config.pretrained, **kwargs)
    except RuntimeError as exc:
        if "Unknown model" in str(exc):
            raise SensorClipError(f"timm has no model {config.model_id!r}; see timm.list_models()"
                                  " for names (model.model_id=...)") from None
        raise
    data = resolve_data_config({}, model=model)
    return model, revision, (tuple(data["mean"]), tuple(data["std"]), int(data["input_size"][-1]))


def _timm_weights(config: VisionConfig) -> Path | None:
    return local_weights_file(config.model_id, config.path, "model", config.allow_download)
