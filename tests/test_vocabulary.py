"""One activity vocabulary across homes: every shipped layout maps its labels into it."""

import numpy as np
import pytest

from sensorclip.config import SplitConfig, WindowConfig
from sensorclip.data.dataset import label_windows
from sensorclip.data.homes import NO_ACTIVITY, load_home, parse_home, shipped_layouts
from sensorclip.data.simulate import load_activity_model, simulate
from sensorclip.data.vocabulary import COMMON_ACTIVITIES, COMMON_NAMES
from sensorclip.errors import LayoutError

BASE = {"name": "flat", "size": [100, 100],
        "sensors": {"M1": {"room": "kitchen", "xy": [10, 10], "type": "motion"}},
        "labels": {"Kitchen_Activity": "Cook", "Nap": "Sleep"}}


def test_the_vocabulary_is_documented_and_every_name_has_descriptions():
    assert len(COMMON_NAMES) == len(set(COMMON_NAMES)) >= 12 and "other" in COMMON_NAMES
    for name, descriptions in COMMON_ACTIVITIES.items():
        assert name == name.lower() and " " not in name
        assert len(descriptions) >= 3 and len(set(descriptions)) == len(descriptions)


@pytest.mark.parametrize("layout", shipped_layouts())
def test_every_shipped_layout_maps_every_label_into_the_vocabulary(layout):
    home = load_home(layout)
    assert home.common and set(home.common.values()) <= set(COMMON_NAMES)
    assert set(home.labels) - {NO_ACTIVITY} <= set(home.common)
    assert home.common_label(NO_ACTIVITY) == NO_ACTIVITY


@pytest.mark.parametrize("model,layout", [("demo", "demo"), ("milan", "milan"),
                                          ("aruba", "aruba")])
def test_every_simulated_label_has_a_common_name(model, layout):
    home = load_home(layout)
    log = simulate(home, load_activity_model(model), days=3, seed=0)
    names = {m.rsplit(" ", 1)[0] for m in log.marker if m}
    assert names and all(home.common_label(name) in COMMON_NAMES for name in names)


def test_a_map_to_a_name_outside_the_vocabulary_is_refused():
    with pytest.raises(LayoutError, match=r"common: \['cooking'\] are not common activity"):
        parse_home({**BASE, "common": {"Kitchen_Activity": "cooking", "Nap": "sleep"}})


def test_a_label_left_out_of_the_map_is_an_error_naming_it():
    with pytest.raises(LayoutError, match=r"label\(s\) \['Nap'\] have no common name"):
        parse_home({**BASE, "common": {"Kitchen_Activity": "cook"}})
    assert parse_home(BASE).common == {}          # without a map: valid, not comparable


def test_a_log_label_the_map_leaves_out_is_an_error_when_windowing():
    home = parse_home({**BASE, "common": {"Kitchen_Activity": "cook", "Nap": "sleep"}})
    times = np.arange(40).astype("datetime64[m]").astype("datetime64[us]")
    activity = np.repeat([0, 1, 3], [10, 20, 10]).astype(np.int32)
    names = [NO_ACTIVITY, "Kitchen_Activity", "Nap", "Juggling"]
    with pytest.raises(LayoutError, match="'Juggling' has no common name"):
        label_windows(times, activity, names, home, WindowConfig(), SplitConfig())
    assert home.common_label("Nap") == "sleep"
