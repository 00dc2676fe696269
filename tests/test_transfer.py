"""References for a home the encoder never saw: common level, agnostic bag, sentence vectors
with source labels, caption oracle."""

import numpy as np

from sensorclip.config import CaptionConfig, DataConfig, SplitConfig, WindowConfig
from sensorclip.data.homes import parse_home
from sensorclip.data.windows import Windows
from sensorclip.eval.transfer import (
    COMMON_LEVEL,
    agnostic_features,
    caption_oracle,
    event_sentence_vectors,
    fit_agnostic_bag,
    fit_sentence_reference,
    pooled_windows,
    predict_among,
    prepared_features,
    room_type,
)
from sensorclip.frozen.describe import describe_pairs
from sensorclip.pipeline import prepare


def test_room_types_read_from_the_names_of_any_home():
    cases = {"master_bedroom": "bedroom", "guest_bathroom": "bathroom", "aisle_near_kitchen":
             "hallway", "Kitchen": "kitchen", "family_room": "living_room", "living": "living_room",
             "study_room": "office", "front_door": "entrance", "foyer": "entrance", "UNK": "other",
             "utility_room": "laundry", "dining_room": "dining_room", "corridor": "hallway"}
    assert {name: room_type(name) for name in cases} == cases


def _home(name, ids, rooms):
    return parse_home({"name": name, "size": [100, 100], "sensors": {
        sid: {"room": room, "xy": [10 * i + 5, 50], "type": "door" if sid.startswith("D")
              else "motion"} for i, (sid, room) in enumerate(zip(ids, rooms))}})


def test_agnostic_features_mean_the_same_in_every_home():
    """The same behaviour in two homes with other sensor ids, codes and room names."""
    a = _home("a", ["M1", "M2", "D1"], ["kitchen", "lounge", "foyer"])
    b = _home("b", ["X9", "D7", "K3"], ["living_room", "entrance", "kitchen"])
    time_us = np.arange(6, dtype=np.int64) * 10_000_000
    windows = Windows(np.array([0]), np.array([6]), *(np.zeros(1, np.int32) for _ in range(6)))
    states = ["ON", "OFF", "OPEN", "CLOSE"]
    # kitchen ON, kitchen OFF, living ON, door OPEN, door CLOSE, kitchen ON
    in_a = agnostic_features(a, ["M1", "M2", "D1"], states, time_us, np.array([0, 0, 1, 2, 2, 0]),
                             np.array([0, 1, 0, 2, 3, 0]), windows)
    in_b = agnostic_features(b, ["K3", "X9", "D7"], states[::-1], time_us,
                             np.array([0, 0, 1, 2, 2, 0]), np.array([3, 2, 3, 1, 0, 3]), windows)
    np.testing.assert_array_equal(in_a, in_b)


def source_and_target(cache_dir):
    """Two generated homes' events and labels: a source to fit on, a target to apply to."""
    def data(seed):
        return DataConfig(name="generated", layout="generated", source="generate", seed=seed,
                          days=8, activity_model=None)
    args = (WindowConfig(), SplitConfig(), CaptionConfig(per_window=1))
    return tuple(prepare(data(seed), *args, cache_dir=cache_dir, stages=("data",))
                 for seed in (2, 6))


def test_the_agnostic_bag_uses_no_target_label(tmp_path):
    source, target = source_and_target(tmp_path)
    probe = fit_agnostic_bag(source)
    candidates = np.arange(1, len(COMMON_LEVEL))
    x, truth = prepared_features(target, "test")
    labelled = predict_among(probe, x, candidates)
    target.windows.fine[:] = 0                       # every target label removed
    target.activity[:] = 0
    unlabelled = predict_among(probe, prepared_features(target, "test")[0], candidates)
    np.testing.assert_array_equal(labelled, unlabelled)
    assert (labelled == truth).mean() > 1 / len(candidates)     # it learned something


def test_the_caption_oracle_on_a_hand_made_example():
    descriptions = [np.array([[1.0, 0, 0]]), np.array([[0, 1.0, 0], [0, 0.8, 0.6]]),
                    np.array([[0, 0, 1.0]])]
    captions = np.array([[0.1, 0.9, 0.2], [0.9, 0.1, 0.0], [0.0, 0.1, 0.95]])
    assert caption_oracle(captions, descriptions, np.array([0, 1, 2])).tolist() == [1, 0, 2]
    assert caption_oracle(captions, descriptions, np.array([1, 2])).tolist() == [1, 1, 2]


