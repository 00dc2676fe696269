"""One floor-plan image per (sensor, state): the input vocabulary of the vision backbones.

Each image shows the whole home with one sensor marked active. With a floor-plan image (layout
``floor_plan`` or ``render.floor_plan``) the marker is drawn on it through the layout's
``floor_plan_transform`` (pixel = sx * x + ox, sy * y + oy); otherwise a schematic is drawn from
the layout: room rectangles and names, every sensor faint, the active one clearly marked.

Marker shape follows the sensor type (motion: circle, door: square, item: triangle, anything else:
diamond) and colour/fill the state (ON/OPEN/PRESENT: filled, saturated; OFF/CLOSE/ABSENT: a thick
ring in another colour). Sizes are fractions of the image, so homes of any size look alike, and the
plan sits inside a margin so that no marker touches the border; the backbones resize the square
image without cropping (``sensorclip.frozen.vision``), so nothing is lost either way. Output
depends only on the layout, the plan file and the config.

State strings are normalised before lookup (``sensorclip.data.states``): case and stray
characters are dropped and the CASAS variants ON0, ON` (backtick), OFF5, OPENED, CLOSED map to
ON, ON, OFF, OPEN, CLOSE. A pair that still has no image is an error naming it, never a silent
zero vector.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from sensorclip.config import RenderConfig
from sensorclip.data.homes import Home, Sensor
from sensorclip.data.states import STATES_BY_TYPE, is_active, normalise_state, states_of_type
from sensorclip.errors import SensorClipError

SHAPES = {"motion": "circle", "door": "square", "item": "triangle"}
COLOURS = {  # (active, inactive) per type
    "motion": ((22, 150, 60), (200, 30, 60)),
    "door": ((150, 80, 20), (90, 90, 200)),
    "item": ((230, 160, 0), (120, 60, 160)),
}
OTHER_COLOURS = ((0, 140, 200), (140, 140, 40))


def sensor_state_pairs(home: Home) -> list[tuple[str, str]]:
    """Every (sensor, state) the home's binary sensors can emit, in layout order."""
    return [(s.id, state) for s in home.sensors.values() if not s.is_numeric
            for state in states_of_type(s.type)]


def pair_table(sensor_names: Sequence[str], state_names: Sequence[str],
               pairs: Sequence[tuple[str, str]]) -> np.ndarray:
    """int32 [sensors, states] -> row of ``pairs`` (-1 where never seen); states normalised."""
    row = {pair: i for i, pair in enumerate(pairs)}
    table = np.full((len(sensor_names), len(state_names)), -1, dtype=np.int32)
    for i, sensor in enumerate(sensor_names):
        for j, state in enumerate(state_names):
            table[i, j] = row.get((sensor, normalise_state(state)), -1)
    return table


def check_pairs_covered(table: np.ndarray, sensor: np.ndarray, state: np.ndarray,
                        sensor_names: Sequence[str], state_names: Sequence[str]) -> None:
    """Fail, naming the pairs, if any event has no image (after normalisation)."""
    missing = table[sensor, state] < 0
    if not missing.any():
        return
    codes, counts = np.unique(sensor[missing] * len(state_names) + state[missing],
                              return_counts=True)
    listed = ", ".join(f"{sensor_names[c // len(state_names)]}={state_names[c % len(state_names)]}"
                       f" ({n} events)" for c, n in zip(codes[:20], counts[:20]))
    raise SensorClipError(
        f"{len(codes)} (sensor, state) pair(s) in the log have no image: {listed}. Give the "
        f"sensor a type whose states match in the layout (states by type: {STATES_BY_TYPE}), "
        "or fix the log")


# ---------------------------------------------------------------------------------------------
# Geometry


class Canvas:
    """Maps layout coordinates to pixels of a square image with a margin (y grows upwards)."""

    def __init__(self, home: Home, side: int, margin: float, plan_size=None):
        self.side = side
        inner = side * (1 - 2 * margin)
        if plan_size is None:
            width, height = home.size
            self.transform = (1.0, -1.0, 0.0, height)     # y up -> pixel rows down
        else:
            width, height = plan_size
            self.transform = home.floor_plan_transform or (
                plan_size[0] / home.size[0], -plan_size[1] / home.size[1], 0.0, plan_size[1])
        self.scale = inner / max(width, height)
        self.offset = ((side - width * self.scale) / 2, (side - height * self.scale) / 2)
        self.plan_box = (self.offset[0], self.offset[1], self.offset[0] + width * self.scale,
                         self.offset[1] + height * self.scale)

    def plan_pixel(self, xy) -> tuple[float, float]:
        """Layout coordinates -> pixel of the floor plan (or of the schematic's frame)."""
        sx, sy, ox, oy = self.transform
        return sx * xy[0] + ox, sy * xy[1] + oy

    def point(self, xy) -> tuple[float, float]:
        px, py = self.plan_pixel(xy)
        return (self.offset[0] + px * self.scale, self.offset[1] + py * self.scale)

    def rect(self, box) -> tuple[float, float, float, float]:
        (x0, y0), (x1, y1) = self.point(box[:2]), self.point(box[2:])
        return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


