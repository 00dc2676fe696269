"""scripts/results.py chooses on validation scores and shows test figures beside references."""

import importlib.util
import json
import shutil

import pytest

from helpers import REPO


def load_script():
    spec = importlib.util.spec_from_file_location("results", REPO / "scripts" / "results.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def metrics(val_probe, val_zero, test_probe):
    return {"val_linear_probe_macro_f1": val_probe, "val_zeroshot_macro_f1": val_zero,
            "linear_probe_macro_f1": test_probe, "untrained_linear_probe_macro_f1": 0.5,
            "bag_macro_f1": 0.6, "delta_probe_macro_f1_vs_bag": test_probe - 0.6,
            "delta_probe_macro_f1_vs_bag_ci95": [-0.1, 0.2], "zeroshot_macro_f1": 0.3,
            "keyword_zeroshot_macro_f1": 0.25, "delta_zeroshot_macro_f1_vs_keyword": 0.05,
            "delta_zeroshot_macro_f1_vs_keyword_ci95": None, "recall@10_mean": 0.3,
            "chance_recall@10": 0.01}


def test_the_choice_uses_validation_never_test():
    results = load_script()
    runs = {"demo": {"a": metrics(0.7, 0.4, 0.99), "b": metrics(0.8, 0.45, 0.10)},
            "other": {"a": metrics(0.6, 0.3, 0.99), "b": metrics(0.65, 0.3, 0.10)}}
    assert results.chosen(runs) == "b"
    lines = results.table("toy", runs)
    assert any("**b**" in line for line in lines)
    assert any("+0.390 [-0.100, +0.200]" in line for line in lines)
    assert any("+0.050 –" in line for line in lines)          # no interval from one test day
    label_lines = results.table("label_positives", runs)
    assert any("Best on validation: b; not adopted" in line for line in label_lines)
    assert not any("**b**" in line for line in label_lines)


def test_the_bar_is_read_from_the_default_configuration_run(tmp_path):
    results = load_script()
    default = tmp_path / "demo" / "features" / "none"
    other = tmp_path / "demo" / "features" / "time"
    for run, key, probe in ((default, results.configuration_key(
            results.compose_run("demo", [], tmp_path)), 0.7), (other, "another config", 0.1)):
        run.mkdir(parents=True)
        (run / "key.txt").write_text(key)
        m = metrics(0.7, 0.4, probe) | {
            "delta_probe_macro_f1_vs_untrained": 0.04,
            "delta_probe_macro_f1_vs_untrained_ci95": [0.01, 0.07],
            "fewshot_5_macro_f1": 0.5, "fewshot_5_macro_f1_sd": 0.02,
            "bag_fewshot_5_macro_f1": 0.42}
        (run / "metrics.json").write_text(json.dumps(m))
    lines = results.bar(tmp_path, ["demo", "milan_sim"])
    demo = next(line for line in lines if line.startswith("| demo"))
    assert "+0.040 [+0.010, +0.070]" in demo and "+0.100 [-0.100, +0.200]" in demo
    assert "+0.080 (0.500 ± 0.020 vs 0.420)" in demo        # evaluated before few-shot CIs
    m = json.loads((default / "metrics.json").read_text())
    m |= {"delta_fewshot_5_macro_f1_vs_bag": 0.08,
          "delta_fewshot_5_macro_f1_vs_bag_ci95": [0.03, 0.12]}
    (default / "metrics.json").write_text(json.dumps(m))
    demo = next(line for line in results.bar(tmp_path, ["demo"]) if line.startswith("| demo"))
    assert "+0.080 [+0.030, +0.120] (0.500 vs 0.420)" in demo
    assert any(line.startswith("| milan_sim | default configuration not run") for line in lines)


@pytest.mark.slow
def test_re_evaluate_scores_the_checkpoint_again_and_keeps_what_training_recorded(
        trained_run, tmp_path):
    run, trained = trained_run
    copy = tmp_path / "demo" / "features" / "none"
    shutil.copytree(run, copy)
    stale = json.loads((copy / "metrics.json").read_text()) | {
        "linear_probe_macro_f1": -1.0, "seconds_fit": 123.0}
    (copy / "metrics.json").write_text(json.dumps(stale))
    load_script().re_evaluate(tmp_path, ["demo"])
    fresh = json.loads((copy / "metrics.json").read_text())
    assert fresh["linear_probe_macro_f1"] == pytest.approx(trained["linear_probe_macro_f1"])
    assert fresh["seconds_fit"] == 123.0
    assert fresh["checkpoint"].startswith(str(copy))


def test_a_run_saved_before_a_config_field_existed_is_still_found(tmp_path):
    from omegaconf import OmegaConf

    from sensorclip.runs import save_config
    results = load_script()
    run = tmp_path / "demo" / "features" / "none"
    saved = OmegaConf.to_container(results.compose_run("demo", [], run), resolve=True)
    del saved["text"]["runtime"]                 # as written before text.runtime was added
    save_config(run, saved)
    (run / "metrics.json").write_text(json.dumps({"probe": 0.5}))

    def key(*overrides):          # the same configuration, written somewhere else
        return results.configuration_key(
            results.compose_run("demo", list(overrides), tmp_path / "demo" / "other" / "x"))

    assert results.finished_run("demo", key(), tmp_path) == {"probe": 0.5}
    assert results.finished_run("demo", key("text.runtime=torch"), tmp_path) == {"probe": 0.5}
    assert results.finished_run("demo", key("trainer.enable_model_summary=true"),   # printing
                                tmp_path) == {"probe": 0.5}
    assert results.finished_run("demo", key("features=time"), tmp_path) is None
    assert results.finished_run("demo", key("trainer.max_epochs=3"), tmp_path) is None
