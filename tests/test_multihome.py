"""Many homes, one data set (data=multi)."""

import numpy as np
import pytest
import yaml
from omegaconf import OmegaConf

from sensorclip.config import (
    CaptionConfig,
    DataConfig,
    SplitConfig,
    TextEncoderConfig,
    VisionConfig,
    WindowConfig,
)
from sensorclip.data.homes import load_home
from sensorclip.errors import SensorClipError
from sensorclip.multihome import home_configs, prepare_multi
from sensorclip.pipeline import prepare
from sensorclip.runs import build_run


def multi(*homes, days=3) -> DataConfig:
    return DataConfig(name="multi", layout="multi", source="multi", activity_model=None,
                      days=days, homes=list(homes))


def test_homes_are_named_by_option_generated_range_or_mapping():
    homes = home_configs(multi("generated:2-4", "demo", {"layout": "milan", "source": "file",
                                                         "raw_path": "/x/data"}))
    assert [h.home_key for h in homes] == ["generated_002", "generated_003", "generated_004",
                                           "demo", "milan"]
    assert homes[0].days == 3 and homes[0].source == "generate"
    with pytest.raises(SensorClipError, match="unknown home 'kitchen'"):
        home_configs(multi("kitchen"))
    with pytest.raises(SensorClipError, match="more than once"):
        home_configs(multi("generated:1", "generated:0-2"))
    with pytest.raises(SensorClipError, match="needs its homes"):
        home_configs(multi())


def test_a_real_log_joins_by_its_data_option_and_path():
    (adlmr,) = home_configs(multi("adlmr=/x/P"))
    assert (adlmr.layout, adlmr.raw_path, adlmr.format, adlmr.strict) == \
        ("adlmr", "/x/P", "pairs", False)
    with pytest.raises(SensorClipError, match="adlmr=PATH"):
        home_configs(multi("adlmr"))


@pytest.fixture(scope="module")
def joined(tmp_path_factory, tiny_bert):
    cache = tmp_path_factory.mktemp("multi_cache")
    args = (WindowConfig(), SplitConfig(), CaptionConfig(per_window=2),
            TextEncoderConfig(path=str(tiny_bert), package=None), None,
            VisionConfig(name="text", inputs="text"))
    homes = [prepare(h, *args, cache_dir=cache) for h in
             home_configs(multi("generated:1", "demo"))]
    return homes, prepare_multi(multi("generated:1", "demo"), *args, cache_dir=cache)


def test_joined_homes_keep_their_windows_splits_and_captions(joined):
    homes, prep = joined
    assert len(prep.windows) == sum(len(h.windows) for h in homes)
    assert np.bincount(prep.windows.split, minlength=3).tolist() == \
        np.sum([np.bincount(h.windows.split, minlength=3) for h in homes], axis=0).tolist()
    offset = len(homes[0].time_us)
    second = prep.windows.start >= offset
    assert second.sum() == len(homes[1].windows)
    assert np.array_equal(prep.time_us[prep.windows.start[second]],
                          homes[1].time_us[homes[1].windows.start])
    # every window keeps its own captions, and the caption vectors line up with the texts
    for h, rows in ((homes[0], ~second), (homes[1], second)):
        texts = [prep.captions.texts[i] for i in prep.captions.index[rows, 0]]
        assert texts == [h.captions.texts[i] for i in h.captions.index[:, 0]]
    assert prep.text_embeddings.shape[0] == len(prep.captions.texts)
    k = prep.captions.index[second][5, 1]
    own = homes[1].captions.texts.index(prep.captions.texts[k])
    np.testing.assert_allclose(prep.text_embeddings[k], homes[1].text_embeddings[own])


def test_joined_labels_are_the_common_vocabulary(joined):
    homes, prep = joined
    demo = homes[1]
    assert prep.fine_names[0] == "no_activity" and prep.coarse_names == prep.fine_names
    rows = prep.windows.start >= len(homes[0].time_us)
    expected = [demo.home.common_label(demo.fine_names[f]) for f in demo.windows.fine]
    assert [prep.fine_names[f] for f in prep.windows.fine[rows]] == expected
    assert set(prep.home.descriptions) == set(prep.fine_names) - {"no_activity"}


def test_joined_pairs_are_per_home_centred_and_normalised(joined):
    homes, prep = joined
    n = len(homes[0].pairs)
    assert prep.pairs[0][0].startswith("generated_001/") and prep.pairs[n][0].startswith("demo/")
    for part in (prep.pair_embeddings[:n], prep.pair_embeddings[n:]):
        assert np.abs(part.mean(axis=0)).max() < 1e-5
    assert prep.pair_xy.min() >= 0 and prep.pair_xy.max() <= 1
    events = np.arange(0, len(prep.event_pair), 97)
    assert [prep.pairs[p][0] for p in prep.event_pair[events]] == \
        [prep.sensor_names[s] for s in prep.sensor[events]]


def test_training_batches_mix_homes(compose_config, tmp_path):
    cfg = compose_config("data=multi", "data.homes=[generated:1,demo]", "data.days=3",
                         "model=text")
    run = build_run(OmegaConf.to_container(cfg, resolve=True), tmp_path)
    data = run.datamodule
    batch = next(iter(data.train_dataloader()))
    starts = data.splits["train"].start[batch["window"]].numpy()
    homes = {data.prepared.sensor_names[s].split("/")[0] for s in data.prepared.sensor[starts]}
    assert homes == {"generated_001", "demo"}
    assert run.model.hparams.n_pairs == len(data.prepared.pairs)


def test_learned_inputs_and_homes_without_a_common_map_are_refused(tmp_path):
    with pytest.raises(SensorClipError, match="model=learned cannot train on several homes"):
        prepare_multi(multi("demo", "generated:0"), WindowConfig(), SplitConfig(),
                      CaptionConfig(), None, None, VisionConfig(family="learned"),
                      cache_dir=tmp_path)
    layout = yaml.safe_load(load_home("demo").source.read_text())
    layout.pop("common")
    (tmp_path / "plain.yaml").write_text(yaml.safe_dump(layout))
    plain = {"name": "plain", "layout": str(tmp_path / "plain.yaml"), "days": 2}
    with pytest.raises(SensorClipError, match="has no common map"):
        prepare_multi(multi(plain, "generated:0"), WindowConfig(), SplitConfig(),
                      CaptionConfig(per_window=1), cache_dir=tmp_path, stages=("data",))


@pytest.mark.slow
def test_two_homes_train_one_encoder_that_is_evaluated_on_a_third(compose_config, tmp_path):
    from sensorclip.config import EvalConfig
    from sensorclip.evaluate import evaluate_checkpoint
    from sensorclip.train import train
    metrics = train(compose_config("trainer=debug", "data=multi",
                                   "data.homes=[generated:1,demo]", "data.days=3", "model=text"))
    assert metrics["home"] == "multi_2_homes" and metrics["n_test_windows"] > 0
    target = DataConfig(name="generated", layout="generated", source="generate", seed=9, days=4,
                        activity_model=None)
    moved = evaluate_checkpoint(tmp_path / "run" / "checkpoints" / "last.ckpt",
                                eval_config=EvalConfig(fewshot_k=(1,), fewshot_draws=1,
                                                       bootstrap_resamples=100), data=target)
    assert moved["home"] == "generated_009" and "generated:1" in moved["train_home"]
    assert 0 <= moved["zeroshot_accuracy"] <= 1 and "bag_macro_f1" in moved