# ---------------------------------------------------------------------------------------------
# Drawing


def _font(size: int):
    return ImageFont.load_default(size=max(8, size))


def draw_marker(draw, centre, radius: float, sensor_type: str, state: str, faint=False) -> None:
    shape = SHAPES.get(sensor_type, "diamond")
    active_colour, inactive_colour = COLOURS.get(sensor_type, OTHER_COLOURS)
    active = is_active(state)
    colour = (175, 175, 175) if faint else (active_colour if active else inactive_colour)
    x, y = centre
    r = radius
    if shape == "circle":
        outline = [x - r, y - r, x + r, y + r]
    elif shape == "square":
        outline = [x - 0.9 * r, y - 0.9 * r, x + 0.9 * r, y + 0.9 * r]
    elif shape == "triangle":
        outline = [(x, y - r), (x + r, y + 0.8 * r), (x - r, y + 0.8 * r)]
    else:
        outline = [(x, y - r), (x + r, y), (x, y + r), (x - r, y)]
    width = max(1, int(round(r * (0.2 if faint else 0.38))))
    fill = colour if (faint or active) else None
    draw_shape = {"circle": draw.ellipse, "square": draw.rectangle}.get(shape, draw.polygon)
    draw_shape(outline, fill=fill, outline=colour, width=width)


def base_plan(home: Home, config: RenderConfig, room_words: Mapping[str, str] | None = None):
    """The home without any active sensor, at supersampled resolution, and its canvas;
    ``room_words`` names the rooms (default: the layout's names)."""
    side = config.image_size * config.supersample
    plan_path = config.floor_plan or home.floor_plan
    image = Image.new("RGB", (side, side), "white")
    if plan_path is not None:
        plan = _open_plan(Path(plan_path))
        canvas = Canvas(home, side, config.margin, plan_size=plan.size)
        check_markers_on_plan(home, canvas, plan.size, Path(plan_path))
        box = [int(round(v)) for v in canvas.plan_box]
        image.paste(plan.resize((box[2] - box[0], box[3] - box[1]), Image.LANCZOS), box[:2])
        draw = ImageDraw.Draw(image)
    else:
        canvas = Canvas(home, side, config.margin)
        draw = ImageDraw.Draw(image)
        _draw_schematic(draw, home, canvas, config, room_words or {})
    small = config.marker_scale * side * 0.35
    for sensor in home.sensors.values():
        if not sensor.is_numeric:
            draw_marker(draw, canvas.point(sensor.xy), small, sensor.type, "ON", faint=True)
    return image, canvas


def check_markers_on_plan(home: Home, canvas: Canvas, plan_size, plan_path: Path) -> None:
    """Refuse a floor_plan_transform that puts sensors off the plan: their images would be the
    bare plan, identical for every such pair, and be cached and trained on without a word."""
    width, height = plan_size
    pixels = {s.id: canvas.plan_pixel(s.xy) for s in home.sensors.values() if not s.is_numeric}
    outside = {sid: (x, y) for sid, (x, y) in pixels.items()
               if not (0 <= x <= width and 0 <= y <= height)}
    if outside:
        listed = ", ".join(f"{sid} at ({x:.0f}, {y:.0f})"
                           for sid, (x, y) in list(outside.items())[:20])
        raise SensorClipError(
            f"{len(outside)} sensor(s) fall outside the {width} x {height} floor plan {plan_path}"
            f": {listed}; fix floor_plan_transform [sx, sy, ox, oy] (pixel = sx * x + ox, "
            f"sy * y + oy) in {home.source or 'the layout'}, or use the plan it was measured on")


def _open_plan(path: Path):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(path).convert("RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise SensorClipError(f"floor plan {path} is too large to draw on ({exc}); scale it down: "
                              "images are drawn at render.image_size x render.supersample pixels "
                              "a side") from None
    except (OSError, UnidentifiedImageError) as exc:
        raise SensorClipError(f"floor plan {path} cannot be opened ({exc}); fix render.floor_plan "
                              "or the layout's floor_plan") from None


