"""Choose the defaults by measurement: one factor at a time, selected on validation only.

    python scripts/results.py                      # every study on every home -> docs/results.md
    python scripts/results.py --homes demo --studies features loss
    python scripts/results.py --report-only         # rewrite the tables from finished runs
    python scripts/results.py --re-evaluate         # score finished runs again, then rewrite

Each study varies one factor from the current defaults (features, pooling, loss, label
positives, text projection, encoder size, epochs, caption paraphrases per window) on each home
(``data=demo`` and a second simulated home). Every run is an ordinary ``python -m
sensorclip.train`` run in ``outputs/results/<home>/<study>/<option>/``, so finished runs are
reused when the script is run again. The tables show the validation scores a choice is made on
(``val_linear_probe_macro_f1``, ``val_zeroshot_macro_f1``) beside the test figures with their
references and 95% intervals; the option a study would choose is the one with the best
validation score averaged over the homes, never a test score.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from dataclasses import fields
from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

import sensorclip  # noqa: F401  (registers the config schemas)
from sensorclip.config import GROUP_SCHEMAS, typed
from sensorclip.errors import SensorClipError
from sensorclip.runs import CONFIG_FILE, read_run_config
from sensorclip.train import train

REPO = Path(__file__).resolve().parents[1]
HOMES = {"demo": ["data=demo"], "milan_sim": ["data=milan_sim", "data.days=28"]}
STUDIES = {
    "features": {o: [f"features={o}"] for o in ("none", "coords", "time", "coords_time")},
    "model": {**{o: [f"model={o}"] for o in ("tiny", "learned", "text", "image_text")},
              "image_text_sum": ["model=image_text", "model.combine=sum"]},
    "pooling": {o: [f"encoder.pooling={o}"] for o in ("cls", "mean", "cls_mean")},
    "loss": {o: [f"loss={o}"] for o in ("clip", "siglip")},
    "label_positives": {o: [f"label_positives={o}"] for o in ("none", "fine", "coarse")},
    "text_projection": {o: [f"text_projection={o}"] for o in ("none", "linear", "mlp")},
    "epochs": {str(o): [f"trainer.max_epochs={o}"] for o in (10, 20, 40)},
    "paraphrases": {str(o): [f"captions.per_window={o}"] for o in (1, 2, 4)},
    "encoder": {o: [f"encoder={o}"] for o in ("small", "base")},
}
SELECT_BY = ("val_linear_probe_macro_f1", "val_zeroshot_macro_f1")
NOT_ADOPTED = {   # studies reported but never made the default, and why
    "label_positives": "its options other than none train the encoder with every training "
                       "label, which the few-shot and label-efficiency figures assume unseen, "
                       "and which a new home does not have",
}


def compose_run(home: str, overrides: list[str], out: Path):
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        return compose(config_name="train", overrides=HOMES[home] + overrides + [
            f"paths.output_dir={out}", "callbacks.progress_bar=null"])


def finished_run(home: str, key: str, root: Path) -> dict | None:
    """The metrics of a finished run of this configuration, in any study: the key of each run
    is computed from the config it saved, by the current rule, so runs made before a config
    field was added are still found."""
    for done in sorted(root.glob(f"{home}/*/*/metrics.json")):
        if saved_key(done.parent) == key:
            return json.loads(done.read_text())
    return None


def saved_key(run_dir: Path) -> str | None:
    """The configuration key of a finished run (``key.txt`` for a run that saved no config);
    None when its config no longer reads under the current schemas."""
    if (run_dir / CONFIG_FILE).is_file():
        try:
            return configuration_key(read_run_config(run_dir / CONFIG_FILE))
        except SensorClipError:
            return None
    return (run_dir / "key.txt").read_text() if (run_dir / "key.txt").is_file() else None


def finished_option(home: str, study: str, option: str, overrides: list[str],
                    root: Path) -> dict | None:
    """The metrics of an option already run, in its own directory or (for a configuration that
    another study ran first) wherever its configuration was run; None if it was not."""
    own = root / home / study / option / "metrics.json"
    if own.is_file():
        return json.loads(own.read_text())
    return finished_run(home, configuration_key(compose_run(home, overrides, own.parent)), root)


def run_one(home: str, study: str, option: str, overrides: list[str], root: Path) -> dict:
    """The metrics of one configuration; an option that composes to a configuration already
    run (the defaults appear in several studies) reuses that run."""
    out = root / home / study / option
    if (out / "metrics.json").is_file():
        return json.loads((out / "metrics.json").read_text())
    cfg = compose_run(home, overrides, out)
    key = configuration_key(cfg)
    metrics = finished_run(home, key, root)
    if metrics is not None:
        return metrics
    return train(cfg)


def re_evaluate(root: Path, homes: list[str]) -> None:
    """Score every finished run's checkpoint again with the current evaluation code (after a
    change to ``sensorclip.eval``), keeping what training recorded (its time, its epochs)."""
    from sensorclip.evaluate import evaluate_checkpoint
    from sensorclip.runs import write_metrics
    done = sorted(f for home in homes for f in root.glob(f"{home}/*/*/metrics.json"))
    for number, metrics_file in enumerate(done, 1):
        before = json.loads(metrics_file.read_text())
        checkpoint = metrics_file.parent / "checkpoints" / Path(before["checkpoint"]).name
        print(f"[{number}/{len(done)}] {metrics_file.parent.relative_to(root)}", flush=True)
        write_metrics(metrics_file.parent, {**before, **evaluate_checkpoint(checkpoint)})


VOLATILE_KEYS = ("paths", "hydra", "run_name", "task_name", "logger", "cache_dir")
# Lightning keys that change what a run prints, never what it learns. A key missing here costs a
# retrained run, never a wrong reuse.
RESULT_NEUTRAL = {"trainer": ("enable_model_summary", "enable_progress_bar", "log_every_n_steps"),
                  "callbacks": ("model_summary", "progress_bar", "lr_monitor")}


def configuration_key(cfg) -> str:
    """What decides a run's result. Each schema group counts by the values that differ from
    its schema's defaults, so a field added later at its default leaves every earlier run's key
    as it was; the other keys count as they are, less where the run is written."""
    plain = cfg if isinstance(cfg, dict) else OmegaConf.to_container(cfg, resolve=True)
    written = tuple(str(plain.get("paths", {}).get(k)) for k in ("output_dir", "log_dir")
                    if plain.get("paths", {}).get(k))
    decided = {}
    for key, value in plain.items():
        if key in VOLATILE_KEYS:
            continue
        schema = GROUP_SCHEMAS.get(key)
        if schema and value:
            decided[key] = changed_from_defaults(typed(schema, value))
        elif isinstance(value, dict):
            decided[key] = not_written_to({k: v for k, v in value.items()
                                           if k not in RESULT_NEUTRAL.get(key, ())}, written)
        else:
            decided[key] = value
    return hashlib.sha256(json.dumps(decided, sort_keys=True, default=str).encode()).hexdigest()


def changed_from_defaults(config) -> dict:
    defaults = type(config)()
    return {f.name: getattr(config, f.name) for f in fields(config)
            if getattr(config, f.name) != getattr(defaults, f.name)}


def not_written_to(value, written: tuple[str, ...]):
    """``value`` less the entries that name where the run is written (checkpoint folders)."""
    if not isinstance(value, dict):
        return value
    return {k: not_written_to(v, written) for k, v in value.items()
            if not (isinstance(v, str) and written and v.startswith(written))}


def table(study: str, results: dict[str, dict[str, dict]]) -> list[str]:
    """One markdown table per study: options x homes, validation first, then test with
    references."""
    lines = [f"### {study}", "",
             "| home | option | val probe F1 | val zero-shot F1 | test probe F1 | untrained | "
             "bag of events | probe - bag [95% CI] | test zero-shot F1 | keyword | "
             "zero-shot - keyword [95% CI] | recall@10 (chance) |",
             "|" + "---|" * 12]
    for home, options in results.items():
        for option, m in options.items():
            lines.append(
                f"| {home} | {option} | {m['val_linear_probe_macro_f1']:.3f} | "
                f"{m['val_zeroshot_macro_f1']:.3f} | {m['linear_probe_macro_f1']:.3f} | "
                f"{m['untrained_linear_probe_macro_f1']:.3f} | {m['bag_macro_f1']:.3f} | "
                f"{_delta(m, 'delta_probe_macro_f1_vs_bag')} | {m['zeroshot_macro_f1']:.3f} | "
                f"{m['keyword_zeroshot_macro_f1']:.3f} | "
                f"{_delta(m, 'delta_zeroshot_macro_f1_vs_keyword')} | "
                f"{m['recall@10_mean']:.3f} ({m['chance_recall@10']:.3f}) |")
    choice = chosen(results)
    verdict = (f"Best on validation: {choice}; not adopted as a default: "
               f"{NOT_ADOPTED[study]}." if study in NOT_ADOPTED else
               f"Chosen on validation: **{choice}**.")
    lines += ["", f"{verdict} (Mean of {' and '.join(SELECT_BY)} over the homes.)", ""]
    return lines


def bar(root: Path, homes: list[str]) -> list[str]:
    """Issue 12's bar, checked on the default configuration's run of each home (when one is
    among the finished runs): test differences with their 95% intervals over days."""
    lines = ["## The bar, with the defaults", "",
             "| home | probe - untrained [95% CI] | probe - bag [95% CI] | "
             "zero-shot - keyword [95% CI] | 5-shot probe - 5-shot bag [95% CI] (goal >= +0.05) |",
             "|---|---|---|---|---|"]
    for home in homes:
        m = finished_run(home, configuration_key(compose_run(home, [], root)), root)
        if m is None:
            lines.append(f"| {home} | default configuration not run | | | |")
            continue
        lines.append(f"| {home} | {_delta(m, 'delta_probe_macro_f1_vs_untrained')} | "
                     f"{_delta(m, 'delta_probe_macro_f1_vs_bag')} | "
                     f"{_delta(m, 'delta_zeroshot_macro_f1_vs_keyword')} | {few_shot_gap(m)} |")
    return lines + ["", "A difference is shown when its whole interval lies above zero.", ""]


def chosen(results: dict[str, dict[str, dict]]) -> str:
    options = next(iter(results.values())).keys()
    score = {o: sum(results[h][o][k] for h in results for k in SELECT_BY) for o in options}
    return max(score, key=score.get)


def few_shot_gap(m: dict) -> str:
    """5-shot probe minus 5-shot bag with its interval over test days and draws, and the two
    means (runs evaluated before few-shot intervals show the sd over draws instead)."""
    ours, bag = m["fewshot_5_macro_f1"], m["bag_fewshot_5_macro_f1"]
    if "delta_fewshot_5_macro_f1_vs_bag" in m:
        return f"{_delta(m, 'delta_fewshot_5_macro_f1_vs_bag')} ({ours:.3f} vs {bag:.3f})"
    return f"{ours - bag:+.3f} ({ours:.3f} ± {m['fewshot_5_macro_f1_sd']:.3f} vs {bag:.3f})"


def _delta(m: dict, key: str) -> str:
    interval = m.get(f"{key}_ci95")
    shown = f"[{interval[0]:+.3f}, {interval[1]:+.3f}]" if interval else "–"
    return f"{m[key]:+.3f} {shown}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--homes", nargs="+", default=list(HOMES), choices=list(HOMES))
    parser.add_argument("--studies", nargs="+", default=list(STUDIES), choices=list(STUDIES))
    parser.add_argument("--root", type=Path, default=REPO / "outputs" / "results")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "results.md")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--re-evaluate", action="store_true",
                        help="score the finished runs again with the current evaluation code, "
                             "then rewrite the tables (implies --report-only)")
    args = parser.parse_args()
    if args.re_evaluate:
        re_evaluate(args.root, args.homes)
        args.report_only = True
    sections = []
    for study in args.studies:
        results = {}
        for home in args.homes:
            results[home] = {}
            for option, overrides in STUDIES[study].items():
                if args.report_only:
                    done = finished_option(home, study, option, overrides, args.root)
                    if done is not None:
                        results[home][option] = done
                    continue
                results[home][option] = run_one(home, study, option, overrides, args.root)
        if all(len(v) == len(STUDIES[study]) for v in results.values()):
            sections += table(study, results)
    sections = bar(args.root, args.homes) + sections
    args.out.write_text(HEADER + "\n".join(sections) + "\n")
    print(f"wrote {args.out}")


HEADER = """# Results: the defaults, chosen by measurement

Generated by `python scripts/results.py` (`make results`); every number below comes from the
runs it lists. Each study changes one factor of the default configuration; the choice uses
validation scores only. Test figures stand beside their references: the untrained encoder, the
bag-of-events logistic regression and, for zero-shot, word overlap of captions and descriptions;
differences carry 95% intervals from resampling test days. The studies run in the order
listed, each from the defaults as they stand when it runs (so a choice made by an earlier study
is the base of the later ones); a study whose runs are not all finished is left out. The
linear and few-shot probes read the projected embedding (`eval.probe_on=projected`). Every run
is scored by the evaluation code of the commit that wrote this file (`--re-evaluate` scores the
finished checkpoints again after a change to it).

"""


if __name__ == "__main__":
    main()
