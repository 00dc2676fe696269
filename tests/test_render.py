import numpy as np
import pytest
from PIL import Image

from sensorclip.config import RenderConfig, VisionConfig
from sensorclip.data.homes import parse_home
from sensorclip.errors import SensorClipError
from sensorclip.frozen.render import (
    Canvas,
    check_pairs_covered,
    contact_sheet,
    normalise_state,
    pair_table,
    render_home,
    sensor_state_pairs,
)
from sensorclip.frozen.vision import VisionBackbone

HOME = parse_home({
    "name": "box", "size": [200, 100],
    "rooms": {"left": [0, 0, 100, 100], "right": [100, 0, 200, 100]},
    "sensors": {"M1": {"room": "left", "xy": [50, 50], "type": "motion"},
                "D1": {"room": "right", "xy": [150, 20], "type": "door"},
                "C1": {"room": "right", "xy": [200, 100], "type": "motion"},     # a corner
                "T1": {"room": "left", "xy": [10, 10], "type": "temperature"}}})


def colour_centroid(image, colour, tol=40):
    pixels = np.asarray(image).astype(int)
    close = np.abs(pixels - np.array(colour)).sum(axis=-1) < tol
    ys, xs = np.nonzero(close)
    return (xs.mean(), ys.mean(), close.sum()) if len(xs) else (None, None, 0)


def test_pairs_follow_sensor_types_and_skip_numeric_sensors():
    assert sensor_state_pairs(HOME) == [("M1", "ON"), ("M1", "OFF"), ("D1", "OPEN"),
                                        ("D1", "CLOSE"), ("C1", "ON"), ("C1", "OFF")]


def test_marker_lands_at_the_right_pixel():
    config = RenderConfig(image_size=128, room_labels=False)
    images, pairs = render_home(HOME, config, [("M1", "ON")])
    canvas = Canvas(HOME, 128, config.margin)
    expected = canvas.point((50, 50))
    x, y, n = colour_centroid(images[0], (22, 150, 60))
    assert n > 20
    assert abs(x - expected[0]) < 1.5 and abs(y - expected[1]) < 1.5
    # y grows upwards in the layout: a sensor low in the layout is low in the image
    assert Canvas(HOME, 128, 0.1).point((0, 0))[1] > Canvas(HOME, 128, 0.1).point((0, 100))[1]


def test_states_and_types_look_different():
    images, _ = render_home(HOME, RenderConfig(image_size=96), [("M1", "ON"), ("M1", "OFF"),
                                                                 ("D1", "OPEN"), ("D1", "CLOSE")])
    arrays = [np.asarray(im).astype(int) for im in images]
    for i in range(4):
        for j in range(i + 1, 4):
            assert np.abs(arrays[i] - arrays[j]).sum() > 1000
    assert colour_centroid(images[1], (200, 30, 60))[2] > 10      # OFF: a red ring
    assert colour_centroid(images[1], (22, 150, 60))[2] == 0      # and no green


def test_marker_size_is_relative_to_the_plan():
    big = parse_home({**{"name": "big", "size": [20000, 10000]},
                      "sensors": {"M1": {"room": "a", "xy": [5000, 5000], "type": "motion"}}})
    small = parse_home({**{"name": "small", "size": [200, 100]},
                        "sensors": {"M1": {"room": "a", "xy": [50, 50], "type": "motion"}}})
    counts = [colour_centroid(render_home(h, RenderConfig(image_size=128))[0][0],
                              (22, 150, 60))[2] for h in (big, small)]
    assert abs(counts[0] - counts[1]) <= 0.1 * counts[1]


def test_border_markers_survive_the_backbone_preprocessing():
    images, _ = render_home(HOME, RenderConfig(image_size=224), [("C1", "ON")])
    x, y, n = colour_centroid(images[0], (22, 150, 60))
    radius = np.sqrt(n / np.pi)
    assert x + radius < 224 and y - radius > 0                    # whole marker inside
    backbone = VisionBackbone(VisionConfig(device="cpu"))
    pixels = backbone.preprocess(images).numpy()[0].transpose(1, 2, 0)
    restored = (pixels * np.array(backbone.std) + np.array(backbone.mean)) * 255
    assert colour_centroid(restored, (22, 150, 60))[2] >= 0.8 * n


