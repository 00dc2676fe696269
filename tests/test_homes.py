import json

import pytest
import yaml

from sensorclip.data.homes import (
    Home,
    generated_descriptions,
    label_phrase,
    load_home,
    shipped_layouts,
)
from sensorclip.errors import LayoutError

VALID = """
name: tiny
size: [100, 50]
rooms: {kitchen: [0, 0, 50, 50], hall: [50, 0, 100, 50]}
sensors:
  M001: {room: kitchen, xy: [10, 10], type: motion, detail: fridge}
  D001: {room: hall, xy: [90, 40], type: door}
labels: {Cooking: Cook}
"""


def write(tmp_path, text, name="home.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_shipped_layouts_load_with_their_facts():
    assert {"milan", "aruba", "cairo", "kyoto", "tulum", "demo"} <= set(shipped_layouts())
    milan = load_home("milan")
    assert len(milan.sensors) == 33
    assert milan.sensors["M015"].detail == "fridge"
    assert milan.sensors["T001"].is_numeric and not milan.sensors["M001"].is_numeric
    assert milan.coarse_label("Kitchen_Activity") == "Cook"
    assert milan.coarse_label("no_activity") == "No_Activity"
    aruba = load_home("aruba")   # door-like types are normalised to door
    assert {aruba.sensors[s].type for s in ("D002", "D003", "D004")} == {"door"}


def test_valid_layout_and_generated_descriptions(tmp_path):
    home = load_home(write(tmp_path, VALID))
    assert isinstance(home, Home) and home.size == (100.0, 50.0)
    assert home.room_names == ["kitchen", "hall"]
    assert "cook" in generated_descriptions("Cook")[1]


def test_json_layouts_work_too(tmp_path):
    home = load_home(write(tmp_path, json.dumps(yaml.safe_load(VALID)), "home.json"))
    assert home.sensor_ids == ["M001", "D001"]


def test_label_phrase_drops_resident_tags():
    assert label_phrase("Kitchen_Activity") == "kitchen activity"
    assert label_phrase("R1_Sleep") == "sleep"
    assert label_phrase("R2 take medicine") == "take medicine"


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace("name: tiny", ""), "name"),
    (lambda t: t.replace("xy: [10, 10]", "xy: [500, 10]"), "outside size"),
    (lambda t: t.replace("room: hall, xy", "room: attic, xy"), "not one of the rooms"),
    (lambda t: t.replace("  D001:", "  M001:"), "duplicate key 'M001'"),
    (lambda t: t.replace("type: door", "tpye: door"), "tpye"),
    (lambda t: t.replace("size: [100, 50]", "size: [100]"), "size"),
    (lambda t: t.replace("[50, 0, 100, 50]", "[60, 0, 50, 50]"), "x0 < x1"),
    (lambda t: t + "colour: red\n", "unknown field"),
    (lambda t: "sensors: [", "not valid YAML"),
])
def test_bad_layouts_fail_with_a_clear_message(tmp_path, edit, message):
    path = write(tmp_path, edit(VALID))
    with pytest.raises(LayoutError) as info:
        load_home(path)
    assert message in str(info.value) and str(path) in str(info.value)


def test_unknown_layout_name_lists_the_shipped_ones():
    with pytest.raises(LayoutError, match="milan"):
        load_home("atlantis")
