import math

import pytest
import torch

from sensorclip.config import EncoderConfig, FeatureConfig
from sensorclip.errors import SensorClipError
from sensorclip.model.encoder import SensorEncoder, TextProjection, alibi_bias, alibi_slopes
from sensorclip.model.features import InputProjection, delta_bucket, fourier

SMALL = EncoderConfig(d_model=32, n_layers=2, n_heads=4, d_ff=64, dropout=0.0, head_hidden=48)
ALL_FEATURES = FeatureConfig(coords=True, time_delta=True, time_of_day=True)


def make_encoder(config=SMALL, features=ALL_FEATURES, pairs=10, image_dim=24, seed=0):
    torch.manual_seed(seed)
    inputs = InputProjection(torch.randn(pairs, image_dim), config.d_model,
                             config.trainable_input_projection)
    return SensorEncoder(inputs, torch.rand(pairs, 2), config, features, projection_dim=16).eval()


def batch(lengths, max_len=None, pairs=10, seed=1):
    g = torch.Generator().manual_seed(seed)
    max_len = max_len or max(lengths)
    valid = torch.arange(max_len)[None] < torch.tensor(lengths)[:, None]
    pair = torch.randint(pairs, (len(lengths), max_len), generator=g).masked_fill(~valid, pairs)
    delta = torch.rand(len(lengths), max_len, generator=g) * 100
    hour = torch.rand(len(lengths), max_len, generator=g) * 24
    return pair, valid, delta, hour


def test_shapes_and_unit_norm():
    out = make_encoder()(*batch([5, 3, 7]))
    assert out.shape == (3, 16)
    assert torch.allclose(out.norm(dim=-1), torch.ones(3), atol=1e-5)


def test_the_probe_representation_is_the_pooled_vector_before_the_head():
    encoder = make_encoder()
    inputs = batch([5, 3, 7])
    pooled = encoder.represent(*inputs)
    assert pooled.shape == (3, SMALL.d_model)
    assert torch.allclose(encoder.project(pooled), encoder(*inputs), atol=1e-6)
    assert not torch.allclose(pooled.norm(dim=-1), torch.ones(3), atol=1e-2)


@pytest.mark.parametrize("positions", ["alibi", "learned"])
@pytest.mark.parametrize("pooling", ["cls", "mean", "cls_mean"])
def test_padding_never_changes_the_output(positions, pooling):
    encoder = make_encoder(EncoderConfig(**{**SMALL.__dict__, "positions": positions,
                                            "pooling": pooling}))
    pair, valid, delta, hour = batch([6], max_len=6)
    alone = encoder(pair, valid, delta, hour)
    padded = [torch.cat([t, fill.expand(1, 9)], dim=1) for t, fill in
              ((pair, torch.tensor([[10]])), (valid, torch.tensor([[False]])),
               (delta, torch.tensor([[55.0]])), (hour, torch.tensor([[3.0]])))]
    assert torch.allclose(alone, encoder(*padded), atol=1e-5)
    # and a sequence batched with a longer one gives the same vector as alone
    other = batch([15], max_len=15, seed=9)
    both = [torch.cat([a, b], dim=0) for a, b in zip(padded, other)]
    assert torch.allclose(alone, encoder(*both)[:1], atol=1e-5)


def test_alibi_slopes_and_bias_values():
    assert torch.allclose(alibi_slopes(8), torch.tensor([2.0 ** -(i + 1) for i in range(8)]))
    assert torch.allclose(alibi_slopes(4), torch.tensor([2.0 ** -(2 * (i + 1)) for i in range(4)]))
    assert len(alibi_slopes(6)) == 6
    bias = alibi_bias(8, 5)
    assert bias.shape == (8, 5, 5)
    assert bias[0, 2, 4].item() == pytest.approx(-0.5 * 2)         # slope 1/2, distance 2
    assert bias[7, 1, 4].item() == pytest.approx(-(2 ** -8) * 3)
    assert torch.all(bias[:, 0, :] == 0) and torch.all(bias[:, :, 0] == 0)   # CLS is free
    assert torch.all(bias.diagonal(dim1=1, dim2=2) == 0)


def test_pooling_weights():
    hidden = torch.tensor([[[1.0, 0.0], [0.0, 2.0], [0.0, 4.0], [9.0, 9.0]]])
    valid = torch.tensor([[True, True, False]])
    for pooling, weight, expected in (("cls", 0.5, [1.0, 0.0]), ("mean", 0.5, [0.0, 3.0]),
                                      ("cls_mean", 0.25, [0.25, 2.25])):
        encoder = make_encoder(EncoderConfig(**{**SMALL.__dict__, "pooling": pooling,
                                                "pooling_cls_weight": weight}))
        assert encoder.pool(hidden, valid).tolist() == [expected]


def test_folded_table_equals_projection_of_the_embedding():
    torch.manual_seed(0)
    embeddings = torch.randn(7, 24)
    frozen = InputProjection(embeddings, 32, trainable=False)
    index = torch.tensor([[0, 3, 6, 7], [2, 2, 1, 5]])
    per_token = frozen.project(frozen.pairs[index.clamp(max=6)])
    per_token[0, 3] = 0                                              # index 7 is padding
    assert torch.allclose(frozen(index), per_token, atol=1e-5)
    assert not any(p.requires_grad for p in frozen.parameters())
    trainable = InputProjection(embeddings, 32, trainable=True)
    trainable(index).sum().backward()
    assert trainable.linear.weight.grad is not None
    # centred + normalised + orthogonal + rescaled: rows have RMS 1 and distinct directions
    assert torch.allclose(frozen.folded[:7].pow(2).mean(1), torch.ones(7), atol=1e-5)


def test_features_fourier_and_delta_buckets():
    f = fourier(torch.tensor([[0.5, 0.25]]), 3)
    assert f.shape == (1, 12)
    assert f[0, 0].item() == pytest.approx(math.sin(math.pi * 0.5))
    buckets = delta_bucket(torch.tensor([0.0, 1.0, 60.0, 3600.0, 1e6]), 64, 3600.0)
    assert buckets[0] == 0 and buckets[-1] == 63 and buckets[-2] == 63
    assert torch.all(buckets[1:] >= buckets[:-1])


def test_coordinates_really_reach_the_model():
    encoder = make_encoder(features=FeatureConfig(coords=True))
    pair, valid, delta, hour = batch([5])
    before = encoder(pair, valid)
    encoder.features.pair_xy[:10] = torch.rand(10, 2)
    assert not torch.allclose(before, encoder(pair, valid))


def test_text_projection_and_bad_configs():
    assert TextProjection("none", 16, 16)(torch.randn(2, 16)).shape == (2, 16)
    assert TextProjection("mlp", 16, 8)(torch.randn(2, 16)).shape == (2, 8)
    with pytest.raises(SensorClipError, match="projection_dim"):
        TextProjection("none", 16, 8)
    with pytest.raises(SensorClipError, match="divisible"):
        EncoderConfig(d_model=30, n_heads=4)


def test_cpu_training_attention_is_the_same_function_as_sdpa():
    """Training on the CPU computes attention by hand (for the cheap dropout mask); with a drop
    probability that rounds to no drops it must equal the fused SDPA path used in evaluation."""
    config = EncoderConfig(**{**SMALL.__dict__, "dropout": 1e-9})
    encoder = make_encoder(config)
    pair, valid, delta, hour = batch([5, 3, 7])
    evaluated = encoder(pair, valid, delta, hour)
    trained = encoder.train()(pair, valid, delta, hour)
    assert torch.allclose(trained, evaluated, atol=1e-5)
