"""Paired comparison of two evaluations (``sensorclip.eval.compare``): the kept predictions
are the ones the metrics were computed from, and only evaluations of the same windows and the
same labelled draws pair."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sensorclip.errors import SensorClipError
from sensorclip.eval.compare import (
    PREDICTIONS,
    compare_runs,
    load_predictions,
    main,
    method_predictions,
    paired_difference,
    save_predictions,
)
from sensorclip.eval.references import macro_f1, paired_bootstrap_draws


def kept(draws, shots=None, windows=None):
    truth = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    days = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    windows = np.arange(8) * 3 if windows is None else windows
    return method_predictions(windows, truth, days, draws, 3, shots=shots)


def test_a_saved_pair_gives_the_paired_bootstrap_of_its_draws(tmp_path):
    a_draws = [np.array([0, 1, 2, 0, 1, 1, 0, 1]), np.array([0, 1, 0, 0, 1, 2, 0, 2])]
    b_draws = [np.array([0, 0, 2, 1, 1, 1, 0, 0]), np.array([1, 1, 0, 0, 1, 2, 2, 2])]
    shots = [np.array([1, 5, 9]), np.array([2, 6, 10])]
    save_predictions(tmp_path / "a.npz", {"m": kept(a_draws, shots)})
    save_predictions(tmp_path / "b.npz", {"m": kept(b_draws, shots)})
    result = compare_runs(tmp_path / "a.npz", tmp_path / "b.npz")
    expected = paired_bootstrap_draws(kept(a_draws).truth, a_draws, b_draws,
                                      kept(a_draws).days, 3, resamples=1000, seed=0)
    assert result["m"] == expected
    truth = kept(a_draws).truth
    by_hand = np.mean([macro_f1(truth, a, 3) - macro_f1(truth, b, 3)
                       for a, b in zip(a_draws, b_draws)])
    assert result["m"][0] == pytest.approx(by_hand)
    assert paired_difference(kept(a_draws), kept(a_draws))[1] == [0.0, 0.0]


def test_only_the_same_windows_and_the_same_shots_pair():
    one = [np.zeros(8, dtype=int)]
    with pytest.raises(SensorClipError, match="different test windows"):
        paired_difference(kept(one), kept(one, windows=np.arange(8) * 4))
    with pytest.raises(SensorClipError, match="different labelled windows"):
        paired_difference(kept(one, shots=[np.array([1, 2])]),
                          kept(one, shots=[np.array([1, 3])]))


def test_a_missing_evaluation_is_named(tmp_path):
    with pytest.raises(SensorClipError, match="evaluate the run on this home first"):
        load_predictions(tmp_path)


@pytest.mark.slow
def test_every_evaluation_keeps_the_predictions_its_metrics_came_from(trained_run):
    run, _ = trained_run
    metrics = json.loads((run / "metrics.json").read_text())
    predictions = load_predictions(run / PREDICTIONS)
    for method, key in (("zeroshot", "zeroshot_macro_f1"),
                        ("coarse_zeroshot", "coarse_zeroshot_macro_f1"),
                        ("linear_probe", "linear_probe_macro_f1"),
                        ("fewshot_text_init_0", "fewshot_text_init_0_macro_f1"),
                        ("fewshot_text_init_5", "fewshot_text_init_5_macro_f1")):
        kept_method = predictions[method]
        scores = [macro_f1(kept_method.truth, d, kept_method.n_classes)
                  for d in kept_method.draws]
        assert np.mean(scores) == pytest.approx(metrics[key]), method
    shots = predictions["fewshot_text_init_5"].shots
    assert len(shots) > 1 and len(set(shots.tolist())) == len(shots)    # draws of other windows
    itself = compare_runs(run, run)
    assert all(delta == 0.0 for delta, _ in itself.values())


@pytest.mark.slow
def test_the_command_prints_a_minus_b_and_names_a_missing_evaluation(trained_run, tmp_path,
                                                                        capsys):
    run, _ = trained_run
    main([str(run), str(run), "--methods", "zeroshot", "linear_probe"])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines] == [["zeroshot", "+0.000"],
                                                    ["linear_probe", "+0.000"]]
    with pytest.raises(SystemExit) as stopped:
        main([str(run), str(tmp_path)])
    assert stopped.value.code == 1
    assert "evaluate the run on this home first" in capsys.readouterr().err
