"""Using a trained encoder: search, annotate, fine-tune, export."""

import json
from types import SimpleNamespace

import numpy as np
import pytest
from hydra import compose, initialize_config_dir

from helpers import CONF
from helpers.commands import assert_clean_failure, run_module
from sensorclip.annotate import annotate
from sensorclip.config import CaptionConfig, DataConfig, SplitConfig, WindowConfig
from sensorclip.data.casas import read_casas
from sensorclip.data.homes import load_home
from sensorclip.downstream.annotate import (
    Segment,
    annotated_lines,
    event_iou,
    merge_segments,
    softmax_confidence,
)
from sensorclip.downstream.export import write_embeddings
from sensorclip.downstream.finetune import class_weights, labelled_subset, write_curve
from sensorclip.downstream.logs import describe_window, embed_log
from sensorclip.downstream.search import best_matches, window_query
from sensorclip.errors import SensorClipError
from sensorclip.finetune import finetune
from sensorclip.pipeline import prepare


def test_search_ranks_the_matching_window_first_on_a_constructed_case():
    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(200, 16))
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    query = embeddings[37] + rng.normal(0, 0.05, 16)            # the caption of window 37
    rows, scores = best_matches(embeddings, query / np.linalg.norm(query), top_k=5)
    assert rows[0] == 37 and scores[0] > scores[1]
    ids = np.arange(1000, 1200)
    example = window_query(embeddings, ids, 1037)
    rows, _ = best_matches(embeddings, example, top_k=3, exclude=37)
    assert 37 not in rows                                        # not the example itself
    with pytest.raises(SensorClipError, match="not among"):
        window_query(embeddings, ids, 5)


def test_windows_merge_into_segments_that_do_not_overlap():
    starts, lengths = np.array([0, 10, 20, 30, 40, 50]), np.full(6, 20)
    days = np.array([0, 0, 0, 0, 0, 1])
    labels = np.array([1, 1, 2, 2, 2, 2])
    confidence = np.array([0.9, 0.8, 0.7, 0.2, 0.9, 0.9])
    segments = merge_segments(starts, lengths, days, labels, confidence, min_confidence=0.5)
    assert [(s.label, s.first_event, s.last_event, s.windows) for s in segments] == [
        (1, 0, 19, 2), (2, 20, 39, 1), (2, 40, 49, 1), (2, 50, 69, 1)]
    assert segments[0].confidence == pytest.approx(0.85)
    codes, shares = softmax_confidence(np.array([[0.9, 0.1], [0.2, 0.3]]), scale=10.0)
    assert codes.tolist() == [0, 1] and shares[0] > 0.99 and 0.5 < shares[1] < 0.8


def test_event_overlap_by_hand():
    true = np.array(["A", "A", "A", "B", "B"])
    predicted = np.array(["A", "A", "B", "B", ""])
    assert event_iou(true, predicted) == pytest.approx((2 / 3 + 1 / 3) / 2)


def test_labelled_subsets_are_stratified_and_weights_balance_classes():
    labels = np.array([0] * 90 + [1] * 9 + [2])
    rows = labelled_subset(labels, 0.1, seed=0)
    assert np.bincount(labels[rows]).tolist() == [9, 1, 1]
    assert labelled_subset(labels, 0.1, seed=0).tolist() == rows.tolist()
    weights = class_weights(labels[rows], 4)
    assert weights[3] == 0 and weights[1] == pytest.approx(9 * weights[0])


@pytest.mark.slow
def test_export_shapes_and_metadata(trained_run, tmp_path):
    run, metrics = trained_run
    log = embed_log(run)
    assert len(log.window_ids) == metrics["n_test_windows"]
    assert np.allclose(np.linalg.norm(log.embeddings, axis=1), 1, atol=1e-4)
    again = embed_log(run)                                      # from the cache this time
    assert np.array_equal(again.embeddings, log.embeddings)
    out = write_embeddings(log, tmp_path / "test.npz")
    saved = np.load(out)
    n = len(log.window_ids)
    assert saved["embedding"].shape == log.embeddings.shape
    assert all(saved[k].shape == (n,) for k in ("window", "start_time", "end_time", "split",
                                                "caption", "fine_label", "coarse_label"))
    assert set(saved["split"].tolist()) == {"test"}
    assert (saved["end_time"] >= saved["start_time"]).all()
    assert str(saved["home"]) == "demo"
    first = describe_window(log.prep, int(log.window_ids[0]))
    assert first["caption"] == saved["caption"][0] and first["label"] == saved["fine_label"][0]
    with pytest.raises(SensorClipError, match="parquet|npz"):
        write_embeddings(log, tmp_path / "test.csv")


def day_lines(log_path, days):
    """The lines of a CASAS log that fall on the given days (with their annotations)."""
    wanted = {str(d) for d in days}
    return [line for line in log_path.read_text().splitlines() if line[:10] in wanted]


