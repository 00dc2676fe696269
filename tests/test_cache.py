import errno
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sensorclip.data.cache import Cache, _start_time, load_npz, spec_key, temporary_path
from sensorclip.errors import CacheError
from sensorclip.files import save_npz


def writer(value):
    def build(tmp):
        save_npz(tmp / "x.npz", x=np.array([value]))
        return {"value": value}
    return build


def test_same_spec_reuses_changed_spec_rebuilds(tmp_path):
    cache = Cache(tmp_path)
    first, built = cache.get_or_build("stage", {"a": 1}, writer(1))
    again, built_again = cache.get_or_build("stage", {"a": 1}, writer(99))
    other, built_other = cache.get_or_build("stage", {"a": 2}, writer(2))
    assert built and not built_again and built_other
    assert first == again != other
    assert load_npz(again / "x.npz")["x"].tolist() == [1]
    record = json.loads((first / "provenance.json").read_text())
    assert record["spec"] == {"a": 1} and record["summary"] == {"value": 1}


def test_key_ignores_dict_order_but_not_values():
    assert spec_key({"a": 1, "b": [1, 2]}) == spec_key({"b": [1, 2], "a": 1})
    assert spec_key({"a": 1}) != spec_key({"a": 1.5})


def test_a_crashing_build_leaves_nothing_a_later_run_would_trust(tmp_path):
    cache = Cache(tmp_path)

    def crash(tmp):
        save_npz(tmp / "x.npz", x=np.zeros(3))
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        cache.get_or_build("stage", {"a": 1}, crash)
    assert cache.lookup("stage", {"a": 1}) is None
    assert not any(p.name.startswith(".") for p in (tmp_path / "stage").iterdir())


def test_tampered_provenance_and_corrupt_files_fail_clearly(tmp_path):
    cache = Cache(tmp_path)
    entry, _ = cache.get_or_build("stage", {"a": 1}, writer(1))
    record = json.loads((entry / "provenance.json").read_text())
    record["spec"] = {"a": 2}
    (entry / "provenance.json").write_text(json.dumps(record))
    with pytest.raises(CacheError, match="does not match"):
        cache.lookup("stage", {"a": 1})
    (entry / "x.npz").write_bytes((entry / "x.npz").read_bytes()[:20])
    with pytest.raises(CacheError, match="corrupt or truncated"):
        load_npz(entry / "x.npz")
    with pytest.raises(CacheError, match="missing"):
        load_npz(entry / "absent.npz")


def test_stale_temporaries_are_removed(tmp_path):
    (tmp_path / "stage" / ".abc.tmp-1234").mkdir(parents=True)
    assert Cache(tmp_path).clean_stale_temps() == 1


def test_only_temporaries_of_ended_processes_are_stale(tmp_path):
    """A temp's name carries its owner: host, pid and the process's start time."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host, me = socket.gethostname(), os.getpid()
    started = _start_time(me)
    stage = tmp_path / "stage"
    temps = {
        "mine": f".k1.tmp-{host}-{me}-{started}-aaaa0001",
        "dead": f".k2.tmp-{host}-{dead.pid}-{started}-aaaa0002",
        "reused_pid": f".k3.tmp-{host}-{me}-{int(started) + 1}-aaaa0003",
        "other_host": f".k4.tmp-elsewhere.example-{dead.pid}-1-aaaa0004",
        "no_owner": ".k5.tmp-aaaa0005",
    }
    for name in temps.values():
        (stage / name).mkdir(parents=True)
    assert Cache(tmp_path).clean_stale_temps() == 3
    assert sorted(p.name for p in stage.iterdir()) == sorted([temps["mine"],
                                                              temps["other_host"]])
    assert temporary_path(stage / "key").name.startswith(f".key.tmp-{host}-{me}-{started}-")


BUILD_IN_ANOTHER_PROCESS = """
import sys, time
from pathlib import Path
from sensorclip.data.cache import Cache

root, gate = sys.argv[1], Path(sys.argv[2])

def build(tmp):
    (tmp / "first.txt").write_text("1")
    while not gate.exists():          # hold the build open until the test opens the gate
        time.sleep(0.05)
    (tmp / "second.txt").write_text("2")

cache = Cache(root)
cache.clean_stale_temps()             # what every prepare and train does first
entry, built = cache.get_or_build("stage", {"a": 1}, build)
print(entry)
"""


@pytest.mark.slow
def test_two_processes_building_the_same_entry_both_end_with_it(tmp_path):
    root, slow_gate, open_gate = tmp_path / "cache", tmp_path / "gate", tmp_path / "open"
    open_gate.touch()
    command = [sys.executable, "-c", BUILD_IN_ANOTHER_PROCESS, str(root)]
    first = subprocess.Popen(command + [str(slow_gate)], stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(root.glob("stage/.*.tmp-*/first.txt")):     # the first is mid-build
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.05)
    second = subprocess.run(command + [str(open_gate)], capture_output=True, text=True,
                            timeout=60)
    slow_gate.touch()
    out, _ = first.communicate(timeout=60)
    assert second.returncode == 0 and first.returncode == 0, second.stderr
    assert out.strip() == second.stdout.strip()
    entry = Path(out.strip())
    assert sorted(p.name for p in entry.iterdir()) == ["first.txt", "provenance.json",
                                                       "second.txt"]
    assert Cache(root).lookup("stage", {"a": 1}) == entry
    assert [p.name for p in entry.parent.iterdir()] == [entry.name]       # no temp left


def test_an_entry_that_lost_its_provenance_is_rebuilt(tmp_path):
    cache = Cache(tmp_path)
    entry, _ = cache.get_or_build("stage", {"a": 1}, writer(1))
    (entry / "provenance.json").unlink()
    rebuilt, built = cache.get_or_build("stage", {"a": 1}, writer(2))
    assert built and rebuilt == entry
    assert load_npz(rebuilt / "x.npz")["x"].tolist() == [2]
    assert [p.name for p in entry.parent.iterdir()] == [entry.name]


def test_a_cache_directory_that_is_a_file(tmp_path):
    (tmp_path / "cache").write_text("")
    with pytest.raises(CacheError, match="is a file, not a directory.*paths.cache_dir"):
        Cache(tmp_path / "cache")


@pytest.mark.parametrize("error", [OSError(errno.ENOSPC, "No space left on device"),
                                   OSError(errno.EROFS, "Read-only file system")],
                         ids=["full", "read-only"])
def test_a_full_or_read_only_cache_disk(tmp_path, error):
    def build(tmp):
        error.filename = str(tmp / "x.npz")
        raise error

    with pytest.raises(CacheError, match=f"{error.strerror}.*writable directory"):
        Cache(tmp_path).get_or_build("stage", {"a": 1}, build)
    assert list((tmp_path / "stage").iterdir()) == []


def test_other_os_errors_of_a_build_are_not_blamed_on_the_cache(tmp_path):
    def build(tmp):
        raise PermissionError(errno.EACCES, "Permission denied", "/elsewhere/input.txt")

    with pytest.raises(PermissionError):
        Cache(tmp_path).get_or_build("stage", {"a": 1}, build)
