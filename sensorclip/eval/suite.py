"""Everything ``metrics.json`` holds for a trained model, each figure beside its references.

``python -m sensorclip.train`` runs it on its best checkpoint, ``python -m sensorclip.evaluate``
on any checkpoint of a run. All on the test split, nothing selected on it:

- retrieval over the whole split, both directions (windows sharing a caption count as matches),
  beside ``chance_*`` (a random ranking with the split's match structure) and ``untrained_*``
  (the same architecture, config and seed before any training step);
- zero-shot recognition from label descriptions (``sensorclip.eval.zeroshot``), beside
  ``keyword_zeroshot_*`` (word overlap of the captions with the descriptions, no model);
- a linear probe on the frozen embeddings, beside ``untrained_linear_probe_*``, ``bag_*`` (the
  same probe on a bag-of-events vector) and ``majority_*``; the probes are fit on fine labels
  and their coarse predictions are the fine ones mapped to coarse labels;
- ``delta_*`` paired differences of macro-F1 with 95% intervals from resampling test days;
- ``fewshot_{k}_macro_f1``: the probe fit on k labelled windows per class (mean and sd over
  seeded draws), for the encoder, the untrained encoder and the bag of events;
- ``val_*``: the validation scores that configurations are chosen by (``optimized_metric``),
  never the test ones.

Fine labels unprefixed, coarse ones under ``coarse_``. Figures (``plots/``): confusion matrices,
per-class recall of every method, a PCA map of the test embeddings and retrieval examples.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning

from sensorclip.config import EvalConfig, TextEncoderConfig
from sensorclip.data.captions import build_phrasebook, home_labels
from sensorclip.data.windows import SPLITS
from sensorclip.eval import adapt, transfer
from sensorclip.eval.classification import classification_metrics, confusion
from sensorclip.eval.compare import PREDICTIONS, method_predictions, save_predictions
from sensorclip.eval.probe import (
    FEW_SHOT_C,
    few_shot_draw,
    fit_probe,
    majority_label,
    run_concurrently,
)
from sensorclip.eval.references import (
    bag_of_events,
    chance_retrieval,
    keyword_scores,
    macro_f1,
    paired_bootstrap,
    paired_bootstrap_draws,
)
from sensorclip.eval.residents import NONE, either_correct, resident_window_labels, residents_of
from sensorclip.eval.retrieval import retrieval_metrics
from sensorclip.eval.zeroshot import is_background, label_descriptions, label_prototypes, nearest
from sensorclip.files import atomic_write_text
from sensorclip.frozen.text import TextEncoder
from sensorclip.plots import confusion_figure, pca_2d, recall_bars, scatter_by_group

if TYPE_CHECKING:       # eval takes a trained model; it does not depend on how one is built
    from sensorclip.model.datamodule import SensorClipDataModule
    from sensorclip.model.module import SensorClipModule
    from sensorclip.pipeline import Prepared

LEVELS = (("", "fine"), ("coarse_", "coarse"))
RETRIEVAL_KEYS = tuple(f"{name}_{direction}" for name in ("recall@1", "recall@5", "recall@10",
                                                          "median_rank")
                       for direction in ("sensor_to_text", "text_to_sensor"))


@torch.inference_mode()
def embed_split(model: SensorClipModule, datamodule: SensorClipDataModule, split: str,
                batch_size: int = 512) -> dict[str, np.ndarray]:
    """Sensor embeddings (``sensor``: projected, normalised; ``pooled``: before the head), the
    first paraphrase's text embedding, captions and labels of every window of a split, in order."""
    dataset = datamodule.eval_dataset(split)
    model.eval()
    parts: dict[str, list] = {"sensor": [], "pooled": [], "text": [], "caption": [],
                              "fine": [], "coarse": []}
    for lo in range(0, len(dataset), batch_size):
        batch = dataset[list(range(lo, min(lo + batch_size, len(dataset))))]
        batch = {k: v.to(model.device) for k, v in batch.items()}
        pooled = model.represent_sensor(batch)
        sensor, text = model.encoder.project(pooled), model.embed_text(batch["text"])
        for key, value in (("sensor", sensor), ("pooled", pooled), ("text", text),
                           ("caption", batch["caption"]), ("fine", batch["fine"]),
                           ("coarse", batch["coarse"])):
            parts[key].append(value.float().cpu() if value.is_floating_point() else value.cpu())
    return {k: torch.cat(v).numpy() for k, v in parts.items()}


