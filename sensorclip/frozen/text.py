"""Frozen text encoders: unique captions (or label descriptions) -> L2-normalised vectors.

Pooling follows each model's own recipe:
- ``mean``: masked mean of the last hidden states (all-MiniLM-L6-v2, GTE: both trained that way);
- ``cls``: the first token's hidden state (for BERT-style models trained with CLS pooling);
- ``clip``: CLIP's projected ``text_embeds`` (the joint image-text space, 512-d for ViT-B/32);
- ``siglip``: SigLIP's ``pooler_output`` with ``max_length`` padding, as SigLIP was trained.

Weights are found by ``sensorclip.frozen.weights`` (``text.path``, the package that ships the
default, the Hugging Face cache). ``text.precision=auto`` runs bf16 autocast where the CPU
multiplies bf16 natively (``sensorclip.hardware``), fp32 elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from sensorclip import hardware
from sensorclip.config import TextEncoderConfig
from sensorclip.errors import ModelNotAvailableError
from sensorclip.frozen.weights import (
    missing_message,
    pick_device,
    resolve_model_dir,
    weights_fingerprint,
)


def resolved_precision(config: TextEncoderConfig) -> str:
    """``auto`` -> bf16 where the CPU multiplies bf16 matrices natively, else fp32."""
    if config.precision != "auto":
        return config.precision
    return "bf16" if hardware.native_bf16_matmul() else "fp32"


def text_encoder_identity(config: TextEncoderConfig) -> tuple[str, bool, dict]:
    """(source, is_local, identity) without loading weights: what decides the vectors."""
    source, is_local = resolve_model_dir(config.model_id, config.path, config.package,
                                         option="text", allow_download=config.allow_download,
                                         what="text encoder")
    return source, is_local, {"model_id": config.model_id, "pooling": config.pooling,
                              "max_length": config.max_length,
                              "weights": weights_fingerprint(source, is_local),
                              "precision": resolved_precision(config)}


class TextEncoder:
    """A frozen HF text model with its tokenizer and pooling."""

    def __init__(self, config: TextEncoderConfig):
        self.config = config
        self.source, self.is_local, self.identity = text_encoder_identity(config)
        self.device = pick_device(config.device)
        self.precision = resolved_precision(config)
        self.tokenizer, self.model = self._load()
        self.model.eval().requires_grad_(False).to(self.device)

    def _load(self):
        import transformers
        classes = {"clip": transformers.CLIPTextModelWithProjection,
                   "siglip": transformers.SiglipTextModel}
        model_class = classes.get(self.config.pooling, transformers.AutoModel)
        try:
            tokenizer = transformers.AutoTokenizer.from_pretrained(
                self.source, local_files_only=self.is_local)
            model = model_class.from_pretrained(self.source, local_files_only=self.is_local)
        except OSError as exc:
            raise ModelNotAvailableError(
                missing_message(self.config.model_id, "text", [str(self.source)],
                                "text encoder") + f" [{exc.__class__.__name__}]") from None
        return tokenizer, model

    @property
    def dim(self) -> int:
        cfg = self.model.config
        return int(getattr(cfg, "projection_dim", None) if self.config.pooling == "clip"
                   else cfg.hidden_size)

    def encode(self, texts: Sequence[str], progress: bool = True) -> np.ndarray:
        order = np.argsort([len(t) for t in texts], kind="stable")   # pad similar lengths together
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        size = self.config.batch_size
        batches = range(0, len(texts), size)
        autocast = torch.autocast(device_type=self.device.split(":")[0], dtype=torch.bfloat16,
                                  enabled=self.precision == "bf16")
        with torch.inference_mode(), autocast:
            for lo in tqdm(batches, desc=f"text [{self.config.name}]", unit="batch",
                           disable=not progress or len(batches) < 2):
                picked = order[lo:lo + size]
                out[picked] = self._embed([texts[i] for i in picked]).float().cpu().numpy()
        return out

    def _embed(self, batch: list[str]):
        padding = "max_length" if self.config.pooling == "siglip" else True
        tokens = self.tokenizer(batch, padding=padding, truncation=True,
                                max_length=self.config.max_length, return_tensors="pt")
        tokens = {k: v.to(self.device) for k, v in tokens.items()}
        if self.config.pooling == "siglip":
            tokens.pop("attention_mask", None)    # SigLIP was trained without one
        output = self.model(**tokens)
        if self.config.pooling == "clip":
            vectors = output.text_embeds
        elif self.config.pooling == "siglip":
            vectors = output.pooler_output
        elif self.config.pooling == "cls":
            vectors = output.last_hidden_state[:, 0]
        else:
            mask = tokens["attention_mask"].unsqueeze(-1).to(output.last_hidden_state.dtype)
            vectors = (output.last_hidden_state * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(vectors.float(), dim=-1)   # unit length in fp32
