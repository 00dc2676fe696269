"""The model summary printed when training starts: parameters per top-level module, trainable
and frozen. Lightning's own summary is switched off (``trainer.enable_model_summary: false``):
its FLOPs column counts only with an ``example_input_array``, which a model fed by index
batches has not, so it printed a column of zeros, and under bf16 it warned that it could not
size the model."""

from __future__ import annotations

import lightning as L
from lightning.pytorch.utilities.model_summary import get_human_readable_count
from rich.table import Table
from torch import nn

from sensorclip.entrypoint import console


def parameter_rows(model: nn.Module) -> list[tuple[str, str, int, int]]:
    """(name, type, parameters, trainable parameters) of each top-level module."""
    rows = []
    for name, child in model.named_children():
        params = list(child.parameters())
        rows.append((name, type(child).__name__, sum(p.numel() for p in params),
                     sum(p.numel() for p in params if p.requires_grad)))
    return rows


class ParameterSummary(L.Callback):
    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        rows = parameter_rows(pl_module)
        table = Table(title="model")
        for column in ("module", "type", "parameters", "trainable"):
            table.add_column(column, justify="left" if column in ("module", "type") else "right")
        for name, kind, total, trainable in rows:
            table.add_row(name, kind, get_human_readable_count(total),
                          get_human_readable_count(trainable))
        total = sum(r[2] for r in rows)
        trainable = sum(r[3] for r in rows)
        table.caption = (f"{get_human_readable_count(trainable)} trainable, "
                         f"{get_human_readable_count(total - trainable)} frozen")
        console().print(table)
