"""Choose ``eval.fewshot_text_anchor`` on validation homes: how strongly few-shot from the text
holds each weight at its zero-shot prototype.

    python scripts/choose_fewshot_anchor.py RUN --targets generated:32 generated:33
    python scripts/choose_fewshot_anchor.py RUN --anchors 0.1 1 10 --out anchors.json

For a pretraining run and each validation home (never a test home), the text-initialised k-shot
head is fit with every anchor on the same draws, and macro-F1 on that home's test days is
averaged over k (``eval.fewshot_k``) and homes. Nothing is written into the run: the run's own
transfer metrics stay those of the configured anchor.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import transfer_study  # noqa: E402  (validation homes, target configs)

from sensorclip.config import EvalConfig, stage_configs  # noqa: E402
from sensorclip.entrypoint import run_cleanly  # noqa: E402
from sensorclip.eval.suite import evaluate_model  # noqa: E402
from sensorclip.files import read_json  # noqa: E402
from sensorclip.runs import load_run  # noqa: E402

ANCHORS = (0.01, 0.1, 1.0, 10.0)


def scores(run: Path, target: str, anchors: list[float]) -> dict[float, dict[int, float]]:
    """anchor -> k -> text-initialised macro-F1 on ``target``."""
    checkpoint = read_json(run / "metrics.json", {"checkpoint": str}, "run's metrics")["checkpoint"]
    loaded = load_run(Path(checkpoint), data=transfer_study.target_config(target))
    text = stage_configs(loaded.config)["text"]
    out = {}
    for anchor in anchors:
        metrics = evaluate_model(loaded.model, loaded.datamodule, text,
                                 EvalConfig(references=False, fewshot_text_anchor=anchor))
        out[anchor] = {k: metrics[f"fewshot_text_init_{k}_macro_f1"]
                       for k in EvalConfig().fewshot_k}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a pretraining run directory")
    parser.add_argument("--targets", nargs="+", default=list(transfer_study.VALIDATION))
    parser.add_argument("--anchors", nargs="+", type=float, default=list(ANCHORS))
    parser.add_argument("--out", type=Path, default=None, help="write the scores as JSON here")
    args = parser.parse_args()
    found = {target: scores(args.run, target, args.anchors) for target in args.targets}
    ks = EvalConfig().fewshot_k
    print("| anchor | " + " | ".join(f"k={k}" for k in ks) + " | mean |")
    print("|---|" + "---|" * (len(ks) + 1))
    means = {}
    for anchor in args.anchors:
        per_k = [np.mean([found[t][anchor][k] for t in args.targets]) for k in ks]
        means[anchor] = float(np.mean(per_k))
        print(f"| {anchor:g} | " + " | ".join(f"{v:.3f}" for v in per_k)
              + f" | {means[anchor]:.3f} |")
    best = max(means, key=means.get)
    print(f"chosen on {', '.join(args.targets)}: eval.fewshot_text_anchor={best:g}")
    if args.out:
        args.out.write_text(json.dumps({"targets": args.targets, "chosen": best,
                                        "scores": {t: {str(a): v for a, v in s.items()}
                                                   for t, s in found.items()}}, indent=2))


if __name__ == "__main__":
    run_cleanly(main)