def embed_splits(model: SensorClipModule, datamodule: SensorClipDataModule) -> dict[str, dict]:
    return {split: embed_split(model, datamodule, split) for split in SPLITS}


@torch.inference_mode()
def project_descriptions(model: SensorClipModule, encoder: TextEncoder,
                         descriptions: list[tuple[str, ...]]) -> np.ndarray:
    """Label prototypes: each label's descriptions encoded, projected and averaged."""
    vectors = []
    for texts in descriptions:
        raw = torch.as_tensor(encoder.encode(list(texts), progress=False))
        vectors.append(model.embed_text(raw.to(model.device)).float().cpu().numpy())
    return label_prototypes(vectors)


def bag_features(prep: Prepared) -> dict[str, np.ndarray]:
    """The bag-of-events vector of every window, per split."""
    out = {}
    for split in SPLITS:
        w = prep.windows.of_split(split)
        out[split] = bag_of_events(prep.time_us, prep.sensor, prep.state, len(prep.sensor_names),
                                   len(prep.state_names), w.start, w.length)
    return out


def evaluate_model(model: SensorClipModule, datamodule: SensorClipDataModule,
                   text_config: TextEncoderConfig, eval_config: EvalConfig | None = None,
                   run_dir: Path | None = None, untrained: SensorClipModule | None = None,
                   record: Callable[[dict[str, Any]], None] | None = None,
                   sources: Prepared | None = None,
                   sentence_config: TextEncoderConfig | None = None) -> dict[str, Any]:
    """Every test metric of ``model`` beside its references (``untrained``: the same model
    before training; without it, or with ``eval.references=false``, those keys are absent).
    A home with a common map is also scored at the common vocabulary's level
    (``sensorclip.eval.transfer``); ``sources`` (the data the encoder was trained on, when it is
    evaluated in another home) adds the layout-agnostic bag fit on them, and the sentence-vector
    references whose sentences ``sentence_config`` embeds (None: ``text_config``, as the
    encoder's own inputs are embedded).
    ``record(metrics)`` (writing metrics.json) runs before the figures go to ``run_dir/plots``,
    so that a figure that fails never costs the numbers."""
    config = eval_config or EvalConfig()
    prep = datamodule.prepared
    emb = embed_splits(model, datamodule)
    test = emb["test"]
    metrics: dict[str, Any] = retrieval_metrics(*(torch.as_tensor(test[k])
                                                  for k in ("sensor", "text", "caption")))
    metrics.update(chance_retrieval(test["caption"]))
    references = config.references
    untrained_emb = embed_splits(untrained, datamodule) if references and untrained else None
    if untrained_emb is not None:
        plain = retrieval_metrics(*(torch.as_tensor(untrained_emb["test"][k])
                                    for k in ("sensor", "text", "caption")))
        metrics.update({f"untrained_{k}": plain[k] for k in RETRIEVAL_KEYS})
    bags = bag_features(prep) if references else None
    days = prep.windows.of_split("test").day
    starts = prep.windows.of_split("test").start      # which windows were scored, for pairing
    kept = {}                  # test predictions, for sensorclip.eval.compare
    encoder = TextEncoder(text_config)
    book = build_phrasebook(prep.home, prep.sensor_names, home_labels(prep.home, prep.fine_names))
    predictions = {}
    for prefix, level in LEVELS:
        names = prep.fine_names if level == "fine" else prep.coarse_names
        truth = {split: emb[split][level] for split in SPLITS}
        descriptions = label_descriptions(prep.home, level, prep.fine_names, prep.coarse_names,
                                          prep.coarse_of_fine, book)
        predictions[level] = {"names": names}
        zero = _zero_shot(model, encoder, descriptions, names, emb, level, prep, days, config,
                          prefix, metrics)
        text_start = {key: zero.pop(key) for key in ("prototypes", "candidates")}
        zero.pop("keyword_scores", None)
        predictions[level].update(zero)
        scored = zero["zeroshot_scored"]
        kept[f"{prefix}zeroshot"] = method_predictions(
            starts[scored], truth["test"][scored], days[scored], [zero["zeroshot"]], len(names))
        fitted = None if level == "fine" else (predictions["fine"], prep.coarse_of_fine)
        probes = _probes(emb, untrained_emb, bags, truth, len(names), days, config, prefix,
                         metrics, fitted)
        predictions[level].update(probes)
        kept[f"{prefix}linear_probe"] = method_predictions(
            starts, truth["test"], days, [probes["linear_probe"]], len(names))
        if level == "fine" and references:
            _few_shot(emb, untrained_emb, bags, truth, len(names), days, config, metrics)
        if level == "fine":
            kept.update(_text_initialised(emb, untrained_emb, bags, truth, scored, text_start,
                                          float(model.loss_fn.scale.detach()), days, len(names),
                                          config, metrics, starts))
    if prep.home.common:
        sentence_encoder = encoder if sentence_config is None else TextEncoder(sentence_config)
        kept.update(_common_level(model, encoder, emb, prep, days, config, metrics, book,
                                  sources, starts, sentence_encoder))
    if prep.resident is not None and residents_of(prep.resident):
        _per_resident(prep, emb["test"]["fine"], predictions["fine"], days, config, metrics)
    metrics["n_test_windows"] = int(len(test["sensor"]))
    metrics["labelaware_weight"] = float(getattr(model, "label_weight", 0.0))
    if record is not None:
        record(metrics)
    if run_dir is not None:
        save_predictions(Path(run_dir) / PREDICTIONS, kept)
        write_figures(Path(run_dir) / "plots", prep, emb, predictions)
    return metrics


