"""The benchmark's fast and naive paths compute the same thing (timings are never asserted)."""

import importlib
import sys
from dataclasses import replace

import pytest
import torch

from helpers import REPO
from sensorclip.config import EncoderConfig, FeatureConfig
from sensorclip.model.encoder import SensorEncoder
from sensorclip.model.features import InputProjection


@pytest.fixture(scope="module")
def scripts():
    """The ``bench`` and ``naive_reference`` script modules (scripts/ as the scripts see it)."""
    folder = str(REPO / "scripts")
    sys.path.insert(0, folder)
    try:
        yield importlib.import_module("bench"), importlib.import_module("naive_reference")
    finally:
        sys.path.remove(folder)


@pytest.fixture(scope="module")
def milan(scripts, tmp_path_factory):
    bench, _ = scripts
    log = tmp_path_factory.mktemp("bench") / "log.txt"
    bench.milan_scale_log(log, 20_000)
    return bench.MilanScale(log)


def test_presets_come_from_the_encoder_option_files(scripts):
    bench, _ = scripts
    assert bench.encoder_preset("base") == EncoderConfig()      # base.yaml changes nothing
    small = bench.encoder_preset("small")
    assert (small.d_model, small.n_layers, small.n_heads) == (128, 2, 4)


@pytest.mark.parametrize("preset", ["small", "base"])
def test_naive_encoder_loads_the_fast_state_dict(scripts, milan, preset):
    bench, naive_reference = scripts
    torch.manual_seed(0)
    fast = bench.make_module(milan, preset).encoder.state_dict()
    torch.manual_seed(1)                                  # different initial weights
    naive = naive_reference.NaiveEncoder(milan.pair_embeddings, milan.pairs,
                                         bench.encoder_preset(preset), bench.TEXT_DIM)
    own = naive.state_dict()
    assert set(fast) - set(own) == set(naive_reference.IGNORED_FAST_KEYS)
    assert set(own) <= set(fast)
    result = naive.load_state_dict(fast, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    for name, tensor in naive.state_dict().items():
        assert torch.equal(tensor, fast[name]), name


@pytest.mark.parametrize("preset", ["small", "base"])
def test_fast_and_naive_paths_give_the_same_embeddings(scripts, milan, preset):
    bench, naive_reference = scripts
    torch.manual_seed(0)
    model = bench.make_module(milan, preset).eval()
    naive = bench.make_naive(milan, model).eval()
    indices = list(range(0, 40, 3))
    fast_batch = milan.fast_dataset()[indices]
    naive_batch = naive_reference.naive_collate([milan.naive_dataset()[i] for i in indices])
    assert torch.equal(fast_batch["valid"], naive_batch["valid"])
    assert torch.allclose(fast_batch["delta_s"], naive_batch["delta_s"], atol=1e-3)
    with torch.no_grad():
        fast_sensor, _ = model(fast_batch)
        naive_sensor, _ = bench.naive_forward(model, naive, naive_batch)
    assert torch.allclose(fast_sensor, naive_sensor, atol=1e-4)


SMALL = EncoderConfig(d_model=48, n_layers=2, n_heads=4, d_ff=96, head_hidden=64)


@pytest.mark.parametrize("change", [
    dict(positions="learned", max_len=16),
    dict(n_heads=6, pooling="mean"),                  # ALiBi slopes for a non-power of two
    dict(pooling="cls", head="linear"),
    dict(trainable_input_projection=True, pooling_cls_weight=0.8),
])
def test_naive_encoder_matches_the_fast_encoder_across_configs(scripts, change):
    _, naive_reference = scripts
    config = replace(SMALL, **change)
    pairs = [(f"M{i:03d}", state) for i in range(7) for state in ("ON", "OFF")]
    torch.manual_seed(0)
    embeddings = torch.randn(len(pairs), 32)
    inputs = InputProjection(embeddings, config.d_model, config.trainable_input_projection)
    fast = SensorEncoder(inputs, torch.rand(len(pairs), 2), config, FeatureConfig(), 24).eval()
    naive = naive_reference.NaiveEncoder(embeddings, pairs, config, 24).eval()
    naive.load_state_dict(fast.state_dict(), strict=True)
    trainable = [{n for n, p in m.named_parameters() if p.requires_grad} for m in (fast, naive)]
    assert trainable[0] == trainable[1]                  # the frozen projection stays frozen
    lengths = torch.tensor([9, 1, 5, 9, 3])
    valid = torch.arange(9)[None, :] < lengths[:, None]
    index = torch.randint(len(pairs), valid.shape).masked_fill(~valid, len(pairs))
    keys = [["_".join(pairs[i]) if i < len(pairs) else naive_reference.PAD for i in row]
            for row in index.tolist()]
    with torch.no_grad():
        assert torch.allclose(fast(index, valid), naive(keys, valid), atol=1e-5)


def test_naive_encoder_refuses_the_features_it_does_not_implement(scripts):
    _, naive_reference = scripts
    with pytest.raises(ValueError, match="image-embedding input only"):
        naive_reference.NaiveEncoder(torch.randn(4, 8), [("M1", "ON")] * 4, SMALL, 24,
                                     FeatureConfig(time_delta=True))


def test_cached_arrays_rebuild_the_same_batches(scripts, milan, tmp_path):
    bench, _ = scripts
    path = tmp_path / "arrays.npz"
    bench.save_arrays(milan, path)
    cached = bench.CachedArrays(path).fast_dataset()
    original = milan.fast_dataset()
    torch.manual_seed(1)
    a = cached[[0, 5, 9]]
    torch.manual_seed(1)
    b = original[[0, 5, 9]]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_fraction_of_peak_above_one_is_measured_again_and_never_reported(scripts,
                                                                           monkeypatch):
    bench, _ = scripts
    assert bench.fraction_of_peak(50.0, 100.0, torch.float32) == 0.5
    monkeypatch.setattr(bench, "matmul_peak", lambda dtype, seconds=0.5: 200.0)
    assert bench.fraction_of_peak(150.0, 100.0, torch.float32) == 0.75     # peak was low
    monkeypatch.setattr(bench, "matmul_peak", lambda dtype, seconds=0.5: 120.0)
    assert bench.fraction_of_peak(150.0, 100.0, torch.float32) is None     # flagged, not 1.25
    assert bench.median_or_none([None, 0.5, 0.7]) == pytest.approx(0.6)
    assert bench.median_or_none([None]) is None


@pytest.mark.slow
def test_quick_benchmark_reports_only_native_precisions_and_no_fraction_above_one(
        scripts, tmp_path):
    import json
    import subprocess

    from sensorclip.hardware import native_bf16_matmul
    out = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "bench.py"), "--quick",
                           "--events", "20000", "--no-compile", "--scale", "20000",
                           "--presets", "small", "--out", str(out)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    from sensorclip.hardware import cpu_flags
    avx2 = "yes" if "avx2" in cpu_flags() else "no"
    assert done.stdout.startswith("host: ") and f"AVX2 {avx2}" in done.stdout.splitlines()[0]
    fractions = [v for k, v in result.items() if "fraction_of_peak" in k and v is not None]
    assert fractions and all(0 < f <= 1 for f in fractions)
    if not native_bf16_matmul():
        assert result["text_captions_per_s_bf16"] is None
        assert result["matmul_peak_gflops_bf16"] is None
        assert "not native here" in done.stdout
