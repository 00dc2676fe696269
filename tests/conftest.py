from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

REPO = Path(__file__).resolve().parents[1]
SHARED_CASAS = REPO.parent / "shared" / "casas"


@pytest.fixture(scope="session")
def demo_home():
    from sensorclip.homes import load_home
    return load_home("demo")


@pytest.fixture(scope="session")
def demo_log(demo_home):
    """A week of the demo home, simulated once per test session."""
    from sensorclip.simulate import load_activity_model, simulate
    return simulate(demo_home, load_activity_model("demo"), days=7, seed=3)


@pytest.fixture(scope="session")
def demo_events(demo_log, demo_home):
    from sensorclip.casas import attach_layout, parse_lines
    return attach_layout(parse_lines(demo_log.lines(), source="demo"), demo_home)


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory):
    from helpers import tiny_text_model
    return tiny_text_model(tmp_path_factory.mktemp("tiny_bert"), "bert")