def _draw_schematic(draw, home: Home, canvas: Canvas, config: RenderConfig,
                    room_words: Mapping[str, str]) -> None:
    side = canvas.side
    line = max(1, side // 150)
    draw.rectangle(canvas.plan_box, outline=(120, 120, 120), width=line)
    font = _font(int(side * 0.035))
    for box in home.rooms.values():
        rect = canvas.rect(box)
        draw.rectangle(rect, fill=(246, 244, 238), outline=(120, 120, 120), width=line)
    labels = {}
    for name in home.room_names:
        if name in home.rooms:
            x0, y0, x1, y1 = canvas.rect(home.rooms[name])
            labels[name] = ((x0 + x1) / 2, y0 + (y1 - y0) * 0.12)
        else:
            points = [canvas.point(s.xy) for s in home.sensors.values() if s.room == name]
            labels[name] = tuple(np.mean(points, axis=0))
    if config.room_labels:
        for name, (x, y) in labels.items():
            draw.text((x, y), room_words.get(name, name.replace("_", " ")), fill=(110, 110, 110),
                      font=font, anchor="mm")


def draw_room_names(draw, home: Home, canvas: Canvas, room_words: Mapping[str, str]) -> None:
    """Room names at the rooms' centres (``render.labels`` on a floor plan)."""
    font = _font(int(canvas.side * 0.03))
    for name in home.room_names:
        x, y = canvas.point(home.room_centre(name))
        draw.text((x, y), room_words.get(name, name), fill=(40, 40, 40), font=font, anchor="mm",
                  stroke_width=max(1, canvas.side // 300), stroke_fill="white")


def draw_banner(draw, side: int, text: str) -> None:
    """The pair's sentence across the top of the image, on white, wrapped to fit."""
    font = _font(int(side * 0.032))
    words, lines = text.split(), [""]
    for word in words:
        trial = f"{lines[-1]} {word}".strip()
        if draw.textlength(trial, font=font) <= side * 0.94 or not lines[-1]:
            lines[-1] = trial
        else:
            lines.append(word)
    height = font.size * 1.25
    draw.rectangle([0, 0, side, height * len(lines) + font.size * 0.4], fill="white")
    for i, line in enumerate(lines):
        draw.text((side / 2, font.size * 0.2 + height * (i + 0.5)), line, fill="black",
                  font=font, anchor="mm")


def render_pair(base, canvas: Canvas, sensor: Sensor, state: str, config: RenderConfig,
                words: str | None = None):
    image = base.copy()
    draw = ImageDraw.Draw(image)
    radius = config.marker_scale * canvas.side
    draw_marker(draw, canvas.point(sensor.xy), radius, sensor.type, state)
    if words:
        draw_banner(draw, canvas.side, words)
    return image.resize((config.image_size, config.image_size), Image.LANCZOS)


def render_home(home: Home, config: RenderConfig,
                pairs: Iterable[tuple[str, str]] | None = None,
                words: Sequence[str] | None = None, room_words: Mapping[str, str] | None = None):
    """(images, pairs) for every pair of the home, or for the given ones. With
    ``render.labels``, ``words`` (one sentence per pair) is written on each image and the rooms
    are named on the plan by ``room_words`` (the captions' leak-free names,
    ``frozen.describe.room_words``), which then also name them on the schematic."""
    pairs = list(pairs) if pairs is not None else sensor_state_pairs(home)
    if config.labels and (words is None or len(words) != len(pairs) or room_words is None):
        raise ValueError("render.labels needs one sentence per pair and the room names "
                         "(sensorclip.frozen.describe)")
    base, canvas = base_plan(home, config, room_words if config.labels else None)
    if config.labels and (config.floor_plan or home.floor_plan or not config.room_labels):
        draw_room_names(ImageDraw.Draw(base), home, canvas, room_words)
    texts = words if config.labels else [None] * len(pairs)
    images = [render_pair(base, canvas, home.sensors[sid], state, config, text)
              for (sid, state), text in zip(pairs, texts)]
    return images, pairs


def contact_sheet(images, keys: Sequence[str], columns: int = 8):
    """One labelled PNG of all images, for a person to look over."""
    size = images[0].size[0]
    label_h = max(12, size // 10)
    rows = (len(images) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * size, rows * (size + label_h)), "white")
    draw = ImageDraw.Draw(sheet)
    font = _font(int(label_h * 0.75))
    for i, (image, key) in enumerate(zip(images, keys)):
        x, y = (i % columns) * size, (i // columns) * (size + label_h)
        sheet.paste(image, (x, y))
        draw.text((x + size / 2, y + size + label_h / 2), key, fill="black", font=font,
                  anchor="mm")
    return sheet


def image_key(sensor: str, state: str) -> str:
    return f"{sensor}_{state}"
