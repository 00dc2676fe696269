from sensorclip import hardware
from sensorclip.config import TextEncoderConfig, typed
from sensorclip.frozen.text import resolved_precision


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx512f amx_bf16 amx_tile\n\nflags : other\n")
    assert hardware.cpu_flags(info) == {"fpu", "avx512f", "amx_bf16", "amx_tile"}
    assert hardware.cpu_flags(tmp_path / "missing") == set()


def test_cpu_presets_choose_bf16_only_where_it_is_native(monkeypatch, compose_config):
    for native, trainer, text in ((True, "bf16-mixed", "bf16"), (False, "32-true", "fp32")):
        monkeypatch.setattr(hardware, "native_bf16_matmul", lambda native=native: native)
        cfg = compose_config("trainer=cpu")
        assert cfg.trainer.precision == trainer
        assert resolved_precision(typed(TextEncoderConfig, cfg.text)) == text
        assert compose_config("trainer.precision=32-true").trainer.precision == "32-true"
        assert resolved_precision(TextEncoderConfig(precision="fp32")) == "fp32"


def test_native_bf16_from_the_flags_and_else_from_a_cached_probe(monkeypatch, tmp_path):
    for flags, expected in (({"sse2", "avx512_bf16"}, True), ({"sse2", "amx_bf16"}, True),
                            ({"sse2", "avx2"}, False)):
        monkeypatch.setattr(hardware, "cpu_flags", lambda flags=flags: flags)
        hardware.native_bf16_matmul.cache_clear()
        assert hardware.native_bf16_matmul() is expected
    # no x86 flags (another architecture): the probe decides, measured once per machine
    calls = []
    monkeypatch.setattr(hardware, "cpu_flags", lambda: {"fp", "asimd"})
    monkeypatch.setattr(hardware, "measure_bf16_speedup", lambda: calls.append(1) or 3.0)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    hardware.native_bf16_matmul.cache_clear()
    assert hardware.native_bf16_matmul() is True
    assert hardware.probe_cache()["bf16_speedup"] == 3.0 and len(calls) == 1   # from the file
    hardware.native_bf16_matmul.cache_clear()


def test_the_probe_measures_a_ratio():
    assert hardware.measure_bf16_speedup(size=64, seconds=0.05) > 0
