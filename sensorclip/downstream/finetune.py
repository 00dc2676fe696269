"""An activity classifier on top of a sensor encoder: the label-efficiency question.

``ActivityClassifier`` puts a linear head on the encoder's pooled representation (before the
contrastive projection head) and trains it with class-weighted cross-entropy, the encoder frozen
or fine-tuned at its own learning rate. ``labelled_subset`` draws the fraction of training
windows whose labels are used (stratified, every class keeps at least one window), so
pretrained and from-scratch encoders see exactly the same labels. The best epoch is chosen on
validation macro-F1; ``LabelEfficiencyCurve`` collects a sweep over label fractions into a table
and a plot.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import lightning as L
import numpy as np
import torch
from hydra.experimental.callback import Callback
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader

from sensorclip.config import FinetuneConfig
from sensorclip.eval.classification import classification_metrics
from sensorclip.files import atomic_write_text, read_json
from sensorclip.model.datamodule import EpochBatchSampler, SensorClipDataModule
from sensorclip.model.dropout import Dropout
from sensorclip.model.encoder import SensorEncoder
from sensorclip.model.module import warmup_cosine


def labelled_subset(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Sorted rows: ``ceil(fraction * n)`` random windows of each class (at least one)."""
    rng = np.random.default_rng(seed)
    rows = [rng.choice(members, size=max(1, math.ceil(fraction * len(members))), replace=False)
            for members in (np.flatnonzero(labels == c) for c in np.unique(labels))]
    return np.sort(np.concatenate(rows))


def class_weights(labels: np.ndarray, n_classes: int) -> torch.Tensor:
    """Inverse class frequency, averaging 1 over the classes present (absent classes: 0)."""
    counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    present = counts > 0
    weights = np.zeros(n_classes)
    weights[present] = counts[present].sum() / (present.sum() * counts[present])
    return torch.as_tensor(weights, dtype=torch.float32)


class ActivityClassifier(L.LightningModule):
    def __init__(self, encoder: SensorEncoder, n_classes: int, weights: torch.Tensor,
                 config: FinetuneConfig):
        super().__init__()
        self.encoder, self.config = encoder, config
        self.encoder.requires_grad_(not config.freeze_encoder)
        self.drop = Dropout(config.dropout)
        self.head = nn.Linear(encoder.config.d_model, n_classes)
        self.register_buffer("weights", weights)
        self._outputs: list[tuple[torch.Tensor, torch.Tensor]] = []

    def forward(self, batch) -> torch.Tensor:
        hidden = self.encoder.encode_tokens(batch["pair"], batch["valid"], batch["delta_s"],
                                            batch["hour"])
        return self.head(self.drop(self.encoder.pool(hidden, batch["valid"])))

    def on_train_epoch_start(self):
        if self.config.freeze_encoder:
            self.encoder.eval()                    # a frozen encoder is used without dropout

    def training_step(self, batch, batch_idx):
        loss = F.cross_entropy(self(batch), batch["fine"], weight=self.weights)
        self.log("train/loss", loss, prog_bar=True, batch_size=len(batch["fine"]))
        return loss

    def validation_step(self, batch, batch_idx):
        self._outputs.append((self(batch).argmax(1), batch["fine"]))

    def test_step(self, batch, batch_idx):
        self._outputs.append((self(batch).argmax(1), batch["fine"]))

    def predictions(self) -> tuple[np.ndarray, np.ndarray]:
        predicted, true = (torch.cat(part).cpu().numpy() for part in zip(*self._outputs))
        self._outputs.clear()
        return predicted, true

    def on_validation_epoch_end(self):
        predicted, true = self.predictions()
        score = classification_metrics(true, predicted, self.head.out_features, "")["macro_f1"]
        self.log("val/macro_f1", score)

    def configure_optimizers(self):
        groups = [{"params": list(self.head.parameters()), "lr": self.config.lr}]
        if not self.config.freeze_encoder:
            groups.append({"params": list(self.encoder.parameters()),
                           "lr": self.config.encoder_lr})
        optimizer = torch.optim.AdamW(groups, weight_decay=self.config.weight_decay)
        total = max(1, int(self.trainer.estimated_stepping_batches))
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: warmup_cosine(step, total, int(0.1 * total), 0.0))
        return {"optimizer": optimizer,
                "lr_scheduler": {"scheduler": schedule, "interval": "step"}}


