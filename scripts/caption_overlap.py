"""How many captions two data settings share: what the caption store can save.

    python scripts/caption_overlap.py

Builds (or reuses) the data stages of a few pairs of settings and prints, for each pair, how
many of the second setting's unique captions the first already has. No text encoder runs.
"""

from __future__ import annotations

import sys

from sensorclip.config import CaptionConfig, DataConfig, SplitConfig, WindowConfig
from sensorclip.pipeline import prepare


def captions(data: DataConfig, per_window: int = 2, windows: WindowConfig | None = None,
             cache: str = "cache") -> set[str]:
    prep = prepare(data, windows or WindowConfig(), SplitConfig(),
                   CaptionConfig(per_window=per_window), cache_dir=cache, stages=("data",))
    return set(prep.captions.texts)


def generated(seed: int, days: int) -> DataConfig:
    return DataConfig(name="generated", layout="generated", source="generate",
                      activity_model=None, seed=seed, days=days)


def main() -> None:
    cache = sys.argv[1] if len(sys.argv) > 1 else "cache"
    demo = DataConfig(days=14)
    pairs = {
        "generated home 0 -> home 1 (14 days)": (captions(generated(0, 14), cache=cache),
                                                 captions(generated(1, 14), cache=cache)),
        "generated home 0, 14 -> 28 days": (captions(generated(0, 14), cache=cache),
                                            captions(generated(0, 28), cache=cache)),
        "demo, captions.per_window 2 -> 4": (captions(demo, 2, cache=cache),
                                             captions(demo, 4, cache=cache)),
        "demo, windows.overlap 0.5 -> 0.75 (4 per window)": (
            captions(demo, 4, cache=cache),
            captions(demo, 4, WindowConfig(overlap=0.75), cache=cache)),
    }
    for name, (first, second) in pairs.items():
        shared = len(first & second)
        print(f"{name}: {shared:,} of {len(second):,} captions already embedded "
              f"({shared / len(second):.1%})")


if __name__ == "__main__":
    main()
