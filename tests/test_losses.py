
import pytest
import torch

from sensorclip.eval.retrieval import in_batch_accuracy, retrieval_metrics
from sensorclip.model.losses import ClipLoss, SigLipLoss, gather_batch, positive_mask


def unit(*rows):
    return torch.nn.functional.normalize(torch.tensor(rows, dtype=torch.float32), dim=-1)


def test_clip_loss_matches_a_hand_computation():
    sensor, text = unit([1, 0], [0, 1]), unit([1, 0], [0.6, 0.8])
    loss = ClipLoss(init_temperature=0.5)          # scale 2
    logits = 2 * torch.tensor([[1.0, 0.6], [0.0, 0.8]])
    row = [-(logits[i, i] - torch.logsumexp(logits[i], 0)) for i in range(2)]
    col = [-(logits[i, i] - torch.logsumexp(logits[:, i], 0)) for i in range(2)]
    expected = (sum(row) / 2 + sum(col) / 2) / 2
    assert loss(sensor, text).item() == pytest.approx(expected.item(), rel=1e-5)
    eye = torch.eye(2, dtype=torch.bool)
    assert loss(sensor, text, eye).item() == pytest.approx(expected.item(), rel=1e-5)


def test_duplicate_captions_are_not_negatives():
    sensor = unit([1, 0], [0.9, 0.1], [0, 1])
    text = unit([1, 0], [1, 0], [0, 1])             # windows 0 and 1 share a caption
    positives = positive_mask(torch.tensor([5, 5, 7]))
    assert positives.tolist() == [[True, True, False], [True, True, False], [False, False, True]]
    loss = ClipLoss(init_temperature=1.0)
    logits = sensor @ text.T
    log_p = torch.log_softmax(logits, 1)
    log_q = torch.log_softmax(logits.T, 1)
    s2t, t2s = (-torch.stack([(log[0, 0] + log[0, 1]) / 2, (log[1, 0] + log[1, 1]) / 2, log[2, 2]])
                for log in (log_p, log_q))
    expected = (s2t.mean() + t2s.mean()) / 2
    assert loss(sensor, text, positives).item() == pytest.approx(expected.item(), rel=1e-5)
    labels = positive_mask(torch.tensor([1, 2, 3]), labels=torch.tensor([0, 1, 0]))
    assert labels[0, 2] and not labels[0, 1]


def test_siglip_loss_matches_a_hand_computation():
    sensor, text = unit([1, 0], [0, 1]), unit([1, 0], [0, 1])
    loss = SigLipLoss(init_scale=2.0, init_bias=-1.0)
    logits = 2 * (sensor @ text.T) - 1
    signs = torch.tensor([[1.0, -1.0], [-1.0, 1.0]])
    expected = -torch.nn.functional.logsigmoid(signs * logits).sum() / 2
    assert loss(sensor, text).item() == pytest.approx(expected.item(), rel=1e-5)
    assert {n for n, _ in loss.named_parameters()} == {"log_scale", "bias"}


def test_logit_scale_is_clamped_at_100():
    loss = ClipLoss(init_temperature=0.001)
    assert loss.scale.item() == pytest.approx(100.0)


def test_retrieval_metrics_by_hand_with_duplicate_captions():
    sensor = unit([1, 0], [0, 1], [0.7, 0.7])
    text = unit([0, 1], [1, 0], [1, 0])               # windows 1 and 2 share caption 9
    metrics = retrieval_metrics(sensor, text, torch.tensor([4, 9, 9]))
    # sensor 0 -> best positive text 0 (sim 0) ranks after texts 1, 2 (sim 1): rank 3
    # sensor 1 -> positives texts 1, 2 (sim 0) behind text 0 (sim 1): rank 2
    # sensor 2 -> positives texts 1, 2 (sim .71) tie with text 0 (.71): pessimistic rank 2
    assert metrics["recall@1_sensor_to_text"] == pytest.approx(0.0)
    assert metrics["recall@5_sensor_to_text"] == pytest.approx(1.0)
    assert metrics["median_rank_sensor_to_text"] == 2
    # text 0 -> sensor 0 (sim 0) behind sensors 1 and 2: rank 3; texts 1, 2 (caption 9) ->
    # positives sensors 1, 2: the best (.71) ranks behind sensor 0 (sim 1): rank 2
    assert metrics["median_rank_text_to_sensor"] == 2
    assert metrics["recall@1_text_to_sensor"] == pytest.approx(0.0)
    perfect = retrieval_metrics(sensor, sensor, torch.tensor([1, 2, 3]))
    assert perfect["recall@1_sensor_to_text"] == 1.0 and perfect["cosine_gap"] > 0


def test_in_batch_accuracy_counts_duplicates_as_hits():
    logits = torch.tensor([[0.0, 5.0], [0.0, 5.0]])
    assert in_batch_accuracy(logits, torch.eye(2, dtype=torch.bool)) == (0.5, 0.5)
    assert in_batch_accuracy(logits, torch.ones(2, 2, dtype=torch.bool)) == (1.0, 1.0)


def _global_batch_worker(rank: int, world: int, init: str, out: str) -> None:
    """One data-parallel process: half the batch, the loss on the gathered global batch."""
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=world)
    torch.manual_seed(0)
    encoder = torch.nn.Linear(6, 4)
    loss_fn = ClipLoss(init_temperature=0.2)
    model = DistributedDataParallel(torch.nn.ModuleDict({"enc": encoder, "loss": loss_fn}))
    x, text, captions = _global_inputs()
    rows = slice(rank * 4, (rank + 1) * 4)
    sensor = torch.nn.functional.normalize(model.module["enc"](x[rows]), dim=-1)
    sensor, local_text, caption = gather_batch(sensor, text[rows], captions[rows])
    loss = model.module["loss"](sensor, local_text, positive_mask(caption))
    # DDP's reducer runs on a forward through the wrapper; emulate it with an explicit average
    loss.backward()
    for p in model.parameters():
        dist.all_reduce(p.grad)
        p.grad /= world
    if rank == 0:
        torch.save({"loss": loss.detach(), "grads": [p.grad for p in model.parameters()]}, out)
    dist.destroy_process_group()


def _global_inputs():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(8, 6, generator=g)
    text = torch.nn.functional.normalize(torch.randn(8, 4, generator=g), dim=-1)
    captions = torch.tensor([0, 1, 2, 0, 3, 4, 2, 5])       # shared captions across processes
    return x, text, captions


def test_data_parallel_loss_and_gradients_equal_one_process_on_the_global_batch(tmp_path):
    import torch.multiprocessing as mp
    out = tmp_path / "rank0.pt"
    init = f"file://{tmp_path / 'rendezvous'}"
    mp.spawn(_global_batch_worker, args=(2, init, str(out)), nprocs=2, join=True)
    parallel = torch.load(out)
    torch.manual_seed(0)
    encoder = torch.nn.Linear(6, 4)
    loss_fn = ClipLoss(init_temperature=0.2)
    x, text, captions = _global_inputs()
    sensor = torch.nn.functional.normalize(encoder(x), dim=-1)
    loss = loss_fn(sensor, text, positive_mask(captions))
    loss.backward()
    assert parallel["loss"] == pytest.approx(loss.item(), rel=1e-6)
    single = [p.grad for p in torch.nn.ModuleDict({"enc": encoder, "loss": loss_fn}).parameters()]
    for a, b in zip(parallel["grads"], single):
        assert torch.allclose(a, b, atol=1e-6)
    assert gather_batch(text)[0] is text                     # one process: unchanged
