"""Bad inputs across the pipeline: each fails with one clear message naming where and the fix.

In-process cases check the exception text; the CLI cases check that the entry points print a
clean message with a non-zero exit and never a traceback.
"""

import codecs
import gzip
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from helpers.commands import assert_clean_failure, run_module
from helpers.runs import untrained_run
from sensorclip.config import (
    GROUP_SCHEMAS,
    CaptionConfig,
    DataConfig,
    LoaderConfig,
    RenderConfig,
    SplitConfig,
    TextEncoderConfig,
    VisionConfig,
    WindowConfig,
    typed,
)
from sensorclip.data.cache import load_npz
from sensorclip.data.casas import attach_layout, parse_lines, read_casas
from sensorclip.data.homes import load_home
from sensorclip.data.windows import split_days
from sensorclip.errors import SensorClipError
from sensorclip.evaluate import evaluate_checkpoint
from sensorclip.files import save_npz
from sensorclip.frozen.render import render_home
from sensorclip.frozen.text import TextEncoder
from sensorclip.frozen.vision import VisionBackbone
from sensorclip.frozen.weights import resolve_model_dir
from sensorclip.model.datamodule import SensorClipDataModule
from sensorclip.pipeline import prepare
from sensorclip.prepare import print_summary
from sensorclip.runs import load_checkpoint, load_run, resume_checkpoint, save_config
from sensorclip.train import train

GOOD_LINE = "2024-01-01 07:00:00 M001 ON Cook begin"
LAYOUT = """name: t
size: [100, 100]
sensors:
  M001: {room: kitchen, xy: [10, 10], type: motion}
  M002: {room: hall, xy: [50, 50], type: motion}
"""


def log(tmp_path, *lines, raw: bytes | None = None):
    path = tmp_path / "log.txt"
    if raw is not None:
        path.write_bytes(raw)
    else:
        path.write_text("\n".join(lines) + "\n")
    return path


def layout(tmp_path, text):
    path = tmp_path / "home.yaml"
    path.write_text(text)
    return path


def expect(call, *needles):
    with pytest.raises(SensorClipError) as info:
        call()
    message = str(info.value)
    for needle in needles:
        assert needle in message, message
    return message


# --- event logs ------------------------------------------------------------------------------

def test_empty_log(tmp_path):
    path = log(tmp_path, "")
    expect(lambda: read_casas(path), str(path), "empty", "data.raw_path")


def test_binary_garbage(tmp_path):
    path = log(tmp_path, raw=b"\x00\x01\x02PK\x03\x04" * 100)
    expect(lambda: read_casas(path), str(path), "binary", "data.raw_path")


def test_too_few_fields_names_the_line(tmp_path):
    path = log(tmp_path, GOOD_LINE, "2024-01-01 07:00:01 M001")
    expect(lambda: read_casas(path), f"{path}:2", "4 fields", "data.strict=false")


def test_bad_timestamp_names_the_line(tmp_path):
    path = log(tmp_path, GOOD_LINE, "2024-01-01 7h00 M001 OFF")
    expect(lambda: read_casas(path), f"{path}:2", "bad timestamp", "YYYY-MM-DD")


def test_impossible_date(tmp_path):
    path = log(tmp_path, GOOD_LINE, "2024-02-31 07:00:01 M001 OFF")
    expect(lambda: read_casas(path), f"{path}:2", "bad timestamp")


def test_bad_annotation_marker(tmp_path):
    path = log(tmp_path, GOOD_LINE, "2024-01-01 07:00:01 M001 OFF Cook stop")
    expect(lambda: read_casas(path), f"{path}:2", "begin", "end")


def test_missing_log_file(tmp_path):
    expect(lambda: read_casas(tmp_path / "nope.txt"), "nope.txt", "data.raw_path")


def test_every_line_malformed_in_lenient_mode(tmp_path):
    path = log(tmp_path, "x y", "a b c")
    expect(lambda: read_casas(path, strict=False), str(path), "every line", "data.format")


def test_unknown_format_option():
    expect(lambda: parse_lines([GOOD_LINE], fmt="z"), "unknown log format",
           "auto, a, b, c, pairs, ids")


def test_sensor_missing_from_layout(tmp_path):
    events = parse_lines([GOOD_LINE, "2024-01-01 07:00:01 X42 ON"], source="my.log")
    expect(lambda: attach_layout(events, load_home(layout(tmp_path, LAYOUT))),
           "my.log", "X42 (1 events)", "data.unknown_sensors=drop")


