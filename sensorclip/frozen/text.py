"""Frozen text encoders: unique captions (or label descriptions) -> L2-normalised vectors.

Pooling follows each model's own recipe:
- ``mean``: masked mean of the last hidden states (all-MiniLM-L6-v2, GTE: both trained that way);
- ``cls``: the first token's hidden state (for BERT-style models trained with CLS pooling);
- ``clip``: CLIP's projected ``text_embeds`` (the joint image-text space, 512-d for ViT-B/32);
- ``siglip``: SigLIP's ``pooler_output`` with ``max_length`` padding, as SigLIP was trained.

Weights are found by ``sensorclip.frozen.weights`` (``text.path``, the package that ships the
default, the Hugging Face cache). ``text.precision=auto`` runs the model in bf16 where the CPU
multiplies bf16 natively (``sensorclip.hardware``), fp32 elsewhere. bf16 casts the frozen weights
once (autocast would cast every weight again on every batch) and pools and normalises in fp32. On
the CPU attention is the plain matrix-product form (``eager``): for captions of a few dozen tokens
torch's fused CPU kernel is slower in bf16. Two options trade differently: int8
(``text.precision=int8``) halves the fp32 time but its vectors move; ONNX Runtime
(``text.runtime=onnxruntime``, ``sensorclip.frozen.text_onnx``) computes the same fp32 vectors
with its own kernels (docs/performance.md has what each gives).

Captions are tokenized once, sorted by token count and batched, so a batch pads only to its own
longest caption (``padding_overhead`` records the cost).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from sensorclip import hardware
from sensorclip.config import TextEncoderConfig
from sensorclip.errors import ModelNotAvailableError, SensorClipError
from sensorclip.frozen.text_onnx import OnnxHiddenStates, onnxruntime_missing
from sensorclip.frozen.weights import (
    missing_message,
    pick_device,
    resolve_model_dir,
    weights_fingerprint,
)
from sensorclip.quiet import no_loading_bars


def resolved_precision(config: TextEncoderConfig) -> str:
    """``auto`` -> bf16 where the CPU multiplies bf16 matrices natively, else fp32 (always fp32
    when ``text.runtime=onnxruntime`` is asked for: that runtime computes in fp32)."""
    if config.precision != "auto":
        return config.precision
    if config.runtime == "onnxruntime":
        return "fp32"
    return "bf16" if hardware.native_bf16_matmul() else "fp32"


def checked_runtime(config: TextEncoderConfig, device: str) -> str:
    """``text.runtime``, once it is known to be able to run here."""
    if config.runtime == "onnxruntime":
        if device.split(":")[0] != "cpu":
            raise SensorClipError(f"text.runtime=onnxruntime runs on the CPU only "
                                  f"(text.device={device}); use text.runtime=torch")
        if missing := onnxruntime_missing():
            raise SensorClipError(f"text.runtime=onnxruntime: {missing}")
    return config.runtime


def int8_linear_layers(model: torch.nn.Module, device: str) -> torch.nn.Module:
    """The model with its linear layers quantised to int8 per call (dynamic quantisation:
    int8 weights per output channel, activations scaled per batch), on the CPU. It halves the
    encoder's time on a host without native bf16, but its vectors drift further from fp32 than
    bf16's do (the agreement measured on real captions is in docs/performance.md), so it is an
    option, never chosen by ``auto``. torch marks these functions deprecated in favour
    of torchao; their notices are silenced here only, and the pinned torch provides them."""
    if device.split(":")[0] != "cpu":
        raise SensorClipError(f"text.precision=int8 runs on the CPU only (text.device={device});"
                              " use text.precision=bf16 or fp32 on a GPU")
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*deprecated.*", category=UserWarning)
        return quantize_dynamic(model, {torch.nn.Linear: per_channel_dynamic_qconfig},
                                dtype=torch.qint8)


def compute_method(precision: str, device: str) -> str:
    """How the vectors are computed: part of the cache key, so a change of method re-embeds."""
    return f"{precision} weights, {attention_kind(device)} attention, fp32 pooling"


def attention_kind(device: str) -> str:
    return "eager" if device.split(":")[0] == "cpu" else "sdpa"


def text_encoder_identity(config: TextEncoderConfig) -> tuple[str, bool, dict]:
    """(source, is_local, identity) without loading weights: what decides the vectors."""
    source, is_local = resolve_model_dir(config.model_id, config.path, config.package,
                                         option="text", allow_download=config.allow_download,
                                         what="text encoder")
    precision = resolved_precision(config)
    return source, is_local, {"model_id": config.model_id, "pooling": config.pooling,
                              "max_length": config.max_length,
                              "weights": weights_fingerprint(source, is_local),
                              "precision": precision,
                              "compute": compute_method(precision, pick_device(config.device))}


def length_batches(lengths: np.ndarray, size: int) -> list[np.ndarray]:
    """Indices in batches of ``size``, by token count: each batch pads to similar lengths."""
    order = np.argsort(lengths, kind="stable")
    return [order[lo:lo + size] for lo in range(0, len(order), size)]


def padding_overhead(lengths: np.ndarray, batches: list[np.ndarray]) -> float:
    """Padded tokens computed per real token (0.05: the batches cost 5% more than the tokens)."""
    padded = sum(int(lengths[b].max()) * len(b) for b in batches)
    return padded / max(1, int(lengths.sum())) - 1


class TextEncoder:
    """A frozen HF text model with its tokenizer and pooling."""

    def __init__(self, config: TextEncoderConfig):
        self.config = config
        self.source, self.is_local, self.identity = text_encoder_identity(config)
        self.device = pick_device(config.device)
        self.precision = resolved_precision(config)
        self.runtime = checked_runtime(config, self.device)
        self.tokenizer, self.model = self._load()
        dtype = torch.bfloat16 if self.precision == "bf16" else torch.float32
        self.model.eval().requires_grad_(False).to(self.device, dtype)
        if self.precision == "int8":
            self.model = int8_linear_layers(self.model, self.device)
        self.padding_overhead = 0.0             # of the last encode call
        self._onnx: OnnxHiddenStates | None = None       # exported on first use

    def _load(self):
        import transformers
        classes = {"clip": transformers.CLIPTextModelWithProjection,
                   "siglip": transformers.SiglipTextModel}
        model_class = classes.get(self.config.pooling, transformers.AutoModel)
        try:
            with no_loading_bars():
                tokenizer = transformers.AutoTokenizer.from_pretrained(
                    self.source, local_files_only=self.is_local)
                model = model_class.from_pretrained(
                    self.source, local_files_only=self.is_local,
                    attn_implementation=attention_kind(self.device))
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
        tokens = self.tokenize(texts)
        lengths = np.array([len(ids) for ids in tokens["input_ids"]])
        batches = length_batches(lengths, self.config.batch_size)
        self.padding_overhead = padding_overhead(lengths, batches) if len(texts) else 0.0
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        with torch.inference_mode():
            for picked in tqdm(batches, desc=f"text [{self.config.name}]", unit="batch",
                               disable=not progress or len(batches) < 2):
                batch = self.tokenizer.pad({k: [v[i] for i in picked] for k, v in tokens.items()},
                                           return_tensors="pt")
                out[picked] = self._embed(batch).cpu().numpy()
        return out

    def _onnx_runtime(self, sample: dict[str, torch.Tensor]) -> OnnxHiddenStates:
        """The ONNX Runtime session, exported from the first batch."""
        if self._onnx is None:
            try:
                self._onnx = OnnxHiddenStates(self.model, sample, torch.get_num_threads())
            except Exception as exc:  # noqa: BLE001 - any exporter failure has the same remedy
                raise SensorClipError(f"text.runtime=onnxruntime could not export "
                                      f"{self.config.model_id}: {exc}; use "
                                      "text.runtime=torch") from None
        return self._onnx

    def tokenize(self, texts: Sequence[str]) -> dict[str, list]:
        """Token ids of every text, unpadded (SigLIP: padded to ``max_length``, as trained)."""
        padding = "max_length" if self.config.pooling == "siglip" else False
        return dict(self.tokenizer(list(texts), padding=padding, truncation=True,
                                   max_length=self.config.max_length))

    def _embed(self, tokens) -> torch.Tensor:
        """Unit vectors (fp32) of one padded batch of token ids."""
        tokens = {k: v.to(self.device) for k, v in tokens.items()}
        if self.config.pooling == "siglip":
            tokens.pop("attention_mask", None)    # SigLIP was trained without one
        if self.runtime == "onnxruntime":
            hidden = self._onnx_runtime(tokens)(tokens)
            if self.config.pooling == "cls":
                return torch.nn.functional.normalize(hidden[:, 0], dim=-1)
            return mean_pooled(hidden, tokens["attention_mask"])
        output = self.model(**tokens)
        if self.config.pooling == "clip":
            vectors = output.text_embeds
        elif self.config.pooling == "siglip":
            vectors = output.pooler_output
        elif self.config.pooling == "cls":
            vectors = output.last_hidden_state[:, 0]
        else:
            return mean_pooled(output.last_hidden_state, tokens["attention_mask"])
        return torch.nn.functional.normalize(vectors.float(), dim=-1)   # unit length in fp32


def mean_pooled(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Unit vectors (fp32) of the mean of each text's real tokens."""
    hidden = hidden.float()
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    vectors = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(vectors, dim=-1)