def _zero_shot(model, encoder, descriptions, names, emb, level, prep, days, config, prefix,
               metrics, allowed: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Zero-shot (and its keyword reference) on the scored windows: those whose label is not
    background, among the non-background labels (all of them with eval.zeroshot_background),
    of ``allowed`` codes only when given. Also scored on validation
    (``val_zeroshot_macro_f1``), for choosing configurations."""
    n = len(names)
    background = np.array([is_background(name) and not config.zeroshot_background
                           for name in names])
    candidates = np.flatnonzero(~background)
    if allowed is not None:
        candidates = np.intersect1d(candidates, allowed)
    prototypes = project_descriptions(model, encoder, descriptions)
    val = emb["val"]
    val_scored = ~background[val[level]]
    val_zero = nearest(val["sensor"][val_scored] @ prototypes.T, candidates)
    metrics[f"{prefix}val_zeroshot_macro_f1"] = classification_metrics(
        val[level][val_scored], val_zero, n, "")["macro_f1"]
    test = emb["test"]
    scored = ~background[test[level]]
    truth = test[level][scored]
    zero = nearest(test["sensor"][scored] @ prototypes.T, candidates)
    metrics.update(classification_metrics(truth, zero, n, f"{prefix}zeroshot_"))
    metrics[f"{prefix}zeroshot_excluded_windows"] = int((~scored).sum())
    out = {"zeroshot": zero, "zeroshot_scored": scored, "prototypes": prototypes,
           "candidates": candidates}
    if config.references:
        test_windows = np.flatnonzero(prep.windows.split == SPLITS.index("test"))[scored]
        captions = [[prep.captions.texts[k] for k in prep.captions.index[w]]
                    for w in test_windows]
        out["keyword_scores"] = keyword_scores(captions, descriptions)
        keyword = nearest(out["keyword_scores"], candidates)
        metrics.update(classification_metrics(truth, keyword, n, f"{prefix}keyword_zeroshot_"))
        _delta(metrics, f"{prefix}delta_zeroshot_macro_f1_vs_keyword", truth, zero, keyword,
               days[scored], n, config)
        out["keyword_zeroshot"] = keyword
    return out


def _common_level(model, encoder, emb, prep, days, config, metrics, book, sources,
                  starts, sentence_encoder) -> dict:
    """Zero-shot at the common vocabulary's level with its references: keyword, the caption
    oracle and, across homes, the layout-agnostic bag and the sentence-vector references
    (``sensorclip.eval.transfer``). Scored twice, as published cross-home work reports: among
    all the home's common activities, and without ``other`` (its windows left out, the label
    out of the candidates): ``without_other_*``. Returns zero-shot's kept predictions."""
    to_common = transfer.common_codes(prep.home, prep.fine_names)
    for split in SPLITS:
        emb[split]["common"] = to_common[emb[split]["fine"]]
    allowed = np.unique(to_common[to_common != 0])
    if len(allowed) < 2:
        return {}
    names, n = transfer.COMMON_LEVEL, len(transfer.COMMON_LEVEL)
    descriptions = [tuple(book.rename(t) for t in texts)
                    for texts in transfer.common_descriptions()]
    zero = _zero_shot(model, encoder, descriptions, names, emb, "common", prep, days, config,
                      "common_", metrics, allowed)
    scored, candidates = zero["zeroshot_scored"], allowed
    truth, scored_days = emb["test"]["common"][scored], days[scored]
    kept = {"common_zeroshot": method_predictions(starts[scored], truth, scored_days,
                                                  [zero["zeroshot"]], n)}
    scores = {"common_zeroshot": emb["test"]["sensor"][scored] @ zero["prototypes"].T}
    if not config.references:
        _without_other(scores, truth, candidates, scored_days, n, config, metrics)
        return kept
    windows = transfer.split_index(prep, "test")[scored]
    scores["common_keyword_zeroshot"] = zero["keyword_scores"]
    vectors = prep.text_embeddings[prep.captions.index[windows, 0]].astype(np.float32)
    oracle = transfer.caption_oracle(vectors, [encoder.encode(list(texts), progress=False)
                                               for texts in descriptions], candidates)
    metrics.update(classification_metrics(truth, oracle, n, "caption_oracle_zeroshot_"))
    _delta(metrics, "delta_common_zeroshot_macro_f1_vs_caption_oracle", truth, zero["zeroshot"],
           oracle, scored_days, n, config)
    probe = transfer.fit_agnostic_bag(sources, config.seed) if sources is not None else None
    if probe is not None:
        x, _ = transfer.prepared_features(prep, "test")
        scores["agnostic_bag"] = transfer.class_scores(probe, x[scored])
        agnostic = nearest(scores["agnostic_bag"], candidates)
        metrics.update(classification_metrics(truth, agnostic, n, "agnostic_bag_"))
        _delta(metrics, "delta_zeroshot_macro_f1_vs_agnostic_bag", truth, zero["zeroshot"],
               agnostic, scored_days, n, config)
    if sources is not None:
        scores.update(_sentence_references(prep, sources, sentence_encoder, scored, truth,
                                           zero["zeroshot"], candidates, scored_days, n, config,
                                           metrics))
    _without_other(scores, truth, candidates, scored_days, n, config, metrics)
    return kept


