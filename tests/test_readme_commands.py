"""Every command in the README's code blocks, run as a user runs it.

The commands are read from README.md itself: each is either in ``PLANS`` (how the test runs it:
which placeholders it fills, which test-size overrides it appends, which files it promises) or
in ``NOT_RUN`` with the reason, and a README command in neither fails the suite. So when the
README changes, this list must change with it.

Each command runs as ``python -m ...`` (or ``make ...``) in a fresh directory of its own, as a
user would in a clone, with placeholders (``RUN``, ``LOG``, ...) filled by real paths; only
overrides that make it small are appended: a tiny random text model in the place of MiniLM, six
simulated days, ``trainer=debug``. Commands that need a trained run start once it exists, two at
a time.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import REPO
from sensorclip.data.homes import load_home, resolve_layout_path
from sensorclip.data.simulate import load_activity_model, simulate

pytestmark = pytest.mark.slow

README = REPO / "README.md"
RUN_NAME = "readme"
# The run every "RUN/checkpoints/X.ckpt" and the "NAME" of the resumed run stand for.
TRAINED = "python -m sensorclip.train trainer=debug"
RESUME = "python -m sensorclip.train run_name=NAME ckpt_path=last"


def readme_commands() -> list[str]:
    """``python -m sensorclip...`` and ``make ...`` lines of the README's bash blocks, each
    without its trailing comment."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", README.read_text(), re.S):
        for line in block.splitlines():
            command = re.sub(r"\s+#.*$", "", line).strip()
            if command.startswith(("python -m sensorclip", "make ")):
                commands.append(command)
    return commands


# --- how each command is run ---------------------------------------------------------------------

# Small data: six simulated days (two of them test days, for intervals), a tiny random text
# model of MiniLM's class, small images.
DATA = ("data.days=6", "captions.per_window=2", "split.train=0.5", "split.val=0.2",
        "split.test=0.3", "text.package=null", "text.path={tiny_bert}", "render.image_size=64")
TRAIN = (*DATA, "trainer=debug", "callbacks.progress_bar=null", "loader.batch_size=16",
         "eval.fewshot_k=[1]", "eval.fewshot_draws=1", "eval.bootstrap_resamples=100")
QUICK_FINETUNE = ("finetune.epochs=1", "progress_bar=false")


@dataclass(frozen=True)
class Plan:
    """How one README command is run: ``extra`` overrides appended, files it must leave
    (globs relative to its directory, ``{run}`` for the trained run), text it must print,
    and ``needs``: the commands whose results it reads."""

    extra: tuple[str, ...] = ()
    promises: tuple[str, ...] = ()
    prints: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    same_as: str | None = None       # run once: this command's run stands for both
    in_directory_of: str | None = None      # where the command it continues ran


EMBED = "python -m sensorclip.embed ckpt_path=RUN/checkpoints/X.ckpt out=embeddings"
SEARCH = "python -m sensorclip.search ckpt_path=RUN/checkpoints/X.ckpt"
SWEEP = "python -m sensorclip.train -m trainer=debug model=learned,tiny"

