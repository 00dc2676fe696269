"""Shared fixtures: the demo home and a week of it, tiny random models, composed configs, one
cache directory for the whole session and one trained run that the evaluation tests share.

Tests marked ``slow`` start subprocesses or train end to end; ``make test-fast`` skips them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hypothesis import is_hypothesis_test, settings

sys.path.insert(0, str(Path(__file__).parent))      # the helpers package (also for _target_)

import sensorclip  # noqa: E402,F401  (registers the config schemas the option files inherit)
from helpers import CONF  # noqa: E402
from helpers.models import tiny_text_model  # noqa: E402
from sensorclip.data.casas import attach_layout, parse_lines
from sensorclip.data.homes import load_home
from sensorclip.data.simulate import load_activity_model, simulate
from sensorclip.train import train

# Property tests. In the suite (CI) they are derandomised: the same bounded set of examples on
# every run, so a submission cannot fail, or pass, by the luck of the draw. `make
# test-properties` (HYPOTHESIS_PROFILE=explore) draws at random with many more examples; each
# failure it finds is pinned with @example in the test that found it, and so joins the suite.
# Tests may lower max_examples further.
settings.register_profile("ci", max_examples=40, deadline=None, print_blob=True,
                          derandomize=True, database=None)
settings.register_profile("explore", max_examples=1000, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_collection_modifyitems(items):
    """Mark every hypothesis test ``property`` (``make test-properties`` selects them)."""
    for item in items:
        if is_hypothesis_test(getattr(item, "obj", None)):
            item.add_marker(pytest.mark.property)

# A few simulated days, two paraphrases, small images: a data set in seconds.
TINY_DATA = ["data.days=4", "captions.per_window=2", "text.package=null",
             "render.image_size=64"]
TINY_TRAIN = TINY_DATA + ["loader.batch_size=16", "callbacks.progress_bar=null"]


@pytest.fixture(scope="session")
def demo_home():
    return load_home("demo")


@pytest.fixture(scope="session")
def demo_log(demo_home):
    """A week of the demo home, simulated once per test session."""
    return simulate(demo_home, load_activity_model("demo"), days=7, seed=3)


@pytest.fixture(scope="session")
def demo_events(demo_log, demo_home):
    return attach_layout(parse_lines(demo_log.lines(), source="demo"), demo_home)


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    """A tiny random BERT with a word-level tokenizer: the text encoder of every training test."""
    return tiny_text_model(tmp_path_factory.mktemp("tiny_bert"), "bert")


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory) -> Path:
    """One cache for the session: entries are keyed by content, so tests can share them."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def compose_config(tiny_bert, shared_cache, tmp_path):
    """compose_config(*overrides, task="train"): a tiny composed config whose run directory is
    ``tmp_path / "run"`` unless ``paths.output_dir=`` says otherwise (later overrides win)."""

    def _compose(*overrides: str, task: str = "train"):
        base = (TINY_TRAIN if task == "train" else TINY_DATA) + [
            f"text.path={tiny_bert}", f"paths.cache_dir={shared_cache}"]
        if task == "train":
            base.append(f"paths.output_dir={tmp_path / 'run'}")
        with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
            return compose(config_name=task, overrides=base + list(overrides))

    return _compose


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory, tiny_bert, shared_cache):
    """A run trained for two epochs on the tiny data set, two test days so that intervals over
    days exist: (run directory, its metrics)."""
    run_dir = tmp_path_factory.mktemp("trained") / "run"
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(config_name="train", overrides=TINY_TRAIN + [
            f"text.path={tiny_bert}", f"paths.cache_dir={shared_cache}",
            f"paths.output_dir={run_dir}", "trainer.max_epochs=2", "data.days=6",
            "split.train=0.5", "split.val=0.2", "split.test=0.3"])
    return run_dir, train(cfg)
