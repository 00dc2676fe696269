"""Real CASAS homes: single-home results under the literature's protocols, and the encoders
pretrained on generated homes measured on them.

    python scripts/real_homes.py                         # every home found under data/real/
    python scripts/real_homes.py --path milan=~/casas/milan.zip --homes milan
    python scripts/real_homes.py --report-only           # tables from finished runs

The logs are not redistributable, so nothing here ships them: each home's file is looked for
under ``data/real/`` (git-ignored; ``KNOWN_FILES``) or given with ``--path HOME=FILE``, and a
home without a file is skipped. No file at all is a one-line refusal that says where to get
them (docs/real-homes.md).

Single-home runs are ordinary ``python -m sensorclip.train data=HOME data.raw_path=FILE`` runs
(``outputs/real_homes/<home>/<study>/<option>``), one factor at a time from the defaults, as in
``scripts/results.py``: the event encoder (image, sentences, learned embeddings), the features,
and the protocol (day-shuffled or chronological split, fixed-length or presegmented windows,
background windows in or out). Choices read validation scores only. Transfer rows are ``python
-m sensorclip.evaluate ckpt_path=RUN data=HOME`` for the pretraining runs of
``scripts/transfer_study.py``, at the common vocabulary's level. With two real logs or more,
the real-to-real matrix: for each real home as the target, ``experiment=pretrain`` on the other
real homes (``outputs/real_homes/real_to_real/<target>/<sources>``), once without and once with
generated homes among the sources (``MATRIX_SOURCES``), each pretrained on captions alone and
label-aware (``MATRIX_LOSSES``), then the same cross-home evaluation.
"""

from __future__ import annotations

import argparse
import sys
from itertools import product
from pathlib import Path

from hydra import compose, initialize_config_dir

sys.path.insert(0, str(Path(__file__).resolve().parent))

import results  # noqa: E402  (the single-home study machinery)
import transfer_study  # noqa: E402  (the transfer table)

from sensorclip.config import DataConfig, typed  # noqa: E402
from sensorclip.entrypoint import run_cleanly  # noqa: E402
from sensorclip.errors import SensorClipError  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA_ROOT = REPO / "data" / "real"
# Where each home's log is looked for under data/real/ (first found wins); docs/real-homes.md
# says where each file comes from.
KNOWN_FILES = {
    "adlnormal": ("kyoto/adlnormal/data", "kyoto/adlnormal/adlnormal.zip", "adlnormal.zip"),
    "milan": ("milan/data", "milan.zip", "milan/data.gz"),
    "aruba": ("aruba/data", "aruba.zip", "aruba/data.gz"),
    "cairo": ("cairo/data", "cairo.zip", "cairo/data.gz"),
    "kyoto": ("kyoto/twor.2009/data", "twor.2009.zip"),
    "tulum": ("tulum/data", "tulum.zip"),
    "adlmr": ("adlmr",),                    # folders of session files
    "adlinterweave": ("adlinterweave",),
}
STUDIES = {
    "model": {o: [f"model={o}"] for o in ("tiny", "text", "learned")},
    "features": {o: [f"features={o}"] for o in ("none", "coords_time")},
    "protocol": {"shuffled_fl20": [], "chronological": ["split=chronological"],
                 "presegmented": ["windows=fl20_p"],
                 "presegmented_with_background": ["windows=fl20_p",
                                                  "windows.include_no_activity=true"]},
}
PRETRAINED = ("text/n16", "text/n32", "tiny/n16")
# The real-to-real matrix's sources besides the other real homes: none, and four generated homes
# (a few more minutes of pretraining each on 2 CPU cores; 16 would be half an hour per target).
MATRIX_SOURCES = {"real": [], "real+4 generated": ["generated:0-3"]}
MATRIX_MODEL = "text"
# Each source set pretrained on captions alone and label-aware (the source homes' labels too):
# the option's name ends the run's folder name ("": the folders of the captions-only runs).
MATRIX_LOSSES = {"captions only": ("", ["loss.label_weight=0"]),
                 "label-aware": ("_labelaware", ["loss.label_weight=1"]),
                 # the reference: the same label term and heads over an untrained body
                 "label-aware, frozen body": ("_labelaware_frozen",
                                              ["loss.label_weight=1", "encoder.train_body=false"])}


def find_logs(data_root: Path, given: dict[str, Path]) -> dict[str, Path]:
    found = {}
    for home, candidates in KNOWN_FILES.items():
        if home in given:
            found[home] = given[home]
            continue
        path = next((data_root / c for c in candidates if (data_root / c).exists()), None)
        if path is not None:
            found[home] = path
    missing = [str(p) for p in given.values() if not p.exists()]
    if missing:
        raise SensorClipError(f"--path: {', '.join(missing)} does not exist")
    if not found:
        looked = ", ".join(f"{data_root / c[0]}" for c in KNOWN_FILES.values())
        raise SensorClipError(f"no real CASAS log found (looked for {looked}); CASAS logs are "
                              "not redistributable: get them as docs/real-homes.md says, put "
                              "them there or pass --path HOME=FILE")
    return found


def target_data(home: str, path: Path) -> DataConfig:
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = compose(config_name="prepare", overrides=[f"data={home}",
                                                        f"data.raw_path={path}"])
    return typed(DataConfig, cfg.data)


def transfer(logs: dict[str, Path], root: Path, report_only: bool) -> dict:
    """(home, model, N) -> metrics of each pretraining run evaluated on each real home."""
    out = {}
    for name in PRETRAINED:
        run = root / name
        if not (run / "metrics.json").is_file():
            continue
        model, size = name.split("/")
        for home, path in logs.items():
            data = target_data(home, path)
            if not report_only or (run / "transfer" / data.name / "metrics.json").is_file():
                out[(home, model, int(size[1:]))] = transfer_study.evaluated(run, data)
    return out


