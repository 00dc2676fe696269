"""LightningDataModule: windows as index tensors into the event arrays and the two caches.

Everything lives in memory as tensors: per event its (sensor, state) pair row and timestamp, per
window its start, length, labels and caption ids, per unique caption its text embedding. A batch
is built in one go from a list of window indices with tensor gathers (``WindowBatches``): no
per-window Python objects, no per-event loop. Training draws a random paraphrase per window per
epoch (in the sampler, from (seed, epoch) alone); validation and test always use the first one.
Data loading never touches torch's global RNG, so the only random draws in a training step are
the model's, which the LightningModule reseeds per epoch: a resumed run replays exactly.
"""

from __future__ import annotations

import lightning as L
import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, SequentialSampler

from sensorclip.config import LoaderConfig, TextEncoderConfig
from sensorclip.data.captions import build_phrasebook, home_labels
from sensorclip.data.windows import SPLITS
from sensorclip.errors import SensorClipError
from sensorclip.eval.zeroshot import is_background, label_descriptions
from sensorclip.frozen.text import TextEncoder
from sensorclip.multihome import prepare_homes
from sensorclip.pipeline import STAGES, Prepared
from sensorclip.units import EPOCH_WEEKDAY, US_PER_DAY, US_PER_HOUR, US_PER_S


def event_inputs(event_pair: torch.Tensor, event_time_us: torch.Tensor, pad_index: int,
                 start: torch.Tensor, length: torch.Tensor) -> dict[str, torch.Tensor]:
    """What the encoder reads of windows ``[start, start + length)``, padded to the longest:
    each event's pair row (``pad_index`` after the end), validity, seconds since the previous
    event (0 for the first) and hours since Monday 00:00 (time of day and weekday in one)."""
    offsets = torch.arange(int(length.max()))
    valid = offsets[None, :] < length[:, None]
    position = (start[:, None] + offsets[None, :]).clamp(max=len(event_pair) - 1)
    pair = torch.where(valid, event_pair[position], pad_index)
    time_us = event_time_us[position]
    delta = torch.zeros(valid.shape, dtype=torch.float32)
    delta[:, 1:] = ((time_us[:, 1:] - time_us[:, :-1]) / US_PER_S).float()
    delta = delta.masked_fill(~valid, 0)
    hour = (((time_us + EPOCH_WEEKDAY * US_PER_DAY) % (7 * US_PER_DAY)) / US_PER_HOUR).float()
    return {"pair": pair, "valid": valid, "delta_s": delta, "hour": hour}


def model_inputs(prep: Prepared) -> dict:
    """How events enter the model (``SensorClipModule``'s input arguments): each pair's frozen
    embedding (image, sentence or both, in column blocks ``input_parts``), or, without one
    (``model=learned``), its sensor and state codes for trainable embeddings; and each pair's
    position in the home, in [0, 1]."""
    home = prep.home
    common = {"n_pairs": len(prep.pairs), "pair_xy": torch.as_tensor(prep.pair_xy)}
    if prep.pair_embeddings is not None:
        return {**common, "inputs": "image", "image_dim": int(prep.pair_embeddings.shape[1]),
                "input_parts": list(prep.input_parts), "combine": prep.input_combine,
                "pair_embeddings": torch.as_tensor(prep.pair_embeddings, dtype=torch.float32)}
    sensors = {sid: i for i, sid in enumerate(home.sensor_ids)}
    states = sorted({state for _, state in prep.pairs})
    codes = [(sensors[s], states.index(state)) for s, state in prep.pairs]
    return {**common, "inputs": "learned", "image_dim": 0, "n_sensors": len(sensors),
            "n_states": len(states), "pair_codes": torch.tensor(codes, dtype=torch.long)}


def label_text_inputs(prep: Prepared, text_config: TextEncoderConfig) -> dict:
    """What label-aware pretraining reads (``SensorClipModule``'s ``label_*`` arguments): the
    descriptions of every training label (a single home's own labels, or a multi-home data
    set's common names, as zero-shot describes them), embedded by the frozen text encoder, and
    each fine label code's row (-1: background, never a target)."""
    book = build_phrasebook(prep.home, prep.sensor_names, home_labels(prep.home, prep.fine_names))
    descriptions = label_descriptions(prep.home, "fine", prep.fine_names, prep.coarse_names,
                                      prep.coarse_of_fine, book)
    described = [code for code, name in enumerate(prep.fine_names) if not is_background(name)]
    rows = np.full(len(prep.fine_names), -1, dtype=np.int64)
    rows[described] = np.arange(len(described))
    texts = [text for code in described for text in descriptions[code]]
    owner = [rows[code] for code in described for _ in descriptions[code]]
    vectors = TextEncoder(text_config).encode(texts, progress=False)
    return {"n_label_texts": len(texts), "n_fine": len(prep.fine_names),
            "n_label_rows": len(described),
            "label_texts": torch.as_tensor(vectors, dtype=torch.float32),
            "label_owner": torch.as_tensor(owner, dtype=torch.long),
            "label_rows": torch.as_tensor(rows)}


