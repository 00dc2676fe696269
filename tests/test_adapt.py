"""Few-shot adaptation that starts from the text (sensorclip.eval.adapt): zero shots leave the
zero-shot classifier exactly as it is, labels move it, the anchor holds it, and every method of
a draw sees the same windows."""

from __future__ import annotations

import numpy as np
import pytest

from sensorclip.eval.adapt import predict, shots_among, text_initialised_weights
from sensorclip.eval.zeroshot import nearest


def unit(rows) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


# three labels: 0 is background (no description, never a candidate), 1 and 2 are described
PROTOTYPES = unit([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
CANDIDATES = np.array([1, 2])
# windows of label 2 that lie nearer label 1's prototype: zero-shot gets every one wrong
LABEL_2 = unit([[0.8, 0.6, 0.0], [0.75, 0.66, 0.05], [0.85, 0.5, 0.1]])
LABEL_1 = unit([[1.0, 0.1, 0.0], [0.95, -0.2, 0.1], [1.0, 0.0, 0.2]])
X = np.r_[LABEL_1, LABEL_2]
Y = np.array([1, 1, 1, 2, 2, 2])


def test_without_shots_the_classifier_is_zero_shot_exactly():
    weights = text_initialised_weights(PROTOTYPES, np.zeros((0, 3)), np.zeros(0, int),
                                       CANDIDATES, scale=20.0, anchor=1.0)
    assert np.array_equal(weights, PROTOTYPES)
    assert np.array_equal(predict(X, weights, CANDIDATES), nearest(X @ PROTOTYPES.T, CANDIDATES))
    assert predict(X, weights, CANDIDATES).tolist() == [1] * 6       # label 2 all wrong


def test_labels_move_the_classifier_and_the_anchor_holds_it():
    shots = np.array([0, 3])                  # one window of each label
    free = text_initialised_weights(PROTOTYPES, X[shots], Y[shots], CANDIDATES, scale=20.0,
                                    anchor=0.01)
    assert predict(X, free, CANDIDATES).tolist() == Y.tolist()
    held = text_initialised_weights(PROTOTYPES, X[shots], Y[shots], CANDIDATES, scale=20.0,
                                    anchor=1e4)
    assert np.abs(held - PROTOTYPES).max() < 1e-2
    assert predict(X, held, CANDIDATES).tolist() == [1] * 6
    assert np.array_equal(free[0], PROTOTYPES[0])          # the background row is untouched


def test_the_minimum_balances_the_labels_and_the_anchor():
    """One shot, one candidate pair: at the minimum the gradient of the loss is zero, i.e.
    scale * (softmax - onehot) x = -2 anchor (W - P) for each row."""
    shots = np.array([3])
    anchor, scale = 0.5, 5.0
    w = text_initialised_weights(PROTOTYPES, X[shots], Y[shots], CANDIDATES, scale=scale,
                                 anchor=anchor).astype(np.float64)
    logits = scale * X[3] @ w[CANDIDATES].T
    p = np.exp(logits - logits.max())
    p /= p.sum()
    onehot = np.array([0.0, 1.0])
    gradient = scale * np.outer(p - onehot, X[3]) + 2 * anchor * (w[CANDIDATES]
                                                                  - PROTOTYPES[CANDIDATES])
    assert np.abs(gradient).max() < 1e-4
    assert not np.allclose(w[CANDIDATES], PROTOTYPES[CANDIDATES])


def test_shots_outside_the_candidates_are_refused():
    with pytest.raises(ValueError, match=r"\[0\] are not candidate"):
        text_initialised_weights(PROTOTYPES, X[:1], np.array([0]), CANDIDATES, 20.0, 1.0)


def test_draws_hold_k_shots_of_each_candidate_and_repeat_by_seed():
    train_y = np.array([0, 0, 0, 1, 1, 1, 1, 2, 2, 0])
    drawn = shots_among(train_y, CANDIDATES, k=2, draw=0, seed=3)
    assert sorted(train_y[drawn].tolist()) == [1, 1, 2, 2]          # never background
    assert np.array_equal(drawn, shots_among(train_y, CANDIDATES, 2, 0, 3))
    assert len(shots_among(train_y, CANDIDATES, k=5, draw=0)) == 6  # fewer where fewer exist
    assert len(shots_among(train_y, CANDIDATES, k=0, draw=0)) == 0
    others = {tuple(shots_among(train_y, CANDIDATES, 2, d, 3)) for d in range(8)}
    assert len(others) > 1
