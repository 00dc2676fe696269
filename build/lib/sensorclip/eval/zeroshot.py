"""Zero-shot activity recognition: each label's descriptions, encoded and projected into the
shared space, are averaged into a prototype; a window takes the label of its nearest prototype.

Descriptions (``label_descriptions``): the layout's own for the label; for a coarse label
without any, those of its fine labels joined; for a fine label without any, its name followed by
its coarse label's descriptions; generated sentences only when the layout says nothing. They are
rephrased in the captions' vocabulary (``PhraseBook.rename``), so both sides call a room by the
same name. Windows whose label is background (no activity, other) are left out of zero-shot
scoring by default, and so are those labels as candidates: no description can say what "nothing
in particular" looks like.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sensorclip.data.captions import PhraseBook
from sensorclip.data.homes import Home, generated_descriptions, label_phrase

BACKGROUND_PHRASES = frozenset({"no activity", "other", "other activity", "unknown", "none"})


def is_background(label: str) -> bool:
    return label_phrase(label) in BACKGROUND_PHRASES


def label_descriptions(home: Home, level: str, fine_names: Sequence[str],
                       coarse_names: Sequence[str], coarse_of_fine: np.ndarray,
                       book: PhraseBook | None = None) -> list[tuple[str, ...]]:
    """Descriptions of every fine (or coarse, by ``level``) label, in code order."""
    names = fine_names if level == "fine" else coarse_names
    out = []
    for name in names:
        own = home.descriptions.get(name, ())
        if not own and level == "coarse":
            members = [f for f, c in zip(fine_names, coarse_of_fine) if coarse_names[c] == name]
            own = tuple(d for f in members for d in home.descriptions.get(f, ()))
        if not own and level == "fine":
            parent = home.descriptions.get(home.coarse_label(name), ())
            own = (label_phrase(name),) + parent if parent else ()
        texts = own or generated_descriptions(name)
        out.append(tuple(book.rename(t) for t in texts) if book else tuple(texts))
    return out


def label_prototypes(description_vectors: Sequence[np.ndarray]) -> np.ndarray:
    """One unit vector per label: the mean of its (already projected) description vectors."""
    means = np.stack([np.asarray(v, dtype=np.float32).mean(axis=0) for v in description_vectors])
    return means / np.linalg.norm(means, axis=1, keepdims=True).clip(min=1e-12)


def zero_shot_predict(sensor: np.ndarray, prototypes: np.ndarray,
                      candidates: np.ndarray | None = None) -> np.ndarray:
    """Nearest prototype by cosine similarity, among the ``candidates`` label codes (all when
    None)."""
    scores = sensor @ prototypes.T
    return nearest(scores, candidates)


def nearest(scores: np.ndarray, candidates: np.ndarray | None = None) -> np.ndarray:
    """argmax over labels, restricted to the candidate codes."""
    if candidates is None:
        return scores.argmax(axis=1)
    candidates = np.asarray(candidates)
    return candidates[scores[:, candidates].argmax(axis=1)]