def test_rendering_is_deterministic_and_writes_a_contact_sheet():
    a, pairs = render_home(HOME, RenderConfig(image_size=64))
    b, _ = render_home(HOME, RenderConfig(image_size=64))
    assert all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(a, b))
    sheet = contact_sheet(a, [f"{s}_{t}" for s, t in pairs], columns=4)
    assert sheet.size[0] == 4 * 64 and sheet.size[1] > 2 * 64


def test_floor_plan_background_and_transform(tmp_path):
    plan = tmp_path / "plan.png"
    Image.new("RGB", (400, 200), (10, 10, 200)).save(plan)
    home = parse_home({"name": "p", "size": [200, 100], "floor_plan": str(plan),
                       "floor_plan_transform": [2, -2, 0, 200],
                       "sensors": {"M1": {"room": "a", "xy": [100, 50], "type": "motion"}}})
    image = render_home(home, RenderConfig(image_size=100))[0][0]
    assert colour_centroid(image, (10, 10, 200))[2] > 1000            # the plan is there
    x, y, _ = colour_centroid(image, (22, 150, 60))
    assert abs(x - 50) < 2 and abs(y - 50) < 2                        # centre of the plan
    with pytest.raises(SensorClipError, match="cannot be opened"):
        render_home(home, RenderConfig(floor_plan=str(tmp_path / "missing.png")))


def plan_home(tmp_path, transform):
    plan = tmp_path / "plan.png"
    Image.new("RGB", (400, 200), (10, 10, 200)).save(plan)
    return {"name": "p", "size": [200, 100], "floor_plan": str(plan),
            "floor_plan_transform": transform,
            "sensors": {"M1": {"room": "a", "xy": [100, 50], "type": "motion"},
                        "M2": {"room": "a", "xy": [10, 10], "type": "motion"}}}


@pytest.mark.parametrize("value", [float("nan"), float("inf"), True], ids=["nan", "inf", "bool"])
def test_a_floor_plan_transform_that_is_not_finite_is_refused(tmp_path, value):
    with pytest.raises(SensorClipError, match="floor_plan_transform.*four finite numbers"):
        parse_home(plan_home(tmp_path, [value, -2, 0, 200]))


def test_sensors_off_the_floor_plan_are_refused_not_drawn_blank(tmp_path):
    """Without the check every image would be the bare plan: identical, marker-less."""
    home = parse_home(plan_home(tmp_path, [2, -2, 1000, 200]))
    with pytest.raises(SensorClipError) as info:
        render_home(home, RenderConfig(image_size=64))
    message = str(info.value)
    assert "2 sensor(s) fall outside the 400 x 200 floor plan" in message
    assert "M1 at (1200, 100), M2 at (1020, 180)" in message and "floor_plan_transform" in message
    shifted = parse_home(plan_home(tmp_path, [2, -2, 100, 200]))
    assert len(render_home(shifted, RenderConfig(image_size=64))[0]) == 4
    with pytest.raises(SensorClipError, match=r"^1 sensor\(s\).*M1 at \(500, 100\)"):
        render_home(parse_home(plan_home(tmp_path, [4, -2, 100, 200])), RenderConfig(image_size=64))


def test_a_floor_plan_too_large_to_draw_is_refused(tmp_path, monkeypatch):
    home = parse_home(plan_home(tmp_path, [2, -2, 0, 200]))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 400 * 200 // 3)   # as a 20000 x 20000 plan
    with pytest.raises(SensorClipError, match="plan.png is too large.*scale it down"):
        render_home(home, RenderConfig(image_size=64))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 400 * 200 // 1.5)  # Pillow only warns here
    with pytest.raises(SensorClipError, match="plan.png is too large"):
        render_home(home, RenderConfig(image_size=64))


def test_state_normalisation_and_uncovered_pairs():
    assert [normalise_state(s) for s in ("ON0", "ON`", "off5", "OPENED", "Closed", "ON")] == \
        ["ON", "ON", "OFF", "OPEN", "CLOSE", "ON"]
    pairs = sensor_state_pairs(HOME)
    table = pair_table(["M1", "D1"], ["ON0", "OFF", "OPEN", "WEIRD"], pairs)
    assert table[0, 0] == pairs.index(("M1", "ON")) and table[1, 2] == pairs.index(("D1", "OPEN"))
    with pytest.raises(SensorClipError, match=r"D1=WEIRD \(1 events\)"):
        check_pairs_covered(table, np.array([0, 1]), np.array([0, 3]), ["M1", "D1"],
                            ["ON0", "OFF", "OPEN", "WEIRD"])
