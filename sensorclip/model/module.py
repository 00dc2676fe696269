"""LightningModule: thin glue around SensorEncoder, the text projection and the loss.

Training under data parallelism computes the contrastive loss on the global batch (every
process's windows are negatives of every other's; ``losses.gather_batch``).

Optimisation: AdamW with decoupled weight decay on matrices only (no decay on biases, norms, the
CLS token, embeddings or the loss's temperature/bias), linear warm-up then cosine decay per step
over the run's total optimizer steps. Validation and test embed the whole split and compute
retrieval over all of it (not per batch), with windows sharing a caption counted as matches.
"""

from __future__ import annotations

import math

import lightning as L
import torch

from sensorclip.config import EncoderConfig, FeatureConfig, LossConfig, OptimConfig, typed
from sensorclip.errors import SensorClipError
from sensorclip.eval.retrieval import in_batch_accuracy, retrieval_metrics
from sensorclip.model.encoder import SensorEncoder, TextProjection
from sensorclip.model.features import InputProjection, LearnedInputs
from sensorclip.model.losses import (
    build_loss,
    gather_batch,
    label_alignment_loss,
    label_prototypes,
    positive_mask,
)


def warmup_cosine(step: int, total: int, warmup: int, floor: float) -> float:
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))


class SensorClipModule(L.LightningModule):
    """``inputs="image"``: each (sensor, state) pair enters as its frozen image embedding
    (``pair_embeddings`` [pairs, image_dim]); ``inputs="learned"``: as trainable sensor and state
    embeddings (``pair_codes`` [pairs, 2]: sensor and state index, of ``n_sensors`` and
    ``n_states``). Restoring from a checkpoint passes neither: the buffers come from its state.

    Label-aware pretraining (``loss.label_weight`` > 0) also takes the frozen text vectors of
    the training labels' descriptions (``label_texts`` [descriptions, text_dim], ``label_owner``
    their label row) and ``label_rows`` (fine label code -> row, -1 for background): buffers, so
    a checkpoint carries what its label term read."""

    def __init__(self, encoder: dict, features: dict, loss: dict, optim: dict,
                 text_projection: str, text_dim: int, n_pairs: int, image_dim: int,
                 label_positives: str | None = None, seed: int = 0, inputs: str = "image",
                 n_sensors: int = 0, n_states: int = 0, input_parts: list[int] | None = None,
                 combine: str = "concat", pair_embeddings: torch.Tensor | None = None,
                 pair_codes: torch.Tensor | None = None, pair_xy: torch.Tensor | None = None,
                 n_label_texts: int = 0, n_fine: int = 0, n_label_rows: int = 0,
                 label_texts: torch.Tensor | None = None, label_owner: torch.Tensor | None = None,
                 label_rows: torch.Tensor | None = None):
        super().__init__()
        self.save_hyperparameters(ignore=["pair_embeddings", "pair_codes", "pair_xy",
                                          "label_texts", "label_owner", "label_rows"])
        self.encoder_config = typed(EncoderConfig, encoder)
        projection_dim = self.encoder_config.projection_dim or text_dim
        d_model = self.encoder_config.d_model
        if inputs == "learned":
            codes = pair_codes if pair_codes is not None else torch.zeros(n_pairs, 2)
            pair_inputs = LearnedInputs(codes[:, 0], codes[:, 1], n_sensors, n_states, d_model)
        else:
            embeddings = (pair_embeddings if pair_embeddings is not None
                          else torch.zeros(n_pairs, image_dim))
            pair_inputs = InputProjection(embeddings, d_model,
                                          self.encoder_config.trainable_input_projection,
                                          parts=input_parts, combine=combine)
        if pair_xy is None:
            pair_xy = torch.zeros(n_pairs, 2)
        self.encoder = SensorEncoder(pair_inputs, pair_xy, self.encoder_config,
                                     typed(FeatureConfig, features), projection_dim)
        self.text_head = TextProjection(text_projection, text_dim, projection_dim,
                                        self.encoder_config.head_hidden,
                                        self.encoder_config.dropout)
        loss_config = typed(LossConfig, loss)
        self.loss_fn = build_loss(loss_config)
        self.label_weight = loss_config.label_weight
        if self.label_weight > 0:
            if n_label_rows < 2:
                raise SensorClipError(
                    "loss.label_weight > 0 needs training labels with descriptions (two "
                    "activities or more besides the background); set loss.label_weight=0")
            self.register_buffer("label_texts", label_texts if label_texts is not None
                                 else torch.zeros(n_label_texts, text_dim))
            self.register_buffer("label_owner", label_owner if label_owner is not None
                                 else torch.zeros(n_label_texts, dtype=torch.long))
            self.register_buffer("label_rows", label_rows if label_rows is not None
                                 else torch.full((n_fine,), -1, dtype=torch.long))
        self.optim = typed(OptimConfig, optim)
        self.label_positives = None if label_positives == "none" else label_positives
        self._outputs: list[dict[str, torch.Tensor]] = []

    HOME_BUFFERS = ("encoder.features.inputs.pairs", "encoder.features.inputs.folded",
                    "encoder.features.pair_xy")

    def rehome(self, inputs: str, n_pairs: int, image_dim: int, pair_xy: torch.Tensor,
               pair_embeddings: torch.Tensor | None = None, input_parts: list[int] | None = None,
               **_) -> SensorClipModule:
        """This model, trained in one home, reading another home's (sensor, state) pairs: the
        trained weights with the other home's frozen image embeddings and sensor positions
        (arguments as ``SensorClipDataModule.model_inputs`` gives them). Only image-based
        encoders can move: learned sensor embeddings belong to one home's sensor ids."""
        self.check_transferable()
        if image_dim != self.hparams.image_dim:
            raise SensorClipError(
                f"the checkpoint reads {self.hparams.image_dim}-d image embeddings but the other "
                f"home's are {image_dim}-d: evaluate with the backbone it was trained with")
        trained_parts = self.hparams.get("input_parts") or [image_dim]
        if list(input_parts or [image_dim]) != list(trained_parts):
            raise SensorClipError(
                f"the checkpoint reads inputs in blocks {trained_parts} (image, sentence) but "
                f"the other home's are {input_parts}: evaluate with the model.inputs it was "
                "trained with")
        hparams = {**self.hparams, "n_pairs": n_pairs, "image_dim": image_dim}
        moved = SensorClipModule(**hparams, pair_embeddings=pair_embeddings, pair_xy=pair_xy)
        state = {k: v for k, v in self.state_dict().items() if k not in self.HOME_BUFFERS}
        missing, unexpected = moved.load_state_dict(state, strict=False)
        assert not unexpected and set(missing) <= set(self.HOME_BUFFERS), (missing, unexpected)
        moved.encoder.features.inputs.refold()
        return moved

    def check_transferable(self) -> None:
        if self.hparams.get("inputs", "image") != "image":
            raise SensorClipError(
                "model=learned cannot be evaluated in another home: its sensor and state "
                "embeddings belong to the sensor ids of the home it was trained in; train an "
                "encoder on frozen inputs (model=text|image_text|tiny|clip|dinov2|siglip|timm) "
                "to transfer")

    # -- forward --------------------------------------------------------------------------------
    def embed_sensor(self, batch) -> torch.Tensor:
        return self.encoder(batch["pair"], batch["valid"], batch["delta_s"], batch["hour"])

    def represent_sensor(self, batch) -> torch.Tensor:
        """The pooled representation before the projection head (``SensorEncoder.represent``)."""
        return self.encoder.represent(batch["pair"], batch["valid"], batch["delta_s"],
                                      batch["hour"])

    def embed_text(self, text: torch.Tensor) -> torch.Tensor:
        return self.text_head(text)

    def forward(self, batch):
        return self.embed_sensor(batch), self.embed_text(batch["text"])

    def positives(self, batch) -> torch.Tensor:
        labels = batch[self.label_positives] if self.label_positives else None
        return positive_mask(batch["caption"], labels)

    # -- steps ----------------------------------------------------------------------------------
    def on_train_epoch_start(self):
        """Dropout draws depend on (seed, epoch, rank) only: resumes replay exactly, and data
        parallel processes do not share dropout masks."""
        torch.manual_seed(self.hparams.seed * 100_003 + self.current_epoch
                          + 1_000_003 * self.global_rank)

    def training_step(self, batch, batch_idx):
        sensor, text = self(batch)
        labels = batch[self.label_positives] if self.label_positives else batch["caption"]
        sensor, text, caption, labels = gather_batch(sensor, text, batch["caption"], labels)
        positives = positive_mask(caption, labels if self.label_positives else None)
        loss = self.loss_fn(sensor, text, positives)
        if self.label_weight > 0:
            label_loss = self.label_term(sensor, gather_batch(batch["fine"])[0])
            self.log("train/label_loss", label_loss, batch_size=len(sensor))
            loss = loss + self.label_weight * label_loss
        if not torch.isfinite(loss):
            raise FloatingPointError(f"loss is {loss.item()} at step {self.global_step}")
        s2t, t2s = in_batch_accuracy(self.loss_fn.logits(sensor, text).detach(), positives)
        size = len(sensor)
        self.log("train/loss", loss, prog_bar=True, batch_size=size)
        self.log("train/temperature", 1 / self.loss_fn.scale.detach(), batch_size=size)
        self.log("train/acc_sensor_to_text", s2t, batch_size=size)
        self.log("train/acc_text_to_sensor", t2s, batch_size=size)
        return loss

    def label_term(self, sensor: torch.Tensor, fine: torch.Tensor) -> torch.Tensor:
        """The label-aware term on training windows (``losses.label_alignment_loss``): the
        description prototypes go through the trainable text head, as zero-shot's do."""
        prototypes = label_prototypes(self.embed_text(self.label_texts), self.label_owner,
                                      self.hparams.n_label_rows)
        return label_alignment_loss(sensor, prototypes, self.label_rows[fine],
                                    self.loss_fn.scale)

    def _collect(self, batch):
        sensor, text = self(batch)
        loss = self.loss_fn(sensor, text, self.positives(batch))
        self._outputs.append({"sensor": sensor.float(), "text": text.float(),
                              "caption": batch["caption"], "loss": loss.detach().float(),
                              "fine": batch["fine"], "coarse": batch["coarse"],
                              "window": batch["window"]})

    def validation_step(self, batch, batch_idx):
        self._collect(batch)

    def test_step(self, batch, batch_idx):
        self._collect(batch)

    def gathered(self) -> dict[str, torch.Tensor]:
        """The epoch's outputs, concatenated (and gathered across processes under DDP)."""
        out = {k: torch.cat([o[k] for o in self._outputs]) for k in self._outputs[0]
               if k != "loss"}
        out["loss"] = torch.stack([o["loss"] for o in self._outputs]).mean()
        if self.trainer is not None and self.trainer.world_size > 1:
            out = {k: self.all_gather(v).flatten(0, 1) if v.ndim else self.all_gather(v).mean()
                   for k, v in out.items()}
        return out

    def _epoch_end(self, prefix: str) -> dict[str, float]:
        if not self._outputs:
            return {}
        out = self.gathered()
        self._outputs.clear()
        metrics = retrieval_metrics(out["sensor"], out["text"], out["caption"])
        metrics["loss"] = out["loss"].item()
        self.log_dict({f"{prefix}/{k}": v for k, v in metrics.items()}, sync_dist=False)
        return metrics

    def on_validation_epoch_end(self):
        self._epoch_end("val")

    def on_test_epoch_end(self):
        self._epoch_end("test")

    # -- optimisation ---------------------------------------------------------------------------
    def parameter_groups(self) -> list[dict]:
        decay, no_decay = [], []
        for name, param in self.named_parameters():
            if not param.requires_grad:
                continue
            plain_matrix = param.ndim >= 2 and not any(
                tag in name for tag in ("embed", "position", "cls", "loss_fn"))
            (decay if plain_matrix else no_decay).append(param)
        return [{"params": decay, "weight_decay": self.optim.weight_decay},
                {"params": no_decay, "weight_decay": 0.0}]

    def _grad_scaler(self):
        """The trainer's fp16 gradient scaler (None in fp32/bf16 or outside a trainer)."""
        trainer = self._trainer
        return getattr(trainer.precision_plugin, "scaler", None) if trainer is not None else None

    def configure_optimizers(self):
        # fused: one kernel per step and no per-parameter temporaries (less time and memory).
        # Not under fp16 loss scaling: a fused step unscales internally, after clipping would run.
        optimizer = torch.optim.AdamW(self.parameter_groups(), lr=self.optim.lr,
                                      betas=self.optim.betas, fused=self._grad_scaler() is None)
        total = max(1, int(self.trainer.estimated_stepping_batches))
        warmup = int(self.optim.warmup_ratio * total)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: warmup_cosine(step, total, warmup, self.optim.min_lr_ratio))
        return {"optimizer": optimizer,
                "lr_scheduler": {"scheduler": schedule, "interval": "step"}}

    def optimizer_step(self, epoch, batch_idx, optimizer, optimizer_closure=None):
        """Free the gradients once applied: Lightning clears them only before the next backward,
        so they would sit beside the next forward's activations (docs/performance.md)."""
        super().optimizer_step(epoch, batch_idx, optimizer, optimizer_closure)
        optimizer.zero_grad(set_to_none=True)

    def configure_gradient_clipping(self, optimizer, gradient_clip_val=None,
                                    gradient_clip_algorithm=None):
        """Lightning's mixed-precision plugin refuses to clip for a fused optimizer even under
        bf16, where no gradient scaler exists and the gradients are already true: clip here."""
        if not gradient_clip_val or self._grad_scaler() is not None:
            return super().configure_gradient_clipping(optimizer, gradient_clip_val,
                                                       gradient_clip_algorithm)
        parameters = [p for group in optimizer.param_groups for p in group["params"]]
        if (gradient_clip_algorithm or "norm") == "value":
            torch.nn.utils.clip_grad_value_(parameters, gradient_clip_val)
        else:
            torch.nn.utils.clip_grad_norm_(parameters, gradient_clip_val)