PLANS: dict[str, Plan] = {
    # data preparation
    "python -m sensorclip.prepare": Plan(DATA, ("{cache}/events/*/events.npz",), (
        "events", "days", "windows", "unique captions", "text embeddings", "Sleep")),
    "python -m sensorclip.prepare windows=fd60 split=chronological": Plan(
        DATA, ("{cache}/windows/*/windows.npz",), ("windows",)),
    "python -m sensorclip.prepare data=milan data.raw_path=~/casas/milan/data": Plan(
        DATA, ("{cache}/events/*/events.npz",), ("not a copy sensorclip knows",)),
    "python -m sensorclip.prepare data=log data.layout=my_home.yaml data.raw_path=my_log.txt "
    "data.strict=false": Plan(DATA, ("{cache}/events/*/events.npz",), ("windows",)),
    "python -m sensorclip.prepare text=gte_base text.path=~/models/gte-base": Plan(
        DATA, ("{cache}/text/*/text.npz",), ("text embeddings",)),
    # training
    TRAINED: Plan((*TRAIN, f"run_name={RUN_NAME}"),
                  (f"outputs/train/{RUN_NAME}/metrics.json",
                   f"outputs/train/{RUN_NAME}/config.yaml",
                   f"outputs/train/{RUN_NAME}/checkpoints/*.ckpt"),
                  ("recall@1", "NOT pretrained")),
    "python -m sensorclip.train": Plan(same_as=TRAINED),
    "python -m sensorclip.train model=dinov2 model.pretrained=false features=coords_time": Plan(
        TRAIN, ("outputs/train/*/metrics.json",), ("NOT pretrained",)),
    "python -m sensorclip.train model=learned": Plan(TRAIN, ("outputs/train/*/metrics.json",)),
    "python -m sensorclip.train model=text": Plan(TRAIN, ("outputs/train/*/metrics.json",)),
    # with the run's own overrides, once every command that reads the run has run
    RESUME: Plan(TRAIN, ("{run}/metrics.json",), in_directory_of=TRAINED),
    SWEEP: Plan(TRAIN[:-1] + ("eval.bootstrap_resamples=100",),
                ("outputs/sweeps/*/0/metrics.json", "outputs/sweeps/*/1/metrics.json")),
    "python -m sensorclip.report outputs/sweeps/TIME": Plan(
        promises=("{sweep}/report.md", "{sweep}/report.csv", "{sweep}/report.png"),
        prints=("wrote",), needs=(SWEEP,)),
    # a trained encoder
    "python -m sensorclip.evaluate ckpt_path=RUN/checkpoints/X.ckpt": Plan(
        promises=("{run}/metrics.json",), prints=("zero-shot", "linear probe"), needs=(TRAINED,)),
    "python -m sensorclip.evaluate ckpt_path=RUN/checkpoints/X.ckpt data=milan_sim": Plan(
        ("data.days=6",), ("{run}/transfer/milan_sim/metrics.json",), ("agnostic",),
        needs=(TRAINED,)),
    f'{SEARCH} query="someone up in the kitchen late at night" top_k=10': Plan(
        promises=("outputs/search/*/results.json", "outputs/search/*/results.csv"),
        prints=("rank", "score"), needs=(TRAINED,)),
    f"{SEARCH} window=ID": Plan(
        promises=("outputs/search/*/results.json",), prints=("like window",),
        needs=(TRAINED, f'{SEARCH} query="someone up in the kitchen late at night" top_k=10')),
    "python -m sensorclip.annotate ckpt_path=RUN/checkpoints/X.ckpt": Plan(
        promises=("outputs/annotate/*/segments.csv", "outputs/annotate/*/annotated.txt",
                  "outputs/annotate/*/agreement.json"), needs=(TRAINED,)),
    "python -m sensorclip.annotate ckpt_path=RUN/checkpoints/X.ckpt data.raw_path=LOG "
    "data.layout=milan": Plan(
        promises=("outputs/annotate/*/segments.csv", "outputs/annotate/*/annotated.txt"),
        needs=(TRAINED,)),
    "python -m sensorclip.finetune ckpt_path=RUN/checkpoints/X.ckpt "
    "finetune.labels_fraction=0.1": Plan(
        QUICK_FINETUNE, ("outputs/finetune/*/metrics.json",), ("from scratch",),
        needs=(TRAINED,)),
    "make finetune-curve ARGS=ckpt_path=RUN/checkpoints/X.ckpt": Plan(
        QUICK_FINETUNE, ("outputs/sweeps/*/curve.md",), needs=(TRAINED,)),
    f"{EMBED}.npz": Plan(promises=("embeddings.npz",), needs=(TRAINED,)),
    f"{EMBED}.parquet": Plan(promises=("embeddings.parquet",), needs=(TRAINED,)),
}

