"""CASAS event logs -> columnar arrays.

Five public line formats, auto-detected or forced with ``fmt``:

    a:     date time sensor state [activity begin|end]  (Milan, Aruba, Cairo; R1_Sleep begin)
    b:     date time sensor state activity              (one label per line)
    c:     date time location sensor state activity     (six fields, HH homes)
    pairs: date time sensor state R T [R T]             (ADL multi-resident: resident and task
                                                         ids, two pairs when both residents'
                                                         tasks caused the event)
    ids:   date time sensor state T [T ...]             (ADL interweave: the tasks an event
                                                         belongs to)

Every event keeps a resident column (0 where the log does not say: format a reads it from a
``R1_``/``R2_`` prefix of the label, format pairs from the first pair) and a second activity
with its own resident (0 for none): another pair of a two-pair event (preferring the other
resident's), another task id, or in format a the innermost span open beside the one that labels
the event (preferring another resident's), so that two residents' overlapping activities are
both kept.

Fields may be separated by tabs or spaces, seconds may carry a fraction, activity names may
contain spaces (Cairo's "R1 wake") or stray ones (Milan's " Chores"), which are collapsed.
Lines are stably sorted by time, so an out-of-order line keeps its order among equal stamps.

Begin/end spans (format a) follow one documented rule, applied after sorting:
- an event carrying ``X begin`` is inside X, and so is the event carrying ``X end``;
- spans may nest or overlap: an event takes the label of the most recently begun span that is
  still open (the innermost), so a Bed_to_Toilet inside Sleep labels its events Bed_to_Toilet and
  Sleep resumes after it ends;
- a second ``X begin`` while X is open restarts X (the earlier begin is counted as unclosed);
- an ``X end`` with no open X is ignored and counted;
- a span still open at the end of the log closes at the last event and is counted as unclosed.

The file may be gzipped (read as it is) and start with a byte-order mark; a folder is read as
its ``*.txt`` session files in natural order (P1, P2, ..., P10), each one's lines kept apart
even where a file does not end with a line break. What looks like a mistake in the log but
still parses is counted in the report, not refused: lines out of order, duplicated events (a
log concatenated with itself; ``duplicates="drop"`` keeps the first of each) and jumps of more
than a day between consecutive events (a part of the log shifted in time).

Numeric sensors (temperature and other analog channels) never enter the token stream: their
readings go to a separate ``NumericReadings`` table. A sensor is numeric when its layout type says
so, or else when most of its readings parse as numbers (one stray number does not flip it).
"""

from __future__ import annotations

import codecs
import gzip
import io
import re
import warnings
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from sensorclip.data.homes import NO_ACTIVITY, Home
from sensorclip.data.states import CANONICAL, normalise_state, states_of_type
from sensorclip.errors import LogFormatError, UnknownSensorError

FORMATS = ("a", "b", "c", "pairs", "ids")
MARKERS = ("begin", "end")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^\d{1,2}:\d{2}:\d{2}(\.\d+)?$")
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
JUMP = np.timedelta64(1, "D")        # a longer pause between two events is reported


