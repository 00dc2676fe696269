import json

import numpy as np
import pytest

from sensorclip.data.cache import Cache, load_npz, spec_key
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
