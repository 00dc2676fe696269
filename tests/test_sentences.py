"""Sensors described in words (``model=text``, ``model=image_text``, ``render.labels``)."""

import json

import numpy as np
import pytest
import torch
import yaml
from omegaconf import OmegaConf

from helpers.models import tiny_text_model
from sensorclip.config import (
    CaptionConfig,
    DataConfig,
    RenderConfig,
    SplitConfig,
    TextEncoderConfig,
    VisionConfig,
    WindowConfig,
    stage_configs,
)
from sensorclip.data.homes import load_home, parse_home, shipped_layouts
from sensorclip.errors import SensorClipError
from sensorclip.frozen.describe import describe_pairs, room_words, sentence_leaks, state_phrase
from sensorclip.frozen.render import render_home, sensor_state_pairs
from sensorclip.frozen.text import TextEncoder
from sensorclip.model.features import InputProjection
from sensorclip.pipeline import prepare
from sensorclip.runs import build_run
from sensorclip.train import train

TWINS = {"name": "twins", "size": [300, 100],
         "rooms": {"hall": [0, 0, 300, 100]},
         "labels": {"Cook": "Cook"},
         "sensors": {"M1": {"room": "hall", "xy": [10, 50], "type": "motion"},
                     "M2": {"room": "hall", "xy": [290, 50], "type": "motion"},
                     "M3": {"room": "hall", "xy": [20, 50], "type": "motion"},
                     "M4": {"room": "hall", "xy": [20, 50], "type": "motion"},
                     "M5": {"room": "hall", "xy": [150, 50], "type": "motion",
                            "detail": "cooking corner"},
                     "D1": {"room": "hall", "xy": [150, 0], "type": "door"},
                     "T1": {"room": "hall", "xy": [5, 5], "type": "temperature"}}}


@pytest.mark.parametrize("layout", shipped_layouts())
def test_one_unique_leak_free_sentence_per_pair_of_every_shipped_layout(layout):
    home = load_home(layout)
    pairs = sensor_state_pairs(home)
    sentences = describe_pairs(home, pairs)
    assert len(sentences) == len(pairs) and len(set(sentences)) == len(pairs)
    assert sentence_leaks(home, sentences) == {}
    assert describe_pairs(home, pairs) == sentences              # deterministic
    assert not any(sid in text for (sid, _), text in zip(pairs, sentences))   # no sensor ids


def test_sentences_tell_apart_sensors_the_layout_does_not_and_never_name_a_label():
    home = parse_home(TWINS)
    sentences = dict(zip(sensor_state_pairs(home), describe_pairs(home)))
    assert len(set(sentences.values())) == len(sentences) == 12      # numeric T1 has none
    assert "west" in sentences["M1", "ON"] and "east" in sentences["M2", "ON"]
    assert "east" not in sentences["M2", "ON"].split("room")[1]     # alone in the east: no rank
    # three in the west of the room: ranked west to east, then in layout order
    assert [("first", "second", "third")[k] + " of three" in sentences[s, "ON"]
            for k, s in enumerate(("M1", "M3", "M4"))] == [True] * 3
    assert "cook" not in sentences["M5", "ON"].lower() and "corner" in sentences["M5", "ON"]
    assert sentence_leaks(home, list(sentences.values())) == {}
    assert sentence_leaks(home, ["Someone is cooking."]) == {"Someone is cooking.": ["cooking"]}


def test_states_read_differently():
    assert state_phrase("motion", "ON") == "detects motion"
    assert state_phrase("motion", "off5") == "stops detecting motion"
    assert state_phrase("door", "OPEN") != state_phrase("door", "CLOSE")
    assert state_phrase("item", "ABSENT") != state_phrase("item", "PRESENT")
    assert state_phrase("unknown", "ON") != state_phrase("unknown", "OFF")


def test_rooms_named_like_an_activity_read_as_in_the_captions():
    words = room_words(load_home("milan"))
    assert words["guest_bathroom"] == "south bathroom"          # Milan labels name bathing
    sentences = " ".join(describe_pairs(load_home("milan")))
    assert "guest bathroom" not in sentences and "south bathroom" in sentences


def _sentence_prep(tmp_path, tiny_bert, layout="demo", inputs="text", **render):
    return prepare(DataConfig(layout=layout, days=3), WindowConfig(), SplitConfig(),
                   CaptionConfig(per_window=1), TextEncoderConfig(path=str(tiny_bert),
                                                                  package=None),
                   RenderConfig(image_size=64, **render),
                   VisionConfig(device="cpu", name=inputs, inputs=inputs),
                   cache_dir=tmp_path, stages=("vision",))