@dataclass
class ParseReport:
    source: str
    format: str
    lines: int = 0
    events: int = 0
    numeric_readings: int = 0
    skipped: Counter = field(default_factory=Counter)
    out_of_order: int = 0
    duplicate_events: int = 0       # identical to an earlier line: time, sensor, state, label
    dropped_duplicates: int = 0     # of those, dropped (duplicates="drop")
    unnamed_ids: list = field(default_factory=list)   # task ids the layout gives no name
    extra_annotations: int = 0      # annotations beyond the two an event keeps (pairs, ids)
    files: int = 1                  # session files read (a folder)
    time_jumps: int = 0             # pauses of more than a day between consecutive events
    largest_gap_days: float = 0.0
    unclosed_spans: int = 0
    unmatched_ends: int = 0
    dropped_unknown_sensors: Counter = field(default_factory=Counter)
    dropped_odd_states: Counter = field(default_factory=Counter)     # "D12 OPENV": count

    def as_dict(self) -> dict:
        return {"source": self.source, "format": self.format, "lines": self.lines,
                "events": self.events, "numeric_readings": self.numeric_readings,
                "skipped": dict(self.skipped), "out_of_order": self.out_of_order,
                "duplicate_events": self.duplicate_events,
                "dropped_duplicates": self.dropped_duplicates, "files": self.files,
                "unnamed_ids": list(self.unnamed_ids),
                "extra_annotations": self.extra_annotations,
                "time_jumps": self.time_jumps,
                "largest_gap_days": self.largest_gap_days,
                "unclosed_spans": self.unclosed_spans, "unmatched_ends": self.unmatched_ends,
                "dropped_unknown_sensors": dict(self.dropped_unknown_sensors),
                "dropped_odd_states": dict(self.dropped_odd_states)}


@dataclass
class NumericReadings:
    time: np.ndarray     # datetime64[us]
    sensor: np.ndarray   # int32 into EventLog.sensor_names
    value: np.ndarray    # float32, NaN where a reading did not parse


@dataclass
class EventLog:
    """One row per binary sensor event, sorted by time; strings live in small vocabularies."""

    time: np.ndarray            # datetime64[us]
    sensor: np.ndarray          # int32 index into sensor_names
    state: np.ndarray           # int32 index into state_names
    activity: np.ndarray        # int32 index into activity_names; 0 is no_activity
    line: np.ndarray            # int64 1-based source line, for messages
    sensor_names: list[str]
    state_names: list[str]
    activity_names: list[str]
    numeric: NumericReadings
    report: ParseReport
    resident: np.ndarray = None      # int8: who caused the event (1, 2, ...), 0 if not given
    activity2: np.ndarray = None     # int32: a second activity of the event, 0 for none
    resident2: np.ndarray = None     # int8: whose the second activity is, 0 if not given

    def __post_init__(self):
        for name, dtype in (("resident", np.int8), ("activity2", np.int32),
                            ("resident2", np.int8)):
            if getattr(self, name) is None:
                setattr(self, name, np.zeros(len(self.time), dtype=dtype))

    def __len__(self) -> int:
        return len(self.time)

    @property
    def day(self) -> np.ndarray:
        return self.time.astype("datetime64[D]")


# ---------------------------------------------------------------------------------------------
# Entry points


def read_casas(path: str | Path, fmt: str = "auto", strict: bool = True,
               home: Home | None = None, duplicates: str = "keep") -> EventLog:
    """Read a CASAS log file, or a folder of session files; see the module docstring for
    formats and span rules."""
    path = Path(path)
    files = session_files(path) if path.is_dir() else [path]
    per_file = [_read_lines(file) for file in files]
    counts = [len(file_lines) for file_lines in per_file]
    lines = [line for file_lines in per_file for line in file_lines]
    del per_file
    where = _file_and_line(files, counts) if len(files) > 1 else None
    events = parse_lines(lines, fmt=fmt, strict=strict, source=str(path), home=home,
                         duplicates=duplicates, where=where)
    events.report.files = len(files)
    return events


def _file_and_line(files: list[Path], counts: list[int]) -> Callable[[int], str]:
    """Line ``n`` of the joined session files -> ``FILE:LINE``, so a message about a folder
    names the line a user can open."""
    ends = np.cumsum(counts)

    def where(number: int) -> str:
        index = int(np.searchsorted(ends, number))       # first file whose end reaches it
        before = int(ends[index - 1]) if index else 0
        return f"{files[index]}:{number - before}"
    return where


def session_files(folder: Path) -> list[Path]:
    """The ``*.txt`` files of a folder of sessions, in natural order (P2 before P10)."""
    files = sorted((p for p in folder.glob("*.txt") if p.is_file()),
                   key=lambda p: [int(part) if part.isdigit() else part.lower()
                                  for part in re.split(r"(\d+)", p.name)])
    if not files:
        raise LogFormatError(f"data.raw_path={folder} is a directory with no *.txt session "
                             "file; point it at the log file in it (a CASAS data set's 'data' "
                             "file) or at a folder of session files")
    return files


