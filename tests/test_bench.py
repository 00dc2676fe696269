"""The benchmark's fast and naive paths compute the same thing (timings are never asserted)."""

import importlib.util
import sys

import pytest
import torch

from helpers import REPO


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    sys.path.insert(0, str(REPO / "scripts"))
    spec = importlib.util.spec_from_file_location("bench", REPO / "scripts" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    log = tmp_path_factory.mktemp("bench") / "log.txt"
    module.milan_scale_log(log, 20_000)
    return module, module.MilanScale(log)


@pytest.mark.parametrize("preset", ["small", "default"])
def test_fast_and_naive_paths_give_the_same_embeddings(bench, preset):
    bench_module, data = bench
    torch.manual_seed(0)
    model = bench_module.make_module(data, preset).eval()
    indices = list(range(0, 40, 3))
    fast_batch = data.fast_dataset()[indices]
    naive_batch = bench_module.naive_collate([data.naive_dataset()[i] for i in indices])
    assert torch.equal(fast_batch["valid"], naive_batch["valid"])
    assert torch.allclose(fast_batch["delta_s"], naive_batch["delta_s"], atol=1e-3)
    naive_input = bench_module.NaiveInput(model.encoder.features.inputs, data.pairs)
    with torch.no_grad():
        fast_sensor, _ = model(fast_batch)
        naive_sensor, _ = bench_module.naive_forward(model, naive_input, naive_batch)
    assert torch.allclose(fast_sensor, naive_sensor, atol=1e-4)


def test_cached_arrays_rebuild_the_same_batches(bench, tmp_path):
    bench_module, data = bench
    path = tmp_path / "arrays.npz"
    bench_module.save_arrays(data, path)
    cached = bench_module.CachedArrays(path).fast_dataset()
    original = data.fast_dataset()
    torch.manual_seed(1)
    a = cached[[0, 5, 9]]
    torch.manual_seed(1)
    b = original[[0, 5, 9]]
    assert all(torch.equal(a[k], b[k]) for k in a)
