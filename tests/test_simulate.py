"""The simulator: determinism, the round trip through the reader, the label rule, and each
realism feature at its configured rate (measured with everything else switched off)."""

import numpy as np
import pytest
from hydra import compose, initialize_config_dir

from helpers import CONF
from helpers.simulation import COOK_AND_WASH, quiet_model
from sensorclip.config import DataConfig, typed
from sensorclip.data.casas import attach_layout, parse_lines
from sensorclip.data.homes import load_home
from sensorclip.data.logstats import log_statistics
from sensorclip.data.simulate import (
    ORIGINS,
    load_activity_model,
    parse_activity_model,
    simulate,
)
from sensorclip.data.simulator.annotate import marker_times, place
from sensorclip.data.simulator.model import Faults
from sensorclip.data.simulator.movement import Floor, Triggers
from sensorclip.data.simulator.sensors import merge, with_faults
from sensorclip.errors import SensorClipError
from sensorclip.train import train
from sensorclip.units import US_PER_DAY, US_PER_MIN, US_PER_S

SIMULATED_HOMES = [("demo", "demo"), ("milan_sim", "milan"), ("aruba_sim", "aruba")]


def parsed(log, home):
    return attach_layout(parse_lines(log.lines()), home)


def labels_at(events, times_us):
    """The label of the binary event at each of ``times_us`` (exact times)."""
    index = np.searchsorted(events.time.astype(np.int64), times_us)
    return [events.activity_names[a] for a in events.activity[index]]


@pytest.fixture(scope="module")
def milan_week():
    home = load_home("milan")
    log = simulate(home, load_activity_model("milan"), days=7, seed=5, start_date="2009-10-16")
    return home, log, parsed(log, home)


# ---------------------------------------------------------------------------------------------
# Determinism and the round trip


def test_deterministic_by_seed(demo_home):
    model = load_activity_model("demo")
    a, b = (simulate(demo_home, model, days=3, seed=7) for _ in range(2))
    c = simulate(demo_home, model, days=3, seed=8)
    assert a.lines() == b.lines() and a.lines() != c.lines()
    assert np.array_equal(a.origin, b.origin)
    assert [(s.start, s.annotated) for s in a.spans] == [(s.start, s.annotated) for s in b.spans]


def test_reader_parses_the_log_back_exactly(milan_week):
    home, log, events = milan_week
    report = events.report
    assert report.format == "a" and report.unclosed_spans == report.unmatched_ends == 0
    binary = log.origin >= 0
    assert len(events) == binary.sum() and report.numeric_readings == (~binary).sum()
    assert np.array_equal(events.time.astype(np.int64), log.time_us[binary])
    names = np.array(log.sensor_names)[log.sensor[binary]]
    assert list(np.array(events.sensor_names)[events.sensor]) == list(names)
    states = np.array(log.state_names)[log.state[binary]]
    assert list(np.array(events.state_names)[events.state]) == list(states)
    assert all(m == "" for m in log.marker[~binary])           # markers on binary events only


def test_every_on_has_its_off_and_every_open_its_close(demo_events):
    states = np.array(demo_events.state_names)[demo_events.state]
    for sensor in np.unique(demo_events.sensor):
        sequence = states[demo_events.sensor == sensor]
        assert len(sequence) % 2 == 0
        assert set(zip(sequence[::2], sequence[1::2])) <= {("ON", "OFF"), ("OPEN", "CLOSE")}


# ---------------------------------------------------------------------------------------------
# Statistics within the tolerances docs/simulator.md states


@pytest.mark.parametrize("name,layout,per_day", [("demo", "demo", (1200, 1600)),
                                                 ("milan", "milan", (4000, 6000)),
                                                 ("aruba", "aruba", (1800, 2800))])