def _read_lines(path: Path) -> list[str]:
    """The file's lines; its bytes and text are freed on return (4.3M lines: 0.2 GB each)."""
    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise LogFormatError(f"{path}: cannot read the event log ({exc.strerror}); "
                             "check data.raw_path") from None
    return _decode(_uncompressed(blob, path), path).splitlines()


DUPLICATES = ("keep", "drop")


def parse_lines(lines: Sequence[str], fmt: str = "auto", strict: bool = True,
                source: str = "<lines>", home: Home | None = None,
                duplicates: str = "keep",
                where: Callable[[int], str] | None = None) -> EventLog:
    """``where`` names line ``n`` in messages (default ``source:n``; a folder's reader gives the
    session file and its own line)."""
    if duplicates not in DUPLICATES:
        raise ValueError(f"duplicates must be one of {DUPLICATES}")
    rows, numbers = _split(lines)
    if not rows:
        raise LogFormatError(f"{source}: no events found (the log is empty); "
                             "point data.raw_path at a CASAS log")
    fmt = detect_format(rows) if fmt == "auto" else fmt
    if fmt not in FORMATS:
        raise LogFormatError(f"unknown log format {fmt!r}; use auto, {', '.join(FORMATS)}")
    report = ParseReport(source=source, format=fmt, lines=len(lines))
    del lines                   # memory: a row list per line outweighs the columns (4.3M lines)
    where = where or (lambda number: f"{source}:{number}")
    cols = _columns(rows, numbers, fmt, strict, source, report, where)
    del rows, numbers
    times, cols = _parse_times(cols, strict, report, where)
    order = np.argsort(times, kind="stable")
    report.out_of_order = int(np.count_nonzero(np.diff(times) < np.timedelta64(0, "us")))
    cols = _take(cols, order)
    times = times[order]
    repeated = _duplicates(times, cols)
    report.duplicate_events = int(repeated.sum())
    if duplicates == "drop" and repeated.any():
        report.dropped_duplicates = report.duplicate_events
        times, cols = times[~repeated], _take(cols, ~repeated)
    report.time_jumps, report.largest_gap_days = _jumps(times)
    if fmt == "a":
        activity, activity2, names = _labels_from_spans(cols["label"], cols["marker"], report)
        owners = _residents_of(names)
        resident, resident2 = owners[activity], owners[activity2]
    else:
        both, names = _encode(cols["label"] + cols["label2"], first=NO_ACTIVITY)
        activity, activity2 = both[:len(times)], both[len(times):]
        resident = np.asarray(cols["resident"], dtype=np.int8)
        resident2 = np.asarray(cols["resident2"], dtype=np.int8)
    names, activity, activity2 = _named_by_id(names, activity, activity2, home, report)
    same = (activity2 == activity) & (resident2 == resident)    # two ids named alike
    activity2, resident2 = np.where(same, 0, activity2), np.where(same, 0, resident2)
    return _assemble(times, cols, activity, activity2, resident, resident2, names, home, report)


_RESIDENT_PREFIX = re.compile(r"^R([0-9]+)[_ ]")


def _residents_of(names: Sequence[str]) -> np.ndarray:
    """Per activity name, the resident its ``R1_``/``R2 `` prefix names (0: none)."""
    owners = [int(m.group(1)) if (m := _RESIDENT_PREFIX.match(n)) else 0 for n in names]
    return np.array([r if r <= MAX_RESIDENT else 0 for r in owners], dtype=np.int8)