def test_sentence_cache_is_reused_and_invalidated_by_a_changed_detail(tmp_path, tiny_bert):
    first = _sentence_prep(tmp_path / "cache", tiny_bert)
    assert first.built == {"sentences": True} and "images" not in first.entries
    written = (first.entries["sentences"] / "sentences.txt").read_text().splitlines()
    assert len(written) == len(first.pairs) == first.pair_embeddings.shape[0] == 48
    assert written[0].split("\t")[:2] == list(first.pairs[0])
    assert first.vision_identity["inputs"] == "text" and first.input_parts == [32]
    assert _sentence_prep(tmp_path / "cache", tiny_bert).built == {"sentences": False}
    layout = yaml.safe_load(load_home("demo").source.read_text())
    sensor = next(s for s in layout["sensors"].values() if s.get("detail") == "stove")
    sensor["detail"] = "oven"
    (tmp_path / "oven.yaml").write_text(yaml.safe_dump(layout))
    changed = _sentence_prep(tmp_path / "cache", tiny_bert, layout=str(tmp_path / "oven.yaml"))
    assert changed.built == {"sentences": True}
    assert "near the oven" in (changed.entries["sentences"] / "sentences.txt").read_text()


def test_image_text_joins_both_in_the_pairs_order(tmp_path, tiny_bert):
    prep = _sentence_prep(tmp_path, tiny_bert, inputs="image_text")
    assert set(prep.entries) == {"images", "vision", "sentences"}
    assert prep.input_parts == [192, 32] and prep.pair_embeddings.shape == (48, 224)
    assert prep.vision_identity["inputs"] == "image_text" and prep.vision_identity["dim"] == 224


def test_learned_inputs_cannot_be_combined_with_sentences():
    with pytest.raises(SensorClipError, match="model=learned has no frozen inputs"):
        VisionConfig(family="learned", inputs="text")
    with pytest.raises(SensorClipError, match="model.inputs=words is outside its domain: "
                                              "one of image, text, image_text"):
        VisionConfig(inputs="words")


@pytest.mark.parametrize("combine", ["concat", "sum"])
def test_input_projection_of_two_blocks_has_unit_rms_and_neither_block_dominates(combine):
    torch.manual_seed(0)
    image = torch.randn(40, 192) * 50 + 7          # large, offset: centred and scaled away
    sentence = torch.nn.functional.normalize(torch.randn(40, 32), dim=-1)
    projection = InputProjection(torch.cat([image, sentence], 1), 64, parts=(192, 32),
                                 combine=combine)
    table = projection.folded[:-1]
    assert table.pow(2).mean(dim=1).sqrt().sub(1).abs().max() < 0.25
    blocks = projection.pairs.split((192, 32), dim=1)
    assert torch.allclose(blocks[0].norm(dim=1), blocks[1].norm(dim=1), atol=1e-5)
    # changing only the sentences changes the inputs: both blocks are read
    other = InputProjection(torch.cat([image, sentence.flip(0)], 1), 64, parts=(192, 32),
                            combine=combine)
    other.linear.load_state_dict(projection.linear.state_dict())
    other.refold()
    assert (other.folded[:-1] - table).abs().mean() > 0.1


def test_one_block_projects_as_before():
    vectors = torch.randn(10, 16)
    torch.manual_seed(1)
    plain = InputProjection(vectors, 8)
    torch.manual_seed(1)
    parted = InputProjection(vectors, 8, parts=(16,), combine="sum")
    assert torch.allclose(plain.folded, parted.folded)


def test_render_labels_write_words_and_are_off_by_default():
    home = load_home("demo")
    pairs = sensor_state_pairs(home)[:1]
    words, rooms = describe_pairs(home, pairs), room_words(home)
    plain, _ = render_home(home, RenderConfig(image_size=96), pairs)
    default, _ = render_home(home, RenderConfig(image_size=96), pairs, words, rooms)
    labelled, _ = render_home(home, RenderConfig(image_size=96, labels=True), pairs, words, rooms)
    assert np.array_equal(np.asarray(plain[0]), np.asarray(default[0]))
    def inked(image):       # grey or darker pixels in the top band, where the banner goes
        return int((np.asarray(image)[:8].astype(int).sum(axis=-1) < 600).sum())
    assert inked(labelled[0]) > 20 and inked(plain[0]) == 0
    with pytest.raises(ValueError, match="one sentence per pair"):
        render_home(home, RenderConfig(labels=True), pairs)


def test_labelled_images_are_cached_apart(tmp_path):
    config = dict(data=DataConfig(days=3), windows=WindowConfig(), split=SplitConfig(),
                  captions=CaptionConfig(per_window=1), cache_dir=tmp_path, stages=("images",))
    plain = prepare(**config, render=RenderConfig(image_size=64))
    labelled = prepare(**config, render=RenderConfig(image_size=64, labels=True))
    assert plain.entries["images"] != labelled.entries["images"]


