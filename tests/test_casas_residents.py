"""The CASAS annotation formats of multi-resident and interleaved logs, on synthetic snippets:
resident and task id pairs (ADL multi-resident), task ids per event (ADL interweave), begin/end
spans with resident prefixes (Cairo, Tulum, twor), folders of session files, repeated content
and odd states. Every malformed line is counted, none raises with ``strict=False``."""

from __future__ import annotations

import numpy as np
import pytest

from sensorclip.config import CaptionConfig, DataConfig, SplitConfig, WindowConfig
from sensorclip.data.casas import attach_layout, detect_format, parse_lines, read_casas
from sensorclip.data.homes import load_home
from sensorclip.data.known_logs import fingerprint
from sensorclip.errors import LogFormatError, SensorClipError
from sensorclip.pipeline import prepare

PAIRS = [
    "2008-11-10\t14:28:17.986759\tM22\tON 2 2",
    "2008-11-10\t14:28:22.025769\tD07\tOPEN 1 1",
    "2008-11-10\t14:36:20.7107\tM19\tON 1 6 2 7",       # both residents' tasks
    "2008-11-12\t14:53:13.056479\tM10\tON 2 13 1 13",   # both on one task
    "2008-11-12\t14:53:14.056479\tM10\tOFF",            # no annotation
    "2008-11-14\t11:48:30.26658\tM17\tOFF  211",        # a stray number: not a pair
    "Missing rest of the data",
    "2008-11-14\t11:48:31.26658\tM17\tON 211 5",        # no such resident
    "2008-11-14\t11:48:32.26658\tM17\tON 1 \u00b2",     # a stray byte read as latin-1
]
IDS = [
    "2008-07-29\t13:05:10.895529\tM07\tON\t1",
    "2008-09-11\t11:28:24.562802\tM15\tOFF\t4 1",
    "2008-09-25\t15:47:44.490922\tM14\tOFF\t4 3 7",
    "2008-09-25\t15:47:45.490922\tM14\tON\t3",
]


def names(events, codes):
    return [events.activity_names[c] for c in codes]


def test_resident_and_task_pairs_keep_both_residents_and_count_bad_lines():
    events = parse_lines(PAIRS, strict=False)
    assert events.report.format == "pairs"
    assert names(events, events.activity) == ["2", "1", "6", "13", "no_activity"]
    assert names(events, events.activity2) == ["no_activity"] * 2 + ["7", "13", "no_activity"]
    assert events.resident.tolist() == [2, 1, 1, 2, 0]
    assert events.resident2.tolist() == [0, 0, 2, 1, 0]      # both on task 13: each has it
    assert sum(events.report.skipped.values()) == 4
    assert events.report.skipped["resident and task ids must come in pairs (format pairs)"] == 1
    assert events.report.skipped["resident ids must lie in 1..99 (format pairs)"] == 1
    assert events.report.skipped["task annotation must be whole numbers (format pairs)"] == 2


def test_a_bad_pairs_line_is_refused_in_one_line_when_strict():
    with pytest.raises(LogFormatError, match=r"<lines>:6: resident and task ids must come in "
                                             r"pairs.*data.strict=false"):
        parse_lines(PAIRS, fmt="pairs")


def test_task_ids_per_event_keep_the_first_two_tasks():
    events = parse_lines(IDS)
    assert events.report.format == "ids"
    assert names(events, events.activity) == ["1", "4", "4", "3"]
    assert names(events, events.activity2) == ["no_activity", "1", "3", "no_activity"]
    assert not events.resident.any()
    assert events.report.extra_annotations == 1            # the third task, 7, is counted


def test_numeric_annotations_are_told_apart_by_how_many_numbers_they_carry():
    rows = [line.split() for line in PAIRS[:4]]
    assert detect_format(rows) == "pairs"
    assert detect_format([line.split() for line in IDS]) == "ids"
    six_fields = ["2010-01-01 08:00:00 Kitchen M001 ON Cook", "2010-01-01 08:00:01 Kitchen "
                  "LS001 12", "2010-01-01 08:00:02 Kitchen LS001 13"]
    assert detect_format([line.split() for line in six_fields]) == "c"