def test_unsorted_lines_and_open_spans_are_reported_not_fatal(tmp_path):
    events = parse_lines(["2024-01-01 07:00:05 M001 ON Cook begin", "2024-01-01 07:00:01 M001 OFF"])
    assert events.report.out_of_order == 1 and events.report.unclosed_spans == 1


def test_a_byte_order_mark_is_not_a_bad_timestamp(tmp_path):
    text = GOOD_LINE + "\n2024-01-01 07:00:01 M001 OFF Cook end\n"
    assert len(read_casas(log(tmp_path, raw=codecs.BOM_UTF8 + text.encode()))) == 2
    assert len(read_casas(log(tmp_path, raw=text.encode("utf-16")))) == 2


def test_gzipped_logs_are_read_as_they_are(tmp_path):
    lines = [GOOD_LINE, "2024-01-01 07:00:01 M002 ON", "2024-01-01 07:00:02 M001 OFF Cook end"]
    packed = gzip.compress(("\n".join(lines) + "\n").encode())
    (tmp_path / "log.txt.gz").write_bytes(packed)
    events = read_casas(tmp_path / "log.txt.gz")
    assert events.time.tolist() == read_casas(log(tmp_path, *lines)).time.tolist()
    (tmp_path / "cut.gz").write_bytes(packed[:20])
    expect(lambda: read_casas(tmp_path / "cut.gz"), "cut.gz", "gzip", "does not decompress")


