import json
import os
import warnings
from functools import partial

import nbformat
import numpy as np
import pytest
import torch
from nbclient import NotebookClient
from omegaconf import OmegaConf
from sklearn.metrics import balanced_accuracy_score, f1_score

from helpers import REPO
from helpers.commands import run_module
from helpers.runs import untrained_run
from sensorclip.config import DataConfig, EvalConfig, stage_configs
from sensorclip.errors import SensorClipError
from sensorclip.eval import suite
from sensorclip.eval.classification import classification_metrics, confusion
from sensorclip.eval.probe import fit_probe, majority_label, run_concurrently
from sensorclip.eval.report import write_report
from sensorclip.eval.retrieval import retrieval_metrics
from sensorclip.eval.suite import evaluate_model
from sensorclip.eval.zeroshot import label_prototypes, zero_shot_predict
from sensorclip.evaluate import evaluate_checkpoint
from sensorclip.plots import confusion_figure, recall_bars, scatter_by_group
from sensorclip.runs import build_run, load_run
from sensorclip.train import train

REQUIRED = [f"recall@{k}_{d}" for k in (1, 5, 10) for d in ("sensor_to_text", "text_to_sensor")] + [
    "median_rank_sensor_to_text", "median_rank_text_to_sensor", "zeroshot_accuracy",
    "zeroshot_macro_f1", "zeroshot_weighted_f1", "zeroshot_balanced_accuracy",
    "coarse_zeroshot_accuracy", "coarse_zeroshot_macro_f1", "linear_probe_accuracy",
    "linear_probe_macro_f1", "majority_accuracy", "majority_macro_f1", "n_test_windows",
    "backbone", "pretrained"]
REFERENCES = [f"chance_recall@{k}" for k in (1, 5, 10)] + [
    "chance_median_rank", "untrained_recall@10_sensor_to_text",
    "untrained_median_rank_text_to_sensor",
    "untrained_linear_probe_macro_f1", "bag_macro_f1", "bag_accuracy", "coarse_bag_macro_f1",
    "keyword_zeroshot_macro_f1", "coarse_keyword_zeroshot_accuracy", "zeroshot_excluded_windows",
    "delta_probe_macro_f1_vs_bag", "delta_probe_macro_f1_vs_bag_ci95",
    "delta_probe_macro_f1_vs_untrained", "delta_probe_macro_f1_vs_untrained_ci95",
    "delta_zeroshot_macro_f1_vs_keyword", "delta_zeroshot_macro_f1_vs_keyword_ci95"] + [
    f"{who}fewshot_{k}_macro_f1{sd}" for who in ("", "bag_", "untrained_")
    for k in (1, 5, 10, 25) for sd in ("", "_sd")] + [
    f"delta_fewshot_{k}_macro_f1_vs_{ref}{ci}" for k in (1, 5, 10, 25) for ref in
    ("bag", "untrained") for ci in ("", "_ci95")] + [
    # the demo layout maps its labels into the common vocabulary: scored at that level too
    "common_zeroshot_macro_f1", "common_keyword_zeroshot_macro_f1",
    "caption_oracle_zeroshot_macro_f1", "delta_common_zeroshot_macro_f1_vs_caption_oracle_ci95"]
# few-shot from the text (sensorclip.eval.adapt): k = 0 is zero-shot; each k beside the plain
# probe, the untrained encoder and the bag of events fit on the same shots
REFERENCES += ["fewshot_text_init_0_macro_f1"] + [
    f"fewshot_text_init_{k}_{who}macro_f1" for k in (1, 5, 10, 25)
    for who in ("", "probe_", "untrained_", "bag_")] + [
    f"delta_fewshot_text_init_{k}_macro_f1_vs_{ref}{ci}" for k in (1, 5, 10, 25)
    for ref in ("probe", "untrained", "bag") for ci in ("", "_ci95")]


