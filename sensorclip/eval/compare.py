"""Two evaluations on one home, paired: is run A better than run B on the same test windows?

Every evaluation keeps its model's test predictions beside metrics.json (``PREDICTIONS``): for
each method (zero-shot at each level, the linear probe, few-shot from the text at each k) the
scored test windows, their labels and test days, and the predictions of each draw (one for
zero-shot, one per draw of labelled windows for few-shot, with a checksum of the draw's shots).
Two such files of one home give a paired difference of macro-F1 with the interval every other
``delta_*`` has (test days and draws resampled). Comparing whole runs this way is what a
difference between two trainings needs: the windows and shots are the same, so the interval is
about the models, not about which days each happened to be tested on.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sensorclip.errors import SensorClipError
from sensorclip.eval.references import paired_bootstrap_draws
from sensorclip.files import save_npz

PREDICTIONS = "test_predictions.npz"
FIELDS = ("windows", "truth", "days", "draws", "shots", "n_classes")


@dataclass
class MethodPredictions:
    windows: np.ndarray     # [scored] test-window ids
    truth: np.ndarray       # [scored] label codes
    days: np.ndarray        # [scored] test day of each window (the resampling unit)
    draws: np.ndarray       # [draws, scored] predicted codes
    shots: np.ndarray       # [draws] checksum of each draw's labelled windows (0: no shots)
    n_classes: int


def shots_checksum(shots: np.ndarray) -> int:
    return zlib.crc32(np.ascontiguousarray(shots, dtype=np.int64).tobytes())


def method_predictions(windows, truth, days, draws, n_classes, shots=None) -> MethodPredictions:
    draws = np.stack([np.asarray(d, dtype=np.int64) for d in draws])
    checks = (np.array([shots_checksum(s) for s in shots], dtype=np.int64) if shots is not None
              else np.zeros(len(draws), dtype=np.int64))
    return MethodPredictions(np.asarray(windows, dtype=np.int64), np.asarray(truth, np.int64),
                             np.asarray(days), draws, checks, int(n_classes))


def save_predictions(path: Path, methods: dict[str, MethodPredictions]) -> None:
    """One ``.npz`` (``{method}__{field}`` arrays), written whole or not at all."""
    save_npz(path, **{f"{name}__{field}": np.asarray(getattr(m, field))
                      for name, m in methods.items() for field in FIELDS})


def load_predictions(path: Path) -> dict[str, MethodPredictions]:
    path = Path(path)
    if path.is_dir():
        path = path / PREDICTIONS
    if not path.is_file():
        raise SensorClipError(f"{path} does not exist: evaluate the run on this home first "
                              "(python -m sensorclip.evaluate ckpt_path=...)")
    with np.load(path) as data:
        names = sorted({key.split("__")[0] for key in data.files})
        return {name: MethodPredictions(*(data[f"{name}__{f}"] for f in FIELDS[:-1]),
                                        int(data[f"{name}__n_classes"])) for name in names}


def paired_difference(a: MethodPredictions, b: MethodPredictions, resamples: int = 1000,
                      seed: int = 0) -> tuple[float | None, list[float] | None]:
    """macro-F1(a) - macro-F1(b) over the same windows and draws, with its 95% interval."""
    if a.n_classes != b.n_classes or not np.array_equal(a.windows, b.windows) \
            or not np.array_equal(a.truth, b.truth):
        raise SensorClipError("the two evaluations scored different test windows (another "
                              "home, split or window setting): only evaluations of one home "
                              "with one data config can be paired")
    if not np.array_equal(a.shots, b.shots):
        raise SensorClipError("the two evaluations drew different labelled windows (another "
                              "eval.seed or eval.fewshot_draws): evaluate both with the same")
    return paired_bootstrap_draws(a.truth, list(a.draws), list(b.draws), a.days, a.n_classes,
                                  resamples=resamples, seed=seed)


def compare_runs(a: Path, b: Path, methods: list[str] | None = None, resamples: int = 1000,
                 seed: int = 0) -> dict[str, tuple[float | None, list[float] | None]]:
    """Each method both evaluations kept (or ``methods``): its paired difference, a minus b.
    ``a`` and ``b``: evaluation folders (where metrics.json is) or their prediction files."""
    first, second = load_predictions(a), load_predictions(b)
    names = methods or sorted(set(first) & set(second))
    missing = [name for name in names if name not in first or name not in second]
    if missing:
        raise SensorClipError(f"not kept by both evaluations: {', '.join(missing)}")
    return {name: paired_difference(first[name], second[name], resamples, seed)
            for name in names}


def main(argv: list[str] | None = None) -> None:
    """``python -m sensorclip.eval.compare A B [--methods ...]``: a table of a minus b."""
    import argparse

    from sensorclip.entrypoint import run_cleanly
    parser = argparse.ArgumentParser(description="Two evaluations of one home, paired: "
                                     "macro-F1 of A minus B with a 95% interval over test days "
                                     "(and draws of labelled windows).")
    parser.add_argument("a", type=Path, help="an evaluation folder (holds metrics.json)")
    parser.add_argument("b", type=Path)
    parser.add_argument("--methods", nargs="+", help="default: every method both kept")
    parser.add_argument("--resamples", type=int, default=1000)
    args = parser.parse_args(argv)

    def report() -> None:
        for name, (delta, interval) in compare_runs(args.a, args.b, args.methods,
                                                    args.resamples).items():
            shown = f"[{interval[0]:+.3f}, {interval[1]:+.3f}]" if interval else "(one day)"
            print(f"{name:<24} {delta:+.3f} {shown}")
    run_cleanly(report)


if __name__ == "__main__":
    main()
