"""The retrieval protocol completes half-erased cues: a small network trained
by Neumann-RBP recalls better than its cue; the classical rules the capacity
study compares with behave as their theory says."""

import argparse

import numpy as np
import pytest

from problems import hopfield
from rbptk.models import HopfieldNet


def patterns(n_pixels=16, n=3, seed=0):
    """n random binary patterns, half of each pixel set on: (n_pixels, n)."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n_pixels, n))
    for j in range(n):
        out[rng.choice(n_pixels, n_pixels // 2, replace=False), j] = 1.0
    return out


def test_half_erased_cues_are_completed_better_than_the_cue():

    images = patterns()
    net = HopfieldNet(16, 32, 16)
    args = argparse.Namespace(
        seed=0, lr=1e-2, batch=3, epochs=150, quiet=True, train_corrupt=True, input_gain=4.0,
        steps=30, truncate=10, rho_every=1000, forward="plain", eval_corruptions=8,
        tol_pixels=0.0, erase=0.5,
    )  # fmt: skip
    params, history = hopfield.train(net, "neumann", images, args, np.dtype("float64"))
    clean, cues = hopfield.cues_for_evaluation(images, args)
    cue = hopfield.scores(cues > 0.5, clean, images, 0.0)
    recalled = hopfield.evaluate(net, params, images, args, np.dtype("float64"))
    assert history["epoch_loss"][-1] < 0.5 * history["epoch_loss"][0]
    # each cue lacks 4 of its 8 on pixels (pixel error 0.25); an untrained or
    # copying network stays near that, recall must cut it to a quarter
    assert recalled["pixel_error"] <= 0.25 * cue["pixel_error"]
    assert recalled["nearest_success"] >= 0.9


def test_scores_of_a_perfect_and_of_a_blank_output():
    from problems.hopfield import scores

    images = patterns()
    perfect = scores(images > 0.5, images, images, 0.0)
    assert perfect == {"pixel_error": 0.0, "success": 1.0, "nearest_success": 1.0}
    blank = scores(np.zeros_like(images, dtype=bool), images, images, 0.0)
    assert blank["pixel_error"] == 0.5 and blank["nearest_success"] == 0.0  # all tie


@pytest.mark.parametrize("rule", ["hebbian", "projection"])
def test_classical_rules_recall_few_random_patterns(rule):
    """Below capacity (3 random patterns, N = 200: 0.015 N, against about
    0.14 N for the Hebbian rule) both classical rules restore a cue with 10% of
    its pixels flipped; the stored patterns are their own fixed points."""
    rng = np.random.default_rng(0)
    images = (rng.random((200, 3)) < 0.5).astype(float)
    W = hopfield.CLASSICAL[rule](images)
    assert np.array_equal(hopfield.classical_recall(W, images.copy()), images > 0.5)
    cues = images.copy()
    flip = rng.random(cues.shape) < 0.1
    cues[flip] = 1 - cues[flip]
    assert np.array_equal(hopfield.classical_recall(W, cues), images > 0.5)


def test_the_hebbian_rule_fails_beyond_its_capacity():
    """60 random patterns in N = 100 units (0.6 N, four times the Hebbian
    capacity): the stored patterns are no longer fixed points."""
    rng = np.random.default_rng(1)
    images = (rng.random((100, 60)) < 0.5).astype(float)
    W = hopfield.CLASSICAL["hebbian"](images)
    out = hopfield.classical_recall(W, images.copy())
    assert (out != (images > 0.5)).mean() > 0.05