def test_classification_metrics_by_hand_and_against_sklearn():
    true = np.array([0, 0, 1, 1, 2])
    pred = np.array([0, 1, 1, 1, 0])
    m = classification_metrics(true, pred, n_classes=4, prefix="x_")
    # per class F1: c0 = 2*1/(2+1+1) = .5, c1 = 2*2/(4+1+0) = .8, c2 = 0; class 3 never occurs
    assert m["x_accuracy"] == pytest.approx(3 / 5)
    assert m["x_macro_f1"] == pytest.approx((0.5 + 0.8 + 0) / 3)
    assert m["x_weighted_f1"] == pytest.approx((0.5 * 2 + 0.8 * 2 + 0) / 5)
    assert m["x_balanced_accuracy"] == pytest.approx((0.5 + 1 + 0) / 3)
    rng = np.random.default_rng(0)
    for _ in range(5):
        t, p = rng.integers(0, 6, 200), rng.integers(0, 7, 200)
        ours = classification_metrics(t, p, 8, "")
        assert ours["macro_f1"] == pytest.approx(f1_score(t, p, average="macro"))
        assert ours["weighted_f1"] == pytest.approx(f1_score(t, p, average="weighted"))
        assert ours["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(t, p))
    assert confusion(true, pred, 3).tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]


def test_zero_shot_in_a_constructed_space():
    rng = np.random.default_rng(1)
    axes = np.eye(8, dtype=np.float32)[:3]
    descriptions = [axes[k] + rng.normal(0, 0.05, (4, 8)) for k in range(3)]   # 4 each
    prototypes = label_prototypes(descriptions)
    assert np.allclose(np.linalg.norm(prototypes, axis=1), 1)
    labels = rng.integers(0, 3, 60)
    sensors = axes[labels] + rng.normal(0, 0.2, (60, 8))
    assert (zero_shot_predict(sensors, prototypes) == labels).mean() > 0.95
    swapped = prototypes[[1, 0, 2]]            # a wrong description set is caught
    assert (zero_shot_predict(sensors, swapped) == labels).mean() < 0.6


def test_probe_chooses_on_validation_and_majority_on_train():
    rng = np.random.default_rng(2)
    centres = rng.normal(0, 1, (3, 6))
    def draw(n):
        y = rng.integers(0, 3, n)
        return centres[y] + rng.normal(0, 0.8, (n, 6)), y
    (tx, ty), (vx, vy), (sx, sy) = draw(300), draw(100), draw(100)
    probe = fit_probe(tx, ty, vx, vy, 3)
    assert probe.c in (0.01, 0.1, 1.0, 10.0, 100.0)
    assert (probe.predict(sx) == sy).mean() > 0.7
    # the choice depends on validation labels, never on anything else
    again = fit_probe(tx, ty, vx, vy, 3)
    assert again.c == probe.c and np.array_equal(again.predict(sx), probe.predict(sx))
    assert majority_label(np.array([2, 2, 1, 0, 2])) == 2


def test_retrieval_counts_windows_with_identical_captions_as_matches():
    sensor = torch.eye(4)[:, :3].clone()
    sensor[3] = torch.tensor([0.0, 0.0, 1.0])
    text = torch.eye(3)[[0, 1, 2, 2]]
    strict = retrieval_metrics(sensor, text, torch.tensor([0, 1, 2, 3]))
    shared = retrieval_metrics(sensor, text, torch.tensor([0, 1, 2, 2]))
    assert strict["recall@1_sensor_to_text"] == pytest.approx(0.5)   # 2 and 3 tie
    assert shared["recall@1_sensor_to_text"] == 1.0
    assert shared["median_rank_text_to_sensor"] == 1


