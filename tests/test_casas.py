import numpy as np
import pytest

from helpers import MILAN_EXCERPT
from sensorclip.data.casas import attach_layout, detect_format, parse_lines, read_casas
from sensorclip.data.homes import load_home
from sensorclip.errors import LogFormatError, UnknownSensorError

A_LINES = [
    "2024-01-01 08:00:00.000100\tM001\tON\tCooking begin",
    "2024-01-01 08:00:05\tM001\tOFF",
    "2024-01-01  08:00:07.5   D001   OPEN",
    "2024-01-01 08:00:09\tT001\t21.5",
    "2024-01-01 08:00:10\tM001\tON\tCooking end",
    "2024-01-01 08:00:20\tM001\tOFF",
]


def labels(events):
    return [events.activity_names[a] for a in events.activity]


def test_format_a_with_tabs_spaces_fractions_and_numeric_sensors():
    events = parse_lines(A_LINES, source="x")
    assert events.report.format == "a"
    assert len(events) == 5 and events.report.numeric_readings == 1
    assert labels(events) == ["Cooking"] * 4 + ["no_activity"]
    assert events.numeric.value.tolist() == [21.5]
    assert events.time[0] == np.datetime64("2024-01-01T08:00:00.000100")
    assert events.time[2] == np.datetime64("2024-01-01T08:00:07.500000")


def test_format_b_one_label_per_line():
    lines = ["2024-01-01 08:00:00 M001 ON Sleeping", "2024-01-01 08:00:03 M001 OFF Sleeping",
             "2024-01-01 08:01:00 M002 ON Meal_Preparation"]
    events = parse_lines(lines)
    assert events.report.format == "b"
    assert labels(events) == ["Sleeping", "Sleeping", "Meal_Preparation"]


def test_format_c_location_column():
    lines = ["2012-07-20 10:00:00.1 Kitchen M001 ON Cook",
             "2012-07-20 10:00:02.1 Kitchen M001 OFF Cook",
             "2012-07-20 10:05:00 Bedroom M009 ON Sleep"]
    events = parse_lines(lines)
    assert events.report.format == "c"
    assert events.sensor_names == ["M001", "M009"] and labels(events)[-1] == "Sleep"
    assert parse_lines(lines, fmt="c").report.format == "c"


def test_detect_format_on_rows():
    assert detect_format([["d", "t", "M1", "ON"]]) == "a"
    assert detect_format([["d", "t", "M1", "ON", "X", "begin"]]) == "a"
    assert detect_format([["d", "t", "M1", "ON", "X"]]) == "b"


def test_labels_with_spaces_and_stray_spaces_are_normalised():
    lines = ["2024-01-01 08:00:00 M001 ON  R1   wake begin",
             "2024-01-01 08:00:05 M001 OFF R1 wake end"]
    assert labels(parse_lines(lines)) == ["R1 wake", "R1 wake"]


def test_unsorted_lines_are_stably_sorted_and_counted():
    lines = ["2024-01-01 08:00:05 M002 ON", "2024-01-01 08:00:01 M001 ON",
             "2024-01-01 08:00:05 M003 ON"]
    events = parse_lines(lines)
    assert [events.sensor_names[s] for s in events.sensor] == ["M001", "M002", "M003"]
    assert events.report.out_of_order == 1
    assert events.line.tolist() == [2, 1, 3]


def test_nested_spans_take_the_innermost_label_and_resume():
    lines = ["2024-01-01 00:00:00 M1 ON Sleep begin", "2024-01-01 00:10:00 M1 OFF",
             "2024-01-01 01:00:00 M2 ON Toilet begin", "2024-01-01 01:01:00 M2 OFF",
             "2024-01-01 01:02:00 M2 ON Toilet end", "2024-01-01 02:00:00 M1 ON",
             "2024-01-01 06:00:00 M1 OFF Sleep end", "2024-01-01 07:00:00 M1 ON"]
    assert labels(parse_lines(lines)) == ["Sleep", "Sleep", "Toilet", "Toilet", "Toilet", "Sleep",
                                          "Sleep", "no_activity"]


