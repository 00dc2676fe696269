"""Everything ``metrics.json`` holds for a trained model, and the figures beside it.

``python -m sensorclip.train`` runs it on its best checkpoint, ``python -m sensorclip.evaluate``
on any checkpoint of a run. Metrics: retrieval over the whole test
split (windows sharing a caption count as matches), zero-shot activity recognition from label
descriptions (fine labels, and coarse ones under a ``coarse_`` prefix), a linear probe fit on
train with its regularisation chosen on validation, and the majority-class reference.
Figures (``plots/``): zero-shot and probe confusion matrices, a PCA map of the test sensor
embeddings by activity, and ``retrieval_examples.md`` (text queries and their top-3 windows).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from sensorclip.config import TextEncoderConfig
from sensorclip.data.windows import SPLITS
from sensorclip.embed.text import TextEncoder
from sensorclip.eval.classification import classification_metrics, confusion
from sensorclip.eval.probe import fit_probe, majority_label
from sensorclip.eval.retrieval import retrieval_metrics
from sensorclip.eval.zeroshot import label_prototypes, zero_shot_predict
from sensorclip.files import atomic_write_text
from sensorclip.plots import confusion_figure, pca_2d, scatter_by_group

if TYPE_CHECKING:       # eval takes a trained model; it does not depend on how one is built
    from sensorclip.model.datamodule import SensorClipDataModule
    from sensorclip.model.module import SensorClipModule

LEVELS = (("", "fine"), ("coarse_", "coarse"))


@torch.inference_mode()
def embed_split(model: SensorClipModule, datamodule: SensorClipDataModule, split: str,
                batch_size: int = 512) -> dict[str, np.ndarray]:
    """Sensor and (first-paraphrase) text embeddings of every window of a split, in order."""
    dataset = datamodule.eval_dataset(split)
    model.eval()
    parts: dict[str, list] = {"sensor": [], "text": [], "caption": [], "fine": [], "coarse": []}
    for lo in range(0, len(dataset), batch_size):
        batch = dataset[list(range(lo, min(lo + batch_size, len(dataset))))]
        batch = {k: v.to(model.device) for k, v in batch.items()}
        sensor, text = model(batch)
        for key, value in (("sensor", sensor), ("text", text), ("caption", batch["caption"]),
                           ("fine", batch["fine"]), ("coarse", batch["coarse"])):
            parts[key].append(value.float().cpu() if value.is_floating_point() else value.cpu())
    return {k: torch.cat(v).numpy() for k, v in parts.items()}


@torch.inference_mode()
def prototypes_for(model: SensorClipModule, encoder, home, names: list[str]) -> np.ndarray:
    """Label prototypes: the layout's (or generated) descriptions, encoded, projected, averaged."""
    vectors = []
    for name in names:
        raw = torch.as_tensor(encoder.encode(list(home.descriptions_for(name)), progress=False))
        vectors.append(model.embed_text(raw.to(model.device)).float().cpu().numpy())
    return label_prototypes(vectors)


def evaluate_model(model: SensorClipModule, datamodule: SensorClipDataModule,
                   text_config: TextEncoderConfig, run_dir: Path | None = None) -> dict[str, Any]:
    prep = datamodule.prepared
    emb = {split: embed_split(model, datamodule, split) for split in SPLITS}
    test = emb["test"]
    metrics: dict[str, Any] = retrieval_metrics(torch.as_tensor(test["sensor"]),
                                                torch.as_tensor(test["text"]),
                                                torch.as_tensor(test["caption"]))
    encoder = TextEncoder(text_config)
    predictions = {}
    for prefix, level in LEVELS:
        names = prep.fine_names if level == "fine" else prep.coarse_names
        n = len(names)
        prototypes = prototypes_for(model, encoder, prep.home, names)
        zero = zero_shot_predict(test["sensor"], prototypes)
        metrics.update(classification_metrics(test[level], zero, n, f"{prefix}zeroshot_"))
        probe = fit_probe(emb["train"]["sensor"], emb["train"][level], emb["val"]["sensor"],
                          emb["val"][level], n)
        probe_pred = probe.predict(test["sensor"])
        probe_metrics = classification_metrics(test[level], probe_pred, n,
                                               f"{prefix}linear_probe_")
        metrics.update(probe_metrics)
        metrics[f"{prefix}linear_probe_C"] = probe.c
        majority = np.full(len(test[level]), majority_label(emb["train"][level]))
        metrics.update(classification_metrics(test[level], majority, n, f"{prefix}majority_"))
        predictions[level] = (names, zero, probe_pred)
    metrics["n_test_windows"] = int(len(test["sensor"]))
    if run_dir is not None:
        write_figures(Path(run_dir) / "plots", prep, emb, predictions, model)
    return metrics


# ---------------------------------------------------------------------------------------------
# Figures


def write_figures(out: Path, prep, emb, predictions, model) -> None:
    out.mkdir(parents=True, exist_ok=True)
    test = emb["test"]
    names, zero, probe = predictions["fine"]
    present = sorted(set(test["fine"].tolist()) | set(zero.tolist()) | set(probe.tolist()))
    for tag, predicted in (("zeroshot", zero), ("probe", probe)):
        matrix = confusion(test["fine"], predicted, len(names))[np.ix_(present, present)]
        confusion_figure(matrix, [names[i] for i in present], out / f"confusion_{tag}.png",
                         f"{tag} (fine labels, test)")
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