def _without_other(scores, truth, candidates, days, n, config, metrics) -> None:
    """Every common-level method again without ``other``: its windows left out and the label
    out of the candidates (``without_other_{method}_*``), zero-shot minus each reference with
    its interval (``without_other_delta_zeroshot_macro_f1_vs_{reference}``)."""
    other = transfer.COMMON_LEVEL.index("other")
    keep, kept = truth != other, candidates[candidates != other]
    if len(kept) < 2 or not keep.any():
        return
    predicted = {name: nearest(values[keep], kept) for name, values in scores.items()}
    for name, values in predicted.items():
        metrics.update(classification_metrics(truth[keep], values, n, f"without_other_{name}_"))
        if name != "common_zeroshot":
            tag = "keyword" if name == "common_keyword_zeroshot" else name
            _delta(metrics, f"without_other_delta_zeroshot_macro_f1_vs_{tag}", truth[keep],
                   predicted["common_zeroshot"], values, days[keep], n, config)


def _sentence_references(prep, sources, encoder, scored, truth, zero, candidates, days, n,
                         config, metrics) -> dict[str, np.ndarray]:
    """The sentence-vector references (``transfer.fit_sentence_reference``), fit on the source
    homes' labels and scored on the target's zero-shot windows: ``sentence_ref_{pool}_*``;
    returns each reference's class scores."""
    def encode(texts):
        return encoder.encode(texts, progress=False)

    source_vectors = transfer.event_sentence_vectors(sources, encode)
    target_vectors = transfer.event_sentence_vectors(prep, encode)
    test = prep.windows.of_split("test")
    out = {}
    for pool in transfer.SENTENCE_POOLS:
        probe = transfer.fit_sentence_reference(sources, source_vectors, pool, config.seed)
        if probe is None:
            continue
        x = transfer.pooled_windows(target_vectors, test, pool)[scored]
        out[f"sentence_ref_{pool}"] = transfer.class_scores(probe, x)
        predicted = nearest(out[f"sentence_ref_{pool}"], candidates)
        metrics.update(classification_metrics(truth, predicted, n, f"sentence_ref_{pool}_"))
        _delta(metrics, f"delta_zeroshot_macro_f1_vs_sentence_ref_{pool}", truth, zero,
               predicted, days, n, config)
    return out