def _named_by_id(names, activity, activity2, home, report):
    """Logs that annotate by task number: the layout's ``activity_ids`` name each number
    (an unknown number keeps its number and is counted)."""
    ids = home.activity_ids if home is not None else {}
    if not ids:
        return names, activity, activity2
    unknown = sorted({n for n in names[1:] if n not in ids})
    report.unnamed_ids = unknown
    renamed = [names[0]] + [ids.get(n, n) for n in names[1:]]
    merged, codes = _encode_names(renamed)
    return merged, codes[activity], codes[activity2]


def _encode_names(names: list[str]) -> tuple[list[str], np.ndarray]:
    """Names that may repeat (two ids for one activity) -> unique names, old code -> new."""
    unique = [names[0]] + sorted(set(names[1:]) - {names[0]})
    index = {n: i for i, n in enumerate(unique)}
    return unique, np.array([index[n] for n in names], dtype=np.int32)


def detect_format(rows: Sequence[Sequence[str]], probe: int = 5000) -> str:
    """Guess the format from the first lines: begin/end markers, then numeric annotations
    (pairs when most carry an even number of ids, ids when most carry one), then where the
    states sit."""
    sample = rows[:probe]
    counts = Counter(len(r) for r in sample)
    if any(len(r) >= 5 and r[-1].lower() in MARKERS for r in sample) or set(counts) == {4}:
        return "a"
    if counts.get(6, 0) + counts.get(7, 0) > 0:
        long_rows = [r for r in sample if len(r) >= 6]
        named = [sum(normalise_state(r[i]) in CANONICAL for r in long_rows) for i in (3, 4)]
        if named[1] > named[0]:      # state names sit in the fifth field: a location first
            return "c"
    tails = [len(r) - 4 for r in sample if len(r) > 4 and np.isnan(_to_float(r[3]))
             and all(_DIGITS.fullmatch(t) for t in r[4:])]
    if len(tails) > len(sample) / 2:
        paired = sum(n % 2 == 0 for n in tails)
        single = sum(n == 1 for n in tails)
        return "pairs" if paired > single else "ids"
    return "b"


def attach_layout(events: EventLog, home: Home, on_unknown: str = "error",
                  odd_states: str = "keep") -> EventLog:
    """Re-index sensors to the layout's order; unknown sensors fail or are dropped and counted.
    ``odd_states="drop"`` also drops (and counts) events whose state is not one its sensor's type
    emits (a log's typo such as ``OPENv``); kept, they are refused later, naming the pair."""
    if on_unknown not in ("error", "drop"):
        raise ValueError("on_unknown must be 'error' or 'drop'")
    layout_index = {sid: i for i, sid in enumerate(home.sensor_ids)}
    mapping = np.array([layout_index.get(s, -1) for s in events.sensor_names], dtype=np.int64)
    numeric_mapping = mapping.copy()
    missing = [s for s in events.sensor_names if s not in layout_index]
    if missing:
        counts = _missing_counts(events, mapping)
        if on_unknown == "error":
            listing = ", ".join(f"{s} ({counts[s]} events)" for s in missing)
            raise UnknownSensorError(
                f"{events.report.source}: {len(missing)} sensor(s) missing from layout "
                f"{home.name!r} ({home.source}): {listing}. Add them to the layout or pass "
                "data.unknown_sensors=drop to drop their events")
        events.report.dropped_unknown_sensors.update(counts)
    keep = mapping[events.sensor] >= 0
    if odd_states == "drop":
        keep &= _usual_states(events, home)
    keep_numeric = numeric_mapping[events.numeric.sensor] >= 0
    numeric = NumericReadings(events.numeric.time[keep_numeric],
                              mapping[events.numeric.sensor[keep_numeric]].astype(np.int32),
                              events.numeric.value[keep_numeric])
    events.report.events = int(keep.sum())
    return EventLog(time=events.time[keep], sensor=mapping[events.sensor[keep]].astype(np.int32),
                    state=events.state[keep], activity=events.activity[keep],
                    line=events.line[keep], sensor_names=list(home.sensor_ids),
                    state_names=events.state_names, activity_names=events.activity_names,
                    numeric=numeric, report=events.report, resident=events.resident[keep],
                    activity2=events.activity2[keep], resident2=events.resident2[keep])


