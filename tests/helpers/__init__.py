"""Test helpers: tiny random models of the real classes, Lightning callbacks that simulate
crashes, subprocess runners for the entry points, and the repository's paths."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONF = REPO / "conf"
SHARED_CASAS = REPO.parent / "shared" / "casas"
MILAN_EXCERPT = SHARED_CASAS / "milan" / "data_excerpt_first3350lines.txt"
