"""The frozen text encoder's fp32 forward pass run by ONNX Runtime (``text.runtime=
onnxruntime``) instead of torch.

Why an option: on a host without native bf16 the text stage runs in fp32, and ONNX Runtime's
own kernels may run it faster than torch there. Measured so far it ties torch on a host with
AVX-512 and wins only where torch alone was limited to AVX2 (docs/performance.md), which is not
evidence enough to make it a default; ``scripts/bench.py`` times both on any host, so a user can
see which is faster on theirs. The vectors agree with torch's to fp32 rounding
(``tests/test_text.py``), so the runtime is not part of the cache key, as the CPU's instruction
set is not either.

The model is exported once per encoder, into a temporary file that is gone once ONNX Runtime has
read it: an export takes seconds and a cached ONNX file would be one more thing to go stale.
"""

from __future__ import annotations

import copy
import importlib.util
import tempfile
import warnings
from pathlib import Path

import torch


def onnxruntime_missing() -> str | None:
    """Why ONNX Runtime cannot run here (a package missing), or None when it can."""
    for package in ("onnxruntime", "onnx"):
        if importlib.util.find_spec(package) is None:
            return (f"the package {package} is not installed (pip install -e '.[onnx]' installs "
                    "onnx and onnxruntime)")
    return None


class _LastHiddenState(torch.nn.Module):
    """The HF model with positional inputs and one output, the form the exporter traces."""

    def __init__(self, model: torch.nn.Module, names: tuple[str, ...]):
        super().__init__()
        self.model, self.names = model, names

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.model(**dict(zip(self.names, inputs))).last_hidden_state


def export_hidden_states(model: torch.nn.Module, sample: dict[str, torch.Tensor],
                         path: Path) -> tuple[str, ...]:
    """Write ``model`` (fp32, on the CPU) as ONNX with the batch and token axes free; returns the
    input names in order. A copy is traced: tracing leaves HF modules altered."""
    names = tuple(sample)
    axes = {name: {0: "batch", 1: "tokens"} for name in (*names, "hidden")}
    sample = {name: values.clone() for name, values in sample.items()}  # not inference tensors
    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        # torch marks its TorchScript exporter legacy and the trace warns on HF's shape checks;
        # the graph is checked against torch below and in the tests
        warnings.simplefilter("ignore")
        torch.onnx.export(_LastHiddenState(copy.deepcopy(model), names),
                          tuple(sample[n] for n in names), str(path), input_names=list(names),
                          output_names=["hidden"], dynamic_axes=axes, dynamo=False)
    return names


class OnnxHiddenStates:
    """Last hidden states of padded token batches, computed by ONNX Runtime on the CPU."""

    def __init__(self, model: torch.nn.Module, sample: dict[str, torch.Tensor], threads: int):
        import onnxruntime
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3                 # errors only
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "text_encoder.onnx"
            self.names = export_hidden_states(model, sample, path)
            self.session = onnxruntime.InferenceSession(str(path), options,
                                                        providers=["CPUExecutionProvider"])
        self.check_against(model, sample)

    def __call__(self, tokens: dict[str, torch.Tensor]) -> torch.Tensor:
        feed = {name: tokens[name].numpy() for name in self.names}
        return torch.from_numpy(self.session.run(None, feed)[0])

    def check_against(self, model: torch.nn.Module, sample: dict[str, torch.Tensor]) -> None:
        """The exported graph must compute what torch computes, on the traced batch and on one
        of another shape: a trace that froze a shape into a constant fails here, not later."""
        tokens = sample["input_ids"].shape[1]
        other = {name: values[:1, :max(1, tokens - 1)] for name, values in sample.items()}
        for batch in (sample, other):
            with torch.inference_mode():
                expected = model(**batch).last_hidden_state
            worst = float((self(batch) - expected).abs().max())
            if not worst < 1e-3:
                raise RuntimeError(f"the ONNX export differs from torch by {worst:.2g}")