def test_overlapping_spans_unmatched_end_and_unclosed_begin_are_counted():
    lines = ["2024-01-01 00:00:00 M1 ON A begin", "2024-01-01 00:01:00 M1 OFF B begin",
             "2024-01-01 00:02:00 M1 ON A end", "2024-01-01 00:03:00 M1 OFF",
             "2024-01-01 00:04:00 M1 ON C end", "2024-01-01 00:05:00 M1 OFF B begin",
             "2024-01-01 00:06:00 M1 ON"]
    events = parse_lines(lines)
    assert labels(events) == ["A", "B", "B", "B", "B", "B", "B"]
    assert events.report.unmatched_ends == 1          # C end
    assert events.report.unclosed_spans == 2          # B restarted, B open at the end


@pytest.mark.parametrize("line, reason", [
    ("2024-01-01 08:00:00 M001", "expected at least 4 fields"),
    ("2024-01-01 8h00 M001 ON", "bad timestamp"),
    ("2024-13-45 08:00:00 M001 ON", "bad timestamp"),
    ("2024-01-01 08:00:00 M001 ON Cooking maybe", "begin' or 'activity end"),
])
def test_strict_mode_names_file_and_line(tmp_path, line, reason):
    path = tmp_path / "log.txt"
    path.write_text("2024-01-01 07:00:00 M001 ON Cooking begin\n" + line + "\n")
    with pytest.raises(LogFormatError) as info:
        read_casas(path)
    assert f"{path}:2" in str(info.value) and reason in str(info.value)


def test_lenient_mode_skips_and_reports(tmp_path):
    path = tmp_path / "log.txt"
    path.write_text("2024-01-01 07:00:00 M001 ON\n2024-01-01 8h M001 OFF\nbroken\n"
                    "2024-01-01 07:00:02 M001 OFF\n")
    events = read_casas(path, strict=False)
    assert len(events) == 2
    too_short = "expected at least 4 fields (date time sensor state), got 1"
    assert events.report.skipped == {"bad timestamp": 1, too_short: 1}


def test_empty_and_binary_logs_fail_clearly(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    with pytest.raises(LogFormatError, match="empty"):
        read_casas(empty)
    binary = tmp_path / "blob.bin"
    binary.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(LogFormatError, match="binary"):
        read_casas(binary)
    with pytest.raises(LogFormatError, match="cannot read"):
        read_casas(tmp_path / "missing.txt")


def test_attach_layout_errors_or_drops_unknown_sensors():
    home = load_home("milan")
    lines = ["2024-01-01 08:00:00 M001 ON", "2024-01-01 08:00:01 X999 ON",
             "2024-01-01 08:00:02 X999 OFF", "2024-01-01 08:00:03 M002 ON"]
    with pytest.raises(UnknownSensorError, match=r"X999 \(2 events\)"):
        attach_layout(parse_lines(lines), home)
    events = attach_layout(parse_lines(lines), home, on_unknown="drop")
    assert len(events) == 2 and events.report.dropped_unknown_sensors == {"X999": 2}
    assert [events.sensor_names[s] for s in events.sensor] == ["M001", "M002"]




@pytest.mark.skipif(not MILAN_EXCERPT.exists(), reason="shared/casas/milan excerpt not present")
def test_real_milan_excerpt():
    home = load_home("milan")
    events = attach_layout(read_casas(MILAN_EXCERPT, home=home), home)
    report = events.report
    assert report.format == "a" and report.lines == 3350
    assert report.events + report.numeric_readings == 3350
    assert report.unclosed_spans == 0 and report.unmatched_ends == 0
    assert set(events.state_names) == {"ON", "OFF", "OPEN", "CLOSE"}
    assert "Chores" in events.activity_names          # the label with a leading space
    assert np.all(np.diff(events.time.astype(np.int64)) >= 0)
    assert {home.sensor_ids[s] for s in events.numeric.sensor} == {"T001", "T002"}
    labelled = events.activity != 0
    assert 0.3 < labelled.mean() < 0.9
