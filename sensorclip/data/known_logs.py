"""Public copies of CASAS logs that sensorclip recognises, so a user knows whether their file
is byte for byte one that others have measured (and their figures comparable).

CASAS logs may not be redistributed, so none is shipped; this table holds only fingerprints.
Each entry is pinned by the git blob id (SHA-1 of ``"blob <size>\\0" + bytes``), which the
public repository holding the copy publishes for every file, and, where the bytes could be
read, by their sha256. Where each copy lives, and why others could not be checked, is in
docs/real-homes.md.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20


@dataclass(frozen=True)
class KnownCopy:
    home: str                 # the data preset (data=...)
    what: str                 # which file of which data set
    where: str                # repository@commit:path of the public copy
    git_blob: str
    sha256: str | None = None


KNOWN_COPIES = (
    KnownCopy("adlnormal", "CASAS ADL Normal, annotated 'data' file",
              "ozgranit/Action-Segmentator@ecffa0d:sentence_builder/data/adlnormal.zip",
              "d3cc617d7df055490921d29d126b37cc9c166084",
              "26fadb952aae490699e87ed31605652056e1cc4f14bf7c544b25a7eacb495683"),
    KnownCopy("adlnormal", "CASAS ADL Normal, zip archive (re-zipped by its uploader)",
              "ozgranit/Action-Segmentator@ecffa0d:sentence_builder/data/adlnormal.zip",
              "82ba5b383477bed6b492acb9af7607bc57ec4257",
              "cfbb10ef6d7b6822bc7c1e6bdc7986d38b052a482112d5bdd0c7e8e4f4fff332"),
    KnownCopy("adlmr", "CASAS ADL multi-resident, the 26 session files P1.txt ... P26.txt "
              "(manifest)", "cdsnlab/AIoTService@c994481a46235465cacfad9615cd32aa50d61bd3:"
              "CBGAR/CasasData/ (deleted in later commits: read them from that commit)", "",
              "8681d0da55cef5e7faf1045d8dd3486a02417f8e6136b48839d8e542452f4517"),
    KnownCopy("adlinterweave", "CASAS ADL interweave, the 21 session files p1.txt ... p21.txt "
              "(manifest)", "cdsnlab/AIoTService@c994481a46235465cacfad9615cd32aa50d61bd3:"
              "CBGAR/CasasData2/ (deleted in later commits: read them from that commit)", "",
              "3645449e860495ba74a992a1f1a6b57cb2cc8a10901e9b5e48ca57915a39e441"),
    KnownCopy("cil", "CASAS CIL test log, unlabelled (one week, 2016)",
              "WSU-CASAS/CIL@6cd4d4007cabaf73ff2113620e315ca47aad8865:"
              "tests/tm000.multiday_absence.txt", "d3f28adcebebe52fa49722d66250f0e19f7b722f",
              "a5b41ced8c882ec663e61c417939b660fd8b7aeb94ef0eed8fd9dd711f29ecdc"),
    KnownCopy("milan", "CASAS Milan, annotated 'data' file",
              "dbouchabou/Generative-Pretrained-Embedding-and-Hierarchical-Representation-to-"
              "Unlock-ADL-Rhythm-in-Smart-Homes@b5a9ba9:SmartHomeHARLib/SmartHomeHARLib/datasets/"
              "original_datasets/CASAS/milan/data", "dfdc6b2cf91599ac1d0b43654fd6d55cf110039f"),
    KnownCopy("milan", "CASAS Milan, annotated 'data' file (another copy; differs in bytes)",
              "irealarsi/FedUAV-TwinBench@787891e:datasets/casas/raw/milan/data",
              "de5347794519b63ed24266e07a0af2f2e9cfc05a"),
    KnownCopy("aruba", "CASAS Aruba, annotated 'data' file",
              "dbouchabou/Generative-Pretrained-Embedding-and-Hierarchical-Representation-to-"
              "Unlock-ADL-Rhythm-in-Smart-Homes@b5a9ba9:SmartHomeHARLib/SmartHomeHARLib/datasets/"
              "original_datasets/CASAS/aruba/data", "3acd3e301db0371ad2535a2f3fbe997223c70a36"),
    KnownCopy("cairo", "CASAS Cairo, annotated 'data' file",
              "dbouchabou/Generative-Pretrained-Embedding-and-Hierarchical-Representation-to-"
              "Unlock-ADL-Rhythm-in-Smart-Homes@b5a9ba9:SmartHomeHARLib/SmartHomeHARLib/datasets/"
              "original_datasets/CASAS/cairo/data", "83c98197c6ae32b26e6a08d8c3e65951b1340624"),
    KnownCopy("cairo", "CASAS Cairo, annotated 'data' file (another copy; differs in bytes)",
              "irealarsi/FedUAV-TwinBench@787891e:datasets/casas/raw/cairo/data",
              "1271308081336c06f4609cca396580029824ff0d"),
    KnownCopy("kyoto", "CASAS twor.2009, annotated 'data' file",
              "irealarsi/FedUAV-TwinBench@787891e:datasets/casas/raw/twor.2009/data",
              "9e98ee81536be47220b87f63dd3a5141892658aa"),
)


def fingerprint(path: str | Path) -> tuple[str, str]:
    """(sha256, git blob id) of a file, read once in chunks. A folder of session files has no
    blob id: its sha256 is that of its manifest, one ``name sha256`` line per file read."""
    path = Path(path)
    if path.is_dir():
        from sensorclip.data.casas import session_files
        manifest = "".join(f"{file.name} {fingerprint(file)[0]}\n"
                           for file in session_files(path))
        return hashlib.sha256(manifest.encode()).hexdigest(), ""
    sha256 = hashlib.sha256()
    blob = hashlib.sha1(f"blob {path.stat().st_size}\0".encode(), usedforsecurity=False)
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            sha256.update(chunk)
            blob.update(chunk)
    return sha256.hexdigest(), blob.hexdigest()


def recognise(path: str | Path) -> dict[str, str | None]:
    """The file's fingerprints (one read) and, when it is a known public copy, which one."""
    return recognised(*fingerprint(path))


def recognised(sha256: str, git_blob: str) -> dict[str, str | None]:
    """The fingerprints and, when they are a known public copy's, which one."""
    known = next((c for c in KNOWN_COPIES if (git_blob and c.git_blob == git_blob)
                  or (c.sha256 and c.sha256 == sha256)), None)
    return {"log_sha256": sha256, "log_git_blob": git_blob,
            "log_known_as": f"{known.what} ({known.where})" if known else None}


def public_copies(home: str) -> list[str]:
    """Where the known public copies of a data preset's log are (repository@commit:path)."""
    return [c.where for c in KNOWN_COPIES if c.home == home]


def describe(report: dict) -> str:
    """One line for the user: comparable with published figures, or not a known copy."""
    if "log_sha256" not in report:
        return ""
    if report.get("log_known_as"):
        return f"byte-identical to {report['log_known_as']}"
    return (f"sha256 {report['log_sha256'][:16]}…: not a copy sensorclip knows, so figures "
            "may not be comparable with docs/real-homes.md")