def _per_resident(prep, truth, predicted, days, config, metrics) -> None:
    """Where two residents act at once (``sensorclip.eval.residents``): each method scored
    against each resident's window labels (``resident{r}_*``), and counted right when it names
    either resident's activity (``either_*_accuracy``)."""
    n = len(prep.fine_names)
    test = prep.windows.of_split("test")
    resident2 = prep.resident2 if prep.resident2 is not None else np.zeros_like(prep.resident)
    per_resident = resident_window_labels(test.start, test.length, prep.activity,
                                          prep.activity2, prep.resident, resident2, n)
    scored = predicted.get("zeroshot_scored", np.ones(len(truth), dtype=bool))
    methods = {name: (values, np.ones(len(truth), dtype=bool)) for name, values in
               predicted.items() if name in ("linear_probe", "untrained_linear_probe", "bag")}
    for name in ("zeroshot", "keyword_zeroshot"):
        if name in predicted:
            full = np.full(len(truth), NONE)
            full[scored] = predicted[name]
            methods[name] = (full, scored)
    for name, (values, where) in methods.items():
        right = either_correct(values, truth, per_resident)
        metrics[f"either_{name}_accuracy"] = float(right[where].mean()) if where.any() else 0.0
    for who, labels in per_resident.items():
        has = labels != NONE
        metrics[f"resident{who}_windows"] = int(has.sum())
        for name, (values, where) in methods.items():
            keep = has & where
            if keep.any():
                metrics.update(classification_metrics(labels[keep], values[keep], n,
                                                      f"resident{who}_{name}_"))
        if "bag" in methods and has.any():
            _delta(metrics, f"resident{who}_delta_probe_macro_f1_vs_bag", labels[has],
                   methods["linear_probe"][0][has], methods["bag"][0][has], days[has], n, config)


def _probes(emb, untrained_emb, bags, truth, n, days, config, prefix, metrics,
            fitted=None) -> dict[str, np.ndarray]:
    """The linear probe on the trained embeddings and on each reference representation. The
    probes are fit on fine labels; coarse predictions are the fine ones mapped to their coarse
    label (``fitted``: the fine predictions and the fine -> coarse map)."""
    sources = {"linear_probe": probe_inputs(emb, config)}
    if untrained_emb is not None:
        sources["untrained_linear_probe"] = probe_inputs(untrained_emb, config)
    if bags is not None:
        sources["bag"] = bags
    if fitted is None:
        probes = dict(zip(sources, run_concurrently([
            partial(fit_probe, x["train"], truth["train"], x["val"], truth["val"], n,
                    seed=config.seed) for x in sources.values()])))
        out = {name: probe.predict(sources[name]["test"]) for name, probe in probes.items()}
        for name, probe in probes.items():
            metrics[f"{prefix}{name}_C"] = probe.c
            metrics[f"{prefix}val_{name}_macro_f1"] = probe.val_macro_f1
    else:
        fine_predictions, coarse_of_fine = fitted
        out = {name: coarse_of_fine[fine_predictions[name]] for name in sources}
    for name, predicted in out.items():
        metrics.update(classification_metrics(truth["test"], predicted, n, f"{prefix}{name}_"))
    majority = np.full(len(truth["test"]), majority_label(truth["train"]))
    metrics.update(classification_metrics(truth["test"], majority, n, f"{prefix}majority_"))
    for reference, tag in (("bag", "bag"), ("untrained_linear_probe", "untrained")):
        if reference in out:
            _delta(metrics, f"{prefix}delta_probe_macro_f1_vs_{tag}", truth["test"],
                   out["linear_probe"], out[reference], days, n, config)
    return out


def probe_inputs(emb: dict[str, dict], config: EvalConfig) -> dict[str, np.ndarray]:
    """The representation each split's probe reads (``eval.probe_on``)."""
    key = "pooled" if config.probe_on == "pooled" else "sensor"
    return {split: emb[split][key] for split in SPLITS}


