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


CPUINFO = {   # flags lines of three kinds of 2-core hosts these tests must tell apart
    "avx2 only": "fpu sse2 avx avx2 fma",
    "avx512 + bf16": "fpu sse2 avx avx2 avx512f avx512_vnni avx512_bf16",
    "amx": "fpu sse2 avx avx2 avx512f avx512_bf16 amx_bf16 amx_tile amx_int8",
}


def test_capabilities_are_read_from_mocked_cpuinfo(tmp_path):
    found = {}
    for host, flags in CPUINFO.items():
        info = tmp_path / host
        info.write_text(f"processor\t: 0\nflags\t\t: {flags}\n")
        found[host] = hardware.capabilities(hardware.cpu_flags(info))
    assert found["avx2 only"] == {"AMX-BF16": False, "AVX512-BF16": False, "AVX-512": False,
                                  "AVX512-VNNI": False, "AVX-VNNI": False, "AVX2": True,
                                  "native bf16": False}
    assert found["avx512 + bf16"]["AVX512-BF16"] and found["avx512 + bf16"]["native bf16"]
    assert not found["avx512 + bf16"]["AMX-BF16"]
    assert found["amx"]["AMX-BF16"] and found["amx"]["native bf16"]


def test_only_native_precisions_are_timed(monkeypatch):
    for native, expected in ((True, ("fp32", "bf16")), (False, ("fp32",))):
        monkeypatch.setattr(hardware, "native_bf16_matmul", lambda native=native: native)
        assert hardware.native_precisions() == expected
