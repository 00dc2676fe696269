"""Ways to run the frozen text encoder on a CPU, side by side: speed and agreement with fp32.

    python scripts/bench_text.py [--captions 1024] [--repeats 5] [--threads N] [--out FILE]

Each way embeds the same unique captions of a simulated Milan log (tokenized once, batched by
token count as ``TextEncoder.encode`` does) and is timed in alternation with the others; the
figures are medians. Every way is compared with fp32 on every caption (the lowest cosine is what
decides whether a way is honest: it must stay at or above 0.99). The ways:

- ``fp32``: the model as trained; ``bf16`` (what ``text.precision=bf16`` runs): weights cast to
  bf16 once; ``bf16_autocast``: fp32 weights under ``torch.autocast`` (casts on every batch);
- ``int8_dynamic``: torch's dynamic int8 quantisation of every Linear layer (per tensor);
  ``int8_per_channel``: the same with per-channel weight scales (what ``text.precision=int8``
  runs);
- ``onnx_fp32`` / ``onnx_int8``: the model exported to ONNX and run by ONNX Runtime with all
  graph optimisations, the latter with ONNX Runtime's dynamic int8 quantisation (per channel).
  ``onnx_fp32`` is what ``text.runtime=onnxruntime`` runs. They need ``pip install -e
  '.[onnx]'`` and are skipped without it.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from bench_prep import milan_scale_log

from sensorclip.config import TextEncoderConfig
from sensorclip.data.casas import attach_layout, read_casas
from sensorclip.data.dataset import windowed_data
from sensorclip.data.homes import load_home
from sensorclip.frozen.text import (
    TextEncoder,
    int8_linear_layers,
    length_batches,
    mean_pooled,
    padding_overhead,
)
from sensorclip.frozen.text_onnx import export_hidden_states


def milan_captions(lines: int = 43_000) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "log.txt"
        milan_scale_log(log, lines)
        home = load_home("milan")
        return windowed_data(attach_layout(read_casas(log, home=home), home), home).captions.texts


def torch_way(model: torch.nn.Module, autocast: bool = False):
    def embed(batch: dict) -> np.ndarray:
        with torch.inference_mode(), torch.autocast("cpu", torch.bfloat16, enabled=autocast):
            return mean_pooled(model(**batch).last_hidden_state, batch["attention_mask"]).numpy()
    return embed


def onnx_ways(model: torch.nn.Module, sample: dict, folder: Path, threads: int) -> dict:
    """ONNX Runtime in fp32 and int8 (dynamic, per channel); {} without onnx/onnxruntime."""
    try:
        import onnxruntime
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError:
        print("onnx / onnxruntime not installed: ONNX Runtime ways skipped")
        return {}
    fp32, int8 = folder / "model.onnx", folder / "model_int8.onnx"
    names = export_hidden_states(model, dict(sample), fp32)        # what text.runtime exports
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL

    def way(path: Path):
        session = onnxruntime.InferenceSession(str(path), options,
                                               providers=["CPUExecutionProvider"])

        def embed(batch: dict) -> np.ndarray:
            feed = {k: batch[k].numpy() for k in names}
            hidden = torch.from_numpy(session.run(None, feed)[0])
            return mean_pooled(hidden, batch["attention_mask"]).numpy()
        return embed
    return {"onnx_fp32": way(fp32), "onnx_int8": way(int8)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--captions", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--out", type=Path, default=Path("bench_text.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    texts = milan_captions()
    rng = np.random.default_rng(0)
    sample = [texts[i] for i in rng.choice(len(texts), min(args.captions, len(texts)), False)]
    encoder = TextEncoder(TextEncoderConfig(device="cpu", precision="fp32"))
    tokens = encoder.tokenize(sample)
    lengths = np.array([len(ids) for ids in tokens["input_ids"]])
    order = length_batches(lengths, encoder.config.batch_size)
    batches = [(b, encoder.tokenizer.pad({k: [v[i] for i in b] for k, v in tokens.items()},
                                         return_tensors="pt")) for b in order]
    fp32 = encoder.model
    quantize = torch.ao.quantization.quantize_dynamic
    ways = {"fp32": torch_way(fp32),
            "bf16": torch_way(copy.deepcopy(fp32).to(torch.bfloat16)),
            "bf16_autocast": torch_way(fp32, autocast=True),
            "int8_dynamic": torch_way(quantize(copy.deepcopy(fp32), {torch.nn.Linear},
                                               dtype=torch.qint8)),
            "int8_per_channel": torch_way(int8_linear_layers(copy.deepcopy(fp32), "cpu"))}
    with tempfile.TemporaryDirectory() as tmp:
        ways.update(onnx_ways(fp32, batches[0][1], Path(tmp), args.threads))  # exports a copy
        vectors = {name: np.empty((len(sample), encoder.dim), np.float32) for name in ways}
        rates: dict[str, list[float]] = {name: [] for name in ways}
        for repeat in range(args.repeats + 1):                 # the first round warms up
            for name, embed in ways.items():
                started = time.perf_counter()
                for picked, batch in batches:
                    vectors[name][picked] = embed(batch)
                if repeat:
                    rates[name].append(len(sample) / (time.perf_counter() - started))
    result = {"captions": len(sample), "threads": args.threads, "repeats": args.repeats,
              "padding_overhead": padding_overhead(lengths, order),
              "ways": {name: {"captions_per_s": statistics.median(rates[name]),
                              "min_cosine_to_fp32": float((vectors[name] * vectors["fp32"])
                                                          .sum(1).min())} for name in ways}}
    print(f"{len(sample)} captions, {args.threads} threads, "
          f"padding overhead {result['padding_overhead']:.3f}")
    print(f"{'way':<16}{'captions/s':>12}{'x fp32':>8}{'min cosine':>12}")
    for name, r in result["ways"].items():
        print(f"{name:<16}{r['captions_per_s']:>12.1f}"
              f"{r['captions_per_s'] / result['ways']['fp32']['captions_per_s']:>8.2f}"
              f"{r['min_cosine_to_fp32']:>12.5f}")
    args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
