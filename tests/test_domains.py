"""Every config key declares its domain, one check refuses what lies outside it in one line, and
property tests draw values across and beyond every domain, hostile layouts and hostile log
lines: each either works or fails with a one-line ``SensorClipError``, never a traceback.

In the suite the draws are derandomised (the same examples on every run); ``make
test-properties`` explores at random with many more (tests/conftest.py), and every failure it
finds is pinned here with ``@example``."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import time
from dataclasses import MISSING
from pathlib import Path

import pytest
import yaml
from hydra import compose, initialize_config_dir
from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

from helpers import CONF
from sensorclip.config import (
    GROUP_SCHEMAS,
    NOT_CHECKED_HERE,
    ROOT_DOMAINS,
    CaptionConfig,
    DataConfig,
    RenderConfig,
    SplitConfig,
    WindowConfig,
    check_config,
    typed,
)
from sensorclip.data.casas import parse_lines
from sensorclip.data.homes import load_home, resolve_layout_path
from sensorclip.domains import domain_of
from sensorclip.errors import SensorClipError
from sensorclip.pipeline import prepare

FIELDS = [(group, f) for group, schema in GROUP_SCHEMAS.items()
          for f in dataclasses.fields(schema)]
ENTRY_POINTS = ("train", "prepare", "evaluate", "annotate", "search", "embed", "finetune")


def default_of(f):
    value = f.default if f.default is not MISSING else f.default_factory()
    return list(value) if isinstance(value, tuple) else value


def one_line_error(call) -> str | None:
    """None when ``call`` works; the message of its SensorClipError otherwise (one line)."""
    try:
        call()
    except SensorClipError as exc:
        message = str(exc).strip()
        assert message and "\n" not in message and "Traceback" not in message, message
        return message
    return None


# --- every key has a domain ---------------------------------------------------------------------

@pytest.mark.parametrize("group, f", FIELDS, ids=[f"{g}.{f.name}" for g, f in FIELDS])
def test_every_field_declares_a_domain_that_admits_its_default(group, f):
    domain = domain_of(f)
    assert domain is not None, f"{group}.{f.name} declares no domain"
    assert domain.admits(default_of(f)), (group, f.name, domain.describe())
    assert domain.describe()


@pytest.mark.parametrize("task", ENTRY_POINTS)
def test_every_top_level_key_of_every_entry_point_declares_a_domain(task):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(config_name=task)
    for key in cfg:
        assert key in GROUP_SCHEMAS or key in NOT_CHECKED_HERE or key in ROOT_DOMAINS, \
            f"conf/{task}.yaml: the key {key!r} has no domain in sensorclip.config.ROOT_DOMAINS"


def test_no_top_level_key_shares_a_group_name():
    """A top-level key named like a group (embed's old ``split``) would be checked as that
    group's schema, and fail with a traceback."""
    assert not set(ROOT_DOMAINS) & set(GROUP_SCHEMAS)


@pytest.mark.parametrize("group, f", FIELDS, ids=[f"{g}.{f.name}" for g, f in FIELDS])
def test_a_field_admits_null_exactly_when_its_type_is_optional(group, f):
    """One place says whether null is allowed: the domain agrees with the field's type, so
    Hydra (which reads the type) and the check (which reads the domain) never disagree."""
    assert ("None" in str(f.type)) == domain_of(f).admits(None), (group, f.name, f.type)


def composed_plain(task: str) -> dict:
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(config_name=task)
    return OmegaConf.to_container(cfg, resolve=False)


ENTRY_CONFIGS = {task: composed_plain(task) for task in ENTRY_POINTS}


def keys_of(task: str) -> list[tuple[str, ...]]:
    """Every checked key of an entry point: its groups' fields and its own top-level keys."""
    cfg = ENTRY_CONFIGS[task]
    keys = []
    for key, value in cfg.items():
        if key in GROUP_SCHEMAS and isinstance(value, dict):
            keys += [(key, f.name) for f in dataclasses.fields(GROUP_SCHEMAS[key])]
        elif key in ROOT_DOMAINS:
            keys.append((key,))
    return keys


@pytest.mark.parametrize("task", ENTRY_POINTS)
def test_null_and_empty_values_of_every_key_are_accepted_or_refused_in_one_line(task):
    """Every key of every entry point, set to null, "" and []: accepted (only where its domain
    admits the value) or refused in one line that names the key, before any stage runs. Each
    group is checked as ``check_config`` checks it; unchanged groups are already known good."""
    cfg = ENTRY_CONFIGS[task]
    if task == "annotate":      # data: log, given the log and layout it needs to be checked
        cfg = {**cfg, "data": {**cfg["data"], "layout": "demo", "raw_path": "log.txt"}}
    base = without_paths(cfg)
    check_config(base)
    refused = 0
    for key in keys_of(task):
        for value in EMPTY_VALUES:
            if len(key) == 2:
                node = {**cfg[key[0]], key[1]: value}
                message = one_line_error(lambda n=node, g=key[0]: typed(GROUP_SCHEMAS[g], n))
                domain = domain_of(next(f for f in dataclasses.fields(GROUP_SCHEMAS[key[0]])
                                        if f.name == key[1]))
            else:
                message = one_line_error(lambda k=key[0], v=value: check_config(
                    {**base, k: v}))
                domain = ROOT_DOMAINS[key[0]]
            if message is None:
                assert domain.admits(value), (task, key, value)
                continue
            refused += 1
            named = ".".join(key) if domain.admits(value) is False else key[0]
            assert named in message, (task, key, value, message)
    assert refused > 0


def without_paths(cfg: dict) -> dict:
    """The composed config less the keys ``check_config`` leaves to Hydra and Lightning, and a
    fixed default run name (their interpolations need a running Hydra app)."""
    plain = {k: v for k, v in cfg.items() if k not in NOT_CHECKED_HERE}
    if str(plain.get("run_name", "")).startswith("${"):
        plain["run_name"] = "run"
    return {k: ROOT_DOMAINS[k].example if v == "???" else v for k, v in plain.items()}


# --- each domain's edges ------------------------------------------------------------------------

@pytest.mark.parametrize("group, f", FIELDS, ids=[f"{g}.{f.name}" for g, f in FIELDS])
def test_values_outside_a_domain_are_refused_naming_key_domain_and_a_fix(group, f):
    schema, domain = GROUP_SCHEMAS[group], domain_of(f)
    for value in domain.outside():
        message = one_line_error(lambda v=value: typed(schema, {f.name: v}))
        assert message is not None, f"{group}.{f.name}={value!r} was accepted"
        assert message.startswith(f"{group}.{f.name}="), message
        assert "for example" in message or "must" in message, message
    for value in domain.inside():
        message = one_line_error(lambda v=value: typed(schema, {f.name: v}))
        # a relation to another field may still refuse, but never the domain itself
        assert message is None or "outside its domain" not in message, message


def test_top_level_keys_are_checked_by_the_same_mechanism():
    for key, value, needle in [("top_k", 0, "top_k=0 is outside its domain: an integer >= 1"),
                               ("label_positives", "all", "one of none, fine, coarse"),
                               ("stages", ["data", "pictures"], "stages=[data, pictures]"),
                               ("min_confidence", 2.0, "min_confidence=2.0")]:
        message = one_line_error(lambda k=key, v=value: check_config({k: v}))
        assert message is not None and needle in message, message
    assert one_line_error(lambda: check_config({"ckpt_path": "???"})) == \
        "ckpt_path is required: pass ckpt_path=VALUE on the command line"


# --- property tests: any value, any group --------------------------------------------------------

ANY_VALUE = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12),
                      st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
                      st.lists(st.one_of(st.integers(-5, 5), st.floats(-2, 2)), max_size=3))


