"""Builders for tiny, randomly initialised models of the real classes (no download needed)."""

from __future__ import annotations

from pathlib import Path

WORDS = ("the a resident someone person moves walks is in on at to from near kitchen bedroom "
         "bathroom hallway office living room dining entrance fridge stove bed desk sofa door "
         "opens morning evening night afternoon minutes about for with movement motion").split()


def tiny_tokenizer(directory: Path, max_length: int = 64):
    from tokenizers import Tokenizer, models, pre_tokenizers
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
    import torch
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