class LabelledData(L.LightningDataModule):
    """The run's data with only some training labels: train batches come from ``rows`` of the
    training split, validation and test are the run's own."""

    def __init__(self, base: SensorClipDataModule, rows: np.ndarray, batch_size: int,
                 seed: int):
        super().__init__()
        self.base, self.rows, self.batch_size, self.seed = base, rows, batch_size, seed

    def train_dataloader(self) -> DataLoader:
        subset = self.base.eval_dataset("train").subset(self.rows)
        sampler = EpochBatchSampler(len(subset), self.batch_size, drop_last=False,
                                    seed=self.seed)
        return DataLoader(subset, sampler=sampler, batch_size=None,
                          generator=torch.Generator().manual_seed(self.seed))

    def val_dataloader(self) -> DataLoader:
        return self.base.val_dataloader()

    def test_dataloader(self) -> DataLoader:
        return self.base.test_dataloader()


class LabelEfficiencyCurve(Callback):
    """Hydra callback: after a ``-m finetune.labels_fraction=...`` sweep, one table (markdown
    and CSV) and one plot of test macro-F1 against the label fraction, pretrained vs scratch."""

    def on_multirun_end(self, config, **kwargs) -> None:
        write_curve(Path(config.hydra.sweep.dir))


# What write_curve reads from each run of a labels_fraction sweep.
FINETUNE_METRICS = {"labels_fraction": (int, float), "labelled_windows": int,
                    "majority_macro_f1": (int, float)}


def write_curve(sweep_dir: Path) -> list[dict]:
    rows = []
    for path in sorted(sweep_dir.glob("*/metrics.json")):
        m = read_json(path, FINETUNE_METRICS, "fine-tuning metrics")
        rows.append({"labels_fraction": m["labels_fraction"],
                     "labelled_windows": m["labelled_windows"],
                     "pretrained_macro_f1": m.get("pretrained_macro_f1"),
                     "scratch_macro_f1": m.get("scratch_macro_f1"),
                     "delta": m.get("delta_macro_f1_pretrained_vs_scratch"),
                     "delta_ci95": m.get("delta_macro_f1_pretrained_vs_scratch_ci95"),
                     "majority_macro_f1": m["majority_macro_f1"]})
    if not rows:
        return rows
    rows.sort(key=lambda r: r["labels_fraction"])
    lines = ["| labels fraction | labelled windows | pretrained macro-F1 | scratch macro-F1 | "
             "difference [95% CI over test days] | majority |", "|---|---|---|---|---|---|"]
    for r in rows:
        ci = r["delta_ci95"]
        delta = "–" if r["delta"] is None else f"{r['delta']:+.3f}" + (
            f" [{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else "")
        lines.append(f"| {r['labels_fraction']} | {r['labelled_windows']} | "
                     f"{_cell(r['pretrained_macro_f1'])} | {_cell(r['scratch_macro_f1'])} | "
                     f"{delta} | {_cell(r['majority_macro_f1'])} |")
    atomic_write_text(sweep_dir / "curve.md", "\n".join(lines) + "\n")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(sweep_dir / "curve.csv", buffer.getvalue())
    _plot(rows, sweep_dir / "curve.png")
    return rows


def _cell(value) -> str:
    return "–" if value is None else f"{value:.3f}"


def _plot(rows: list[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5.5, 4), dpi=110)
    x = [r["labels_fraction"] for r in rows]
    for key, label in (("pretrained_macro_f1", "pretrained encoder"),
                       ("scratch_macro_f1", "from scratch"),
                       ("majority_macro_f1", "majority (reference)")):
        y = [r[key] for r in rows]
        if all(v is not None for v in y):
            ax.plot(x, y, marker="o", label=label, linestyle="--" if "majority" in key else "-")
    ax.set_xscale("log")
    ax.set_xlabel("fraction of training labels")
    ax.set_ylabel("test macro-F1 (fine labels)")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    ax.set_title("label efficiency: fine-tuned classifier", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
