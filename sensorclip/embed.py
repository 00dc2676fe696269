"""Export window embeddings of a trained encoder, with times, split and labels, for other tools.

    python -m sensorclip.embed ckpt_path=RUN/checkpoints/X.ckpt out=test.npz
    python -m sensorclip.embed ckpt_path=... out=all.parquet data=milan data.raw_path=LOG

Columns: window, start_time, end_time, events, split, caption, fine_label and coarse_label
(when the log has labels), embedding; the file also records the home, checkpoint and source.
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from sensorclip.config import checked
from sensorclip.downstream.export import write_embeddings
from sensorclip.downstream.logs import embed_log
from sensorclip.entrypoint import console, run_cleanly


def export(cfg: DictConfig) -> None:
    log = embed_log(cfg.ckpt_path, cfg.get("data"), cfg.cache_dir, cfg.subset)
    out = write_embeddings(log, cfg.out)
    console().print(f"wrote {len(log.window_ids)} x {log.embeddings.shape[1]} embeddings "
                    f"({log.source}) to {out}")


@hydra.main(version_base="1.3", config_path="../conf", config_name="embed")
def main(cfg: DictConfig) -> None:
    run_cleanly(lambda: export(checked(cfg)))


if __name__ == "__main__":
    main()
