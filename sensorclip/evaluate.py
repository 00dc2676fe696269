"""Evaluate a trained checkpoint on the test split and write ``metrics.json`` plus figures.

    python -m sensorclip.evaluate ckpt_path=outputs/train/RUN/checkpoints/last.ckpt
    python -m sensorclip.evaluate ckpt_path=... data=milan_sim      # in another home

(``python -m sensorclip.train`` runs the same evaluation on its best checkpoint.) The run's saved
``config.yaml`` rebuilds the data exactly as in training, from the cache directory it recorded
(``cache_dir=DIR`` to use another). With ``data=OTHER`` the encoder trained in one home is
evaluated in another (cross-home transfer): the other layout's images through the same backbone,
its captions through the same text encoder, its labels for zero-shot and probe; results go to
``RUN/transfer/<data name>/`` with ``home`` and ``train_home`` in metrics.json. What is
measured: ``sensorclip.eval.suite``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from sensorclip.config import DataConfig, EvalConfig, checked, stage_configs, typed
from sensorclip.entrypoint import run_cleanly
from sensorclip.eval.suite import evaluate_model
from sensorclip.eval.tables import print_metrics
from sensorclip.multihome import prepare_homes
from sensorclip.pipeline import Prepared, home_name
from sensorclip.runs import describe_run, load_run, untrained_model, write_metrics


def evaluate_checkpoint(ckpt_path: str | Path, cache_dir: str | None = None,
                        eval_config: EvalConfig | None = None, data: Any = None,
                        windows: Any = None, windows_name: str | None = None
                        ) -> dict[str, Any]:
    """Results go to the run directory, or ``transfer/<home>/`` for another home's ``data``;
    another windowing (``windows``, named ``windows_name``) to ``windows_<name>/`` below that,
    with the references fit on source windows cut the same way."""
    run = load_run(Path(ckpt_path), cache_dir=cache_dir, data=data, windows=windows)
    out = run.directory if data is None else run.directory / "transfer" / run.config["data"]["name"]
    if windows is not None:
        out = out / f"windows_{windows_name or 'other'}"
    out.mkdir(parents=True, exist_ok=True)

    def record(metrics: dict[str, Any]) -> None:
        metrics.update(describe_run(run.datamodule), checkpoint=str(run.checkpoint))
        if data is not None:
            metrics["train_home"] = home_name(typed(DataConfig, run.config["train_data"]))
        write_metrics(out, metrics)

    untrained = untrained_model(run.config, run.datamodule)
    stages = stage_configs(run.config)
    metrics = evaluate_model(run.model, run.datamodule, stages["text"], eval_config, out,
                             untrained=untrained, record=record,
                             sources=None if data is None else source_data(run),
                             sentence_config=stages["sentences"])
    print_metrics(metrics, out)
    return metrics


def source_data(run) -> Prepared:
    """The windows the encoder was trained on (its home or homes; events and labels only), for
    the references fit on the source homes' labels."""
    stages = stage_configs({**run.config, "data": run.config["train_data"]})
    return prepare_homes(stages["data"], stages["windows"], stages["split"], stages["captions"],
                         cache_dir=run.datamodule.cache_dir, stages=("data",))


@hydra.main(version_base="1.3", config_path="../conf", config_name="evaluate")
def main(cfg: DictConfig) -> None:
    windows = cfg.get("windows")
    name = HydraConfig.get().runtime.choices.get("windows") if windows is not None else None
    run_cleanly(lambda: evaluate_checkpoint(checked(cfg).ckpt_path, cfg.get("cache_dir"),
                                            typed(EvalConfig, cfg.eval), cfg.get("data"),
                                            windows, name))


if __name__ == "__main__":
    main()