def test_statistics_land_in_range(name, layout, per_day):
    home = load_home(layout)
    log = simulate(home, load_activity_model(name), days=6, seed=2)
    ev = parsed(log, home)
    s = log_statistics(ev.time.astype(np.int64), ev.sensor, ev.state, ev.activity,
                       ev.sensor_names, ev.state_names, ev.activity_names)
    assert per_day[0] <= len(ev) / 6 <= per_day[1]
    assert 1.0 <= np.median(s.gaps_s) <= 3.5 and 5 <= np.quantile(s.gaps_s, 0.9) <= 30
    assert 3 <= np.median(s.on_s) <= 5 and 6 <= np.quantile(s.on_s, 0.9) <= 12
    assert 0.3 <= s.same_next <= 0.55
    assert 0.2 <= s.unlabelled <= 0.45
    assert np.mean(np.diff(ev.time.astype(np.int64)) < US_PER_S // 2) > 0.05   # same-second


@pytest.mark.parametrize("data_option,layout", SIMULATED_HOMES)
def test_each_simulated_home_is_a_data_option_with_its_labels(data_option, layout):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        data = typed(DataConfig, compose(config_name="prepare",
                                         overrides=[f"data={data_option}"])["data"])
    assert data.source == "simulate" and data.layout == layout
    home = load_home(layout)
    log = simulate(home, load_activity_model(data.activity_model), days=3, seed=1,
                   start_date=data.start_date)
    events = parsed(log, home)
    labels = set(events.activity_names) - {"no_activity"}
    assert len(labels) >= 6 and events.report.unclosed_spans == events.report.unmatched_ends == 0
    assert labels <= set(home.labels)               # every label has its coarse label


@pytest.mark.slow
@pytest.mark.parametrize("data_option,layout", SIMULATED_HOMES)
def test_each_simulated_home_prepares_and_trains(compose_config, data_option, layout):
    metrics = train(compose_config("trainer=debug", f"data={data_option}", "data.days=4"))
    assert metrics["home"] == layout and metrics["n_test_windows"] > 0
    assert 0 <= metrics["recall@1_sensor_to_text"] <= 1


# ---------------------------------------------------------------------------------------------
# The label rule


def test_an_interruption_labels_its_own_events_and_the_parent_resumes(demo_home):
    log = simulate(demo_home, quiet_model(COOK_AND_WASH), days=3, seed=0)
    events = parsed(log, demo_home)
    for cook in log.spans:
        (wash,) = cook.children
        times = events.time.astype(np.int64)
        inside = times[(times >= wash.first) & (times <= wash.last)]
        before = times[(times >= cook.first) & (times < wash.first)]
        after = times[(times > wash.last) & (times <= cook.last)]
        assert set(labels_at(events, inside)) == {"Wash"}
        assert set(labels_at(events, before)) == set(labels_at(events, after)) == {"Cook"}


def test_an_unlabelled_interruption_keeps_the_parent_label(demo_home):
    activities = {**COOK_AND_WASH, "Wash": {**COOK_AND_WASH["Wash"], "labelled": False}}
    log = simulate(demo_home, quiet_model(activities), days=2, seed=0)
    events = parsed(log, demo_home)
    bathroom = [events.sensor_names.index(s) for s in ("M015", "M016", "M017")]
    assert log.spans[0].children and set(events.activity_names) == {"no_activity", "Cook"}
    in_bathroom = np.isin(events.sensor, bathroom) & (events.activity != 0)
    assert in_bathroom.sum() > 5                     # the bathroom trip is labelled Cook


def test_an_unannotated_parent_leaves_only_the_interruption_labelled(demo_home):
    activities = {**COOK_AND_WASH, "Cook": {**COOK_AND_WASH["Cook"], "unannotated": 1.0}}
    log = simulate(demo_home, quiet_model(activities), days=2, seed=0)
    assert set(parsed(log, demo_home).activity_names) == {"no_activity", "Wash"}


def test_fuzzy_boundaries_miss_the_edges_by_the_configured_spread(demo_home):
    model = quiet_model(COOK_AND_WASH, annotation={"boundary_sd_s": 40})
    log = simulate(demo_home, model, days=40, seed=0)
    marks = marker_times(log.spans, model, np.random.default_rng(1))
    begins = [t for t, text in marks if text == "Cook begin"]
    ends = [t for t, text in marks if text == "Cook end"]
    miss = np.r_[np.subtract(begins, [s.first for s in log.spans]),
                 np.subtract(ends, [s.last for s in log.spans])] / US_PER_S
    assert np.abs(miss).max() <= 3 * 40 + 1
    assert 25 <= miss.std() <= 55


def test_markers_sit_on_events_in_order_and_never_share_one():
    times = np.array([0, 10, 20, 30, 40, 50])
    binary = np.array([True, True, True, True, False, True])      # 40 is a temperature
    marks = [(10, "A begin"), (25, "A end"), (26, "B begin"), (27, "B end")]
    placed = place(marks, times, binary)
    # a begin on the first event from its time, an end on the last one up to its time; B end
    # wants 20 (taken by A end, before B begin), so it moves to the next binary event
    assert placed.tolist() == ["", "A begin", "A end", "B begin", "", "B end"]


def test_sharp_boundaries_put_each_label_on_its_first_and_last_event(demo_home):
    log = simulate(demo_home, quiet_model(COOK_AND_WASH), days=2, seed=1)
    events = parsed(log, demo_home)
    for span in log.spans:
        assert labels_at(events, [span.first, span.last]) == ["Cook", "Cook"]
        before = events.time.astype(np.int64) < span.first
        assert events.activity[before][-1:].tolist() in ([], [0])


# ---------------------------------------------------------------------------------------------
# Day-to-day variability


def test_days_vary_and_weekends_start_later(demo_home):
    nap = {"Nap": {"rooms": ["bedroom"], "start": "13:00", "start_sd": 0,
                   "duration": [20, 20], "rate": 1}}
    model = quiet_model(nap, routine={"day_shift_sd": 30, "weekend_shift": 60})
    log = simulate(demo_home, model, days=56, seed=3, start_date="2024-03-04")   # a Monday
    minutes = np.array([(s.start % US_PER_DAY) / US_PER_MIN for s in log.spans])
    weekend = np.array([(s.start // US_PER_DAY + 3) % 7 >= 5 for s in log.spans])
    assert 18 <= minutes[~weekend].std() <= 45
    assert 30 <= minutes[weekend].mean() - minutes[~weekend].mean() <= 90


def test_skipped_and_extra_occurrences_follow_their_rates(demo_home):
    acts = {"Tea": {"rooms": ["kitchen"], "start": "10:00", "probability": 0.5,
                    "duration": [5, 5], "rate": 2},
            "Snack": {"rooms": ["kitchen"], "extra": 1.0, "duration": [3, 3], "rate": 2}}
    log = simulate(demo_home, quiet_model(acts), days=60, seed=4)
    count = {name: sum(s.activity.name == name for s in log.spans) for name in acts}
    assert 18 <= count["Tea"] <= 42 and 35 <= count["Snack"] <= 85


def test_unannotated_occurrences_at_their_rate(demo_home):
    model = quiet_model(COOK_AND_WASH, annotation={"unannotated": 0.4})
    spans = simulate(demo_home, model, days=60, seed=2).spans
    assert 0.25 <= 1 - np.mean([s.annotated for s in spans]) <= 0.55


# ---------------------------------------------------------------------------------------------
# Faults, the visitor and the pet


def test_faults_at_their_configured_rates(demo_home):
    floor, rng, days = Floor(demo_home), np.random.default_rng(0), 20
    n, doors = 10_000, 2_000
    codes = np.r_[rng.choice(floor.motion, n), rng.choice(floor.doors, doors)]
    on = np.sort(rng.integers(0, days * US_PER_DAY, n + doors))
    people = Triggers(on, on + 3 * US_PER_S, codes.astype(np.int32),
                      np.zeros(n + doors, np.int8))
    faults = Faults(missed=0.1, spurious_per_hour=2, stuck_per_day=3, stuck_minutes=(20, 30),
                    door_left_open=0.25, door_open_minutes=(10, 20))
    out = with_faults(people, faults, floor, 0, days, rng)
    origin = np.array(ORIGINS)[out.origin]
    kept = (origin == "resident").sum()
    assert abs(kept - 0.9 * (n + doors)) < 4 * np.sqrt(0.09 * (n + doors))
    assert abs((origin == "spurious").sum() - 960) < 4 * np.sqrt(960)
    assert abs((origin == "stuck").sum() - 60) < 4 * np.sqrt(60)
    door = np.isin(out.sensor, floor.doors) & (origin == "resident")
    left = (out.off - out.on)[door] >= 10 * US_PER_MIN
    assert 0.2 <= left.mean() <= 0.3


def test_a_stuck_sensor_swallows_its_triggers_into_one_long_on(demo_home):
    floor = Floor(demo_home)
    code = int(floor.motion[0])
    on = np.array([0, 60, 120, 1000]) * US_PER_S
    off = on + 5 * US_PER_S
    off[0] = 600 * US_PER_S                            # stuck for ten minutes
    merged = merge(Triggers(on, off, np.full(4, code, np.int32), np.zeros(4, np.int8)))
    assert merged.on.tolist() == [0, 1000 * US_PER_S]
    assert merged.off.tolist() == [600 * US_PER_S, 1005 * US_PER_S]


def test_stuck_sensors_show_up_in_the_log(demo_home):
    model = quiet_model(COOK_AND_WASH, faults={"stuck_per_day": 1, "stuck_minutes": [20, 40]})
    log = simulate(demo_home, model, days=20, seed=6)
    ev = parsed(log, demo_home)
    s = log_statistics(ev.time.astype(np.int64), ev.sensor, ev.state, ev.activity,
                       ev.sensor_names, ev.state_names, ev.activity_names)
    assert 8 <= (s.on_s >= 20 * 60).sum() <= 32


def test_a_visitor_comes_on_the_configured_share_of_days_and_moves_meanwhile(demo_home):
    model = quiet_model(COOK_AND_WASH, visitor={"per_day": 0.5, "arrive": ["11:00", "12:00"],
                                                "door": "D001"})
    log = simulate(demo_home, model, days=40, seed=1)
    visitor = log.origin == ORIGINS.index("visitor")
    days = np.unique(log.time_us[visitor] // US_PER_DAY)
    assert 10 <= len(days) <= 30
    during_cooking = [(log.time_us[visitor] >= s.first) & (log.time_us[visitor] <= s.last)
                      for s in log.spans]
    assert np.any(during_cooking)                     # at the same time as the resident


def test_a_pet_walks_at_its_rate(demo_home):
    model = quiet_model(COOK_AND_WASH, pet={"walks_per_hour": 1, "steps": [2, 4]})
    log = simulate(demo_home, model, days=10, seed=2)
    on = (log.origin == ORIGINS.index("pet")) & (np.array(log.state_names)[log.state] == "ON")
    assert 240 * 2 * 0.7 <= on.sum() <= 240 * 4 * 1.2


# ---------------------------------------------------------------------------------------------
# Mistakes in a model


@pytest.mark.parametrize("raw,needle", [
    ({"activities": {"X": {"rooms": ["kitchen"], "start": "08:00", "bogus": 1}}},
     "activities.X: unknown key(s) bogus"),
    ({"idle_rate": 0.1, "activities": {}}, "moved to motion.idle_rate"),
    ({"activities": {"X": {"rooms": ["kitchen"], "start": "08:00", "rate": "fast"}}},
     "activities.X.rate must be a number"),
    ({"activities": {"X": {"rooms": ["kitchen"], "start": "25:00"}}}, "activities.X.start"),
    ({"activities": {"X": {"rooms": ["kitchen"], "start": "08:00",
                           "interruptions": {"Y": 0.5}}}}, "names unknown activity 'Y'"),
    ({"activities": {"X": {"rooms": ["kitchen"]}}}, "activities.X never happens"),
    ({"faults": {"missed": 2}, "activities": {}}, "faults.missed must lie in [0, 1]"),
    ({"visitor": {"per_dya": 0.1}, "activities": {}}, "visitor: unknown key(s) per_dya"),
])
def test_model_mistakes_name_the_key_and_the_fix(raw, needle):
    with pytest.raises(SensorClipError, match="test model") as info:
        parse_activity_model(raw, source="test model")
    assert needle in str(info.value)


def test_a_model_file_error_names_the_file(tmp_path):
    path = tmp_path / "home.yaml"
    path.write_text("activities:\n  X: {rooms: [kitchen], start: '08:00', rate: fast}\n")
    with pytest.raises(SensorClipError, match=str(path)):
        load_activity_model(path)


def test_model_naming_what_the_layout_lacks_is_refused(demo_home):
    attic = parse_activity_model({"activities": {"X": {"rooms": ["attic"], "start": "08:00"}}})
    with pytest.raises(SensorClipError, match="attic"):
        simulate(demo_home, attic, days=1)
    door_as_focus = quiet_model({"X": {"rooms": ["kitchen"], "start": "08:00",
                                       "focus": {"D001": 2}}})
    with pytest.raises(SensorClipError, match="D001"):
        simulate(demo_home, door_as_focus, days=1)
    with pytest.raises(SensorClipError, match="data.days=0 is outside its domain"):
        DataConfig(days=0)
