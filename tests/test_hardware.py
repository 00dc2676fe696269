from hydra import compose, initialize_config_dir

from conftest import REPO
from sensorclip import hardware


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx512f amx_bf16 amx_tile\n\nflags : other\n")
    assert hardware.cpu_flags(info) == {"fpu", "avx512f", "amx_bf16", "amx_tile"}
    assert hardware.cpu_flags(tmp_path / "missing") == set()


def test_cpu_presets_choose_bf16_only_where_it_is_native(monkeypatch):
    for native, trainer, text in ((True, "bf16-mixed", "bf16"), (False, "32-true", "fp32")):
        monkeypatch.setattr(hardware, "native_bf16_matmul", lambda native=native: native)
        with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
            cfg = compose(config_name="train", overrides=["trainer=cpu"])
        assert (cfg.trainer.precision, cfg.text.precision) == (trainer, text)
        with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
            cfg = compose(config_name="train", overrides=["trainer.precision=32-true"])
        assert cfg.trainer.precision == "32-true"
