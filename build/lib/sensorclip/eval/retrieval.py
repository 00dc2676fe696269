"""Retrieval metrics over a whole split, with windows sharing a caption counted as matches.

Recall@k here is the hit rate: a query counts when any of its positives ranks in the top k.
(torchmetrics' RetrievalRecall divides by the number of relevant items instead, which punishes
queries whose caption is shared by many windows, so the hit rate is computed directly.) Ranks are
1-based: the rank of the best-placed positive; ties with a negative are broken pessimistically.
"""

from __future__ import annotations

import torch

KS = (1, 5, 10)


def best_positive_rank(similarity: torch.Tensor, positives: torch.Tensor,
                       chunk: int = 4096) -> torch.Tensor:
    """1-based rank of each row's best positive among all columns, in row chunks."""
    ranks = []
    for lo in range(0, similarity.shape[0], chunk):
        sim, pos = similarity[lo:lo + chunk], positives[lo:lo + chunk]
        best = sim.masked_fill(~pos, float("-inf")).max(dim=1, keepdim=True).values
        ranks.append(((sim >= best) & ~pos).sum(dim=1) + 1)
    return torch.cat(ranks)


def retrieval_metrics(sensor: torch.Tensor, text: torch.Tensor, caption_ids: torch.Tensor,
                      ks=KS) -> dict[str, float]:
    """recall@k and median rank in both directions, and the positive/negative cosine gap.

    ``sensor[i]`` and ``text[i]`` belong to window i; texts with the same ``caption_ids`` are
    interchangeable, so every window sharing window i's caption is a correct match for it.
    """
    sensor, text = sensor.float(), text.float()
    positives = caption_ids[:, None] == caption_ids[None, :]
    similarity = sensor @ text.T
    out: dict[str, float] = {}
    for name, sim, pos in (("sensor_to_text", similarity, positives),
                           ("text_to_sensor", similarity.T, positives.T)):
        ranks = best_positive_rank(sim, pos)
        for k in ks:
            out[f"recall@{k}_{name}"] = (ranks <= k).float().mean().item()
        out[f"median_rank_{name}"] = ranks.float().median().item()
    diagonal = similarity.diagonal()
    negatives = ~positives
    out["cosine_positive"] = diagonal.mean().item()
    out["cosine_negative"] = (similarity[negatives].mean().item() if negatives.any() else 0.0)
    out["cosine_gap"] = out["cosine_positive"] - out["cosine_negative"]
    for k in ks:
        out[f"recall@{k}_mean"] = (out[f"recall@{k}_sensor_to_text"]
                                   + out[f"recall@{k}_text_to_sensor"]) / 2
    return out


def in_batch_accuracy(logits: torch.Tensor, positives: torch.Tensor) -> tuple[float, float]:
    """Share of rows (sensor->text) and columns (text->sensor) whose argmax is a positive."""
    rows = positives.gather(1, logits.argmax(1, keepdim=True)).float().mean().item()
    cols = positives.T.gather(1, logits.T.argmax(1, keepdim=True)).float().mean().item()
    return rows, cols