def test_report_on_a_fake_multirun(tmp_path):
    for job, (backbone, recall) in enumerate([("clip", 0.4), ("dinov2", 0.6)]):
        run = tmp_path / str(job)
        (run / ".hydra").mkdir(parents=True)
        (run / ".hydra" / "overrides.yaml").write_text(f"- model={backbone}\n- features=none\n")
        (run / "metrics.json").write_text(json.dumps({
            "backbone": backbone, "pretrained": False, "recall@5_sensor_to_text": recall,
            "zeroshot_macro_f1": 0.3, "linear_probe_macro_f1": 0.7, "bag_macro_f1": 0.75,
            "delta_probe_macro_f1_vs_bag_ci95": [-0.1, 0.05]}))
    rows = write_report(tmp_path)
    assert [r["overrides"] for r in rows] == ["model=clip features=none",
                                             "model=dinov2 features=none"]
    markdown = (tmp_path / "report.md").read_text()
    assert "model=dinov2" in markdown and "0.600" in markdown and "0.750" in markdown
    assert "[-0.100, +0.050]" in markdown
    assert (tmp_path / "report.csv").read_text().count("\n") == 3
    assert (tmp_path / "report.png").stat().st_size > 1000


def test_dollar_signs_in_names_are_drawn_as_text_in_every_plot(tmp_path):
    """A '$' in a home name, a label or an override would start matplotlib's math text."""
    names = ["$Cook_$", "Meal_Prep$ $", r"$\x$"]             # invalid as math text
    truth, predicted = np.array([0, 1, 2, 2]), np.array([0, 2, 2, 1])
    scatter_by_group(np.random.default_rng(0).normal(size=(4, 2)), names + names[:1],
                     tmp_path / "map.png", "home $a_$ pairs", labels=names + ["$_$"])
    confusion_figure(confusion(truth, predicted, 3), names, tmp_path / "c.png", "$a_$")
    recall_bars({"zero-shot $_$": (truth, predicted)}, names, tmp_path / "r.png", "$a_$")
    (tmp_path / "sweep" / "0").mkdir(parents=True)
    (tmp_path / "sweep" / "0" / "metrics.json").write_text(json.dumps({"backbone": "x"}))
    (tmp_path / "sweep" / "0" / ".hydra").mkdir()
    (tmp_path / "sweep" / "0" / ".hydra" / "overrides.yaml").write_text("- data.name=$a_$\n")
    write_report(tmp_path / "sweep")
    assert all((tmp_path / name).stat().st_size > 1000 for name in ("map.png", "c.png", "r.png",
                                                                   "sweep/report.png"))


def test_metrics_json_is_written_before_any_figure(compose_config, tmp_path, monkeypatch):
    """A figure that fails must not cost the numbers (train: test_hardening)."""
    checkpoint = untrained_run(compose_config(), tmp_path / "run")
    monkeypatch.setattr(suite, "write_figures", fail_drawing)
    with pytest.raises(RuntimeError, match="drawing failed"):
        evaluate_checkpoint(checkpoint, eval_config=EvalConfig(references=False))
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved["n_test_windows"] > 0 and saved["checkpoint"] == str(checkpoint)


def fail_drawing(*args, **kwargs):
    raise RuntimeError("drawing failed")


@pytest.mark.slow
def test_training_writes_every_required_metric_and_figure(trained_run):
    run, metrics = trained_run
    saved = json.loads((run / "metrics.json").read_text())
    missing = [k for k in REQUIRED + REFERENCES if k not in saved]
    assert missing == []
    for key in REQUIRED:
        if "recall" in key or "accuracy" in key or "f1" in key:
            assert 0.0 <= saved[key] <= 1.0
    assert saved["median_rank_sensor_to_text"] >= 1
    low, high = saved["delta_probe_macro_f1_vs_bag_ci95"]
    assert low <= saved["delta_probe_macro_f1_vs_bag"] <= high
    mean_gap = saved["fewshot_5_macro_f1"] - saved["bag_fewshot_5_macro_f1"]
    assert saved["delta_fewshot_5_macro_f1_vs_bag"] == pytest.approx(mean_gap)
    untrained_gap = saved["fewshot_5_macro_f1"] - saved["untrained_fewshot_5_macro_f1"]
    assert saved["delta_fewshot_5_macro_f1_vs_untrained"] == pytest.approx(untrained_gap)
    assert saved["fewshot_text_init_0_macro_f1"] == saved["zeroshot_macro_f1"]
    text_gap = saved["fewshot_text_init_5_macro_f1"] - saved["fewshot_text_init_5_bag_macro_f1"]
    assert saved["delta_fewshot_text_init_5_macro_f1_vs_bag"] == pytest.approx(text_gap)
    assert "agnostic_bag_macro_f1" not in saved          # only across homes
    for figure in ("confusion_zeroshot.png", "confusion_probe.png", "embedding_map.png",
                   "recall_per_class.png", "retrieval_examples.md"):
        assert (run / "plots" / figure).is_file()
    assert "| rank | rooms | true label |" in (run / "plots" / "retrieval_examples.md").read_text()


