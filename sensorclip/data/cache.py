"""Content-addressed caches: each stage's output lives under a key derived from what made it.

An entry is a directory ``<root>/<stage>/<key>/`` holding the stage's files and a
``provenance.json`` (the full spec the key was hashed from, timings, versions). The key hashes the
stage's spec: upstream keys or content hashes of input files, the stage config and the stage's code
version, so a changed input, config or algorithm never reuses a stale entry.

Entries are built in a temporary sibling directory and renamed into place in one step; a crash
leaves only a ``.tmp-*`` directory that no reader trusts. Several processes may share a cache (a
sweep, two terminals): a temporary directory's name carries its owner (host, pid and the process's
start time), and ``clean_stale_temps`` removes only those whose owner is no longer running. Two
processes building the same entry both end with it: the second rename finds the first one's
complete entry and keeps it. A directory at an entry's place without ``provenance.json`` was never
renamed there complete; it is discarded and rebuilt.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import socket
import time
import uuid
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from sensorclip.errors import CacheError, SensorClipError
from sensorclip.files import atomic_write_text, read_json

PROVENANCE = "provenance.json"
TEMP_MARK = ".tmp-"
# Failures to write a cache entry that the user fixes by freeing space or choosing another place.
NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
NOT_WRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS)


def spec_key(spec: Mapping[str, Any]) -> str:
    canonical = json.dumps(spec, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:20]


class Cache:
    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser()
        if self.root.exists() and not self.root.is_dir():
            raise CacheError(f"cache directory {self.root} is a file, not a directory; point "
                             "paths.cache_dir (or SENSORCLIP_CACHE) at a directory")

    def path(self, stage: str, spec: Mapping[str, Any]) -> Path:
        return self.root / stage / spec_key(spec)

    def lookup(self, stage: str, spec: Mapping[str, Any]) -> Path | None:
        entry = self.path(stage, spec)
        provenance = entry / PROVENANCE
        if not provenance.is_file():
            if entry.exists():          # complete entries always carry their provenance
                _discard(entry)
            return None
        try:
            recorded = read_json(provenance, PROVENANCE_SHAPE, "cache provenance")["spec"]
        except SensorClipError as exc:
            raise CacheError(f"{exc}; delete {entry} and rerun") from None
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
        try:
            self._build(stage, spec, final, build)
        except OSError as exc:
            if not self._cannot_write(exc):
                raise
            raise CacheError(f"cannot write cache entry {final} ({exc.strerror}); free space "
                             "there or point paths.cache_dir (or SENSORCLIP_CACHE) at a writable "
                             "directory") from None
        return final, True

    def _build(self, stage: str, spec: Mapping[str, Any], final: Path,
               build: Callable[[Path], Mapping[str, Any] | None]) -> None:
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = temporary_path(final)
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

    def _cannot_write(self, exc: OSError) -> bool:
        """A full disk, or a read-only or forbidden cache directory: the user's to fix (a
        permission error on an input file elsewhere is not the cache's)."""
        inside = exc.filename is not None and Path(exc.filename).is_relative_to(self.root)
        return exc.errno in NO_SPACE or (exc.errno in NOT_WRITABLE and inside)

    def clean_stale_temps(self) -> int:
        """Remove the temporary directories of builds whose process has ended (killed or
        crashed); those of running processes, here or on another host, are left alone."""
        temps = list(self.root.glob(f"*/.*{TEMP_MARK}*")) if self.root.is_dir() else []
        stale = [path for path in temps if _is_stale(path)]
        for path in stale:
            shutil.rmtree(path, ignore_errors=True)
        return len(stale)


# ---------------------------------------------------------------------------------------------
# Temporary directories and their owners


def temporary_path(final: Path) -> Path:
    """A hidden sibling of ``final`` whose name says who builds it (see ``_is_stale``)."""
    return final.parent / f".{final.name}{TEMP_MARK}{_owner()}-{uuid.uuid4().hex[:8]}"


def _owner() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()}-{pid}-{_start_time(pid)}"


def _start_time(pid: int) -> str:
    """When a process started (clock ticks since boot, from /proc; "0" where unknown): with the
    pid it tells a running owner from a later process that reuses its pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "0"
    return stat.rsplit(")", 1)[1].split()[19]      # field 22, counted after the command name


def _is_stale(temp: Path) -> bool:
    """Whether a temporary directory's owner has ended. Owners on another host cannot be
    checked and count as running; a name without an owner was left by an older version."""
    owner = temp.name.rpartition(TEMP_MARK)[2].rsplit("-", 3)
    if len(owner) != 4 or not owner[1].isdigit():
        return True
    host, pid, started, _ = owner
    if host != socket.gethostname():
        return False
    if not _running(int(pid)):
        return True
    now = _start_time(int(pid))
    return now != "0" and now != started


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:         # alive, owned by another user
        return True
    return True


def _discard(entry: Path) -> None:
    """Move an invalid entry out of the way (as a temp of ours), then delete it."""
    trash = temporary_path(entry)
    try:
        os.rename(entry, trash)
    except FileNotFoundError:       # another process discarded it first
        return
    if trash.is_dir():
        shutil.rmtree(trash, ignore_errors=True)
    else:
        trash.unlink(missing_ok=True)


# What every provenance.json holds (Cache._build writes it); readers rely on these keys.
PROVENANCE_SHAPE = {"stage": str, "key": str, "spec": dict, "summary": dict}


def provenance(entry: Path) -> dict:
    return read_json(entry / PROVENANCE, PROVENANCE_SHAPE, "cache provenance")


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
