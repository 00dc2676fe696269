import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from sensorclip.model.datamodule import (
    EpochBatchSampler,
    LengthBucketSampler,
    WindowBatches,
    event_inputs,
)
from sensorclip.runs import build_datamodule


def flatten(batches):
    return [i for indices, _ in batches for i in indices]


@pytest.mark.parametrize("drop_last", [False, True])
def test_epoch_sampler_is_a_function_of_seed_and_epoch(drop_last):
    sampler = EpochBatchSampler(103, 10, drop_last, seed=3, paraphrases=4)
    sampler.set_epoch(2)
    first = list(sampler)
    assert len(first) == len(sampler) == (10 if drop_last else 11)
    assert list(sampler) == first
    seen = flatten(first)
    assert len(set(seen)) == len(seen) == (100 if drop_last else 103)
    sampler.set_epoch(3)
    assert list(sampler) != first
    columns = [c for _, cols in first for c in cols]
    assert set(columns) == {0, 1, 2, 3}


def test_length_buckets_cut_padding_and_keep_every_window_once():
    lengths = np.random.default_rng(0).integers(1, 200, size=5000)
    sampler = LengthBucketSampler(lengths, 32, drop_last=True, seed=0, paraphrases=2)
    batches = list(sampler)
    assert len(batches) == len(sampler)
    seen = flatten(batches)
    assert len(set(seen)) == len(seen)
    padded = sum(32 * lengths[i].max() for i, _ in batches)
    random_batches = [b for b, _ in EpochBatchSampler(5000, 32, True, 0, 2)]
    padded_random = sum(32 * lengths[i].max() for i in random_batches)
    assert padded < 0.6 * padded_random


def test_batches_gather_windows_and_the_requested_paraphrase():
    times = torch.arange(10, dtype=torch.long) * 1_000_000
    captions = np.array([[0, 1], [2, 3], [4, 5]])
    data = WindowBatches(torch.arange(10), times, pad_index=99, start=np.array([0, 4, 7]),
                         length=np.array([3, 2, 3]), captions=captions,
                         text=torch.eye(6).half(), fine=np.zeros(3), coarse=np.zeros(3))
    batch = data[([1, 2], [1, 0])]
    assert batch["caption"].tolist() == [3, 4]
    assert torch.equal(batch["text"], torch.eye(6)[[3, 4]])      # float16 store, float32 rows
    assert batch["text"].dtype == torch.float32
    assert batch["pair"].tolist() == [[4, 5, 99], [7, 8, 9]]
    assert batch["delta_s"].tolist() == [[0, 1, 0], [0, 1, 1]]
    assert data[[0, 1]]["caption"].tolist() == [0, 2]          # plain indices: first paraphrase


def test_iterating_the_training_loader_leaves_the_global_rng_alone(compose_config):
    datamodule = build_datamodule(OmegaConf.to_container(compose_config(), resolve=True))
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    for _ in zip(range(3), datamodule.train_dataloader()):
        pass
    assert torch.equal(torch.rand(3), expected)


def test_event_inputs_give_hours_since_monday():
    monday = np.datetime64("2024-03-04T00:00:00", "us").astype(np.int64)     # a Monday
    hours = np.array([0.0, 12.5, 3 * 24 + 12, 6 * 24 + 23.75])
    times = torch.as_tensor(monday + (hours * 3_600_000_000).astype(np.int64))
    batch = event_inputs(torch.zeros(4, dtype=torch.long), times, 9, torch.tensor([0]),
                         torch.tensor([4]))
    assert batch["hour"][0].tolist() == pytest.approx(hours.tolist())
    assert batch["delta_s"][0].tolist() == pytest.approx([0.0, 45000.0, 257400.0, 301500.0])
