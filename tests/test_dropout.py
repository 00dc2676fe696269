import pytest
import torch

from sensorclip.model.dropout import Dropout, keep_mask


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_every_lane_drops_at_the_requested_rate(p):
    torch.manual_seed(0)
    dropped = 1 - keep_mask(torch.Size([250_000, 4]), p, torch.device("cpu")).float().mean(0)
    # four elements share one 64-bit draw: each of the four lanes must be unbiased
    assert torch.allclose(dropped, torch.full((4,), p), atol=0.004)


def test_survivors_are_rescaled_and_gradients_follow_the_same_mask():
    torch.manual_seed(1)
    layer = Dropout(0.25).train()
    x = (torch.rand(4096, 33) + 1).requires_grad_()
    y = layer(x)
    kept = y != 0
    assert torch.allclose(y[kept], x.detach()[kept] / 0.75)
    y.sum().backward()
    assert torch.allclose(x.grad, kept.float() / 0.75)


def test_seeded_like_torch_and_identity_in_eval():
    x = torch.randn(64, 21, 96)
    layer = Dropout(0.1)
    torch.manual_seed(7)
    first = layer(x)
    torch.manual_seed(7)
    assert torch.equal(layer(x), first)
    assert not torch.equal(layer(x), first)
    assert layer.eval()(x) is x
    assert Dropout(0.0).train()(x) is x
    assert torch.count_nonzero(Dropout(1.0).train()(x)) == 0


def test_bad_probability_is_refused():
    with pytest.raises(ValueError, match="dropout probability"):
        Dropout(1.5)