# What a user leaves out or blanks: every field is drawn at these too.
EMPTY_VALUES = (None, "", [])


@st.composite
def overrides(draw, groups=tuple(GROUP_SCHEMAS), wild=True):
    """(group, {key: value}) with values from the field's own edges, inside and out, null and
    empty, or (``wild``) anything at all."""
    group = draw(st.sampled_from(groups))
    fields = dataclasses.fields(GROUP_SCHEMAS[group])
    chosen = draw(st.lists(st.sampled_from(fields), min_size=1, max_size=3,
                           unique_by=lambda f: f.name))
    values = {}
    for f in chosen:
        domain = domain_of(f)
        edges = domain.inside() + domain.outside() + list(EMPTY_VALUES)
        values[f.name] = draw(st.one_of(st.sampled_from(edges), ANY_VALUE) if wild
                              else st.sampled_from(edges))
    return group, values


@settings(deadline=None)
@given(overrides())
def test_any_override_of_any_group_is_accepted_or_refused_in_one_line(drawn):
    group, values = drawn
    schema = GROUP_SCHEMAS[group]
    try:
        config = typed(schema, values)
    except SensorClipError as exc:
        assert str(exc).strip() and "Traceback" not in str(exc)
        return
    for f in dataclasses.fields(schema):      # what was accepted lies inside every domain
        value = getattr(config, f.name)
        assert domain_of(f).admits(list(value) if isinstance(value, tuple) else value)