def _usual_states(events: EventLog, home: Home) -> np.ndarray:
    """Per event: its state (normalised) is one its sensor's type emits; the others are
    counted in the report as ``dropped_odd_states``."""
    allowed = np.ones((len(events.sensor_names), len(events.state_names)), dtype=bool)
    for i, sid in enumerate(events.sensor_names):
        if sid in home.sensors and not home.sensors[sid].is_numeric:
            usual = set(states_of_type(home.sensors[sid].type))
            allowed[i] = [normalise_state(st) in usual for st in events.state_names]
    usual_event = allowed[events.sensor, events.state]
    for code in np.flatnonzero(~usual_event):
        events.report.dropped_odd_states[
            f"{events.sensor_names[events.sensor[code]]} {events.state_names[events.state[code]]}"
        ] += 1
    return usual_event


def _missing_counts(events: EventLog, mapping: np.ndarray) -> Counter:
    counts = Counter()
    for codes in (events.sensor, events.numeric.sensor):
        unknown = codes[mapping[codes] < 0]
        for code, n in zip(*np.unique(unknown, return_counts=True)):
            counts[events.sensor_names[code]] += int(n)
    return counts


# ---------------------------------------------------------------------------------------------
# Parsing internals


def _uncompressed(blob: bytes, path: Path) -> bytes:
    """Users keep CASAS logs as the site ships them, zipped, or gzipped: read as they are."""
    if blob.startswith(ZIP_MAGIC):
        return _log_in_zip(blob, path)
    if not blob.startswith(GZIP_MAGIC):
        return blob
    try:
        return gzip.decompress(blob)
    except (OSError, EOFError, zlib.error) as exc:
        raise LogFormatError(f"{path}: a gzip file that does not decompress ({exc}); download "
                             "it again or point data.raw_path at the uncompressed log") from None


def _log_in_zip(blob: bytes, path: Path) -> bytes:
    """The event log inside a zip archive: its member named ``data`` (how every CASAS archive
    names its annotated log), or its only file."""
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            files = [m for m in archive.infolist() if not m.is_dir()]
            named = [m for m in files if PurePosixPath(m.filename).name == "data"]
            chosen = named if named else files
            if len(chosen) != 1:
                listed = ", ".join(m.filename for m in files[:8]) or "nothing"
                raise LogFormatError(
                    f"{path}: a zip archive holding {len(files)} files and "
                    f"{'several' if named else 'no'} 'data' log ({listed}); unzip it and point "
                    "data.raw_path at the CASAS 'data' file inside")
            return _uncompressed(archive.read(chosen[0]), path)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise LogFormatError(f"{path}: a zip archive that does not open ({exc}); download "
                             "it again or point data.raw_path at the unzipped log") from None


def _decode(blob: bytes, path: Path) -> str:
    if blob.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return blob.decode("utf-16")
        except UnicodeDecodeError:
            raise LogFormatError(f"{path}: not valid UTF-16 text after its byte-order mark; "
                                 "save the log as UTF-8") from None
    blob = blob.removeprefix(codecs.BOM_UTF8)
    if b"\x00" in blob[:65536]:
        raise LogFormatError(f"{path}: binary data, not a text event log; "
                             "point data.raw_path at the CASAS 'data' text file")
    try:
        return blob.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = blob[:exc.start].count(b"\n") + 1
        try:
            return blob.decode("latin-1")
        except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
            raise LogFormatError(f"{path}:{line}: undecodable bytes") from None


def _split(lines: Iterable[str]) -> tuple[list[list[str]], list[int]]:
    rows, numbers = [], []
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if fields:
            rows.append(fields)
            numbers.append(number)
    return rows, numbers