@pytest.mark.slow
def test_annotate_round_trips_and_beats_the_majority_on_test_days(trained_run, tmp_path):
    run, _ = trained_run
    log = embed_log(run)
    prep = log.prep
    simulated = prep.entries["simulate"] / "log.txt"
    split_days = {name: prep.days[np.unique(prep.windows.day[prep.windows.split == i])]
                  for i, name in enumerate(("train", "val", "test"))}
    (tmp_path / "test_days.txt").write_text("\n".join(day_lines(simulated,
                                                                split_days["test"])) + "\n")
    (tmp_path / "train_days.txt").write_text("\n".join(day_lines(simulated,
                                                                 split_days["train"])) + "\n")
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(config_name="annotate", overrides=[
            f"ckpt_path={run}", f"data.raw_path={tmp_path / 'test_days.txt'}",
            "data.layout=demo", f"examples={tmp_path / 'train_days.txt'}",
            f"paths.output_dir={tmp_path / 'out'}"])
    summary = annotate(cfg)
    train_labels = np.array(prep.fine_names)[prep.windows.fine[prep.windows.split == 0]]
    scored = [label for label in train_labels if label != "no_activity"]
    majority = max(set(scored), key=scored.count)
    truth = np.array(prep.fine_names)[prep.windows.fine[log.window_ids]]
    truth = truth[truth != "no_activity"]
    assert summary["window_accuracy"] > (truth == majority).mean() + 0.1
    written = read_casas(tmp_path / "out" / "annotated.txt", home=load_home("demo"))
    assert written.report.unclosed_spans == written.report.unmatched_ends == 0
    segments = (tmp_path / "out" / "segments.csv").read_text().splitlines()[1:]
    assert len(segments) == summary["segments"] > 0
    labelled = (written.activity > 0).sum()
    assert labelled == summary["labelled_events"]


def test_annotate_with_only_a_checkpoint_labels_the_runs_test_split(trained_run, tmp_path):
    run, metrics = trained_run
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(config_name="annotate", overrides=[
            f"ckpt_path={run / 'checkpoints' / 'last.ckpt'}",
            f"paths.output_dir={tmp_path / 'out'}"])
    summary = annotate(cfg)
    assert summary["windows"] == metrics["n_test_windows"]
    assert "window_accuracy" in summary and (tmp_path / "out" / "segments.csv").is_file()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(config_name="annotate", overrides=[
            f"ckpt_path={run}", f"examples={tmp_path / 'x.txt'}",
            f"paths.output_dir={tmp_path / 'out2'}"])
    with pytest.raises(SensorClipError, match="needs the log to label too"):
        annotate(cfg)


def test_annotated_lines_carry_begin_and_end(demo_events):
    log = SimpleNamespace(time_us=demo_events.time.astype(np.int64)[:6],
                          sensor=demo_events.sensor[:6], state=demo_events.state[:6],
                          sensor_names=demo_events.sensor_names,
                          state_names=demo_events.state_names)
    lines = annotated_lines(log, [Segment(0, 1, 3, 0.9, 2)], ["Cook"])
    assert lines[1].endswith("\tCook begin") and lines[3].endswith("\tCook end")
    assert "Cook" not in lines[0] + lines[2] + lines[4]


@pytest.mark.slow
def test_finetune_beats_the_majority_and_writes_the_curve(trained_run, tmp_path):
    run, _ = trained_run
    for fraction in (0.2, 1.0):
        with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
            cfg = compose(config_name="finetune", overrides=[
                f"ckpt_path={run}", f"finetune.labels_fraction={fraction}",
                "finetune.epochs=3", "progress_bar=false",
                f"paths.output_dir={tmp_path / str(fraction)}"])
        metrics = finetune(cfg)
        assert metrics["pretrained_macro_f1"] > metrics["majority_macro_f1"]
        assert "scratch_macro_f1" in metrics and len(metrics["pretrained_confusion"]) == \
            len(metrics["labels"])
    rows = write_curve(tmp_path)
    assert [r["labels_fraction"] for r in rows] == [0.2, 1.0]
    assert rows[0]["labelled_windows"] < rows[1]["labelled_windows"]
    assert (tmp_path / "curve.png").stat().st_size > 1000 and "| 0.2 |" in \
        (tmp_path / "curve.md").read_text()
    saved = json.loads((tmp_path / "1.0" / "metrics.json").read_text())
    assert saved["labels_fraction"] == 1.0


@pytest.mark.slow
def test_search_and_annotate_cli_refuse_in_one_line(trained_run, tmp_path):
    """The working commands are tests/test_readme_commands.py's."""
    run, _ = trained_run
    assert_clean_failure(run_module("sensorclip.search", f"ckpt_path={run}", "query=  ",
                                    f"paths.log_dir={tmp_path}"), "query=", "is outside its domain")
    assert_clean_failure(run_module("sensorclip.search", f"ckpt_path={tmp_path / 'x.ckpt'}",
                                    "query=a", f"paths.log_dir={tmp_path}"), "does not exist")
    assert_clean_failure(run_module("sensorclip.annotate", f"ckpt_path={run}",
                                    f"data.raw_path={tmp_path / 'log.txt'}",
                                    f"paths.log_dir={tmp_path}"),
                         "data.layout=null", "needs the home's layout", "a shipped layout")


def test_a_log_of_another_home_needs_its_layout(tmp_path):
    milan_like = tmp_path / "milan.txt"
    milan_like.write_text("2009-10-16 08:00:00 M045 ON\n2009-10-16 08:00:03 M045 OFF\n")
    with pytest.raises(SensorClipError, match="M045.*data.layout|missing from layout"):
        prepare(DataConfig(name="log", layout="demo", source="file", raw_path=str(milan_like)),
                WindowConfig(size=2), SplitConfig(train=1, val=0, test=0), CaptionConfig(),
                cache_dir=tmp_path, stages=("data",))
