"""Captions per second of frozen text encoders, measured side by side in one run.

    python scripts/text_encoder_speed.py                      # minilm and mpnet (make mpnet first)
    python scripts/text_encoder_speed.py --encoders minilm gte_base --captions 2000

The captions are the demo home's (a simulated month, the default captions), so the lengths are
the ones training embeds. Encoders alternate over ``--rounds`` so that a shared machine's load
falls on all of them alike; the ratio to the first encoder is the figure to compare.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from hydra import compose, initialize_config_dir

from sensorclip.config import TextEncoderConfig, stage_configs, typed
from sensorclip.entrypoint import run_cleanly
from sensorclip.frozen.text import TextEncoder
from sensorclip.pipeline import prepare

REPO = Path(__file__).resolve().parents[1]


def demo_captions(count: int, cache_dir: Path) -> list[str]:
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = compose(config_name="prepare")
    stages = stage_configs(cfg)
    prep = prepare(stages["data"], stages["windows"], stages["split"], stages["captions"],
                   cache_dir=cache_dir, stages=("data",))
    return list(prep.captions.texts[:count])


def encoder_config(name: str) -> TextEncoderConfig:
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        return typed(TextEncoderConfig, compose(config_name="prepare",
                                                overrides=[f"text={name}"]).text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoders", nargs="+", default=["minilm", "mpnet"])
    parser.add_argument("--captions", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cache-dir", type=Path, default=REPO / "cache")
    args = parser.parse_args()
    texts = demo_captions(args.captions, args.cache_dir)
    encoders = {name: TextEncoder(encoder_config(name)) for name in args.encoders}
    for encoder in encoders.values():
        encoder.encode(texts[:32], progress=False)                 # warm-up
    seconds = {name: [] for name in encoders}
    for _ in range(args.rounds):
        for name, encoder in encoders.items():
            started = time.perf_counter()
            vectors = encoder.encode(texts, progress=False)
            seconds[name].append(time.perf_counter() - started)
    first = args.encoders[0]
    base = len(texts) / np.median(seconds[first])
    print(f"| encoder | dim | captions/s (median of {args.rounds}) | relative to {first} |")
    print("|---|---|---|---|")
    for name, encoder in encoders.items():
        rate = len(texts) / np.median(seconds[name])
        dim = encoder.encode(texts[:1], progress=False).shape[1]
        print(f"| {name} | {dim} | {rate:.0f} | {rate / base:.2f} |")
    del vectors


if __name__ == "__main__":
    run_cleanly(main)