def hashed_words(texts):
    """A stand-in sentence encoder: words hashed into 64 counts (deterministic, no model)."""
    out = np.zeros((len(texts), 64), np.float32)
    for row, text in enumerate(texts):
        for word in text.lower().strip(".").split():
            out[row, sum(map(ord, word)) % 64] += 1
    return out


def test_windows_pool_their_events_by_mean_and_max():
    vectors = np.array([[1, 0], [3, 2], [2, 8], [0, 4], [5, 1]], np.float32)
    windows = Windows(np.array([0, 2]), np.array([3, 3]),
                      *(np.zeros(2, np.int32) for _ in range(6)))
    np.testing.assert_allclose(pooled_windows(vectors, windows, "mean"),
                               [[2, 10 / 3], [7 / 3, 13 / 3]], rtol=1e-6)
    np.testing.assert_allclose(pooled_windows(vectors, windows, "meanmax")[:, 2:],
                               [[3, 8], [5, 8]])


def test_each_event_gets_the_sentence_of_its_sensor_and_state(tmp_path):
    data = DataConfig(name="generated", layout="generated", source="generate", seed=2, days=3,
                      activity_model=None)
    prep = prepare(data, WindowConfig(), SplitConfig(), CaptionConfig(per_window=1),
                   cache_dir=tmp_path, stages=("data",))
    seen = []
    vectors = event_sentence_vectors(prep, lambda texts: seen.extend(texts) or hashed_words(texts))
    assert vectors.shape == (len(prep.sensor), 64) and len(seen) == len(set(seen))
    for event in (0, len(prep.sensor) // 2, len(prep.sensor) - 1):
        pair = (prep.sensor_names[prep.sensor[event]], prep.state_names[prep.state[event]])
        assert describe_pairs(prep.home, [pair])[0] in seen
        np.testing.assert_array_equal(vectors[event],
                                      hashed_words(describe_pairs(prep.home, [pair]))[0])


def test_the_sentence_reference_uses_no_target_label(tmp_path):
    source, target = source_and_target(tmp_path)
    probe = fit_sentence_reference(source, event_sentence_vectors(source, hashed_words),
                                   "meanmax")
    candidates = np.arange(1, len(COMMON_LEVEL))
    test = target.windows.of_split("test")
    truth = prepared_features(target, "test")[1]

    def predicted():
        x = pooled_windows(event_sentence_vectors(target, hashed_words), test, "meanmax")
        return predict_among(probe, x, candidates)
    labelled = predicted()
    target.windows.fine[:] = 0                       # every target label removed
    target.activity[:] = 0
    np.testing.assert_array_equal(labelled, predicted())
    assert (labelled == truth).mean() > 1 / len(candidates)     # it learned something


def test_without_other_leaves_its_windows_out_and_never_predicts_it():
    from sensorclip.config import EvalConfig
    from sensorclip.eval.suite import _without_other
    other, cook, sleep = (COMMON_LEVEL.index(name) for name in ("other", "cook", "sleep"))
    n = len(COMMON_LEVEL)
    truth = np.array([cook, sleep, other, cook, other])
    zero = np.zeros((5, n))
    zero[:, other] = 1.0                      # zero-shot's first choice is always "other"
    zero[[0, 1, 3], [cook, sleep, sleep]] = 0.5
    keyword = np.zeros((5, n))
    keyword[:, cook] = 1.0
    metrics = {}
    _without_other({"common_zeroshot": zero, "common_keyword_zeroshot": keyword}, truth,
                   np.array([cook, sleep, other]), np.array([0, 0, 1, 1, 1]), n,
                   EvalConfig(bootstrap_resamples=100), metrics)
    # kept windows: cook, sleep, cook; zero-shot says cook, sleep, sleep; keyword cook x3
    assert metrics["without_other_common_zeroshot_accuracy"] == 2 / 3
    assert metrics["without_other_common_keyword_zeroshot_accuracy"] == 2 / 3
    assert metrics["without_other_common_zeroshot_macro_f1"] == (2 / 3 + 2 / 3) / 2
    assert "without_other_delta_zeroshot_macro_f1_vs_keyword" in metrics
