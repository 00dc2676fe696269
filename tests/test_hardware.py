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
