"""The references beside every figure: chance, bag of events, keyword zero-shot, bootstrap, and
the zero-shot descriptions both sides share."""

import numpy as np
import pytest
import torch

from sensorclip.data.captions import build_phrasebook, home_labels
from sensorclip.data.homes import load_home
from sensorclip.eval.classification import classification_metrics
from sensorclip.eval.probe import few_shot_draw, fit_probe
from sensorclip.eval.references import (
    bag_of_events,
    chance_retrieval,
    keyword_scores,
    macro_f1,
    paired_bootstrap,
    paired_bootstrap_draws,
)
from sensorclip.eval.retrieval import retrieval_metrics
from sensorclip.eval.zeroshot import is_background, label_descriptions, nearest


def test_chance_matches_simulated_random_rankings():
    rng = np.random.default_rng(0)
    captions = rng.integers(0, 60, size=300)          # many windows share a caption
    expected = chance_retrieval(captions)
    sims = [retrieval_metrics(torch.as_tensor(rng.normal(size=(300, 16)), dtype=torch.float32),
                              torch.as_tensor(rng.normal(size=(300, 16)), dtype=torch.float32),
                              torch.as_tensor(captions)) for _ in range(40)]
    for k in (1, 5, 10):
        simulated = np.mean([s[f"recall@{k}_sensor_to_text"] for s in sims])
        assert simulated == pytest.approx(expected[f"chance_recall@{k}"], abs=0.02)
    simulated_median = np.median([s["median_rank_sensor_to_text"] for s in sims])
    assert simulated_median == pytest.approx(expected["chance_median_rank"], rel=0.15)
    unique = chance_retrieval(np.arange(100))
    assert unique["chance_recall@1"] == pytest.approx(0.01)
    assert unique["chance_recall@10"] == pytest.approx(0.10)


def test_bag_of_events_counts_and_timing():
    us = 1_000_000
    time_us = np.array([0, 10, 20, 3600, 3610]) * us + 2 * 86_400 * us    # a Saturday
    sensor, state = np.array([0, 1, 0, 2, 2]), np.array([0, 0, 1, 0, 1])
    bag = bag_of_events(time_us, sensor, state, 3, 2, np.array([0, 3]), np.array([3, 2]))
    counts = bag[:, :6]
    assert counts[0].tolist() == [1, 1, 1, 0, 0, 0] and counts[1].tolist() == [0, 0, 0, 0, 1, 1]
    first, last = bag[:, 6:9], bag[:, 9:12]
    assert first.argmax(1).tolist() == [0, 2] and last.argmax(1).tolist() == [0, 2]
    assert bag[0, 12:14] == pytest.approx([0.0, 1.0])               # midnight: sin 0, cos 1
    assert bag[:, 14:21].argmax(1).tolist() == [5, 5]                # Saturday
    assert bag[:, 21] == pytest.approx(np.log1p([20, 10]))


def test_bag_probe_is_near_perfect_when_separable_and_near_chance_on_shuffled_labels():
    rng = np.random.default_rng(1)
    n_classes, per_window = 4, 12
    labels = rng.integers(0, n_classes, size=600)
    # each class fires its own sensor most of the time: counts separate the classes
    sensor = np.where(rng.random((600, per_window)) < 0.7, labels[:, None],
                      rng.integers(0, 6, size=(600, per_window))).ravel()
    time_us = np.arange(600 * per_window, dtype=np.int64) * 1_000_000
    starts, lengths = np.arange(600) * per_window, np.full(600, per_window)
    x = bag_of_events(time_us, sensor, np.zeros_like(sensor), 6, 1, starts, lengths)
    train, val, test = slice(0, 400), slice(400, 500), slice(500, 600)
    probe = fit_probe(x[train], labels[train], x[val], labels[val], n_classes)
    assert (probe.predict(x[test]) == labels[test]).mean() > 0.97
    shuffled = rng.permutation(labels)
    probe = fit_probe(x[train], shuffled[train], x[val], shuffled[val], n_classes)
    assert (probe.predict(x[test]) == shuffled[test]).mean() < 0.45


def test_keyword_scoring_by_hand():
    descriptions = [("someone is cooking at the stove",), ("the resident sleeps in bed",
                                                           "asleep in the bedroom")]
    captions = [["Motion near the stove in the kitchen, in the evening."],
                ["Someone is in the bedroom near the bed at night."]]
    scores = keyword_scores(captions, descriptions)
    # stove is 1 of {cooking, stove}; bed is 1 of {sleeps, bed}, bedroom 1 of {asleep, bedroom}
    assert scores[0].tolist() == pytest.approx([0.5, 0.0])
    assert scores[1].tolist() == pytest.approx([0.0, 0.5])
    assert nearest(scores).tolist() == [0, 1]
    assert nearest(scores, np.array([1])).tolist() == [1, 1]


