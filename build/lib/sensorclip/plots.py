"""Figures shared by the pipeline stages (matplotlib, headless)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def pca_2d(vectors: np.ndarray) -> np.ndarray:
    centred = vectors - vectors.mean(axis=0, keepdims=True)
    if len(vectors) < 2:
        return np.zeros((len(vectors), 2))
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    if vt.shape[0] >= 2:
        return centred @ vt[:2].T
    return np.c_[centred @ vt[:1].T, np.zeros(len(vectors))]


def scatter_by_group(points: np.ndarray, groups: Sequence[str], path: str | Path, title: str,
                     labels: Sequence[str] | None = None, hollow: np.ndarray | None = None) -> Path:
    """2-D scatter coloured by group; ``hollow`` marks points drawn as rings (e.g. OFF states)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = sorted(set(groups))
    cmap = plt.get_cmap("tab20", max(len(names), 1))
    fig, ax = plt.subplots(figsize=(7.5, 6), dpi=110)
    groups = np.asarray(groups)
    hollow = np.zeros(len(points), bool) if hollow is None else np.asarray(hollow)
    for k, name in enumerate(names):
        for ring in (False, True):
            sel = (groups == name) & (hollow == ring)
            if sel.any():
                ax.scatter(points[sel, 0], points[sel, 1], s=36,
                           facecolors="none" if ring else cmap(k), edgecolors=cmap(k),
                           label=None if ring and ((groups == name) & ~hollow).any()
                           else plain(name))
    if labels is not None and len(points) <= 150:
        for (x, y), text in zip(points, labels):
            ax.annotate(plain(text), (x, y), fontsize=5, alpha=0.6, xytext=(2, 2),
                        textcoords="offset points")
    ax.set_title(plain(title), fontsize=10)
    ax.legend(fontsize=7, loc="best", markerscale=0.8)
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path


def confusion_figure(matrix: np.ndarray, names: Sequence[str], path: str | Path,
                     title: str) -> Path:
    """Row-normalised confusion matrix (rows: truth) with the raw counts written in."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = matrix.sum(axis=1, keepdims=True).clip(min=1)
    size = max(4.0, 0.45 * len(names) + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size), dpi=110)
    image = ax.imshow(matrix / rows, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(names)), [plain(n) for n in names], rotation=60, ha="right",
                  fontsize=7)
    ax.set_yticks(range(len(names)), [plain(n) for n in names], fontsize=7)
    for i in range(len(names)):
        for j in range(len(names)):
            if matrix[i, j]:
                ax.text(j, i, str(int(matrix[i, j])), ha="center", va="center", fontsize=6,
                        color="white" if matrix[i, j] / rows[i, 0] > 0.5 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(plain(title), fontsize=10)
    fig.colorbar(image, fraction=0.046)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path


def recall_bars(methods: dict[str, tuple[np.ndarray, np.ndarray]], names: Sequence[str],
                path: str | Path, title: str) -> Path:
    """Grouped bars: per-class recall of each method (``{method: (truth, predicted)}``) over
    the classes that occur in any truth."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    present = sorted(set().union(*(set(np.unique(t).tolist()) for t, _ in methods.values())))
    width = 0.8 / max(1, len(methods))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.55 * len(present) * len(methods) / 2 + 3), 4.5),
                           dpi=110)
    x = np.arange(len(present))
    for k, (method, (truth, predicted)) in enumerate(methods.items()):
        recall = [float((predicted[truth == c] == c).mean()) if (truth == c).any() else np.nan
                  for c in present]
        ax.bar(x + (k - (len(methods) - 1) / 2) * width, recall, width, label=plain(method))
    ax.set_xticks(x, [plain(names[c]) for c in present], rotation=60, ha="right", fontsize=7)
    ax.set_ylim(0, 1)
    ax.set_ylabel("recall")
    ax.set_title(plain(title), fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path


def plain(text: str) -> str:
    """Text that matplotlib draws as written: a '$' would start math mode."""
    return str(text).replace("$", r"\$")
