import numpy as np
import pytest

from sensorclip.data.casas import attach_layout, parse_lines
from sensorclip.data.homes import load_home
from sensorclip.data.simulate import load_activity_model, parse_activity_model, simulate
from sensorclip.errors import SensorClipError


def test_deterministic_by_seed(demo_home):
    model = load_activity_model("demo")
    a = simulate(demo_home, model, days=2, seed=7).lines()
    b = simulate(demo_home, model, days=2, seed=7).lines()
    c = simulate(demo_home, model, days=2, seed=8).lines()
    assert a == b and a != c


def test_log_is_realistic(demo_log, demo_events, demo_home):
    report = demo_events.report
    assert report.format == "a" and report.unclosed_spans == 0 and report.unmatched_ends == 0
    names = set(demo_events.activity_names) - {"no_activity"}
    assert len(names) >= 8
    states = [demo_events.state_names[s] for s in demo_events.state]
    assert states.count("ON") == states.count("OFF") > 0          # motion comes in pairs
    assert states.count("OPEN") == states.count("CLOSE") > 0      # doors too
    assert report.numeric_readings > 0                             # temperature readings
    day = demo_events.time.astype("datetime64[D]")
    assert len(np.unique(day)) >= 7
    assert 0.5 < (demo_events.activity != 0).mean() < 0.99        # labelled, with idle gaps
    # nested night-time toilet trips sit inside Sleep spans
    assert "Bed_to_Toilet" in names


def test_any_number_of_days_and_milan_scale_volume():
    home, model = load_home("milan"), load_activity_model("milan")
    one = simulate(home, model, days=1, seed=0)
    three = simulate(home, model, days=3, seed=0)
    assert 3000 < len(one.time_us) < len(three.time_us)
    events = attach_layout(parse_lines(three.lines()), home)
    assert set(events.activity_names) >= {"Sleep", "Kitchen_Activity", "Bed_to_Toilet"}


def test_model_naming_unknown_rooms_is_refused(demo_home):
    model = parse_activity_model({"activities": {"X": {"rooms": ["attic"], "start": "08:00"}}})
    with pytest.raises(SensorClipError, match="attic"):
        simulate(demo_home, model, days=1)
    with pytest.raises(SensorClipError, match="days"):
        simulate(demo_home, load_activity_model("demo"), days=0)