def _columns(rows, numbers, fmt, strict, source, report, where) -> dict:
    """Pick date/time/sensor/state/label(/marker) out of each row according to the format."""
    date, time_, sensor, state, label, marker, line = [], [], [], [], [], [], []
    label2, resident, resident2 = [], [], []
    for fields, number in zip(rows, numbers):
        parsed = _fields(fields, fmt)
        if isinstance(parsed, str):
            if strict:
                raise LogFormatError(f"{where(number)}: {parsed}: {' '.join(fields)!r}; "
                                     "fix the line or pass data.strict=false to skip bad lines")
            report.skipped[parsed] += 1
            continue
        d, t, s, st, lab, mk, lab2, who, who2, extra = parsed
        report.extra_annotations += extra
        label2.append(lab2)
        resident.append(who)
        resident2.append(who2)
        date.append(d)
        time_.append(t)
        sensor.append(s)
        state.append(st)
        label.append(lab)
        marker.append(mk)
        line.append(number)
    if not line:
        raise LogFormatError(f"{source}: every line was malformed for format {fmt!r} "
                             f"({dict(report.skipped)}); check data.format")
    return {"date": date, "time": time_, "sensor": sensor, "state": state, "label": label,
            "marker": marker, "label2": label2, "resident": resident, "resident2": resident2,
            "line": np.asarray(line, dtype=np.int64)}


def _fields(f: list[str], fmt: str):
    """One row -> (date, time, sensor, state, label, marker, second label, resident, second
    label's resident, annotations beyond the two kept), or a reason string if malformed."""
    n = len(f)
    if fmt == "c":
        if n < 5:
            return f"expected at least 5 fields for format c, got {n}"
        return f[0], f[1], f[3], f[4], " ".join(f[5:]), "", "", 0, 0, 0
    if n < 4:
        return f"expected at least 4 fields (date time sensor state), got {n}"
    if fmt == "b":
        return f[0], f[1], f[2], f[3], " ".join(f[4:]), "", "", 0, 0, 0
    if fmt in ("pairs", "ids"):
        return _numbered(f, fmt)
    if n == 4:
        return f[0], f[1], f[2], f[3], "", "", "", 0, 0, 0
    mark = f[-1].lower()
    if mark not in MARKERS or n < 6:
        return "annotation must read 'activity begin' or 'activity end'"
    return f[0], f[1], f[2], f[3], " ".join(f[4:-1]), mark, "", 0, 0, 0


_DIGITS = re.compile(r"[0-9]+")
MAX_RESIDENT = 99


def _numbered(f: list[str], fmt: str):
    """Formats pairs and ids: the numbers after the state name the event's tasks (and, for
    pairs, the resident of each); an event with none is unlabelled. Of several, the first and
    one more are kept (for pairs, another resident's where there is one); the number of the
    others is returned, for the report's ``extra_annotations``."""
    tail = f[4:]
    if not all(_DIGITS.fullmatch(t) for t in tail):
        return f"task annotation must be whole numbers (format {fmt})"
    if fmt == "ids":
        pairs = [(0, str(int(t))) for t in tail]
    else:
        if len(tail) % 2:
            return "resident and task ids must come in pairs (format pairs)"
        pairs = [(int(r), str(int(t))) for r, t in zip(tail[0::2], tail[1::2])]
        if any(not 1 <= r <= MAX_RESIDENT for r, _ in pairs):
            return f"resident ids must lie in 1..{MAX_RESIDENT} (format pairs)"
    pairs = list(dict.fromkeys(pairs))
    if not pairs:
        return f[0], f[1], f[2], f[3], "", "", "", 0, 0, 0
    first = pairs[0]
    others = [p for p in pairs[1:] if p[1] != first[1] or p[0] != first[0]]
    second = next((p for p in others if p[0] != first[0]), others[0] if others else (0, ""))
    extra = len(pairs) - (2 if second[1] else 1)
    return f[0], f[1], f[2], f[3], first[1], "", second[1], first[0], second[0], extra


