import numpy as np
import pytest

from sensorclip.config import CaptionConfig, WindowConfig
from sensorclip.data.captions import (
    build_phrasebook,
    caption_windows,
    find_leaks,
    forbidden_phrases,
    home_labels,
)
from sensorclip.data.casas import attach_layout, parse_lines
from sensorclip.data.dataset import windowed_data
from sensorclip.data.homes import load_home, shipped_layouts
from sensorclip.data.simulate import load_activity_model, simulate


def captions_for(events, home, windows=None):
    data = windowed_data(events, home, windows)
    return data.labelled.windows, data.captions


def test_forbidden_phrases_cover_labels_and_synonyms():
    phrases = forbidden_phrases(["Kitchen_Activity", "Sleep", "Eve_Meds", "R1_Work"])
    for word in ("kitchen activity", "sleeping", "asleep", "medicine", "pills", "work", "chores"):
        assert word in phrases
    assert find_leaks("The resident is asleep near the pills.", phrases) == ["asleep", "pills"]
    assert find_leaks("Motion in the kitchen near the stove.", phrases) == []


@pytest.mark.parametrize("name", ["demo", "milan"])
def test_no_caption_names_an_activity_or_a_synonym(name):
    home = load_home(name)
    log = simulate(home, load_activity_model(name), days=3, seed=11)
    events = attach_layout(parse_lines(log.lines()), home)
    w, caps = captions_for(events, home, windows=WindowConfig(size=10))
    assert len(caps.texts) > 500
    forbidden = forbidden_phrases(home_labels(home, events.activity_names))
    leaks = {t: find_leaks(t, forbidden) for t in caps.texts if find_leaks(t, forbidden)}
    assert leaks == {}
    # every window's own labels, checked one by one as well
    for i in range(0, len(w), 97):
        own = forbidden_phrases([events.activity_names[w.fine[i]],
                                 home.coarse_label(events.activity_names[w.fine[i]])])
        assert not any(find_leaks(caps.texts[k], own) for k in caps.index[i])


@pytest.mark.parametrize("name", shipped_layouts())
def test_phrasebook_of_every_shipped_home_is_leak_free(name):
    home = load_home(name)
    book = build_phrasebook(home, home.sensor_ids, home_labels(home))
    phrases = book.room + [p for p in book.detail + book.door if p]
    assert [p for p in phrases if find_leaks(p, book.forbidden)] == []


def test_rooms_named_like_activities_get_positional_names():
    book = build_phrasebook(load_home("milan"), load_home("milan").sensor_ids,
                            home_labels(load_home("milan")))
    rooms = dict(zip(book.room_names, book.room))
    assert rooms["master_bathroom"] == "the north bathroom"
    assert rooms["guest_bathroom"] == "the south bathroom"
    assert rooms["kitchen"] == "the kitchen"
    milan_details = [d for d in book.detail if d]
    assert "near the fridge" in milan_details and "near the cabinet in kitchen" in milan_details


def test_captions_describe_time_rooms_details_and_doors(demo_events, demo_home):
    w, caps = captions_for(demo_events, demo_home)
    texts = caps.texts
    assert caps.index.shape == (len(w), 4)
    assert any(" on a Monday" in t or "on Monday" in t for t in texts)
    assert any("minute" in t for t in texts)
    assert any(t.count("the ") >= 2 and " to the " in t for t in texts)   # room sequences
    assert any("near the fridge" in t for t in texts)
    assert any("front door" in t for t in texts)
    assert any("movement" in t or "motion" in t for t in texts)
    per_window = [len(set(row)) for row in caps.index]
    assert np.mean(per_window) > 2.5                               # real paraphrases


def test_captions_are_seeded_and_independent_of_other_windows(demo_events, demo_home):
    w, _ = captions_for(demo_events, demo_home)
    book = build_phrasebook(demo_home, demo_events.sensor_names,
                            home_labels(demo_home, demo_events.activity_names))
    args = (demo_events.time.astype(np.int64), demo_events.sensor, demo_events.state,
            demo_events.state_names)

    def render(starts, lengths, seed=0):
        caps = caption_windows(*args, starts, lengths, book, CaptionConfig(seed=seed))
        return [[caps.texts[k] for k in row] for row in caps.index]

    full = render(w.start, w.length)
    tail = render(w.start[50:60], w.length[50:60])
    assert full[50:60] == tail
    assert render(w.start[:20], w.length[:20], seed=1) != full[:20]