NOT_RUN: dict[str, str] = {
    "make demo": "python -m sensorclip.train with the install in front: run above as the "
                 "trained run (trainer=debug in the place of 20 epochs)",
    "make test": "this suite",
    "python -m sensorclip.train experiment=milan_dinov2 data.raw_path=PATH trainer=gpu":
        "needs a GPU, DINOv2's weights and the real Milan log, none of which the tests may need",
    "python -m sensorclip.train -m model=learned,text,clip,dinov2,siglip features=none,"
    "coords_time model.pretrained=false":
        "ten runs of full-size backbones; its shape (a -m sweep over model) is the small sweep "
        "above",
}


# --- running them ---------------------------------------------------------------------------------

@dataclass
class Result:
    command: str
    argv: list[str]
    directory: Path
    process: subprocess.CompletedProcess
    started: float           # wall-clock time.time(), to tell files it wrote from older ones
    seconds: float


class Placeholders:
    """The README's placeholders filled with real paths as the commands produce them."""

    def __init__(self, root: Path, tiny_bert: Path):
        self.root = root
        self.values: dict[str, Callable[[], str]] = {
            "{tiny_bert}": lambda: str(tiny_bert),
            "~/models/gte-base": lambda: str(tiny_bert),
            "~/casas/milan/data": lambda: str(self.log("milan")),
            "LOG": lambda: str(self.log("milan")),
            "my_home.yaml": lambda: str(self.layout_copy()),
            "my_log.txt": lambda: str(self.log("demo")),
            "RUN/checkpoints/X.ckpt": lambda: str(self.checkpoint()),
            "ID": lambda: str(self.searched_window()),
            "NAME": lambda: RUN_NAME,
            "outputs/sweeps/TIME": lambda: str(self.sweep()),
        }
        self.results: dict[str, Result] = {}

    def log(self, home: str) -> Path:
        """A labelled simulated log of a shipped home, written as a CASAS file."""
        path = self.root / "logs" / f"{home}.txt"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            simulate(load_home(home), load_activity_model(home), days=3, seed=5).write(path)
        return path

    def layout_copy(self) -> Path:
        path = self.root / "logs" / "my_home.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(resolve_layout_path("demo"), path)
        return path

    def run_directory(self) -> Path:
        return self.results[TRAINED].directory / "outputs" / "train" / RUN_NAME

    def checkpoint(self) -> Path:
        return sorted((self.run_directory() / "checkpoints").glob("*.ckpt"))[0]

    def searched_window(self) -> int:
        query = next(c for c in self.results if c.startswith(SEARCH) and "query=" in c)
        (found,) = self.results[query].directory.glob("outputs/search/*/results.json")
        return json.loads(found.read_text())[0]["window"]

    def sweep(self) -> Path:
        (sweep,) = self.results[SWEEP].directory.glob("outputs/sweeps/*/")
        return sweep

    def fill(self, text: str) -> str:
        for placeholder, value in self.values.items():
            if placeholder in text:
                text = re.sub(rf"(?<![\w/.~-]){re.escape(placeholder)}(?![\w/.-])",
                              lambda _m, v=value: v(), text)
        return text


def argv_of(command: str, plan: Plan, places: Placeholders) -> list[str]:
    words = [places.fill(word) for word in shlex.split(command)]
    extra = [places.fill(word) for word in plan.extra]
    if words[0] == "make":        # make TARGET ARGS=...: the test's overrides join ARGS
        target, args = words[1], " ".join(w.removeprefix("ARGS=") for w in words[2:])
        return ["make", "-s", "-f", str(REPO / "Makefile"), "-o", "install",
                f"BIN={Path(sys.executable).parent}", target,
                f"ARGS={' '.join(shlex.quote(a) for a in [*shlex.split(args), *extra])}"]
    assert words[:2] == ["python", "-m"], command
    return [sys.executable, *words[1:], *extra]


def prepared(command: str, places: Placeholders) -> tuple[list[str], Path]:
    """(argv, directory) of a command whose needs have run; on the main thread, which alone
    reads and writes ``places.results``."""
    plan = PLANS[command]
    slug = re.sub(r"\W+", "_", command)[:60]
    directory = places.results[plan.in_directory_of].directory if plan.in_directory_of \
        else places.root / f"{RUN_COMMANDS.index(command):02d}_{slug}"
    directory.mkdir(parents=True, exist_ok=True)
    return argv_of(command, plan, places), directory