def test_paired_bootstrap_over_days():
    rng = np.random.default_rng(2)
    true = rng.integers(0, 3, size=400)
    days = np.repeat(np.arange(8), 50)
    good = np.where(rng.random(400) < 0.9, true, (true + 1) % 3)
    bad = np.where(rng.random(400) < 0.5, true, (true + 1) % 3)
    delta, (low, high) = paired_bootstrap(true, good, bad, days, 3, resamples=300)
    assert delta == pytest.approx(macro_f1(true, good, 3) - macro_f1(true, bad, 3))
    assert 0 < low < delta < high
    same, interval = paired_bootstrap(true, good, good, days, 3, resamples=300)
    assert same == 0 and interval == [0, 0]
    assert paired_bootstrap(true, good, bad, np.zeros(400), 3)[1] is None     # one day
    assert macro_f1(true, good, 3) == pytest.approx(
        classification_metrics(true, good, 3, "")["macro_f1"])


def test_few_shot_draws_k_per_class_and_predicts_test():
    rng = np.random.default_rng(3)
    centres = rng.normal(0, 1, (3, 5))
    y = rng.integers(0, 3, 900)
    x = centres[y] + rng.normal(0, 1, (900, 5))

    def scores(k, features=x):
        return [macro_f1(y[700:], few_shot_draw(features[:600], y[:600], features[600:700],
                                                y[600:700], features[700:], 3, k, draw), 3)
                for draw in range(4)]
    five = scores(5)
    assert len(five) == 4 and 0.4 < np.mean(five) < 1 and np.std(five) > 0
    assert np.mean(scores(100)) > np.mean(five)
    one_class = np.zeros(600, dtype=int)
    assert few_shot_draw(x[:600], one_class, x[600:700], y[600:700], x[700:], 3, 5, 0) is None
    # a draw depends on the labels alone: another representation is fit on the same windows
    shuffled = rng.permutation(5)
    assert scores(5, x[:, shuffled]) == pytest.approx(five, abs=0.02)


def test_few_shot_interval_covers_the_draws_as_well_as_the_days():
    """Draws that disagree widen the interval even when every test day looks the same; a gap
    that holds in every draw and on every day is shown."""
    rng = np.random.default_rng(1)
    true = rng.integers(0, 3, 600)
    days = np.repeat(np.arange(6), 100)
    right, wrong = true.copy(), (true + 1) % 3

    def mostly(correct: float, seed: int) -> np.ndarray:
        keep = np.random.default_rng(seed).random(len(true)) < correct
        return np.where(keep, right, wrong)
    bag = [mostly(0.7, 100 + d) for d in range(5)]
    better = [mostly(0.9, d) for d in range(5)]
    delta, (low, high) = paired_bootstrap_draws(true, better, bag, days, 3, resamples=300)
    assert delta == pytest.approx(np.mean([macro_f1(true, a, 3) - macro_f1(true, b, 3)
                                           for a, b in zip(better, bag)]))
    assert 0 < low <= delta <= high
    mixed = [mostly(0.95 if d % 2 else 0.45, d) for d in range(5)]
    _, (low_mixed, high_mixed) = paired_bootstrap_draws(true, mixed, bag, days, 3, resamples=300)
    _, day_only = paired_bootstrap(true, mixed[0], bag[0], days, 3, resamples=300)
    assert high_mixed - low_mixed > 2 * (day_only[1] - day_only[0])
    assert low_mixed < 0 < high_mixed
    assert paired_bootstrap_draws(true, better, bag, np.zeros(600), 3)[1] is None
    assert paired_bootstrap_draws(true, [], [], days, 3) == (None, None)
    with pytest.raises(ValueError, match="unpaired"):
        paired_bootstrap_draws(true, better, bag[:2], days, 3)


def test_descriptions_share_the_captions_vocabulary_and_background_is_named():
    milan = load_home("milan")
    fine = ["no_activity", "Guest_Bathroom", "Kitchen_Activity", "Master_Bathroom"]
    coarse = sorted({milan.coarse_label(f) for f in fine})
    coarse_of_fine = np.array([coarse.index(milan.coarse_label(f)) for f in fine])
    book = build_phrasebook(milan, milan.sensor_ids, home_labels(milan, fine))
    fine_texts = label_descriptions(milan, "fine", fine, coarse, coarse_of_fine, book)
    assert fine_texts[1][0] == "south bathroom" and fine_texts[3][0] == "north bathroom"
    assert "cooking" in " ".join(fine_texts[2])                  # its coarse label's own words
    coarse_texts = label_descriptions(milan, "coarse", fine, coarse, coarse_of_fine, book)
    assert coarse_texts[coarse.index("Cook")] == milan.descriptions["Cook"]
    demo = load_home("demo")
    demo_fine = ["Cook_Breakfast", "Cook_Dinner"]
    joined = label_descriptions(demo, "coarse", demo_fine, ["Cook"], np.array([0, 0]))
    assert joined[0] == demo.descriptions["Cook_Breakfast"] + demo.descriptions["Cook_Dinner"]
    assert [is_background(x) for x in ("no_activity", "No_Activity", "Other", "Cook")] == \
        [True, True, True, False]
