"""Callbacks that simulate what goes wrong in a long run (referenced by _target_ in tests)."""

import lightning as L
import torch


class StopAt(L.Callback):
    """Simulates a kill: raises out of fit at (epoch, batch)."""

    def __init__(self, epoch: int, batch: int):
        self.epoch, self.batch = epoch, batch

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if trainer.current_epoch == self.epoch and batch_idx == self.batch:
            raise SystemExit("killed by the test")


class PoisonAt(L.Callback):
    """Turns a weight into NaN at (epoch, batch), so the next loss is NaN."""

    def __init__(self, epoch: int, batch: int):
        self.epoch, self.batch = epoch, batch

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if trainer.current_epoch == self.epoch and batch_idx == self.batch:
            with torch.no_grad():
                pl_module.encoder.cls.fill_(float("nan"))
