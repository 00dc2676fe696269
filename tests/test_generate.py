"""Generated homes: valid, varied, reproducible, simulable, and usable as data=generated."""

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensorclip.config import CaptionConfig, DataConfig, RenderConfig, SplitConfig, WindowConfig
from sensorclip.data.generate import generate_home
from sensorclip.data.homes import NO_ACTIVITY, parse_home
from sensorclip.data.simulate import simulate
from sensorclip.data.simulator.model import parse_activity_model
from sensorclip.data.vocabulary import COMMON_NAMES
from sensorclip.errors import SensorClipError
from sensorclip.frozen.describe import describe_pairs, sentence_leaks
from sensorclip.frozen.render import render_home, sensor_state_pairs
from sensorclip.pipeline import home_name, prepare


@settings(max_examples=12, deadline=None)
@given(st.integers(0, 100_000))
def test_every_generated_home_is_valid_renders_and_simulates(seed):
    layout, model = generate_home(seed)
    home = parse_home(layout)
    motion = sum(s.type == "motion" for s in home.sensors.values())
    assert 8 <= motion <= 40 and any(s.type == "door" for s in home.sensors.values())
    assert any(s.is_numeric for s in home.sensors.values())
    assert set(home.labels) <= set(home.common) and set(home.common.values()) <= set(COMMON_NAMES)
    images, pairs = render_home(home, RenderConfig(image_size=32, supersample=1),
                                sensor_state_pairs(home)[:2])
    assert len(images) == 2
    sentences = describe_pairs(home)
    assert len(set(sentences)) == len(sentences) and sentence_leaks(home, sentences) == {}
    log = simulate(home, parse_activity_model(model, f"home {seed}"), days=2, seed=seed)
    written = {m.rsplit(" ", 1)[0] for m in log.marker if m}
    assert written and written <= set(home.labels)      # every label written is mapped
    assert all(home.common_label(label) in COMMON_NAMES for label in written)


def test_a_seed_gives_the_same_home_and_seeds_give_varied_homes():
    assert generate_home(7) == generate_home(7)
    homes = [generate_home(seed) for seed in range(40)]
    kinds = Counter()
    for layout, model in homes:
        rooms = layout["rooms"]
        kinds["studio"] += "studio" in rooms
        kinds["three bedrooms"] += sum("bedroom" in r for r in rooms) == 3
        kinds["two bathrooms"] += sum("bath" in r or "shower" in r for r in rooms) == 2
        kinds["pet"] += model["pet"]["walks_per_hour"] > 0
        kinds["works at home"] += "work" in model["activities"] and \
            model["activities"]["work"].get("days") == "weekdays"
        kinds["nap"] += "nap" in model["activities"]
    assert all(kinds[k] >= 2 for k in ("studio", "three bedrooms", "two bathrooms", "pet",
                                       "works at home", "nap")), kinds
    motion = [sum(s["type"] == "motion" for s in layout["sensors"].values())
              for layout, _ in homes]
    assert min(motion) <= 10 and max(motion) >= 30
    starts = {model["activities"]["sleep"]["start"][0] for _, model in homes}
    assert len(starts) >= 10                             # early and late residents
    cook_labels = {model["activities"]["cook_dinner"]["label"] for _, model in homes}
    assert len(cook_labels) >= 3                         # annotated in different words


def test_data_generated_prepares_home_n(tmp_path):
    data = DataConfig(name="generated", layout="generated", source="generate", seed=4, days=3,
                      activity_model=None)
    assert data.name == "generated_004" and home_name(data) == "generated_004"
    prep = prepare(data, WindowConfig(), SplitConfig(), CaptionConfig(per_window=1),
                   cache_dir=tmp_path, stages=("data",))
    assert prep.home.name == "generated_004" and prep.built["homes"] is not False
    assert len(prep.windows) > 0 and NO_ACTIVITY in prep.fine_names
    again = prepare(data, WindowConfig(), SplitConfig(), CaptionConfig(per_window=1),
                    cache_dir=tmp_path, stages=("data",))
    assert not any(again.built.values())
    assert np.array_equal(again.windows.start, prep.windows.start)


