"""Builders for tiny, randomly initialised models of the real classes (no download needed)."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer, models, pre_tokenizers

WORDS = ("the a resident someone person moves walks is in on at to from near kitchen bedroom "
         "bathroom hallway office living room dining entrance fridge stove bed desk sofa door "
         "opens morning evening night afternoon minutes about for with movement motion").split()


def tiny_tokenizer(directory: Path, max_length: int = 64):
    from transformers import PreTrainedTokenizerFast
    vocab = {tok: i for i, tok in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", *WORDS])}
    core = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, pad_token="[PAD]",
                                        unk_token="[UNK]", model_max_length=max_length)
    tokenizer.save_pretrained(directory)
    return len(vocab)


def tiny_text_model(directory: Path, kind: str = "bert", seed: int = 0) -> Path:
    """Save a tiny random text model of the class that ``kind``'s pooling loads."""
    import transformers as tf
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    vocab = tiny_tokenizer(directory)
    torch.manual_seed(seed)
    common = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                  num_attention_heads=4, vocab_size=vocab)
    if kind == "bert":
        model = tf.BertModel(tf.BertConfig(**common, max_position_embeddings=128))
    elif kind == "clip":
        model = tf.CLIPTextModelWithProjection(tf.CLIPTextConfig(
            **common, projection_dim=16, max_position_embeddings=77, eos_token_id=3,
            pad_token_id=0, bos_token_id=2))
    elif kind == "siglip":
        model = tf.SiglipTextModel(tf.SiglipTextConfig(**common, max_position_embeddings=64))
    else:
        raise ValueError(kind)
    model.save_pretrained(directory)
    return directory


def tiny_vision_model(directory: Path, family: str, seed: int = 0) -> Path:
    """Save a tiny random vision model of the real class, with a preprocessor config."""

    import transformers as tf
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    common = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                  num_attention_heads=4, image_size=64, patch_size=16)
    if family == "clip":
        model = tf.CLIPVisionModelWithProjection(tf.CLIPVisionConfig(**common, projection_dim=24))
    elif family == "dinov2":
        model = tf.Dinov2Model(tf.Dinov2Config(**{**common, "patch_size": 14}))
    elif family == "siglip":
        model = tf.SiglipVisionModel(tf.SiglipVisionConfig(**common))
    else:
        raise ValueError(family)
    model.save_pretrained(directory)
    (directory / "preprocessor_config.json").write_text(json.dumps(
        {"image_mean": [0.4, 0.4, 0.4], "image_std": [0.3, 0.3, 0.3]}))
    return directory


def tiny_timm_weights(path: Path, name: str = "vit_tiny_patch16_224", seed: int = 0) -> Path:
    """A timm ViT state dict saved as safetensors, standing in for downloaded weights."""
    import timm
    torch.manual_seed(seed)
    model = timm.create_model(name, pretrained=False, num_classes=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
    return path