@pytest.mark.parametrize("inputs", ["text", "image_text"])
def test_text_inputs_build_a_model_whose_inputs_are_the_sentences(compose_config, tmp_path,
                                                                  inputs):
    cfg = OmegaConf.to_container(compose_config(f"model={inputs}"), resolve=True)
    run = build_run(cfg, tmp_path)
    projection = run.model.encoder.features.inputs
    prep = run.datamodule.prepared
    assert projection.parts == tuple(prep.input_parts)
    assert run.model.hparams.input_parts == prep.input_parts
    batch = run.datamodule.eval_dataset("train")[list(range(4))]
    sensor, text = run.model(batch)
    assert sensor.shape == text.shape


@pytest.mark.slow
def test_text_model_trains_and_evaluates_in_another_home(compose_config, tmp_path):
    from sensorclip.config import EvalConfig
    from sensorclip.evaluate import evaluate_checkpoint
    metrics = train(compose_config("trainer=debug", "model=text", "features=coords_time"))
    assert metrics["inputs"] == "text" and metrics["backbone_family"] == "text"
    assert metrics["pretrained"] and 0 <= metrics["recall@1_sensor_to_text"] <= 1
    run = tmp_path / "run"
    other = DataConfig(name="milan_sim", layout="milan", activity_model="milan", days=4,
                       start_date="2009-10-16")
    moved = evaluate_checkpoint(run / "checkpoints" / "last.ckpt", eval_config=EvalConfig(
        fewshot_k=(1,), fewshot_draws=1, bootstrap_resamples=100), data=other)
    assert (moved["home"], moved["train_home"], moved["inputs"]) == ("milan", "demo", "text")
    assert 0 <= moved["zeroshot_accuracy"] <= 1
    saved = json.loads((run / "transfer" / "milan_sim" / "metrics.json").read_text())
    assert saved["sentence_encoder"] == metrics["sentence_encoder"]


@pytest.mark.slow
def test_image_text_sum_trains(compose_config):
    metrics = train(compose_config("trainer=debug", "model=image_text", "model.combine=sum"))
    assert (metrics["inputs"], metrics["combine"]) == ("image_text", "sum")


@pytest.mark.slow
def test_downstream_tools_accept_a_text_encoder(compose_config, tmp_path):
    """embed, search and fine-tune read a model=text checkpoint, in its home and in another."""
    from hydra import compose, initialize_config_dir

    from helpers import CONF
    from sensorclip.downstream.logs import embed_log
    from sensorclip.downstream.search import best_matches, window_query
    from sensorclip.finetune import finetune
    train(compose_config("trainer=debug", "model=text"))
    run = tmp_path / "run"
    own = embed_log(run)
    assert own.embeddings.shape[0] == len(own.window_ids) > 0
    other = embed_log(run, data=DataConfig(name="generated", layout="generated",
                                           source="generate", seed=2, days=3,
                                           activity_model=None))
    assert other.prep.home.name == "generated_002" and len(other.embeddings) > 0
    first = int(own.window_ids[0])
    rows, _ = best_matches(own.embeddings, window_query(own.embeddings, own.window_ids, first), 3)
    assert rows[0] == 0
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(config_name="finetune", overrides=[
            f"ckpt_path={run}", "finetune.epochs=1", "finetune.init=pretrained",
            "progress_bar=false", f"paths.output_dir={tmp_path / 'ft'}"])
    assert "pretrained_macro_f1" in finetune(cfg)


def test_the_sentences_can_have_their_own_encoder(compose_config, tmp_path, tiny_bert):
    """text@sentence_text=OPTION embeds the event sentences with another encoder than the
    captions' (model=text with a stronger sentence encoder, captions unchanged)."""
    other = tiny_text_model(tmp_path / "other_bert", "bert", seed=7)
    own = OmegaConf.to_container(compose_config("model=text"), resolve=True)
    apart = OmegaConf.to_container(compose_config(
        "model=text", "text@sentence_text=minilm", f"sentence_text.path={other}"), resolve=True)
    assert own.get("sentence_text") is None and apart["text"]["path"] == str(tiny_bert)
    prep_own = build_run(own, tmp_path / "own").datamodule.prepared
    prep_apart = build_run(apart, tmp_path / "apart").datamodule.prepared
    sentences = [line.split("\t")[2] for line in
                 (prep_apart.entries["sentences"] / "sentences.txt").read_text().splitlines()]
    expected = TextEncoder(stage_configs(apart)["sentences"]).encode(sentences, progress=False)
    assert np.allclose(prep_apart.pair_embeddings, expected, atol=1e-5)
    assert not np.allclose(prep_own.pair_embeddings, prep_apart.pair_embeddings, atol=1e-3)
    assert np.array_equal(prep_own.text_embeddings, prep_apart.text_embeddings)   # captions
