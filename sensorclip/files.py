"""Files written so that a reader never sees half of one, and content digests of files."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sensorclip.errors import SensorClipError


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


# ---------------------------------------------------------------------------------------------
# Files read back, checked by shape: a wrong type or a missing key is one line naming the file


Shape = type | tuple | dict
TYPE_WORDS = {dict: "a mapping", list: "a list", str: "a string", int: "an integer",
              float: "a number", bool: "true or false"}


def read_json(path: str | Path, shape: Shape, what: str) -> Any:
    """The JSON document at ``path``, checked against ``shape``: a type (or tuple of types),
    or a dict of required key -> shape (other keys are allowed)."""
    path = Path(path)
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SensorClipError(f"{path}: the {what} cannot be read ({exc.strerror})") from None
    except ValueError:
        raise SensorClipError(f"{path}: the {what} is not valid JSON (a crash while writing, "
                              "or an edit); rerun the job that writes it") from None
    return check_shape(value, shape, path, what)


def read_yaml_mapping(path: str | Path, what: str, required: Iterable[str] = ()) -> dict:
    """A YAML file that must hold a mapping with the ``required`` keys (a run's config.yaml)."""
    path = Path(path)
    try:
        value = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SensorClipError(f"{path}: the {what} cannot be read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise SensorClipError(f"{path}: the {what} is not valid YAML "
                              f"({str(exc).splitlines()[0]})") from None
    return check_shape(value, dict.fromkeys(required, object), path, what)


def check_shape(value: Any, shape: Shape, path: Path, what: str, where: str = "") -> Any:
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            raise SensorClipError(f"{path}: the {what}{_at(where)} should be a mapping, found "
                                  f"{_kind(value)}")
        for key, inner in shape.items():
            if key not in value:
                raise SensorClipError(f"{path}: the {what} lacks the key {where}{key!r}; it was "
                                      "not written by this version of sensorclip, or was cut "
                                      "short")
            check_shape(value[key], inner, path, what, f"{where}{key}.")
        return value
    kinds = shape if isinstance(shape, tuple) else (shape,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds
                                        and object not in kinds):
        expected = " or ".join(TYPE_WORDS.get(k, k.__name__) for k in kinds)
        raise SensorClipError(f"{path}: the {what}{_at(where)} should be {expected}, found "
                              f"{_kind(value)}")
    return value


def _at(where: str) -> str:
    return f"'s {where.rstrip('.')!r}" if where else ""


def _kind(value: Any) -> str:
    return "null" if value is None else f"{type(value).__name__} {str(value)[:40]!r}"