DATA_GROUPS = {"data": DataConfig, "windows": WindowConfig, "split": SplitConfig,
               "captions": CaptionConfig}


@st.composite
def data_overrides(draw):
    """Overrides of the data side drawn at and beyond the domains' edges, on a tiny home."""
    chosen = {}
    for group in draw(st.lists(st.sampled_from(sorted(DATA_GROUPS)), min_size=1, max_size=2,
                               unique=True)):
        _, values = draw(overrides(groups=(group,), wild=False))
        values.pop("source", None)       # file/multi need paths the test does not have
        values.pop("homes", None)
        chosen[group] = values
    return chosen


@settings(deadline=None, max_examples=max(12, settings.default.max_examples // 40))
@given(data_overrides())
# found at random in CI (issue 32): a simulated home without an activity model
@example({"windows": {"kind": "length"}, "data": {"activity_model": None}})
def test_the_data_stages_either_build_or_refuse_in_one_line_and_leave_no_untrusted_entry(
        tmp_path_factory, drawn):
    cache = tmp_path_factory.mktemp("cache")
    configs = {}
    base = {"data": {"days": 3}, "windows": {}, "split": {}, "captions": {"per_window": 1}}
    message = one_line_error(lambda: configs.update(
        {g: typed(schema, {**base[g], **drawn.get(g, {})}) for g, schema in DATA_GROUPS.items()}))
    if message is None:
        data = configs["data"]
        if data.days > 30 or data.source != "simulate" or data.layout != "demo":
            return                           # a month and more, or another home: too slow here
        event("reached the data stages")
        message = one_line_error(lambda: prepare(
            configs["data"], configs["windows"], configs["split"], configs["captions"],
            cache_dir=cache, stages=("data",)))
        event("built" if message is None else "refused: " + message.split(";")[0][:60])
    for entry in (p for p in Path(cache).glob("*/*") if p.is_dir()):
        assert (entry / "provenance.json").is_file(), f"{entry} has no provenance: half-built"
    assert not list(Path(cache).rglob("*.tmp-*")), "a temporary entry was left behind"


# --- hostile layouts and log lines ------------------------------------------------------------

DEMO_LAYOUT = yaml.safe_load(resolve_layout_path("demo").read_text())


def mutate(tree, path, value):
    node = tree
    for key in path[:-1]:
        node = node[key]
    if value is DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value


DELETE = object()


def paths_of(tree, prefix=()):
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield prefix + (key,)
            yield from paths_of(value, prefix + (key,))
    elif isinstance(tree, list):
        for i, value in enumerate(tree[:3]):
            yield prefix + (i,)
            yield from paths_of(value, prefix + (i,))


LAYOUT_PATHS = list(paths_of(DEMO_LAYOUT))


@settings(deadline=None)
@given(st.lists(st.tuples(st.sampled_from(LAYOUT_PATHS),
                          st.one_of(st.just(DELETE), ANY_VALUE)), min_size=1, max_size=3))
def test_a_hostile_layout_is_loaded_or_refused_in_one_line(tmp_path_factory, changes):
    layout = copy.deepcopy(DEMO_LAYOUT)
    for path, value in changes:
        with contextlib.suppress(KeyError, IndexError, TypeError):
            mutate(layout, path, value)       # fails when an earlier change removed the parent
    path = tmp_path_factory.mktemp("layout") / "home.yaml"
    path.write_text(yaml.safe_dump(layout))
    one_line_error(lambda: load_home(path))


GOOD_LINE = "2024-03-04 08:00:01.000000 M001 ON Sleeping begin"
FIELD_NOISE = st.one_of(st.sampled_from(["", "ON", "OFF", "begin", "end", "25.5", "2024-13-40",
                                         "99:99:99", "M001", "\t", "\x00", "é"]),
                        st.text(max_size=6))


@settings(deadline=None)
@given(st.lists(st.one_of(st.just(GOOD_LINE),
                          st.lists(FIELD_NOISE, max_size=7).map(" ".join),
                          st.text(max_size=40)), min_size=1, max_size=20),
       st.booleans())
def test_hostile_log_lines_are_parsed_or_refused_in_one_line(lines, strict):
    one_line_error(lambda: parse_lines(lines, source="hostile", strict=strict))


# --- resource guards: refuse before allocating ----------------------------------------------------

@pytest.mark.parametrize("configs, needle", [
    ({"windows": WindowConfig(kind="duration", size=0.001, overlap=0.99)},
     "the windows would need about"),
    ({"data": DataConfig(days=10**7)}, "simulating 10000000 days would need"),
    ({"captions": CaptionConfig(per_window=10**9)}, "lower captions.per_window"),
])
def test_absurd_sizes_are_refused_within_a_second_and_cache_nothing_untrusted(tmp_path, configs,
                                                                             needle):
    base = {"data": DataConfig(days=3), "windows": WindowConfig(), "split": SplitConfig(),
            "captions": CaptionConfig(per_window=1)}
    prepare(**base, cache_dir=tmp_path, stages=("data",))      # the shared stages, built once
    started = time.perf_counter()
    message = one_line_error(lambda: prepare(**{**base, **configs}, cache_dir=tmp_path,
                                             stages=("data",)))
    assert time.perf_counter() - started < 1.0
    assert message is not None and needle in message and "more than this machine has free" \
        in message, message
    assert not list(tmp_path.rglob("*.tmp-*"))


def test_absurd_batches_are_refused_before_anything_is_built(compose_config, tmp_path):
    from sensorclip.runs import check_batch_memory
    from sensorclip.train import train
    cache = tmp_path / "fresh_cache"
    for override, needle in [("loader.batch_size=100000000", "one training batch"),
                             ("loader.eval_batch_size=100000000", "one evaluation batch")]:
        cfg = compose_config(f"paths.cache_dir={cache}", override)
        message = one_line_error(lambda c=cfg: train(c))
        assert message is not None and needle in message, message
        assert one_line_error(lambda c=cfg: check_batch_memory(
            {g: c[g] for g in ("encoder", "windows", "loader")})) == message
        assert not cache.exists()


def test_images_larger_than_free_memory_are_refused_before_drawing(tmp_path, monkeypatch):
    monkeypatch.setattr("sensorclip.resources.available_bytes", lambda: 50 * 2**20)
    started = time.perf_counter()
    message = one_line_error(lambda: prepare(
        DataConfig(), WindowConfig(), SplitConfig(), CaptionConfig(),
        render=RenderConfig(image_size=1024, supersample=4), cache_dir=tmp_path,
        stages=("images",)))
    assert time.perf_counter() - started < 1.0
    assert message is not None and "lower render.image_size" in message, message
    assert not list(tmp_path.rglob("*.tmp-*"))


# --- the same through the command line: exit 0, or exit 1 with one line ---------------------------

@pytest.mark.slow
def test_a_simulated_home_without_an_activity_model_is_refused_in_one_line(tmp_path):
    from helpers.commands import assert_clean_failure, run_module
    result = run_module("sensorclip.prepare", "data.activity_model=null",
                        f"paths.cache_dir={tmp_path / 'cache'}", f"paths.log_dir={tmp_path}")
    assert_clean_failure(result, "data.activity_model=null", "needs an activity model")
    assert not (tmp_path / "cache").exists()


@pytest.mark.slow
@settings(deadline=None, max_examples=max(4, settings.default.max_examples // 10))
@given(overrides(groups=("windows", "split", "captions", "loader", "encoder"), wild=False))
def test_the_prepare_entry_point_succeeds_or_exits_1_with_one_line(tmp_path_factory, drawn):
    from helpers.commands import run_module
    from sensorclip.config import show
    group, values = drawn
    cache = tmp_path_factory.mktemp("cli_cache")
    typed_values = [f"{group}.{key}={show(value)}" for key, value in values.items()]
    result = run_module("sensorclip.prepare", "stages=[data]", "data.days=3",
                        f"paths.cache_dir={cache}", f"paths.log_dir={cache}", *typed_values,
                        timeout=300)
    assert result.returncode in (0, 1), result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    if result.returncode == 1:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        if lines[0].startswith("error: "):             # sensorclip's own refusal: one line
            assert len([line for line in lines if line.startswith("error: ")]) == 1, lines
        else:       # Hydra refuses what it cannot compose (null, wrong type) in its own words
            assert f"{group}." in lines[0] and len(lines) <= 6, lines
    assert not list(cache.rglob("*.tmp-*"))
