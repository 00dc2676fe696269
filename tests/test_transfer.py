"""References for a home the encoder never saw: common level, agnostic bag, caption oracle."""

import numpy as np

from sensorclip.config import CaptionConfig, DataConfig, SplitConfig, WindowConfig
from sensorclip.data.homes import parse_home
from sensorclip.data.windows import Windows
from sensorclip.eval.transfer import (
    COMMON_LEVEL,
    agnostic_features,
    caption_oracle,
    fit_agnostic_bag,
    predict_among,
    prepared_features,
    room_type,
)
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


def test_the_agnostic_bag_uses_no_target_label(tmp_path):
    def data(seed):
        return DataConfig(name="generated", layout="generated", source="generate", seed=seed,
                          days=8, activity_model=None)
    args = (WindowConfig(), SplitConfig(), CaptionConfig(per_window=1))
    source = prepare(data(2), *args, cache_dir=tmp_path, stages=("data",))
    target = prepare(data(6), *args, cache_dir=tmp_path, stages=("data",))
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