class WindowBatches(Dataset):
    """``dataset[window indices]`` or ``dataset[(window indices, paraphrase columns)]`` -> one
    padded batch of tensors (plain indices: the first paraphrase of each window)."""

    def __init__(self, event_pair: torch.Tensor, event_time_us: torch.Tensor, pad_index: int,
                 start: np.ndarray, length: np.ndarray, captions: np.ndarray,
                 text: torch.Tensor, fine: np.ndarray, coarse: np.ndarray):
        self.event_pair, self.event_time_us = event_pair, event_time_us
        self.pad_index = pad_index
        self.start = torch.as_tensor(start, dtype=torch.long)
        self.length = torch.as_tensor(length, dtype=torch.long)
        self.captions = torch.as_tensor(captions, dtype=torch.long)
        self.text = text
        self.fine = torch.as_tensor(fine, dtype=torch.long)
        self.coarse = torch.as_tensor(coarse, dtype=torch.long)

    def __len__(self) -> int:
        return len(self.start)

    def subset(self, rows: np.ndarray) -> WindowBatches:
        """The same data, restricted to some of its windows."""
        rows = torch.as_tensor(rows, dtype=torch.long)
        return WindowBatches(self.event_pair, self.event_time_us, self.pad_index,
                             self.start[rows], self.length[rows], self.captions[rows], self.text,
                             self.fine[rows], self.coarse[rows])

    @property
    def paraphrases(self) -> int:
        return int(self.captions.shape[1])

    def __getitem__(self, request) -> dict[str, torch.Tensor]:
        indices, columns = request if isinstance(request, tuple) else (request, None)
        index = torch.as_tensor(indices, dtype=torch.long)
        batch = event_inputs(self.event_pair, self.event_time_us, self.pad_index,
                             self.start[index], self.length[index])
        column = (torch.zeros(len(index), dtype=torch.long) if columns is None
                  else torch.as_tensor(columns, dtype=torch.long))
        caption = self.captions[index, column]
        batch.update(caption=caption, fine=self.fine[index], coarse=self.coarse[index],
                     window=index)
        if self.text is not None:
            batch["text"] = self.text[caption].float()
        return batch


class EpochBatchSampler(torch.utils.data.Sampler):
    """Shuffled batches, with one paraphrase column drawn per window, as a function of
    (seed, epoch) only: yields ``(window indices, paraphrase columns)``.

    Lightning calls ``set_epoch`` before every epoch, so a run resumed from an epoch's checkpoint
    replays exactly the batches and captions an uninterrupted run would have seen.
    """

    def __init__(self, n: int, batch_size: int, drop_last: bool, seed: int = 0,
                 paraphrases: int = 1):
        self.n, self.batch_size, self.drop_last, self.seed = n, batch_size, drop_last, seed
        self.paraphrases = paraphrases
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _rng(self, stream: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, self.epoch, stream])

    def batches(self) -> list[np.ndarray]:
        order = self._rng(0).permutation(self.n)
        stop = len(self) * self.batch_size if self.drop_last else self.n
        return [order[lo:lo + self.batch_size] for lo in range(0, stop, self.batch_size)]

    def __iter__(self):
        columns = self._rng(1).integers(self.paraphrases, size=self.n)
        for batch in self.batches():
            yield batch.tolist(), columns[batch].tolist()

    def __len__(self) -> int:
        return self.n // self.batch_size if self.drop_last else -(-self.n // self.batch_size)