def test_overlapping_spans_of_two_residents_give_each_event_both_activities():
    lines = ["2010-01-01 08:00:00 M001 ON R1_Sleep begin",
             "2010-01-01 08:01:00 M002 ON R2_Cook begin",
             "2010-01-01 08:02:00 M003 ON",
             "2010-01-01 08:03:00 M002 OFF R2_Cook end",
             "2010-01-01 08:04:00 M001 OFF",
             "2010-01-01 08:05:00 M001 ON R1_Sleep end"]
    events = parse_lines(lines)
    assert names(events, events.activity) == ["R1_Sleep", "R2_Cook", "R2_Cook", "R2_Cook",
                                              "R1_Sleep", "R1_Sleep"]
    assert names(events, events.activity2) == ["no_activity", "R1_Sleep", "R1_Sleep",
                                               "R1_Sleep", "no_activity", "no_activity"]
    assert events.resident.tolist() == [1, 2, 2, 2, 1, 1]
    assert events.resident2.tolist() == [0, 1, 1, 1, 0, 0]


def test_a_span_nested_in_the_same_residents_span_is_not_lent_to_the_other():
    lines = ["2010-01-01 02:00:00 M001 ON R1_Sleep begin",
             "2010-01-01 02:01:00 M002 ON R1_Bed_to_toilet begin",
             "2010-01-01 02:02:00 M003 ON R2_Read begin",
             "2010-01-01 02:03:00 M003 ON",
             "2010-01-01 02:04:00 M002 OFF R1_Bed_to_toilet end",
             "2010-01-01 02:05:00 M003 OFF R2_Read end",
             "2010-01-01 02:06:00 M001 OFF R1_Sleep end"]
    events = parse_lines(lines)
    assert names(events, events.activity2)[3] == "R1_Bed_to_toilet"   # R2_Read is innermost
    assert names(events, events.activity2)[1] == "R1_Sleep" and events.resident2[1] == 1
    assert names(events, events.activity2)[5] == "R1_Sleep" and events.resident2[5] == 1


def test_the_layout_names_task_ids_and_two_ids_of_one_activity_join():
    home = load_home("adlmr")
    events = parse_lines(["2008-11-10\t14:28:17\tM22\tON 2 4",
                          "2008-11-10\t14:28:18\tM22\tOFF 1 10",
                          "2008-11-10\t14:28:19\tM22\tON 1 99"], home=home)
    assert names(events, events.activity) == ["Read_magazine", "Read_magazine", "99"]
    assert events.report.unnamed_ids == ["99"]


def test_repeated_content_is_counted_and_dropped_on_request():
    lines = IDS + IDS
    assert parse_lines(lines).report.duplicate_events == len(IDS)
    dropped = parse_lines(lines, duplicates="drop")
    assert len(dropped) == len(IDS) and dropped.report.dropped_duplicates == len(IDS)


def test_a_folder_is_read_as_its_session_files_in_natural_order(tmp_path):
    folder = tmp_path / "adlmr"
    folder.mkdir()
    (folder / "P10.txt").write_text(PAIRS[1])                  # no final line break
    (folder / "P2.txt").write_text(PAIRS[0])
    (folder / "README").write_text("not a log")
    events = read_casas(folder, fmt="pairs")
    assert len(events) == 2 and events.report.files == 2
    assert events.line.tolist() == [1, 2]       # P2 before P10, lines not glued together
    manifest_sha, blob = fingerprint(folder)
    assert blob == "" and len(manifest_sha) == 64
    (folder / "P2.txt").write_text(PAIRS[2])
    assert fingerprint(folder)[0] != manifest_sha
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(LogFormatError, match="no \\*.txt session file"):
        read_casas(empty)


def test_a_bad_line_in_a_folder_is_named_by_its_session_file_and_own_line(tmp_path):
    folder = tmp_path / "adlmr"
    folder.mkdir()
    (folder / "P1.txt").write_text("\n".join(PAIRS[:3]) + "\n")
    (folder / "P2.txt").write_text("\n".join([PAIRS[0], "", PAIRS[6]]) + "\n")
    with pytest.raises(LogFormatError, match=r"P2\.txt:3: task annotation must be whole"):
        read_casas(folder, fmt="pairs")
    (folder / "P2.txt").write_text(PAIRS[0].replace("14:28", "14.28") + "\n")
    with pytest.raises(LogFormatError, match=r"P2\.txt:1: bad timestamp"):
        read_casas(folder, fmt="pairs")


def test_odd_states_are_dropped_and_counted_when_not_strict():
    home = load_home("adlmr")
    events = parse_lines(["2008-12-09\t08:24:25\tD12\tOPENv 2 2",
                          "2008-12-09\t08:24:26\tD12\tCLOSE 2 2",
                          "2008-12-09\t08:24:27\tM18\tOF 1 1"], home=home)
    kept = attach_layout(events, home, odd_states="drop")
    assert len(kept) == 1 and kept.resident.tolist() == [2]
    assert dict(kept.report.dropped_odd_states) == {"D12 OPENv": 1, "M18 OF": 1}
    assert len(attach_layout(events, home)) == 3


