"""Pretrain on N homes, measure on homes it never saw: the scaling curve and its references.

    python scripts/transfer_study.py                           # -> docs/transfer.md + .png
    python scripts/transfer_study.py --sizes 1 4 16 --models text tiny
    python scripts/transfer_study.py --sizes 16 --models text,features=time  # a variant
    python scripts/transfer_study.py --report-only             # tables from finished runs

For every model (``model=``) and pretraining size N, one ``experiment=pretrain`` run on the
generated homes 0..N-1 (``outputs/transfer_study/<model>/n<N>``; finished runs are reused), then
``python -m sensorclip.evaluate``'s cross-home evaluation on each held-out home: validation homes
(generated homes the choices are made on) and test homes (other generated homes and the
simulated Milan and Aruba layouts, which no pretraining run sees). Every figure stands beside its
references: common-level zero-shot beside keyword overlap, the layout-agnostic bag fit on the
source homes and the caption oracle; the 5-shot probe beside the target's own 5-shot bag of
events and the untrained encoder's 5-shot probe. Differences carry 95% intervals over the
target's test days (and few-shot draws).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from hydra import compose, initialize_config_dir

import sensorclip  # noqa: F401  (registers the config schemas)
from sensorclip.config import DataConfig, EvalConfig, WindowConfig, typed
from sensorclip.eval.compare import compare_runs
from sensorclip.evaluate import evaluate_checkpoint
from sensorclip.files import read_json
from sensorclip.multihome import home_configs
from sensorclip.train import train

REPO = Path(__file__).resolve().parents[1]
VALIDATION = ("generated:32", "generated:33")
TEST = ("generated:40", "generated:41", "milan_sim", "aruba_sim")
TARGET_DAYS = 28      # generated target homes; milan_sim and aruba_sim keep their own
FROZEN = ",encoder.train_body=false"   # a model's reference: the same heads on an untrained body
SHOTS = (0, 1, 5, 10, 25)


def target_config(name: str, days: int = TARGET_DAYS) -> DataConfig:
    return home_configs(DataConfig(name="multi", layout="multi", source="multi",
                                   activity_model=None, days=days, homes=[name]))[0]


def run_dir(root: Path, model: str, size: int) -> Path:
    """``model`` is a model option, optionally with more overrides: ``text,features=time``."""
    return root / model.replace(",", "+").replace("=", "-") / f"n{size}"


def pretrain(model: str, size: int, root: Path, extra: list[str]) -> Path:
    """The run directory of ``experiment=pretrain`` on generated homes 0..size-1."""
    out = run_dir(root, model, size)
    if (out / "metrics.json").is_file():
        return out
    name, *more = model.split(",")
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = compose(config_name="train", overrides=[
            "experiment=pretrain", f"model={name}", f"data.homes=[generated:0-{size - 1}]",
            f"paths.output_dir={out}", "callbacks.progress_bar=null", *more, *extra])
    train(cfg)
    return out


def evaluate_on(run: Path, target: str, days: int = TARGET_DAYS,
                windows: str | None = None) -> dict:
    return evaluated(run, target_config(target, days), windows)


def transfer_folder(run: Path, home: str, windows: str | None = None) -> Path:
    folder = run / "transfer" / home
    return folder / f"windows_{windows}" if windows else folder


def window_config(name: str) -> WindowConfig:
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        return typed(WindowConfig, compose(config_name="prepare",
                                           overrides=[f"windows={name}"]).windows)


def evaluated(run: Path, data: DataConfig, windows: str | None = None) -> dict:
    """Pretraining run ``run`` evaluated on the home ``data`` (its metrics are written under
    ``run/transfer/<home>/``, or ``.../windows_<option>/`` for the ``windows`` option, and read
    from there when they exist)."""
    done = transfer_folder(run, data.name, windows) / "metrics.json"
    if done.is_file():
        return read_json(done, dict, "transfer metrics")
    checkpoint = read_json(run / "metrics.json", {"checkpoint": str}, "run's metrics")
    return evaluate_checkpoint(checkpoint["checkpoint"], eval_config=EvalConfig(), data=data,
                               windows=window_config(windows) if windows else None,
                               windows_name=windows)


def finished(run: Path, target: str, windows: str | None = None) -> dict | None:
    path = transfer_folder(run, target_config(target).name, windows) / "metrics.json"
    return json.loads(path.read_text()) if path.is_file() else None


# ---------------------------------------------------------------------------------------------
# Report


def _delta(m: dict, key: str) -> str:
    if key not in m or m[key] is None:
        return "–"
    interval = m.get(f"{key}_ci95")
    shown = f" [{interval[0]:+.3f}, {interval[1]:+.3f}]" if interval else ""
    return f"{m[key]:+.3f}{shown}"


def _value(m: dict, key: str) -> str:
    return "–" if m.get(key) is None else f"{m[key]:.3f}"


def rows(results: dict, column: str = "N") -> list[str]:
    """One row per (target, model, third key) -- the pretraining size N, or the ``column``
    that takes its place."""
    lines = [f"| target | model | {column} | zero-shot | keyword | agnostic bag | sentence ref | "
             "caption oracle | zero-shot - agnostic bag | zero-shot - sentence ref | "
             "zero-shot - keyword | 5-shot | 5-shot bag | 5-shot - bag | 5-shot - untrained | "
             "5-shot from text - bag |", "|" + "---|" * 16]
    for (target, model, size), m in sorted(results.items(), key=lambda kv: (
            kv[0][0], kv[0][1], str(kv[0][2]).zfill(8))):
        lines.append(
            f"| {target} | {model} | {size} | {_value(m, 'common_zeroshot_macro_f1')} | "
            f"{_value(m, 'common_keyword_zeroshot_macro_f1')} | "
            f"{_value(m, 'agnostic_bag_macro_f1')} | "
            f"{_value(m, 'sentence_ref_meanmax_macro_f1')} | "
            f"{_value(m, 'caption_oracle_zeroshot_macro_f1')} | "
            f"{_delta(m, 'delta_zeroshot_macro_f1_vs_agnostic_bag')} | "
            f"{_delta(m, 'delta_zeroshot_macro_f1_vs_sentence_ref_meanmax')} | "
            f"{_delta(m, 'common_delta_zeroshot_macro_f1_vs_keyword')} | "
            f"{_value(m, 'fewshot_5_macro_f1')} | {_value(m, 'bag_fewshot_5_macro_f1')} | "
            f"{_delta(m, 'delta_fewshot_5_macro_f1_vs_bag')} | "
            f"{_delta(m, 'delta_fewshot_5_macro_f1_vs_untrained')} | "
            f"{_delta(m, 'delta_fewshot_text_init_5_macro_f1_vs_bag')} |")
    return lines


def _above(m: dict, key: str, margin: float = 0.0) -> str:
    """'met (+0.071 [+0.020, +0.130])' when the difference reaches ``margin`` and its interval
    lies above zero."""
    interval = m.get(f"{key}_ci95")
    met = m.get(key) is not None and m[key] >= margin and bool(interval) and interval[0] > 0
    return f"{'met' if met else 'not met'} ({_delta(m, key)})"


def frozen_twin(model: str) -> str:
    return model + FROZEN


def paired_with_frozen(root: Path, model: str, size: int, targets,
                       windows: str | None = None) -> dict:
    """target -> {method: (delta, interval)}: the model minus its frozen-body twin (same label
    term, same heads, the body left at its seeded initialisation), paired on the same test
    windows and draws (``sensorclip.eval.compare``); only where both were evaluated."""
    out = {}
    for target in targets:
        name = target_config(target).name
        a = transfer_folder(run_dir(root, model, size), name, windows)
        b = transfer_folder(run_dir(root, frozen_twin(model), size), name, windows)
        methods = ["common_zeroshot", "fewshot_text_init_5"]
        if all((d / "test_predictions.npz").is_file() for d in (a, b)):
            out[target] = compare_runs(a, b, methods)
    return out


def _paired(pair: dict | None, method: str) -> str:
    if not pair or method not in pair:
        return "–"
    delta, interval = pair[method]
    met = bool(interval) and interval[0] > 0
    shown = f" [{interval[0]:+.3f}, {interval[1]:+.3f}]" if interval else ""
    return f"{'met' if met else 'not met'} ({delta:+.3f}{shown})"


def bar(results: dict, targets: tuple[str, ...], model: str, size: int,
        paired: dict | None = None) -> list[str]:
    """The bar on each held-out test home, for one model and size: with no target label,
    zero-shot above the agnostic bag and the sentence-vector reference; at k = 5, few-shot from
    the text >= 0.05 above the target's bag and above the untrained encoder; and the trained
    body above the frozen one under the same heads (``paired``)."""
    paired = paired or {}
    lines = ["| target | zero-shot > agnostic bag | zero-shot > sentence ref | "
             "5-shot from text - bag >= +0.05 | 5-shot from text > untrained | "
             "trained - frozen body, zero-shot | trained - frozen body, 5-shot from text |",
             "|---|---|---|---|---|---|---|"]
    for target in targets:
        m = results.get((target, model, size))
        if m is not None:
            lines.append(
                f"| {target} | {_above(m, 'delta_zeroshot_macro_f1_vs_agnostic_bag')} | "
                f"{_above(m, 'delta_zeroshot_macro_f1_vs_sentence_ref_meanmax')} | "
                f"{_above(m, 'delta_fewshot_text_init_5_macro_f1_vs_bag', 0.05)} | "
                f"{_above(m, 'delta_fewshot_text_init_5_macro_f1_vs_untrained')} | "
                f"{_paired(paired.get(target), 'common_zeroshot')} | "
                f"{_paired(paired.get(target), 'fewshot_text_init_5')} |")
    return lines


def kshot_rows(results: dict, targets, model: str, size: int) -> list[str]:
    """macro-F1 of the target's own activities against k: few-shot from the text (k = 0 is
    zero-shot) beside the plain probe, the untrained encoder and the bag on the same shots."""
    lines = ["| target | method | " + " | ".join(f"k={k}" for k in SHOTS) + " |",
             "|---|---|" + "---|" * len(SHOTS)]
    for target in targets:
        m = results.get((target, model, size))
        if m is None:
            continue
        for tag, label in KSHOT_METHODS:
            values = [_value(m, f"fewshot_text_init_{k}_{tag}macro_f1") for k in SHOTS]
            lines.append(f"| {target} | {label} | " + " | ".join(values) + " |")
    return lines


KSHOT_METHODS = (("", "from the text"), ("probe_", "plain probe"),
                 ("untrained_", "untrained encoder"), ("bag_", "bag of events"))


def kshot_plot(results: dict, targets, model: str, size: int, out: Path) -> None:
    """One panel per held-out home: macro-F1 against k for each method of ``kshot_rows``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    shown = [t for t in targets if (t, model, size) in results]
    if not shown:
        return
    figure, axes = plt.subplots(1, len(shown), figsize=(3.2 * len(shown), 3.2), squeeze=False)
    for axis, target in zip(axes[0], shown):
        m = results[(target, model, size)]
        for tag, label in KSHOT_METHODS:
            points = [(k, m[f"fewshot_text_init_{k}_{tag}macro_f1"]) for k in SHOTS
                      if m.get(f"fewshot_text_init_{k}_{tag}macro_f1") is not None]
            if points:
                axis.plot(*zip(*points), marker="o", label=label)
        axis.set_xscale("symlog", linthresh=1)
        axis.set_xticks(SHOTS, [str(k) for k in SHOTS])
        axis.set_xlabel("labelled windows per activity (k)")
        axis.set_title(target.split("=")[0], fontsize=9)   # a real log: its name, not path
    axes[0][0].set_ylabel("macro-F1, target's activities")
    axes[0][0].legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(out, dpi=120)
    plt.close(figure)