class LengthBucketSampler(EpochBatchSampler):
    """Shuffled batches of windows with similar lengths: less padding for variable windows."""

    def __init__(self, lengths: np.ndarray, batch_size: int, drop_last: bool, seed: int = 0,
                 paraphrases: int = 1, bucket: int = 50):
        super().__init__(len(lengths), batch_size, drop_last, seed, paraphrases)
        self.lengths, self.bucket = lengths, bucket

    def batches(self) -> list[np.ndarray]:
        rng = self._rng(0)
        order = rng.permutation(len(self.lengths))
        span = self.batch_size * self.bucket
        batches = []
        for lo in range(0, len(order), span):
            chunk = order[lo:lo + span]
            chunk = chunk[np.argsort(self.lengths[chunk], kind="stable")]
            batches += [chunk[i:i + self.batch_size] for i in range(0, len(chunk), self.batch_size)]
        if self.drop_last:
            batches = [b for b in batches if len(b) == self.batch_size]
        return [batches[k] for k in rng.permutation(len(batches))]

    def __len__(self) -> int:
        if not self.drop_last:
            return super().__len__()
        span = self.batch_size * self.bucket
        full = len(self.lengths) // span * (span // self.batch_size)
        return full + (len(self.lengths) % span) // self.batch_size


class SensorClipDataModule(L.LightningDataModule):
    """``stages``: the pipeline stages to run; without ``text`` (tools that only embed windows)
    batches carry no caption vectors and the DataModule cannot train."""

    def __init__(self, stage_configs: dict, loader: LoaderConfig, cache_dir: str, seed: int = 0,
                 stages: tuple[str, ...] = STAGES):
        super().__init__()
        self.stage_configs, self.loader, self.cache_dir = stage_configs, loader, cache_dir
        self.seed, self.stages = seed, stages
        self.prepared: Prepared | None = None
        self.splits: dict[str, WindowBatches] = {}

    # -- data -----------------------------------------------------------------------------------
    def prepare_data(self) -> None:
        """Build every missing cache (once, on the main process)."""
        prepare_homes(**self.stage_configs, cache_dir=self.cache_dir, stages=self.stages)

    def setup(self, stage: str | None = None) -> None:
        if self.prepared is not None:
            return
        prep = prepare_homes(**self.stage_configs, cache_dir=self.cache_dir, stages=self.stages)
        self.prepared = prep
        event_pair = torch.as_tensor(prep.event_pair, dtype=torch.long)
        event_time = torch.as_tensor(prep.time_us, dtype=torch.long)
        text = (torch.as_tensor(prep.text_embeddings) if prep.text_embeddings is not None
                else None)
        self._tensors = (event_pair, event_time, text)
        self.splits = {name: self.eval_dataset(name) for name in SPLITS}

    def eval_dataset(self, split: str) -> WindowBatches:
        """A split's windows in their stored order (the training sampler picks paraphrases)."""
        prep, (event_pair, event_time, text) = self.prepared, self._tensors
        w = prep.windows
        sel = w.split == SPLITS.index(split)
        return WindowBatches(event_pair, event_time, len(prep.pairs), w.start[sel], w.length[sel],
                             prep.captions.index[sel], text, w.fine[sel], w.coarse[sel])

    # -- what the model needs to know ------------------------------------------------------------
    def model_inputs(self) -> dict:
        return model_inputs(self.prepared)

    @property
    def text_dim(self) -> int:
        return int(self.prepared.text_embeddings.shape[1])

    # -- loaders --------------------------------------------------------------------------------
    def _loader(self, name: str) -> DataLoader:
        dataset = self.splits[name]
        if len(dataset) == 0:
            raise SensorClipError(f"the {name} split has no windows: give split.{name} a larger "
                                  "fraction or use a longer log")
        train = name == "train"
        size = self.loader.batch_size if train else self.loader.eval_batch_size
        drop_last = train and len(dataset) >= size
        bucket = self.loader.bucket_by_length == "true" or (
            self.loader.bucket_by_length == "auto" and len(dataset) > 0
            and bool(dataset.length.min() != dataset.length.max()))
        if train and bucket:
            sampler = LengthBucketSampler(dataset.length.numpy(), size, drop_last, self.seed,
                                          dataset.paraphrases)
        elif train:
            sampler = EpochBatchSampler(len(dataset), size, drop_last, self.seed,
                                        dataset.paraphrases)
        else:
            sampler = BatchSampler(SequentialSampler(dataset), size, drop_last=False)
        pin = self.loader.pin_memory and torch.cuda.is_available()
        # its own generator: creating the iterator must not draw from torch's global RNG
        return DataLoader(dataset, sampler=sampler, batch_size=None,
                          num_workers=self.loader.num_workers, pin_memory=pin,
                          persistent_workers=self.loader.num_workers > 0,
                          generator=torch.Generator().manual_seed(self.seed))

    def train_dataloader(self) -> DataLoader:
        return self._loader("train")

    def val_dataloader(self) -> DataLoader:
        return self._loader("val")

    def test_dataloader(self) -> DataLoader:
        return self._loader("test")