def test_a_zipped_log_is_read_from_its_data_member(tmp_path):
    lines = [GOOD_LINE, "2024-01-01 07:00:02 M001 OFF Cook end"]
    with zipfile.ZipFile(tmp_path / "milan.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("milan/README", "not the log\n")
        archive.writestr("milan/data", "\n".join(lines) + "\n")
    events = read_casas(tmp_path / "milan.zip")
    assert events.time.tolist() == read_casas(log(tmp_path, *lines)).time.tolist()
    with zipfile.ZipFile(tmp_path / "two.zip", "w") as archive:
        archive.writestr("a.txt", GOOD_LINE + "\n")
        archive.writestr("b.txt", GOOD_LINE + "\n")
    expect(lambda: read_casas(tmp_path / "two.zip"), "2 files", "no 'data' log", "a.txt, b.txt",
           "unzip it")
    (tmp_path / "cut.zip").write_bytes((tmp_path / "milan.zip").read_bytes()[:40])
    expect(lambda: read_casas(tmp_path / "cut.zip"), "does not open")


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_a_log_path_that_is_not_a_file(tmp_path, kind):
    path = tmp_path / "data"
    if kind == "directory":
        path.mkdir()
    else:
        os.mkfifo(path)
    needle = "is a directory" if kind == "directory" else "not a regular file"
    expect(lambda: prepare(DataConfig(source="file", raw_path=str(path)), WindowConfig(),
                           SplitConfig(), CaptionConfig(), cache_dir=tmp_path / "c",
                           stages=("data",)),
           f"data.raw_path={path}", needle)
    expect(lambda: load_home(path), str(path), needle, "data.layout=PATH")


def test_duplicated_and_time_shifted_lines_are_reported(tmp_path, demo_log, capsys):
    """Both still parse, so they are counted where the user looks: the prepare summary."""
    lines = demo_log.lines()
    half = len(lines) // 2
    doubled = parse_lines(lines + lines[:100])
    shifted = parse_lines(lines[:half] + [line.replace("2024-", "2025-", 1)
                                          for line in lines[half:]])
    assert doubled.report.duplicate_events == 100 and doubled.report.time_jumps == 0
    assert shifted.report.time_jumps == 1 and shifted.report.largest_gap_days > 360
    assert parse_lines(lines).report.duplicate_events == 0
    path = log(tmp_path, *(lines[:half] + lines[:100] + [line.replace("2024-", "2025-", 1)
                                                         for line in lines[half:]]))
    prep = prepare(DataConfig(source="file", raw_path=str(path)), WindowConfig(), SplitConfig(),
                   CaptionConfig(per_window=1), cache_dir=tmp_path / "c", stages=("data",))
    print_summary(prep, 0.0)
    printed = capsys.readouterr().out
    for needle in ('"duplicate_events": 100', '"time_jumps": 1', '"largest_gap_days": 36'):
        assert needle in printed, printed


# --- layouts -----------------------------------------------------------------------------------

def test_duplicate_sensor_ids(tmp_path):
    path = layout(tmp_path, LAYOUT + "  M001: {room: hall, xy: [60, 60], type: motion}\n")
    expect(lambda: load_home(path), str(path), "duplicate key 'M001'", "appear once")


def test_coordinates_outside_size(tmp_path):
    path = layout(tmp_path, LAYOUT.replace("[50, 50]", "[500, 50]"))
    expect(lambda: load_home(path), str(path), "sensors.M002.xy", "outside size", "enlarge size")


def test_layout_field_typo(tmp_path):
    path = layout(tmp_path, LAYOUT.replace("sensors:", "sensor:"))
    expect(lambda: load_home(path), str(path), "sensor", "unknown field")


def test_layout_not_yaml(tmp_path):
    path = layout(tmp_path, "name: [unclosed\n")
    expect(lambda: load_home(path), str(path), "not valid YAML")


def test_unknown_layout_name():
    expect(lambda: load_home("atlantis"), "atlantis", "milan", "path to a YAML")


# --- windows and splits --------------------------------------------------------------------------

def test_window_larger_than_any_day(tmp_path):
    expect(lambda: prepare(DataConfig(days=3), WindowConfig(size=5000), SplitConfig(),
                           CaptionConfig(), cache_dir=tmp_path, stages=("data",)),
           "no windows", "lower windows.size")


def test_split_with_too_few_days():
    expect(lambda: split_days(2, SplitConfig()), "2 day(s)", "set a fraction to 0")


def test_split_fractions_not_summing_to_one():
    expect(lambda: SplitConfig(train=0.8, val=0.1, test=0.2), "sum to 1")


def test_empty_test_split_stops_evaluation(tmp_path):
    dm = SensorClipDataModule(dict(data=DataConfig(days=3), windows=WindowConfig(),
                                   split=SplitConfig(train=0.9, val=0.1, test=0.0),
                                   captions=CaptionConfig(per_window=1), text=None,
                                   render=None, vision=None), LoaderConfig(), str(tmp_path))
    dm.prepared = prepare(**dm.stage_configs, cache_dir=tmp_path, stages=("data",))
    dm.splits = {"test": type("Empty", (), {"__len__": lambda self: 0})()}
    expect(dm.test_dataloader, "test split has no windows", "split.test")


# --- config values -------------------------------------------------------------------------------

CONFIG_CASES = [
    ("loader", {"batch_size": 0}, "loader.batch_size=0 is outside its domain: an integer >= 1; "
               "for example loader.batch_size=64"),
    ("loader", {"num_workers": -1}, "loader.num_workers=-1 is outside its domain: an integer >= 0"),
    ("optim", {"lr": float("nan")}, "optim.lr=nan is outside its domain: a finite number > 0"),
    ("optim", {"lr": -1e-3}, "optim.lr=-0.001 is outside its domain"),
    ("optim", {"betas": [0.9, 1.5]}, "optim.betas=[0.9, 1.5] is outside its domain"),
    ("windows", {"size": float("inf")}, "windows.size=inf is outside its domain"),
    ("encoder", {"n_heads": 0}, "encoder.n_heads=0 is outside its domain"),
    ("encoder", {"dropout": 1.0}, "encoder.dropout=1.0 is outside its domain: a number in [0, 1)"),
    ("loss", {"init_temperature": 0.0}, "loss.init_temperature=0.0 is outside its domain"),
    ("captions", {"per_window": 0}, "captions.per_window=0 is outside its domain"),
    ("data", {"strict": "maybe"}, "data.strict=maybe is outside its domain: true or false; "
                                  "for example data.strict=true"),
]


@pytest.mark.parametrize("group, override, needle", CONFIG_CASES,
                         ids=[f"{group}.{next(iter(o))}" for group, o, _ in CONFIG_CASES])
def test_config_values_out_of_type_or_range(group, override, needle):
    expect(lambda: typed(GROUP_SCHEMAS[group], override), needle)


def test_training_checks_every_config_value_before_building_anything(compose_config, tmp_path):
    cache = tmp_path / "fresh_cache"
    expect(lambda: train(compose_config(f"paths.cache_dir={cache}", "optim.lr=nan")),
           "optim.lr=nan is outside its domain")
    assert not cache.exists() and not (tmp_path / "run").exists()


# --- models ----------------------------------------------------------------------------------

def test_unknown_backbone_names():
    expect(lambda: VisionConfig(family="resnet"), "model.family", "model=clip|dinov2")
    expect(lambda: VisionBackbone(VisionConfig(model_id="no_such_net")), "no_such_net",
           "timm.list_models")


def test_model_path_that_is_not_a_model_directory(tmp_path):
    expect(lambda: TextEncoder(TextEncoderConfig(path=str(tmp_path / "none"))),
           "text.path=", "not a model directory", "huggingface-cli download")


@pytest.mark.parametrize("config", [
    VisionConfig(family="dinov2", model_id="facebook/dinov2-base", pretrained=True,
                 allow_download=False),
    VisionConfig(family="siglip", model_id="google/siglip-base-patch16-224", pretrained=True,
                 allow_download=False),
    VisionConfig(family="timm", model_id="vit_small_patch16_224", pretrained=True,
                 allow_download=False)], ids=["dinov2", "siglip", "timm"])
def test_offline_without_weights(tmp_path, monkeypatch, config):
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    expect(lambda: VisionBackbone(config), config.model_id, "Hugging Face cache", "model.path=DIR")


def test_offline_text_encoder_without_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    expect(lambda: resolve_model_dir("thenlper/gte-base", None, None, option="text",
                                     allow_download=False),
           "thenlper/gte-base", "text.path=DIR", "huggingface-cli download")


def test_floor_plan_that_is_not_an_image(tmp_path):
    plan = tmp_path / "plan.png"
    plan.write_text("not a png")
    expect(lambda: render_home(load_home("demo"), RenderConfig(floor_plan=str(plan))),
           str(plan), "render.floor_plan")


# --- caches ----------------------------------------------------------------------------------

def vision_cache(tmp_path):
    prep = prepare(DataConfig(days=3), WindowConfig(), SplitConfig(), CaptionConfig(per_window=1),
                   None, RenderConfig(image_size=32), VisionConfig(device="cpu"),
                   cache_dir=tmp_path, stages=("images", "vision"))
    return prep.entries["vision"] / "embeddings.npz"


def reload_vision(tmp_path):
    return prepare(DataConfig(days=3), WindowConfig(), SplitConfig(), CaptionConfig(per_window=1),
                   None, RenderConfig(image_size=32), VisionConfig(device="cpu"),
                   cache_dir=tmp_path, stages=("images", "vision"))


def test_embedding_cache_of_the_wrong_dimension(tmp_path):
    path = vision_cache(tmp_path)
    arrays = load_npz(path)
    arrays["embeddings"] = arrays["embeddings"][:, :10]
    save_npz(path, **arrays)
    expect(lambda: reload_vision(tmp_path), str(path), "10-d", "records dim 192", "delete")


def test_nan_in_embeddings(tmp_path):
    path = vision_cache(tmp_path)
    arrays = load_npz(path)
    arrays["embeddings"][3, 5] = np.nan
    save_npz(path, **arrays)
    expect(lambda: reload_vision(tmp_path), str(path), "NaN", "rerun")


def test_truncated_npz(tmp_path):
    path = vision_cache(tmp_path)
    path.write_bytes(path.read_bytes()[:100])
    expect(lambda: reload_vision(tmp_path), str(path), "corrupt or truncated", "delete it")


def test_stale_cache_whose_provenance_does_not_match(tmp_path):
    path = vision_cache(tmp_path)
    record = json.loads((path.parent / "provenance.json").read_text())
    record["spec"]["backbone"]["weights"] = "something else"
    (path.parent / "provenance.json").write_text(json.dumps(record))
    expect(lambda: reload_vision(tmp_path), str(path.parent), "does not match", "delete")


# --- checkpoints, runs and resumes ---------------------------------------------------------------

def torch_file(path, content):
    torch.save(content, path)
    return path


def empty(path):
    path.write_bytes(b"")
    return path


def random_bytes(path, seed=0):
    path.write_bytes(np.random.default_rng(seed).bytes(4096))
    return path


def truncated(path, keep=5000):
    torch_file(path, {"state_dict": {"w": torch.zeros(4096)}, "hyper_parameters": {}})
    path.write_bytes(path.read_bytes()[:keep])
    return path


def truncated_early(path):
    return truncated(path, keep=1000)


def other_torch_file(path):
    return torch_file(path, {"weights": torch.zeros(3)})


@pytest.mark.parametrize("make, needle", [
    (empty, "not a readable checkpoint"), (random_bytes, "safe loader refused it"),
    (truncated, "not a readable checkpoint"), (truncated_early, "not a readable checkpoint"),
    (other_torch_file, "not a sensorclip checkpoint")],
    ids=["empty", "random_bytes", "truncated", "truncated_early", "other_torch_file"])
def test_broken_checkpoints(tmp_path, make, needle):
    path = make(tmp_path / "x.ckpt")
    message = expect(lambda: load_checkpoint(path), str(path), needle, "checkpoints/")
    assert "\n" not in message


def test_any_garbage_file_is_a_clean_refusal(tmp_path):
    """torch's safe loader fails on garbage in many ways (UnpicklingError, EOFError, IndexError
    from its stack, ...); each must reach the user as the same one-line error."""
    for seed in range(200):
        path = random_bytes(tmp_path / f"{seed}.ckpt", seed)
        message = expect(lambda p=path: load_checkpoint(p), str(path), "checkpoints/")
        assert "\n" not in message


class RunsCode:
    """What a crafted checkpoint would run when unpickled without torch's safe loader."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_crafted_checkpoint_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "code-ran"
    path = torch_file(tmp_path / "x.ckpt", {"state_dict": {}, "hyper_parameters": RunsCode(marker)})
    message = expect(lambda: load_checkpoint(path), "not a sensorclip checkpoint", "unsafe")
    assert "weights_only" not in message and not marker.exists()


def test_evaluating_a_broken_checkpoint_from_elsewhere_builds_no_cache(compose_config, tmp_path,
                                                                      monkeypatch):
    """The checkpoint is opened before any cache is built, and the run's own cache is used."""
    recorded = tmp_path / "recorded_cache"
    run_dir = tmp_path / "run"
    resolved = OmegaConf.to_container(compose_config(f"paths.cache_dir={recorded}"), resolve=True)
    save_config(run_dir, resolved)
    (run_dir / "checkpoints").mkdir()
    (run_dir / "checkpoints" / "epoch000.ckpt").write_bytes(b"")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    expect(lambda: evaluate_checkpoint("../run/checkpoints/epoch000.ckpt"), "epoch000.ckpt",
           "not a readable checkpoint")
    assert not recorded.exists() and list(elsewhere.iterdir()) == []


def test_a_run_is_loaded_with_the_cache_it_recorded(compose_config, shared_cache, tmp_path,
                                                    monkeypatch):
    checkpoint = untrained_run(compose_config(), tmp_path / "run")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SENSORCLIP_CACHE", str(tmp_path / "another_cache"))
    run = load_run(checkpoint)
    assert run.datamodule.cache_dir == str(shared_cache) and run.checkpoint == checkpoint
    assert not (tmp_path / "another_cache").exists()


def fake_run(compose_config, run_dir, *overrides):
    """A run directory as training leaves it: its config.yaml, a checkpoint and metrics.json."""
    save_config(run_dir, OmegaConf.to_container(
        compose_config(f"paths.output_dir={run_dir}", *overrides), resolve=True))
    (run_dir / "checkpoints").mkdir()
    hparams = {"encoder": {}, "features": {}, "loss": {}, "optim": {}, "text_projection": "none",
               "text_dim": 8, "n_pairs": 4, "image_dim": 8}
    torch_file(run_dir / "checkpoints" / "last.ckpt",
               {"state_dict": {}, "hyper_parameters": hparams})
    (run_dir / "metrics.json").write_text('{"n_test_windows": 977}')
    return {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}


def test_a_resume_that_changes_data_split_or_model_is_refused_before_touching_the_run(
        compose_config, tmp_path):
    run_dir = tmp_path / "runs" / "T0"
    before = fake_run(compose_config, run_dir)
    message = expect(lambda: train(compose_config(
        f"paths.output_dir={run_dir}", "trainer=debug", "ckpt_path=last", "split.seed=7",
        "encoder.d_model=512", "optim.lr=0.001")),
        "ckpt_path=last", "run T0", "split.seed (42 in the run, 7 now)",
        "encoder.d_model (128 in the run, 512 now)", "new run_name")
    assert "optim.lr" not in message
    assert {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()} == before


def test_a_resume_may_change_how_it_trains(compose_config, tmp_path):
    run_dir = tmp_path / "runs" / "T0"
    fake_run(compose_config, run_dir)
    resolved = OmegaConf.to_container(compose_config(
        f"paths.output_dir={run_dir}", "ckpt_path=last", "optim.lr=0.001", "trainer.max_epochs=9",
        "loader.batch_size=8", "eval.bootstrap_resamples=200", "text.device=cpu",
        f"paths.cache_dir={tmp_path / 'moved_cache'}"), resolve=True)
    assert resume_checkpoint(resolved, run_dir) == run_dir / "checkpoints" / "last.ckpt"


def test_resuming_a_run_that_does_not_exist_lists_the_runs(compose_config, tmp_path):
    runs = tmp_path / "runs"
    for name in ("2026-01-01_10-00-00", "baseline"):
        fake_run(compose_config, runs / name)
    expect(lambda: train(compose_config(f"paths.output_dir={runs / 'typo'}", "trainer=debug",
                                        "ckpt_path=last")),
           "no run 'typo'", "2026-01-01_10-00-00, baseline", "run_name=NAME")
    assert not (runs / "typo").exists()
    expect(lambda: train(compose_config(f"paths.output_dir={runs / 'baseline'}",
                                        f"ckpt_path={runs / 'nope.ckpt'}")),
           "nope.ckpt does not exist")


# --- entry points: clean message, non-zero exit, no traceback -------------------------------------

CLI_CASES = [
    (["sensorclip.prepare", "data=milan"], "data.raw_path"),
    (["sensorclip.prepare", "data=milan", "data.raw_path=/nonexistent/log.txt"], "does not exist"),
    (["sensorclip.prepare", "data.layout=/nonexistent/home.yaml"], "does not exist"),
    (["sensorclip.train", "trainer.max_epoch=3"], "max_epoch"),          # Hydra override typo
    (["sensorclip.train", "model=resnet"], "model/resnet"),              # unknown backbone
    (["sensorclip.train", "windows.overlap=1.5", "stages=[data]"], "windows.overlap"),
    (["sensorclip.train", "windows.kind=rolling", "stages=[data]"], "windows.kind"),
    (["sensorclip.evaluate", "ckpt_path=/nonexistent.ckpt"], "does not exist"),
    (["sensorclip.prepare", "data=milan", "data.raw_path=/"], "is a directory"),
    (["sensorclip.train", "data.strict=maybe"], "is not a valid bool"),  # Hydra composes first
    (["sensorclip.train", "loader.batch_size=0"], "loader.batch_size=0 is outside"),
    (["sensorclip.train", "run_name=typo", "ckpt_path=last"], "no run 'typo'"),
]


@pytest.mark.slow
@pytest.mark.parametrize("args, needle", CLI_CASES, ids=[" ".join(a) for a, _ in CLI_CASES])
def test_entry_points_fail_cleanly(tmp_path, args, needle):
    module, *overrides = args
    assert_clean_failure(run_module(module, *overrides, f"paths.cache_dir={tmp_path}",
                                    f"paths.log_dir={tmp_path}", timeout=300), needle)


@pytest.mark.slow
def test_cli_cache_directory_that_is_a_file(tmp_path):
    (tmp_path / "cache").write_text("")
    assert_clean_failure(run_module("sensorclip.prepare", f"paths.log_dir={tmp_path}",
                                    env={"SENSORCLIP_CACHE": str(tmp_path / "cache")},
                                    timeout=300),
                         "cache", "is a file, not a directory", "SENSORCLIP_CACHE")


@pytest.mark.slow
def test_cli_evaluating_an_empty_checkpoint_from_another_directory(tmp_path):
    """The issue's case: it used to start a minutes-long cache rebuild before failing."""
    checkpoints = tmp_path / "run" / "checkpoints"
    checkpoints.mkdir(parents=True)
    (tmp_path / "run" / "config.yaml").write_text(f"paths: {{cache_dir: {tmp_path / 'cache'}}}\n")
    (checkpoints / "epoch000.ckpt").write_bytes(b"")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run_module("sensorclip.evaluate", "ckpt_path=../run/checkpoints/epoch000.ckpt",
                        cwd=elsewhere, timeout=300)
    assert_clean_failure(result, "epoch000.ckpt", "not a readable checkpoint")
    assert not (tmp_path / "cache").exists() and not (elsewhere / "cache").exists()
