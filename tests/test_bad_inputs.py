"""Bad inputs across the pipeline: each fails with one clear message naming where and the fix.

In-process cases check the exception text; the CLI cases check that the entry points print a
clean message with a non-zero exit and never a traceback.
"""

import json

import numpy as np
import pytest

from helpers.commands import assert_clean_failure, run_module
from sensorclip.config import (
    CaptionConfig,
    DataConfig,
    LoaderConfig,
    RenderConfig,
    SplitConfig,
    TextEncoderConfig,
    VisionConfig,
    WindowConfig,
)
from sensorclip.data.cache import load_npz
from sensorclip.data.casas import attach_layout, parse_lines, read_casas
from sensorclip.data.homes import load_home
from sensorclip.data.windows import split_days
from sensorclip.errors import SensorClipError
from sensorclip.files import save_npz
from sensorclip.frozen.render import render_home
from sensorclip.frozen.text import TextEncoder
from sensorclip.frozen.vision import VisionBackbone
from sensorclip.frozen.weights import resolve_model_dir
from sensorclip.model.datamodule import SensorClipDataModule
from sensorclip.pipeline import prepare

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
    expect(lambda: parse_lines([GOOD_LINE], fmt="z"), "unknown log format", "auto, a, b or c")


def test_sensor_missing_from_layout(tmp_path):
    events = parse_lines([GOOD_LINE, "2024-01-01 07:00:01 X42 ON"], source="my.log")
    expect(lambda: attach_layout(events, load_home(layout(tmp_path, LAYOUT))),
           "my.log", "X42 (1 events)", "data.unknown_sensors=drop")


def test_unsorted_lines_and_open_spans_are_reported_not_fatal(tmp_path):
    events = parse_lines(["2024-01-01 07:00:05 M001 ON Cook begin", "2024-01-01 07:00:01 M001 OFF"])
    assert events.report.out_of_order == 1 and events.report.unclosed_spans == 1


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
]


@pytest.mark.slow
@pytest.mark.parametrize("args, needle", CLI_CASES, ids=[" ".join(a) for a, _ in CLI_CASES])
def test_entry_points_fail_cleanly(tmp_path, args, needle):
    module, *overrides = args
    assert_clean_failure(run_module(module, *overrides, f"paths.cache_dir={tmp_path}",
                                    f"paths.log_dir={tmp_path}", timeout=300), needle)
