"""Zero-shot activity recognition: each label's descriptions, encoded and projected into the
shared space, are averaged into a prototype; a window takes the label of its nearest prototype."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def label_prototypes(description_vectors: Sequence[np.ndarray]) -> np.ndarray:
    """One unit vector per label: the mean of its (already projected) description vectors."""
    means = np.stack([np.asarray(v, dtype=np.float32).mean(axis=0) for v in description_vectors])
    return means / np.linalg.norm(means, axis=1, keepdims=True).clip(min=1e-12)


def zero_shot_predict(sensor: np.ndarray, prototypes: np.ndarray) -> np.ndarray:
    """Nearest prototype by cosine similarity."""
    return (sensor @ prototypes.T).argmax(axis=1)