@pytest.mark.parametrize("preset, lines", [("adlmr", PAIRS), ("adlinterweave", IDS)])
def test_the_presets_read_a_folder_of_sessions_and_name_where_the_data_is(tmp_path, preset,
                                                                         lines):
    with pytest.raises(SensorClipError, match="a public copy: cdsnlab/AIoTService"):
        DataConfig(name=preset, layout=preset, source="file", activity_model=None)
    folder = tmp_path / preset
    folder.mkdir()
    for day in range(6):            # six sessions on six days, for a whole-day split
        shifted = [f"2008-11-{11 + day:02d}" + line[10:] for line in lines if line[:4] == "2008"]
        (folder / f"p{day + 1}.txt").write_text("\n".join(shifted * 3) + "\n")
    data = DataConfig(name=preset, layout=preset, source="file", activity_model=None,
                      raw_path=str(folder), strict=False, duplicates="drop",
                      format="pairs" if preset == "adlmr" else "ids")
    prep = prepare(data, WindowConfig(size=2, min_events=1), SplitConfig(train=0.5, val=0.25,
                                                                         test=0.25),
                   CaptionConfig(per_window=1), cache_dir=tmp_path / "cache", stages=("data",))
    events = np.load(prep.entries["events"] / "events.npz")
    assert "resident" in events and "activity2" in events
    assert len(prep.windows) > 0


# --- scoring two residents ------------------------------------------------------------------------

def test_each_resident_gets_the_majority_of_their_own_and_lent_labels():
    from sensorclip.eval.residents import NONE, either_correct, resident_window_labels
    # events:       0  1  2  3  4  5
    activity = np.array([1, 1, 2, 2, 3, 0])
    activity2 = np.array([0, 0, 4, 0, 0, 0])     # event 2 is also resident 1's task 4
    resident = np.array([1, 1, 2, 2, 2, 0])
    resident2 = np.array([0, 0, 1, 0, 0, 0])
    labels = resident_window_labels(np.array([0, 2, 5]), np.array([3, 3, 1]), activity,
                                    activity2, resident, resident2, n_labels=5)
    assert labels[1].tolist() == [1, 4, NONE]        # window 1: only the lent 4 speaks for r1
    assert labels[2].tolist() == [2, 2, NONE]        # ties go to the lower label
    right = either_correct(np.array([2, 4, 0]), np.array([1, 2, 0]), labels)
    assert right.tolist() == [True, True, True]
    assert either_correct(np.array([3, 1, 1]), np.array([1, 2, 0]), labels).tolist() == \
        [False, False, False]


def test_a_one_resident_log_is_not_scored_per_resident():
    from sensorclip.eval.residents import residents_of
    assert residents_of(np.array([0, 1, 1])) == []
    assert residents_of(np.array([0, 1, 2])) == [1, 2]


def test_the_evaluation_reports_both_residents_and_either(monkeypatch):
    from types import SimpleNamespace

    from sensorclip.config import EvalConfig
    from sensorclip.data.windows import Windows
    from sensorclip.eval import suite
    n_windows = 6
    windows = Windows(start=np.arange(n_windows) * 2, length=np.full(n_windows, 2),
                      day=np.arange(n_windows) % 3, split=np.full(n_windows, 2, dtype=np.int8),
                      fine=np.zeros(n_windows, np.int32), coarse=np.zeros(n_windows, np.int32),
                      last_fine=np.zeros(n_windows, np.int32),
                      last_coarse=np.zeros(n_windows, np.int32))
    activity = np.array([1, 1, 2, 2, 1, 2, 3, 3, 1, 1, 2, 2])
    prep = SimpleNamespace(fine_names=["no_activity", "a", "b", "c"], windows=windows,
                           activity=activity, activity2=np.where(activity == 2, 3, 0),
                           resident=np.where(activity == 1, 1, 2),
                           resident2=np.where(activity == 2, 1, 0))
    truth = np.array([1, 2, 1, 3, 1, 2])
    predicted = {"linear_probe": np.array([1, 3, 1, 3, 2, 2]),
                 "bag": np.array([1, 1, 1, 1, 1, 1])}
    metrics = {}
    suite._per_resident(prep, truth, predicted, windows.day, EvalConfig(bootstrap_resamples=100),
                        metrics)
    assert metrics["either_linear_probe_accuracy"] == pytest.approx(5 / 6)
    assert metrics["resident1_windows"] == 5 and metrics["resident2_windows"] == 4
    assert "resident2_delta_probe_macro_f1_vs_bag_ci95" in metrics