@pytest.mark.slow
def test_probe_never_sees_test_labels(trained_run):
    """Scrambling the test labels changes the scores but not what the probe chose."""
    run = load_run(trained_run[0])
    text = stage_configs(run.config)["text"]
    clean = evaluate_model(run.model, run.datamodule, text)
    windows = run.datamodule.prepared.windows
    test = windows.split == 2
    windows.fine[test] = np.random.default_rng(0).permutation(windows.fine[test])[::-1]
    scrambled = evaluate_model(run.model, run.datamodule, text)
    assert scrambled["linear_probe_C"] == clean["linear_probe_C"]
    assert scrambled["majority_accuracy"] != clean["majority_accuracy"] or \
        scrambled["linear_probe_accuracy"] != clean["linear_probe_accuracy"]


@pytest.mark.slow
def test_probe_on_chooses_what_the_probe_reads_and_nothing_else(trained_run):
    run = load_run(trained_run[0])
    text = stage_configs(run.config)["text"]
    quick = {"references": False, "fewshot_k": (1,), "fewshot_draws": 1}
    pooled = evaluate_model(run.model, run.datamodule, text,
                            EvalConfig(probe_on="pooled", **quick))
    projected = evaluate_model(run.model, run.datamodule, text,
                               EvalConfig(probe_on="projected", **quick))
    assert pooled["zeroshot_macro_f1"] == projected["zeroshot_macro_f1"]
    assert pooled["recall@10_mean"] == projected["recall@10_mean"]
    assert pooled["val_linear_probe_macro_f1"] != projected["val_linear_probe_macro_f1"]
    with pytest.raises(SensorClipError, match="probe_on"):
        EvalConfig(probe_on="head")


@pytest.mark.slow
def test_evaluate_cli_and_notebook(trained_run, tmp_path):
    run, _ = trained_run
    result = run_module("sensorclip.evaluate", f"ckpt_path={run / 'checkpoints' / 'last.ckpt'}",
                        f"paths.log_dir={tmp_path}")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "zero-shot" in result.stdout and "linear probe" in result.stdout
    assert json.loads((run / "metrics.json").read_text())["checkpoint"].endswith("last.ckpt")
    before = (run / "metrics.json").read_text()
    result = run_module("sensorclip.evaluate", f"ckpt_path={run / 'checkpoints' / 'last.ckpt'}",
                        "windows=fl20_p", "eval.fewshot_k=[1]", f"paths.log_dir={tmp_path}")
    assert result.returncode == 0, result.stderr[-2000:]
    presegmented = json.loads((run / "windows_fl20_p" / "metrics.json").read_text())
    assert presegmented["n_test_windows"] != json.loads(before)["n_test_windows"]
    assert (run / "metrics.json").read_text() == before       # the run's own result stays

    notebook = nbformat.read(REPO / "notebooks" / "explore_run.ipynb", as_version=4)
    os.environ["SENSORCLIP_RUN"] = str(run)
    try:
        NotebookClient(notebook, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(REPO / "notebooks")}}).execute()
    finally:
        os.environ.pop("SENSORCLIP_RUN")
    printed = "".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code"
                      for o in c.outputs)
    assert "backbone:" in printed


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_training_beats_the_untrained_encoder_on_retrieval(compose_config, seed):
    metrics = train(compose_config("trainer.max_epochs=3", f"seed={seed}",
                                   "eval.fewshot_k=[1]", "eval.fewshot_draws=1",
                                   "eval.bootstrap_resamples=100"))
    for direction in ("sensor_to_text", "text_to_sensor"):
        trained = metrics[f"recall@10_{direction}"]
        assert trained > metrics[f"untrained_recall@10_{direction}"] + 0.05
        assert trained > metrics["chance_recall@10"] + 0.05