@pytest.mark.slow
def test_a_generated_home_trains_and_its_encoder_reads_another_generated_home(compose_config,
                                                                              tmp_path):
    from sensorclip.config import EvalConfig
    from sensorclip.evaluate import evaluate_checkpoint
    from sensorclip.train import train
    metrics = train(compose_config("trainer=debug", "data=generated", "data.seed=3",
                                   "model=text"))
    assert metrics["home"] == "generated_003"
    other = DataConfig(name="generated", layout="generated", source="generate", seed=8,
                       days=4, activity_model=None)
    moved = evaluate_checkpoint(tmp_path / "run" / "checkpoints" / "last.ckpt",
                                eval_config=EvalConfig(fewshot_k=(1,), fewshot_draws=1,
                                                       bootstrap_resamples=100), data=other)
    assert (moved["home"], moved["train_home"]) == ("generated_008", "generated_003")
    assert (tmp_path / "run" / "transfer" / "generated_008" / "metrics.json").is_file()
    for pool in ("mean", "meanmax"):         # the source-label references across homes
        assert 0 <= moved[f"sentence_ref_{pool}_macro_f1"] <= 1
        gap = moved["common_zeroshot_macro_f1"] - moved[f"sentence_ref_{pool}_macro_f1"]
        assert moved[f"delta_zeroshot_macro_f1_vs_sentence_ref_{pool}"] == pytest.approx(gap)
    assert "agnostic_bag_macro_f1" in moved
    assert moved["fewshot_text_init_0_macro_f1"] == moved["zeroshot_macro_f1"]


def test_a_second_resident_lives_in_the_same_home_on_their_own_draws(tmp_path):
    one_layout, one_model = generate_home(3)
    two_layout, two_model = generate_home(3, residents=2)
    assert two_model["residents"] == 2 and "residents" not in one_model
    assert {k: v for k, v in two_layout.items() if k != "name"} == \
        {k: v for k, v in one_layout.items() if k != "name"}        # the same home
    assert (one_layout["name"], two_layout["name"]) == ("generated_003", "generated2_003")
    home = parse_home(two_layout, source="generated2_003")
    one = simulate(home, parse_activity_model(one_model), days=7, seed=1)
    two = simulate(home, parse_activity_model(two_model), days=7, seed=1)
    assert len(two.time_us) > 1.5 * len(one.time_us)
    lines = two.lines()
    open_spans, overlapping = set(), 0
    for line in lines:                      # one annotation stream whose spans overlap
        fields = line.split()
        if fields[-1] == "begin":
            overlapping += bool(open_spans)
            open_spans.add(fields[-2])
        elif fields[-1] == "end":
            open_spans.discard(fields[-2])
    assert overlapping > 0
    with pytest.raises(SensorClipError, match="residents must be 1 or 2"):
        parse_activity_model({**two_model, "residents": 3})


def test_generated2_homes_in_data_and_in_multi(tmp_path):
    from sensorclip.multihome import home_configs
    data = DataConfig(name="generated", layout="generated", source="generate", seed=3,
                      residents=2, days=4, activity_model=None)
    assert data.home_key == data.name == "generated2_003"
    prep = prepare(data, WindowConfig(), SplitConfig(), CaptionConfig(per_window=1),
                   cache_dir=tmp_path, stages=("data",))
    assert prep.home.name == "generated2_003" and len(prep.windows) > 0
    multi = DataConfig(name="multi", layout="multi", source="multi", activity_model=None,
                       homes=["generated2:0-1", "generated:0"])
    assert [h.home_key for h in home_configs(multi)] == [
        "generated2_000", "generated2_001", "generated_000"]
