"""Content-addressed caches: each stage's output lives under a key derived from what made it.

An entry is a directory ``<root>/<stage>/<key>/`` holding the stage's files and a
``provenance.json`` (the full spec the key was hashed from, timings, versions). The key hashes the
stage's spec: upstream keys or content hashes of input files, the stage config and the stage's code
version, so a changed input, config or algorithm never reuses a stale entry.

Entries are built in a temporary sibling directory and renamed into place in one step; a crash
leaves only a ``.tmp-*`` directory that no reader trusts (and ``clean_stale_temps`` removes).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from sensorclip.errors import CacheError
from sensorclip.files import atomic_write_text

PROVENANCE = "provenance.json"


def spec_key(spec: Mapping[str, Any]) -> str:
    canonical = json.dumps(spec, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:20]


class Cache:
    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser()

    def path(self, stage: str, spec: Mapping[str, Any]) -> Path:
        return self.root / stage / spec_key(spec)

    def lookup(self, stage: str, spec: Mapping[str, Any]) -> Path | None:
        entry = self.path(stage, spec)
        provenance = entry / PROVENANCE
        if not provenance.is_file():
            return None
        try:
            recorded = json.loads(provenance.read_text())["spec"]
        except (OSError, ValueError, KeyError):
            raise CacheError(f"{provenance}: unreadable provenance; delete {entry} and "
                             "rerun") from None
        if json.loads(json.dumps(spec, default=str)) != recorded:
            raise CacheError(f"{entry}: provenance does not match its key (a hash collision or a "
                             f"hand-edited entry); delete {entry} and rerun")
        return entry

    def get_or_build(self, stage: str, spec: Mapping[str, Any],
                     build: Callable[[Path], Mapping[str, Any] | None]) -> tuple[Path, bool]:
        """(entry directory, built_now). ``build(tmpdir)`` writes files and may return a summary."""
        found = self.lookup(stage, spec)
        if found is not None:
            return found, False
        final = self.path(stage, spec)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.parent / f".{final.name}.tmp-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        started = time.perf_counter()
        try:
            summary = build(tmp) or {}
            record = {"stage": stage, "key": final.name, "spec": spec, "summary": summary,
                      "seconds": round(time.perf_counter() - started, 3),
                      "created": time.strftime("%Y-%m-%dT%H:%M:%S")}
            atomic_write_text(tmp / PROVENANCE, json.dumps(record, indent=2, default=str))
            try:
                os.rename(tmp, final)
            except OSError:
                if not (final / PROVENANCE).is_file():   # not a concurrent twin: a real failure
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return final, True

    def clean_stale_temps(self) -> int:
        stale = list(self.root.glob("*/.*.tmp-*")) if self.root.is_dir() else []
        for path in stale:
            shutil.rmtree(path, ignore_errors=True)
        return len(stale)


def provenance(entry: Path) -> dict:
    return json.loads((entry / PROVENANCE).read_text())


def load_npz(path: str | Path, required: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Load every array of an npz eagerly, with one clear error for a missing or corrupt file."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except FileNotFoundError:
        raise CacheError(f"{path}: missing cache file; rerun `python -m sensorclip.prepare`") \
            from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise CacheError(f"{path}: corrupt or truncated cache file ({exc.__class__.__name__}: "
                         f"{exc}); delete it and rerun `python -m sensorclip.prepare`") from None
    missing = [name for name in required if name not in arrays]
    if missing:
        raise CacheError(f"{path}: cache file lacks {missing}; delete it and rerun prepare")
    return arrays