@pytest.mark.slow
def test_cross_home_evaluation_between_two_simulated_homes(trained_run):
    run, metrics = trained_run
    before = (run / "metrics.json").read_text()
    other = DataConfig(name="milan_sim", layout="milan", activity_model="milan", days=4,
                       start_date="2009-10-16")
    moved = evaluate_checkpoint(run / "checkpoints" / "last.ckpt", eval_config=EvalConfig(
        fewshot_k=(1,), fewshot_draws=1, bootstrap_resamples=100), data=other)
    assert (moved["home"], moved["train_home"]) == ("milan", "demo")
    assert moved["n_test_windows"] != metrics["n_test_windows"]
    assert 0 <= moved["zeroshot_accuracy"] <= 1 and "bag_macro_f1" in moved
    assert json.loads((run / "transfer" / "milan_sim" / "metrics.json").read_text())["home"] == \
        "milan"
    assert (run / "metrics.json").read_text() == before          # the run's own result stays


def test_learned_embeddings_refuse_to_move_homes(compose_config, tmp_path):
    model = build_run(OmegaConf.to_container(compose_config("model=learned"), resolve=True),
                      tmp_path).model
    with pytest.raises(SensorClipError, match="cannot be evaluated in another home"):
        model.check_transferable()


def test_probe_does_not_depend_on_the_callers_blas_threads():
    """A solver stopped at max_iter still shows the summation order of a multi-threaded BLAS;
    the probe pins BLAS to one thread, so any caller's setting gives the same fit."""
    from threadpoolctl import threadpool_limits
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1500, 256)).astype(np.float32)
    y = (x[:, :8] @ rng.normal(size=(8, 6))).argmax(axis=1)
    fits = []
    for threads in (1, 2, 4):
        with threadpool_limits(limits=threads, user_api="blas"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")         # stopped early on purpose
                probe = fit_probe(x[:1000], y[:1000], x[1000:], y[1000:], 6, max_iter=15)
            fits.append((probe.model.coef_.copy(), probe.predict(x[1000:])))
    for coef, predicted in fits[1:]:
        np.testing.assert_array_equal(coef, fits[0][0])
        np.testing.assert_array_equal(predicted, fits[0][1])


def test_the_probe_converges_and_says_when_it_does_not():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(1200, 32))
    y = (x[:, :4] @ rng.normal(size=(4, 5))).argmax(axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        probe = fit_probe(x[:800], y[:800], x[800:], y[800:], 5)
    assert probe.converged and probe.val_macro_f1 > 0.9
    with pytest.warns(UserWarning, match="did not converge in 3 iterations"):
        stopped = fit_probe(x[:800], y[:800], x[800:], y[800:], 5, max_iter=3)
    assert not stopped.converged


def test_probes_fit_side_by_side_equal_probes_fit_one_after_another():
    """Stopped early, a fit shows any change of BLAS threads; side by side they must not."""
    rng = np.random.default_rng(2)
    jobs = []
    for _ in range(4):
        x = rng.normal(size=(1500, 256)).astype(np.float32)
        y = (x[:, :8] @ rng.normal(size=(8, 6))).argmax(axis=1)
        jobs.append(partial(fit_probe, x[:1000], y[:1000], x[1000:], y[1000:], 6, max_iter=15))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")             # stopped early on purpose
        one_by_one = [job() for job in jobs]
        side_by_side = run_concurrently(jobs)
    for a, b in zip(one_by_one, side_by_side):
        np.testing.assert_array_equal(a.model.coef_, b.model.coef_)