def _parse_times(cols, strict, report, where) -> tuple[np.ndarray, dict]:
    """Timestamps of every row; bad ones fail (strict) or drop their row from ``cols``."""
    dates, times = cols["date"], cols["time"]
    stamps = [d + " " + t for d, t in zip(dates, times)]
    with warnings.catch_warnings():      # a stamp read as a time zone is refused just below
        warnings.simplefilter("ignore", UserWarning)
        try:
            parsed = np.array(stamps, dtype="datetime64[us]")
            bad = np.zeros(len(stamps), dtype=bool)
        except ValueError:
            parsed, bad = _parse_times_one_by_one(stamps)
    # numpy also accepts odd forms ('2009', 'NaT'); insist on a date and a clock time.
    bad |= np.array([not (_DATE.match(d) and _TIME.match(t)) for d, t in zip(dates, times)],
                    dtype=bool)
    if not bad.any():
        return parsed, cols
    first = int(np.flatnonzero(bad)[0])
    if strict:
        line = where(int(cols["line"][first]))
        raise LogFormatError(f"{line}: bad timestamp {stamps[first]!r}; "
                             "expected YYYY-MM-DD HH:MM:SS[.ffffff] (or data.strict=false)")
    report.skipped["bad timestamp"] += int(bad.sum())
    keep = ~bad
    return parsed[keep], _take(cols, keep)


def _duplicates(times: np.ndarray, cols: dict) -> np.ndarray:
    """Mask of the events identical to an earlier one (time, sensor, state, labels). Only
    events that share their time stamp with a neighbour (after sorting) can be, so the
    Python-level comparison stays small for a sane log."""
    same = times[1:] == times[:-1]
    candidates = np.flatnonzero(np.r_[same, False] | np.r_[False, same])
    repeated = np.zeros(len(times), dtype=bool)
    seen = set()
    for i in candidates:
        key = (times[i], cols["sensor"][i], cols["state"][i], cols["label"][i],
               cols["marker"][i], cols["label2"][i], cols["resident"][i], cols["resident2"][i])
        repeated[i] = key in seen
        seen.add(key)
    return repeated


def _jumps(times: np.ndarray) -> tuple[int, float]:
    """(pauses of more than a day between consecutive events, the longest pause in days)."""
    if len(times) < 2:
        return 0, 0.0
    gaps = np.diff(times)
    return int((gaps > JUMP).sum()), round(float(gaps.max() / np.timedelta64(1, "D")), 2)


def _take(cols: dict, selector: np.ndarray) -> dict:
    """Rows of every column by a boolean mask or an index array."""
    if selector.dtype == bool:
        selector = np.flatnonzero(selector)
    return {k: [v[i] for i in selector] if isinstance(v, list) else v[selector]
            for k, v in cols.items()}


def _parse_times_one_by_one(stamps):
    parsed = np.empty(len(stamps), dtype="datetime64[us]")
    bad = np.zeros(len(stamps), dtype=bool)
    for i, stamp in enumerate(stamps):
        try:
            parsed[i] = np.datetime64(stamp, "us")
        except ValueError:
            bad[i] = True
    return parsed, bad


def _normalise_label(label: str) -> str:
    return " ".join(label.split())


def _encode(values: Sequence[str], first: str | None = None) -> tuple[np.ndarray, list[str]]:
    """Strings -> int32 codes and vocabulary (sorted, ``first`` pinned at index 0)."""
    values = [_normalise_label(v) or (first or "") for v in values] if first else values
    index: dict[str, int] = {}
    codes = np.fromiter((index.setdefault(v, len(index)) for v in values), dtype=np.int64,
                        count=len(values))
    names = sorted(index, key=lambda s: (s != first, s))
    remap = np.empty(len(index), dtype=np.int32)
    for new, name in enumerate(names):
        remap[index[name]] = new
    return remap[codes] if len(codes) else codes.astype(np.int32), names


