"""Label-aware pretraining (``loss.label_weight``): the label term by hand, and the labels of
windows outside the training split (a held-out target's, or this home's validation and test
days) never reach the trained weights."""

from __future__ import annotations

import math

import lightning as L
import pytest
import torch
from omegaconf import OmegaConf

from sensorclip.data.windows import SPLITS
from sensorclip.errors import SensorClipError
from sensorclip.model.losses import label_alignment_loss, label_prototypes
from sensorclip.runs import build_datamodule, build_model, untrained_model


def test_the_label_term_by_hand():
    sensor = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    prototypes = label_prototypes(torch.tensor([[2.0, 0.0], [0.0, 1.0], [0.0, 3.0]]),
                                  torch.tensor([0, 1, 1]), 2)
    assert torch.allclose(prototypes, torch.eye(2))           # each label's mean, unit length
    targets = torch.tensor([0, -1, 1])                          # the second window: background
    loss = label_alignment_loss(sensor, prototypes, targets, scale=2.0)
    # window 1: logits (2, 0), target 0; window 3: logits (1.2, 1.6), target 1
    expected = (-math.log(math.exp(2) / (math.exp(2) + 1))
                - math.log(math.exp(1.6) / (math.exp(1.2) + math.exp(1.6)))) / 2
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    none = label_alignment_loss(sensor, prototypes, torch.full((3,), -1), 2.0)
    assert none.item() == 0.0


def trained_weights(cfg, poison: str | None) -> dict[str, torch.Tensor]:
    """One short epoch of training; ``poison`` scrambles the labels of that split's windows
    (and a training label change is the control that the test can fail)."""
    datamodule = build_datamodule(OmegaConf.to_container(cfg, resolve=True))
    prep = datamodule.prepared
    if poison is not None:
        windows = prep.windows
        chosen = windows.split == SPLITS.index(poison)
        windows.fine[chosen] = (windows.fine[chosen] + 1) % len(prep.fine_names)
        datamodule.splits = {name: datamodule.eval_dataset(name) for name in SPLITS}
    model = build_model(OmegaConf.to_container(cfg, resolve=True), datamodule)
    trainer = L.Trainer(max_epochs=1, limit_train_batches=3, limit_val_batches=0,
                        logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, deterministic=True, accelerator="cpu")
    trainer.fit(model, train_dataloaders=datamodule.train_dataloader())
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@pytest.mark.slow
def test_labels_outside_the_training_windows_never_reach_the_weights(compose_config):
    cfg = compose_config("loss.label_weight=1.0", "model=text")
    clean = trained_weights(cfg, None)
    for split in ("val", "test"):
        poisoned = trained_weights(cfg, split)
        assert all(torch.equal(clean[k], poisoned[k]) for k in clean), split
    moved = trained_weights(cfg, "train")                       # the control: it can fail
    assert not all(torch.equal(clean[k], moved[k]) for k in clean)
    captions_only = trained_weights(compose_config("model=text"), "train")
    assert "label_texts" not in captions_only                   # label_weight=0: no label term
    assert clean["label_texts"].shape[0] >= clean["label_rows"].max().item() + 1


def test_a_label_term_without_described_labels_is_refused():
    from sensorclip.model.module import SensorClipModule
    with pytest.raises(SensorClipError, match="label_weight=0"):
        SensorClipModule(encoder={}, features={}, loss={"label_weight": 1.0}, optim={},
                         text_projection="linear", text_dim=8, n_pairs=2, image_dim=4,
                         n_label_rows=1, n_fine=2)


@pytest.mark.slow
def test_the_untrained_reference_starts_where_the_label_aware_model_starts(compose_config):
    """The references' untrained encoder leaves the label term out (it acts in training only)
    but keeps the very initial weights of the model that is trained with it."""
    cfg = OmegaConf.to_container(compose_config("loss.label_weight=1.0", "model=text"),
                                 resolve=True)
    datamodule = build_datamodule(cfg)
    trained_start = build_model(cfg, datamodule).state_dict()
    reference = untrained_model(cfg, datamodule)
    assert reference.label_weight == 0 and "label_texts" not in reference.state_dict()
    assert all(torch.equal(value, trained_start[key])
               for key, value in reference.state_dict().items())


@pytest.mark.slow
def test_a_frozen_body_trains_only_the_projection_heads(compose_config):
    """encoder.train_body=false, the reference for what training the body adds: after training
    the body is its seeded initialisation, the heads have moved (and with the body trained
    too, the body moves: the check can fail)."""
    cfg = compose_config("loss.label_weight=1.0", "model=text", "encoder.train_body=false")
    start = untrained_model(OmegaConf.to_container(cfg, resolve=True),
                            build_datamodule(OmegaConf.to_container(cfg, resolve=True)))
    initial = {k: v.detach().clone() for k, v in start.state_dict().items()}
    frozen = trained_weights(cfg, None)
    body = [k for k in initial if k.startswith("encoder.") and not k.startswith("encoder.head.")]
    heads = [k for k in initial if k.startswith(("encoder.head.", "text_head."))]
    assert body and heads
    assert all(torch.equal(frozen[k], initial[k]) for k in body)
    assert not all(torch.equal(frozen[k], initial[k]) for k in heads)
    trained = trained_weights(compose_config("loss.label_weight=1.0", "model=text"), None)
    assert not all(torch.equal(trained[k], initial[k]) for k in body if "weight" in k)
