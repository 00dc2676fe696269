"""Few-shot adaptation that starts from the text.

A plain k-shot probe starts from nothing and throws the text side away, although the label
descriptions already place each activity in the shared space (that is what zero-shot reads).
Here the classifier starts at the zero-shot prototypes and k labelled windows per activity move
it, with a penalty that pulls every weight back to its prototype (the anchored, zero-shot
initialised head of CLIP's few-shot literature):

    minimise  sum_i CE(scale * x_i . W^T, y_i)  +  anchor * ||W - P||^2

``x`` are the unit sensor embeddings of the shots, ``P`` the unit prototypes of the candidate
activities, ``scale`` the model's trained logit scale (so that at ``W = P`` the logits are the
ones training produced). With no shot the minimum is ``P`` itself, so k = 0 is zero-shot,
exactly. A large ``anchor`` keeps the text; a small one lets the few labels decide. The loss
sums over the shots, so the more labels there are, the further they may move the weights (the
anchor is a prior, not a fixed share).

Only the candidate activities (those zero-shot names, without background) get a row: a
background class has no description to start from.
"""

from __future__ import annotations

import numpy as np
import torch

from sensorclip.eval.zeroshot import nearest


def text_initialised_weights(prototypes: np.ndarray, shots_x: np.ndarray, shots_y: np.ndarray,
                             candidates: np.ndarray, scale: float, anchor: float,
                             max_iter: int = 100) -> np.ndarray:
    """The classifier weights (n_labels, dim), rows outside ``candidates`` left at the
    prototypes (never predicted). ``shots_y`` must lie in ``candidates``; ``anchor`` is
    ``eval.fewshot_text_anchor``."""
    weights = np.array(prototypes, dtype=np.float32, copy=True)
    if len(shots_y) == 0:
        return weights
    candidates = np.asarray(candidates)
    column = {int(c): i for i, c in enumerate(candidates)}
    unknown = sorted({int(y) for y in shots_y} - set(column))
    if unknown:
        raise ValueError(f"shots labelled {unknown} are not candidate activities")
    start = torch.as_tensor(weights[candidates], dtype=torch.float64)
    x = torch.as_tensor(np.asarray(shots_x), dtype=torch.float64)
    y = torch.as_tensor([column[int(v)] for v in shots_y])
    w = start.clone().requires_grad_(True)
    optimiser = torch.optim.LBFGS([w], lr=1.0, max_iter=max_iter, tolerance_grad=1e-9,
                                  tolerance_change=1e-12, line_search_fn="strong_wolfe")

    def objective() -> torch.Tensor:
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(scale * x @ w.T, y, reduction="sum") \
            + anchor * (w - start).pow(2).sum()
        loss.backward()
        return loss

    optimiser.step(objective)
    weights[candidates] = w.detach().numpy().astype(np.float32)
    return weights


def predict(x: np.ndarray, weights: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """The highest-scoring candidate activity of each window (``zeroshot.nearest``)."""
    return nearest(np.asarray(x, dtype=np.float32) @ weights.T, candidates)


def shots_among(train_y: np.ndarray, candidates: np.ndarray, k: int, draw: int,
                seed: int = 0) -> np.ndarray:
    """Indices of k training windows per candidate activity (fewer where it has fewer), drawn
    from (seed, k, draw) alone, so every method of one draw is fit on the same windows."""
    rng = np.random.default_rng([seed, k, draw, 1])
    present = [c for c in np.asarray(candidates) if np.any(train_y == c)]
    if k == 0 or not present:
        return np.zeros(0, dtype=np.int64)
    return np.sort(np.concatenate([
        rng.choice(members, size=min(k, len(members)), replace=False)
        for members in (np.flatnonzero(train_y == c) for c in present)])).astype(np.int64)