def _labels_from_spans(labels, markers, report) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Per-event activity codes from begin/end markers (rule in the module docstring): the
    innermost open span, and the one open beside it (0 for none)."""
    n = len(labels)
    names = [NO_ACTIVITY] + sorted({_normalise_label(label) for label, m in zip(labels, markers)
                                    if m})
    code = {name: i for i, name in enumerate(names)}
    owner = _residents_of(names)
    marked = [i for i, m in enumerate(markers) if m]
    activity = np.zeros(n, dtype=np.int32)
    activity2 = np.zeros(n, dtype=np.int32)
    open_spans: list[int] = []          # stack of open activity codes, innermost last
    for k, i in enumerate(marked):
        act = code[_normalise_label(labels[i])]
        if markers[i] == "begin":
            if act in open_spans:
                report.unclosed_spans += 1
                open_spans.remove(act)
            open_spans.append(act)
            activity[i] = act
        else:
            if act in open_spans:
                activity[i] = act if open_spans[-1] == act else open_spans[-1]
                open_spans.remove(act)
            else:
                report.unmatched_ends += 1
                activity[i] = open_spans[-1] if open_spans else 0
        stop = marked[k + 1] if k + 1 < len(marked) else n
        if open_spans:
            activity[i + 1:stop] = open_spans[-1]
        ending = [act] if markers[i] == "end" and act != activity[i] else []
        activity2[i] = _beside(open_spans + ending, activity[i], owner)
        if open_spans:
            activity2[i + 1:stop] = _beside(open_spans, open_spans[-1], owner)
    report.unclosed_spans += len(open_spans)
    return activity, activity2, names


def _beside(open_spans: list[int], current: int, owner: np.ndarray) -> int:
    """The span shown beside ``current``: the innermost open one of another resident, else the
    innermost other one (0: none)."""
    others = [a for a in open_spans if a != current]
    theirs = [a for a in others if owner[a] != owner[current]]
    return (theirs or others or [0])[-1]


def _assemble(times, cols, activity, activity2, resident, resident2, activity_names, home,
              report) -> EventLog:
    sensor_codes, sensor_names = _encode(cols["sensor"])
    state_codes, state_names = _encode(cols["state"])
    numeric_sensor = _numeric_sensors(sensor_codes, state_codes, sensor_names, state_names, home)
    is_numeric = numeric_sensor[sensor_codes]
    values = np.array([_to_float(s) for s in state_names], dtype=np.float32)
    numeric = NumericReadings(times[is_numeric], sensor_codes[is_numeric].astype(np.int32),
                              values[state_codes[is_numeric]])
    keep = ~is_numeric
    used_states = np.unique(state_codes[keep])
    state_remap = np.full(len(state_names), -1, dtype=np.int32)
    state_remap[used_states] = np.arange(len(used_states), dtype=np.int32)
    report.events = int(keep.sum())
    report.numeric_readings = int(is_numeric.sum())
    return EventLog(time=times[keep], sensor=sensor_codes[keep].astype(np.int32),
                    state=state_remap[state_codes[keep]], activity=activity[keep],
                    line=cols["line"][keep], sensor_names=sensor_names,
                    state_names=[state_names[i] for i in used_states],
                    activity_names=activity_names, numeric=numeric, report=report,
                    resident=resident[keep], activity2=activity2[keep],
                    resident2=resident2[keep])


def _to_float(token: str) -> float:
    try:
        return float(token)
    except ValueError:
        return float("nan")


def _numeric_sensors(sensor_codes, state_codes, sensor_names, state_names, home) -> np.ndarray:
    """Boolean per sensor code: its layout type is numeric, or most of its readings are numbers."""
    state_is_number = np.array([not np.isnan(_to_float(s)) for s in state_names])
    totals = np.bincount(sensor_codes, minlength=len(sensor_names))
    numbers = np.bincount(sensor_codes, weights=state_is_number[state_codes],
                          minlength=len(sensor_names))
    numeric = numbers > totals / 2
    if home is not None:
        for i, sid in enumerate(sensor_names):
            if sid in home.sensors:
                numeric[i] = home.sensors[sid].is_numeric
    return numeric