def _few_shot(emb, untrained_emb, bags, truth, n, days, config, metrics) -> None:
    """k-shot probes on the embeddings, on the untrained encoder's and on the bag of events,
    fit on the same draws of labelled windows; each difference carries an interval over test
    days and draws."""
    sources = {"": probe_inputs(emb, config)}
    if untrained_emb is not None:
        sources["untrained_"] = probe_inputs(untrained_emb, config)
    if bags is not None:
        sources["bag_"] = bags
    # Few-shot fits run one after another in this thread, so their solver warnings can be
    # caught here without touching other threads' filters: a k-shot probe on a handful of
    # windows often stops at max_iter (the classes are separable), and a dozen identical
    # scikit-learn warnings would drown the table. They are counted into one line instead.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        for k in config.fewshot_k:
            predicted = {tag: few_shot_predictions(x, truth, n, k, config)
                         for tag, x in sources.items()}
            for tag in sources:
                scores = [macro_f1(truth["test"], p, n) for p in predicted[tag]]
                metrics[f"{tag}fewshot_{k}_macro_f1"] = float(np.mean(scores)) if scores else None
                metrics[f"{tag}fewshot_{k}_macro_f1_sd"] = float(np.std(scores)) if scores else None
            for tag, name in (("bag_", "bag"), ("untrained_", "untrained")):
                if tag in predicted and predicted[""] and predicted[tag]:
                    key = f"delta_fewshot_{k}_macro_f1_vs_{name}"
                    metrics[key], metrics[f"{key}_ci95"] = paired_bootstrap_draws(
                        truth["test"], predicted[""], predicted[tag], days, n,
                        resamples=config.bootstrap_resamples, seed=config.seed)
    stopped = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    for w in caught:
        if not issubclass(w.category, ConvergenceWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    metrics["fewshot_fits_stopped_at_max_iter"] = stopped
    if stopped:
        warnings.warn(f"{stopped} few-shot probe fits stopped at the solver's iteration limit "
                      "(few labelled windows are often separable); their scores are used as "
                      "they stand", stacklevel=2)


def _text_initialised(emb, untrained_emb, bags, truth, scored, start, scale, days, n, config,
                      metrics, starts) -> dict:
    """k-shot adaptation that starts at the zero-shot prototypes (``sensorclip.eval.adapt``),
    at k = 0 (zero-shot itself) and every ``eval.fewshot_k``: ``fewshot_text_init_{k}_*``.
    Scored where zero-shot is (windows of a named activity, among those activities), beside the
    plain probe, the untrained encoder's probe and the bag of events fit on the same shots of
    the same draws (``..._probe_``, ``..._untrained_``, ``..._bag_``), each difference with an
    interval over test days and draws. Returns each k's kept predictions."""
    candidates = start["candidates"]
    if len(candidates) < 2:
        return {}
    kept = {}
    train_y, test_y = truth["train"], truth["test"][scored]
    test_days = days[scored]
    x = {split: emb[split]["sensor"] for split in ("train", "test")}
    references = {"probe": probe_inputs(emb, config)}
    if untrained_emb is not None:
        references["untrained"] = probe_inputs(untrained_emb, config)
    if bags is not None:
        references["bag"] = bags
    for k in (0, *config.fewshot_k):
        draws = [adapt.shots_among(train_y, candidates, k, draw, config.seed)
                 for draw in range(config.fewshot_draws if k else 1)]
        predicted = {"": [adapt.predict(x["test"][scored], adapt.text_initialised_weights(
            start["prototypes"], x["train"][shots], train_y[shots], candidates, scale,
            config.fewshot_text_anchor), candidates) for shots in draws]}
        if k:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                for name, source in references.items():
                    predicted[f"{name}_"] = [
                        fit_probe(source["train"][shots], train_y[shots], source["val"],
                                  truth["val"], n, grid=(FEW_SHOT_C,), seed=config.seed,
                                  warn=False).predict(source["test"][scored])
                        for shots in draws if len(np.unique(train_y[shots])) > 1]
        kept[f"fewshot_text_init_{k}"] = method_predictions(
            starts[scored], test_y, test_days, predicted[""], n, shots=draws)
        for tag, runs in predicted.items():
            scores = [macro_f1(test_y, p, n) for p in runs]
            metrics[f"fewshot_text_init_{k}_{tag}macro_f1"] = \
                float(np.mean(scores)) if scores else None
        for tag in references:
            if predicted.get(f"{tag}_") and len(predicted[f"{tag}_"]) == len(predicted[""]):
                key = f"delta_fewshot_text_init_{k}_macro_f1_vs_{tag}"
                metrics[key], metrics[f"{key}_ci95"] = paired_bootstrap_draws(
                    test_y, predicted[""], predicted[f"{tag}_"], test_days, n,
                    resamples=config.bootstrap_resamples, seed=config.seed)
    return kept


def few_shot_predictions(x, truth, n, k, config) -> list[np.ndarray]:
    """Test predictions of the k-shot probes of every draw that holds two classes or more. One
    after another: fits this small are bound by the solver's Python loop, and side by side
    they ran no faster (docs/performance.md)."""
    drawn = (few_shot_draw(x["train"], truth["train"], x["val"], truth["val"], x["test"], n, k,
                           draw, config.seed) for draw in range(config.fewshot_draws))
    return [predicted for predicted in drawn if predicted is not None]


def _delta(metrics, key, truth, a, b, days, n, config) -> None:
    delta, interval = paired_bootstrap(truth, a, b, days, n, resamples=config.bootstrap_resamples,
                                       seed=config.seed)
    metrics[key], metrics[f"{key}_ci95"] = delta, interval


# ---------------------------------------------------------------------------------------------
# Figures


def write_figures(out: Path, prep, emb, predictions) -> None:
    out.mkdir(parents=True, exist_ok=True)
    test = emb["test"]
    fine = predictions["fine"]
    names = fine["names"]
    scored = fine["zeroshot_scored"]
    methods = {"zero-shot": (test["fine"][scored], fine["zeroshot"]),
               "linear probe": (test["fine"], fine["linear_probe"])}
    if "keyword_zeroshot" in fine:
        methods["keyword zero-shot"] = (test["fine"][scored], fine["keyword_zeroshot"])
    if "bag" in fine:
        methods["bag of events"] = (test["fine"], fine["bag"])
    for tag, key in (("zeroshot", "zero-shot"), ("probe", "linear probe")):
        truth, predicted = methods[key]
        present = sorted(set(truth.tolist()) | set(predicted.tolist()))
        matrix = confusion(truth, predicted, len(names))[np.ix_(present, present)]
        confusion_figure(matrix, [names[i] for i in present], out / f"confusion_{tag}.png",
                         f"{tag} (fine labels, test)")
    recall_bars(methods, names, out / "recall_per_class.png",
                "recall per activity (test; zero-shot without background windows)")
    scatter_by_group(pca_2d(test["sensor"]), [names[i] for i in test["fine"]],
                     out / "embedding_map.png", "test sensor embeddings (PCA) by activity")
    atomic_write_text(out / "retrieval_examples.md", retrieval_examples(prep, test))


def window_rooms(prep, window_index: int, split: str = "test") -> list[str]:
    w = prep.windows.of_split(split)
    start, length = int(w.start[window_index]), int(w.length[window_index])
    rooms = [prep.home.sensors[prep.sensor_names[s]].room
             for s in prep.sensor[start:start + length]]
    return [r for i, r in enumerate(rooms) if i == 0 or rooms[i - 1] != r]


def retrieval_examples(prep, test: dict[str, np.ndarray], queries: int = 5, top: int = 3) -> str:
    """Markdown: a caption per coarse label as the query, and its top windows."""
    lines = ["# Text -> sensor retrieval examples (test split)", ""]
    sim = test["text"] @ test["sensor"].T
    picked = []
    for label in np.unique(test["coarse"]):
        picked.append(int(np.flatnonzero(test["coarse"] == label)[0]))
    for q in picked[:queries]:
        caption = prep.captions.texts[int(test["caption"][q])]
        lines += [f"**Query** (from a {prep.coarse_names[test['coarse'][q]]} window): "
                  f"\"{caption}\"", "", "| rank | rooms | true label | match |",
                  "|---|---|---|---|"]
        for rank, k in enumerate(np.argsort(-sim[q])[:top], start=1):
            match = "same window" if k == q else (
                "same caption" if test["caption"][k] == test["caption"][q] else "")
            label = (f"{prep.fine_names[test['fine'][k]]} "
                     f"({prep.coarse_names[test['coarse'][k]]})")
            lines.append(f"| {rank} | {' -> '.join(window_rooms(prep, int(k)))} | {label} | "
                         f"{match} |")
        lines.append("")
    return "\n".join(lines)
