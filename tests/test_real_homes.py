"""Real CASAS homes one command away: presets that need only the path, a missing path that says
where the official archives are, known public copies recognised by fingerprint, archives read
as they are. The logs themselves are never needed: small synthetic logs stand in for them."""

from __future__ import annotations

import gzip
import shutil
import subprocess
import zipfile

import pytest
from hydra import compose, initialize_config_dir

from helpers import CONF
from sensorclip.config import CASAS_DATASETS, stage_configs
from sensorclip.data import known_logs
from sensorclip.data.homes import load_home
from sensorclip.errors import SensorClipError
from sensorclip.pipeline import prepare

REAL_PRESETS = ("milan", "aruba", "cairo", "kyoto", "tulum", "adlnormal")


def synthetic_log(layout: str, days: int = 4) -> str:
    """A few days of a layout's own motion sensors, with one labelled span a day."""
    home = load_home(layout)
    motion = [s.id for s in home.sensors.values() if s.type == "motion"][:4]
    label = next(k for k in home.labels if k.lower() not in ("no_activity", "other"))
    lines = []
    for day in range(days):
        date = f"2009-11-{day + 10:02d}"
        for minute in range(30):
            sensor = motion[minute % len(motion)]
            stamp = f"{date} 08:{minute:02d}:00.000001"
            mark = f" {label} begin" if minute == 5 else f" {label} end" if minute == 20 else ""
            lines.append(f"{stamp} {sensor} ON{mark}")
            lines.append(f"{date} 08:{minute:02d}:30.000001 {sensor} OFF")
    return "\n".join(lines) + "\n"


def prepare_preset(preset: str, cache, *overrides: str):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(config_name="prepare", overrides=[f"data={preset}", "windows.size=10",
                                                         "split.train=0.5", "split.val=0.25",
                                                         "split.test=0.25", *overrides])
    stages = stage_configs(cfg)
    return prepare(stages["data"], stages["windows"], stages["split"], stages["captions"],
                   cache_dir=cache, stages=("data",))


@pytest.mark.parametrize("preset", REAL_PRESETS)
def test_a_real_home_needs_only_the_path_and_says_where_the_archives_are(preset, tmp_path):
    with pytest.raises(SensorClipError) as info:
        prepare_preset(preset, tmp_path)
    message = str(info.value)
    assert f"data={preset} reads a real log" in message and CASAS_DATASETS in message
    log = tmp_path / "data"
    log.write_text(synthetic_log(load_home(preset).name))
    prep = prepare_preset(preset, tmp_path, f"data.raw_path={log}")
    assert len(prep.windows) > 0 and prep.home.name == load_home(preset).name


def test_archives_are_read_as_they_are_and_give_the_same_events(tmp_path):
    text = synthetic_log("milan")
    (tmp_path / "data").write_text(text)
    (tmp_path / "data.gz").write_bytes(gzip.compress(text.encode()))
    with zipfile.ZipFile(tmp_path / "milan.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("milan/README.txt", "the CASAS README\n")
        archive.writestr("milan/data", text)
    counts = {name: len(prepare_preset("milan", tmp_path / f"cache_{name}",
                                       f"data.raw_path={tmp_path / name}")
                        .time_us) for name in ("data", "data.gz", "milan.zip")}
    assert len(set(counts.values())) == 1, counts


def test_known_copies_are_recognised_by_their_git_blob_id(tmp_path, monkeypatch):
    log = tmp_path / "data"
    log.write_text(synthetic_log("milan"))
    sha256, blob = known_logs.fingerprint(log)
    if shutil.which("git"):       # the same id git (and GitHub) gives the file
        assert subprocess.run(["git", "hash-object", str(log)], capture_output=True,
                              text=True).stdout.strip() == blob
    unknown = known_logs.recognise(log)
    assert unknown["log_known_as"] is None and unknown["log_sha256"] == sha256
    assert "not a copy sensorclip knows" in known_logs.describe(unknown)
    copy = known_logs.KnownCopy("milan", "a test copy", "someone/repo@abc:milan/data", blob)
    monkeypatch.setattr(known_logs, "KNOWN_COPIES", (copy,))
    known = known_logs.recognise(log)
    assert known_logs.describe(known) == \
        "byte-identical to a test copy (someone/repo@abc:milan/data)"
    log.write_text(log.read_text().replace("\n", "\r\n"))      # same events, other bytes
    assert known_logs.recognise(log)["log_known_as"] is None