def run(command: str, argv: list[str], directory: Path, cache: Path) -> Result:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENSORCLIP_")}
    env["SENSORCLIP_CACHE"] = str(cache)             # one cache: entries are shared
    started, clock = time.time(), time.perf_counter()
    process = subprocess.run(argv, cwd=directory, capture_output=True, text=True, timeout=900,
                             env=env)
    return Result(command, argv, directory, process, started, time.perf_counter() - clock)


def run_all(commands: list[str], places: Placeholders, workers: int = 2) -> None:
    """Each command as soon as the commands it needs have ended, ``workers`` at a time; those
    that others need go first."""
    needed = {need for c in commands for need in PLANS[c].needs}
    pending = sorted(commands, key=lambda c: c not in needed)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        running = {}
        while pending or running:
            ready = [c for c in pending if set(PLANS[c].needs) <= set(places.results)]
            for command in ready:
                pending.remove(command)
                argv, directory = prepared(command, places)
                running[pool.submit(run, command, argv, directory,
                                    places.root / "cache")] = command
            assert running, f"commands whose needs never run: {pending}"
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                del running[future]
                result = future.result()
                places.results[result.command] = result


RUN_COMMANDS = [c for c in PLANS if PLANS[c].same_as is None]
# The resume writes into the trained run: it waits for every command that reads the run.
PLANS[RESUME] = Plan(**{**vars(PLANS[RESUME]), "needs": tuple(
    c for c in RUN_COMMANDS if TRAINED in PLANS[c].needs)})


@pytest.fixture(scope="module")
def ran(tmp_path_factory, tiny_bert) -> Placeholders:
    places = Placeholders(tmp_path_factory.mktemp("readme"), tiny_bert)
    places.log("milan")
    places.log("demo")            # written before the commands that read them start
    run_all(RUN_COMMANDS, places)
    return places


def promised(pattern: str, ran: Placeholders, result: Result) -> list[Path]:
    """The files a promise names: below the trained run, the sweep, or the command's own
    directory, written by this command (cache entries may have been built by an earlier one:
    the command's own summary says it found them)."""
    if pattern.startswith("{cache}/"):
        return list((ran.root / "cache").glob(pattern.removeprefix("{cache}/")))
    for key, where in (("{run}/", ran.run_directory), ("{sweep}/", ran.sweep)):
        if pattern.startswith(key):
            found = where().glob(pattern.removeprefix(key))
            break
    else:
        found = result.directory.glob(pattern)
    return [p for p in found if p.stat().st_mtime >= result.started - 1]


# --- the tests ------------------------------------------------------------------------------------

def test_every_readme_command_is_run_here_or_says_why_not():
    shown = readme_commands()
    assert len(shown) == len(set(shown)), "a README command is shown twice"
    unplanned = [c for c in shown if c not in PLANS and c not in NOT_RUN]
    assert not unplanned, f"README commands with no plan in {__file__}: {unplanned}"
    stale = [c for c in [*PLANS, *NOT_RUN] if c not in shown]
    assert not stale, f"planned commands the README no longer shows: {stale}"


@pytest.mark.parametrize("command", RUN_COMMANDS)
def test_a_readme_command_works_as_typed(ran, command):
    result = ran.results[command]
    output = result.process.stdout + result.process.stderr
    where = (f"{shlex.join(result.argv)}\n(in {result.directory}, {result.seconds:.0f} s)\n"
             f"{output[-3000:]}")
    assert result.process.returncode == 0, where
    assert "Traceback" not in output, where
    for promise in PLANS[command].promises:
        assert promised(promise, ran, result), f"no {promise}: {where}"
    for text in PLANS[command].prints:
        assert text in output, f"{text!r} not printed: {where}"


def test_commands_that_stand_for_each_other_are_planned():
    for command, plan in PLANS.items():
        assert plan.same_as is None or plan.same_as in RUN_COMMANDS, command
        assert all(need in RUN_COMMANDS for need in plan.needs), command