def real_to_real(logs: dict[str, Path], root: Path, report_only: bool,
                 sources_sets: list[str] | None = None) -> dict:
    """(target, model, sources) -> metrics of an encoder pretrained on the other real homes
    (with or without generated ones) and evaluated on ``target``, which it never saw."""
    out = {}
    if len(logs) < 2:
        return out
    for target, path in logs.items():
        sources = [f"{home}={source}" for home, source in logs.items() if home != target]
        chosen = {k: v for k, v in MATRIX_SOURCES.items() if k in (sources_sets or MATRIX_SOURCES)}
        for (label, extra), (loss, (suffix, overrides)) in product(chosen.items(),
                                                                   MATRIX_LOSSES.items()):
            folder = label.replace(" ", "_").replace("+", "plus_") + suffix
            run = root / "real_to_real" / target / folder
            if not (run / "metrics.json").is_file():
                if report_only:
                    continue
                print(f"== real-to-real ({loss}): {' + '.join(sources + extra)} -> {target}",
                      flush=True)
                pretrain_on(sources + extra, run, overrides)
            out[(target, MATRIX_MODEL, f"{label}, {loss}")] = transfer_study.evaluated(
                run, target_data(target, path))
    return out


def pretrain_on(homes: list[str], run: Path, overrides: list[str]) -> None:
    listed = ",".join(f'"{home}"' for home in homes)
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = compose(config_name="train", overrides=[
            "experiment=pretrain", f"model={MATRIX_MODEL}", f"data.homes=[{listed}]",
            f"paths.output_dir={run}", "callbacks.progress_bar=null", *overrides])
    transfer_study.train(cfg)


def single_home(logs: dict[str, Path], root: Path, report_only: bool,
                studies: list[str]) -> list[str]:
    sections = []
    for home, path in logs.items():
        results.HOMES[home] = [f"data={home}", f"data.raw_path={path}"]
    for study, options in STUDIES.items():
        if study not in studies:
            continue
        found = {}
        for home in logs:
            found[home] = {}
            for option, overrides in options.items():
                if report_only:
                    done = results.finished_option(home, study, option, overrides, root)
                    if done is not None:
                        found[home][option] = done
                    continue
                print(f"== {home} / {study} / {option}", flush=True)
                found[home][option] = results.run_one(home, study, option, overrides, root)
        if all(len(v) == len(options) for v in found.values()):
            sections += results.table(study, found)
    return sections


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--homes", nargs="+", choices=list(KNOWN_FILES))
    parser.add_argument("--path", nargs="*", default=[], metavar="HOME=FILE")
    parser.add_argument("--data-root", type=Path, default=DATA_ROOT)
    parser.add_argument("--root", type=Path, default=REPO / "outputs" / "real_homes")
    parser.add_argument("--pretrained-root", type=Path,
                        default=REPO / "outputs" / "transfer_study")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "real-homes.md")
    parser.add_argument("--studies", nargs="+", choices=list(STUDIES), default=list(STUDIES))
    parser.add_argument("--no-matrix", action="store_true",
                        help="skip the real-to-real transfer matrix")
    parser.add_argument("--matrix-sources", nargs="+", choices=list(MATRIX_SOURCES),
                        help="the matrix's source sets to run (default: all)")
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args()
    given = {}
    for item in args.path:
        home, _, file = item.partition("=")
        if home not in KNOWN_FILES or not file:
            raise SensorClipError(f"--path {item}: expected HOME=FILE with HOME one of "
                                  f"{', '.join(KNOWN_FILES)}")
        given[home] = Path(file).expanduser()
    logs = find_logs(args.data_root, given)
    if args.homes:
        logs = {h: p for h, p in logs.items() if h in args.homes}
    print("real logs: " + ", ".join(f"{h} ({p})" for h, p in logs.items()), flush=True)
    sections = single_home(logs, args.root, args.report_only, args.studies)
    moved = transfer(logs, args.pretrained_root, args.report_only)
    matrix = {} if args.no_matrix else real_to_real(logs, args.root, args.report_only,
                                                    args.matrix_sources)
    write_report(args.out, logs, sections, moved, matrix)


def write_report(out: Path, logs: dict[str, Path], sections: list[str], moved: dict,
                 matrix: dict) -> None:
    lines = [HEADER, "Homes measured: " + ", ".join(sorted(logs)) + ".", "",
             "## One real home, its own labels", "", *sections]
    if moved:
        lines += ["## Pretrained on generated homes, measured on a real one", "",
                  *transfer_study.rows(moved), ""]
    if matrix:
        lines += ["## Real to real: pretrained on the other real homes", "",
                  *transfer_study.rows(matrix, column="sources"), ""]
    transfer_study.write_keeping_notes(out, lines, "(Sources, checks and findings.)")
    print(f"wrote {out}")


HEADER = """# Real homes

Generated above the marker by `python scripts/real_homes.py` (`make real-homes`) from the CASAS
logs found under `data/real/` (never committed). Each study changes one factor of the default
configuration on each real home; choices read validation scores only; test figures stand beside
the untrained encoder, the bag of events and keyword overlap, with 95% intervals over test days.
The transfer tables are the one of docs/transfer.md, with real homes as targets: pretrained on
generated homes, and (real to real) on the other real homes, with and without generated ones.
"""


if __name__ == "__main__":
    run_cleanly(main)
