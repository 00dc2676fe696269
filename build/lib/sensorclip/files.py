"""Files written so that a reader never sees half of one, and content digests of files."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterable
from pathlib import Path

import numpy as np


def file_digest(path: str | Path) -> str:
    """sha256 of a file's bytes (hex)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()


def texts_digest(texts: Iterable[str]) -> str:
    """A short digest of a list of strings, in order."""
    return hashlib.sha256("\n".join(texts).encode()).hexdigest()[:20]


def directory_digest(directory: str | Path) -> str:
    """Content hash of every (non-hidden) file below a directory, names included."""
    directory = Path(directory)
    digest = hashlib.sha256()
    for file in sorted(directory.rglob("*")):
        if file.is_file() and not file.name.startswith("."):
            digest.update(file.relative_to(directory).as_posix().encode())
            with open(file, "rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 22), b""):
                    digest.update(chunk)
    return digest.hexdigest()[:16]


def temporary_sibling(path: Path, suffix: str = "") -> Path:
    """A hidden, uniquely named file beside ``path`` (same directory, so a rename is atomic)."""
    return path.with_name(f".{path.stem if suffix else path.name}.tmp-{uuid.uuid4().hex[:8]}"
                          f"{suffix}")


def atomic_write_text(path: str | Path, text: str) -> None:
    path = Path(path)
    tmp = temporary_sibling(path)
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def save_npz(path: str | Path, **arrays: np.ndarray) -> None:
    """np.savez through a temp file + rename, so a reader never sees half an archive."""
    path = Path(path)
    tmp = temporary_sibling(path, ".npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)