def curve(results: dict, targets: tuple[str, ...], models: list[str], sizes: list[int],
          out: Path) -> None:
    """Mean over the test homes of zero-shot and 5-shot macro-F1 against N, with references."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    for axis, (key, reference, title) in zip(axes, (
            ("common_zeroshot_macro_f1", "agnostic_bag_macro_f1", "zero-shot (common labels)"),
            ("fewshot_5_macro_f1", "bag_fewshot_5_macro_f1", "5-shot probe (target labels)"))):
        for model in models:
            done = [n for n in sizes if all((t, model, n) in results for t in targets)]
            points = [(n, np.mean([results[(t, model, n)][key] for t in targets])) for n in done]
            if points:
                axis.plot(*zip(*points), marker="o", label=f"model={model}")
            refs = [(n, np.mean([results[(t, model, n)][reference] for t in targets]))
                    for n in done if all(results[(t, model, n)].get(reference) is not None
                                         for t in targets)]
            if model == models[0] and refs:     # the reference of the same source homes
                axis.plot(*zip(*refs), color="grey", linestyle="--", marker=".",
                          label=reference.replace("_macro_f1", "").replace("_", " "))
        axis.set_xscale("log", base=2)
        axis.set_xlabel("pretraining homes")
        axis.set_ylabel("macro-F1, mean over test homes")
        axis.set_title(title)
        axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(out, dpi=120)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["text"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[1, 4, 16])
    parser.add_argument("--validation", nargs="+", default=list(VALIDATION))
    parser.add_argument("--test", nargs="*", default=list(TEST),
                        help="held-out homes (none: validation only, to choose)")
    parser.add_argument("--root", type=Path, default=REPO / "outputs" / "transfer_study")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "transfer.md")
    parser.add_argument("--target-days", type=int, default=TARGET_DAYS)
    parser.add_argument("--windows", help="evaluate the targets with this windows option "
                        "(e.g. fl20_p: presegmented, the published protocol)")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("overrides", nargs="*", help="more Hydra overrides for pretraining")
    args = parser.parse_args()
    targets = [*args.validation, *args.test]
    results = {}
    for model in args.models:
        for size in args.sizes:
            run = run_dir(args.root, model, size)
            if not args.report_only:
                run = pretrain(model, size, args.root, args.overrides)
            for target in targets:
                m = finished(run, target, args.windows) if args.report_only else \
                    evaluate_on(run, target, args.target_days, args.windows)
                if m is not None:
                    results[(target, model, size)] = m
    write_report(results, args, targets)


def write_report(results: dict, args, targets: list[str]) -> None:
    validation = {k: v for k, v in results.items() if k[0] in args.validation}
    test = {k: v for k, v in results.items() if k[0] in args.test}
    candidates = [m for m in args.models if not m.endswith(FROZEN)]    # references are not
    best = max(((m, n) for m in candidates for n in args.sizes                # candidates
                if all((t, m, n) in validation for t in args.validation)),
               key=lambda mn: np.mean([validation[(t, *mn)]["common_val_zeroshot_macro_f1"]
                                       + validation[(t, *mn)]["val_linear_probe_macro_f1"]
                                       for t in args.validation]), default=None)
    lines = [HEADER, "## Validation homes (the choice is made here)", "", *rows(validation), ""]
    if best is not None:
        lines += [f"Chosen on validation (common zero-shot + probe, validation days of the "
                  f"validation homes): model={best[0]}, N={best[1]}.", ""]
    lines += ["## Held-out test homes", "", *rows(test), ""]
    if best is not None:
        paired = paired_with_frozen(args.root, *best, args.test, args.windows)
        lines += [f"## The bar, for the choice (model={best[0]}, N={best[1]})", "",
                  *bar(test, tuple(args.test), *best, paired), "",
                  "## Few-shot from the text against k, for the choice", "",
                  *kshot_rows(test, args.test, *best), "",
                  f"![macro-F1 against k]({args.out.stem}_kshot.png)", ""]
        kshot_plot(test, args.test, *best, args.out.with_name(args.out.stem + "_kshot.png"))
    plot = args.out.with_suffix(".png")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.test:
        curve(test, tuple(args.test), args.models, args.sizes, plot)
        lines += [f"![scaling curve]({plot.name})", ""]
    write_keeping_notes(args.out, lines, "(What was tried and what it showed.)")
    print(f"wrote {args.out} and {plot}")


def write_keeping_notes(out: Path, lines: list[str], placeholder: str) -> None:
    """Write generated ``lines`` above the ``NOTES`` marker, keeping what is written by hand
    below it (or ``placeholder`` the first time)."""
    text = out.read_text() if out.is_file() else ""
    notes = text.split(NOTES, 1)[1] if NOTES in text else f"\n{placeholder}\n"
    out.write_text("\n".join(lines) + "\n" + NOTES + notes)


NOTES = "<!-- written by hand below: kept when the tables are generated again -->\n"
HEADER = """# Transfer: pretrained on N homes, measured on homes it never saw

Generated by `python scripts/transfer_study.py` (`make transfer-study`). Each pretraining run is
`python -m sensorclip.train experiment=pretrain model=M data.homes=[generated:0-(N-1)]`; each
row is `python -m sensorclip.evaluate ckpt_path=RUN data=TARGET` on a home absent from
pretraining. Zero-shot is scored at the common vocabulary's level, among the target's own
activities, without background windows; keyword is word overlap of the window's captions with
the descriptions; the layout-agnostic bag is a logistic regression on features that mean the
same in every home, fit on the source homes' labels; the caption oracle scores the window's own
caption through the text encoder (an encoder that reproduced each caption). 5-shot figures are
on the target's own fine labels, beside the target's own 5-shot bag of events and the untrained
encoder's 5-shot probe on the same draws.
Intervals: 95%, resampling the target's test days (and the few-shot draws).
"""


if __name__ == "__main__":
    main()
