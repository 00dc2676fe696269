"""Every file sensorclip reads back is checked by shape, not only by name: a wrong type or a
missing key is one line naming the file and what was expected."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
import yaml

from sensorclip.data.cache import Cache, provenance
from sensorclip.downstream.finetune import write_curve
from sensorclip.errors import SensorClipError
from sensorclip.eval.report import collect_runs
from sensorclip.files import read_json
from sensorclip.pipeline import read_pairs
from sensorclip.runs import default_checkpoint, load_run, read_checkpoint


def refused(call, *needles) -> str:
    with pytest.raises(SensorClipError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message, message
    for needle in needles:
        assert needle in message, message
    return message


@pytest.mark.parametrize("text, shape, needle", [
    ("[1, 2]", {"checkpoint": str}, "should be a mapping, found list"),
    ('{"other": 1}', {"checkpoint": str}, "lacks the key 'checkpoint'"),
    ('{"checkpoint": 3}', {"checkpoint": str}, "'s 'checkpoint' should be a string, found int"),
    ('{"a": {"b": null}}', {"a": {"b": int}}, "'s 'a.b' should be an integer, found null"),
    ("{not json", dict, "is not valid JSON"),
])
def test_json_read_back_is_checked_by_shape(tmp_path, text, shape, needle):
    path = tmp_path / "metrics.json"
    path.write_text(text)
    refused(lambda: read_json(path, shape, "run's metrics"), str(path), needle)


def test_a_provenance_without_its_spec_is_refused_with_the_entry_to_delete(tmp_path):
    cache = Cache(tmp_path)
    entry, _ = cache.get_or_build("events", {"x": 1}, lambda tmp: {"n": 1})
    record = json.loads((entry / "provenance.json").read_text())
    del record["spec"]
    (entry / "provenance.json").write_text(json.dumps(record))
    refused(lambda: provenance(entry), "lacks the key 'spec'")
    refused(lambda: cache.lookup("events", {"x": 1}), "lacks the key 'spec'", f"delete {entry}")


def test_image_pairs_of_the_wrong_shape(tmp_path):
    path = tmp_path / "pairs.json"
    path.write_text(json.dumps([["M001", "ON"], ["M002"]]))
    refused(lambda: read_pairs(path), "[sensor, state] string pairs", "['M002']")


def test_a_run_whose_files_have_the_wrong_shape(trained_run, tmp_path):
    source, _ = trained_run
    run = tmp_path / "run"
    shutil.copytree(source, run)
    metrics = json.loads((run / "metrics.json").read_text())
    (run / "metrics.json").write_text(json.dumps({**metrics, "checkpoint": None}))
    refused(lambda: default_checkpoint(run), "run's metrics", "should be a string, found null")

    config = yaml.safe_load((run / "config.yaml").read_text())
    del config["data"]
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    checkpoint = next((run / "checkpoints").glob("*.ckpt"))
    refused(lambda: load_run(checkpoint), "config.yaml", "lacks the key 'data'")
    (run / "config.yaml").write_text("- just\n- a list\n")
    refused(lambda: load_run(checkpoint), "should be a mapping, found list")

    content = torch.load(checkpoint, map_location="cpu", weights_only=True)
    del content["hyper_parameters"]["n_pairs"]
    torch.save(content, checkpoint)
    refused(lambda: read_checkpoint(checkpoint), "hyper-parameters lacks the key 'n_pairs'")


def test_report_and_curve_inputs_are_checked(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "metrics.json").write_text("[]")
    refused(lambda: collect_runs(tmp_path), "should be a mapping, found list")
    (tmp_path / "a" / "metrics.json").write_text(json.dumps({"labels_fraction": 0.5}))
    refused(lambda: write_curve(tmp_path), "fine-tuning metrics lacks the key 'labelled_windows'")
