"""Tree decoding against exhaustive search, and cases worked by hand."""

import itertools

import numpy as np
import pytest

from pixlm.evaluation.trees import decode_tree, is_tree


def best_by_brute_force(scores):
    n = scores.shape[0]
    best, best_total = None, -np.inf
    for heads in itertools.product(range(n + 1), repeat=n):
        heads = list(heads)
        if any(h == d + 1 for d, h in enumerate(heads)) or not is_tree(heads):
            continue
        total = sum(scores[d, h] for d, h in enumerate(heads))
        if total > best_total:
            best, best_total = heads, total
    return best, best_total


@pytest.mark.parametrize("seed", range(40))
def test_decoding_finds_the_best_single_root_tree(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 6))
    scores = rng.normal(size=(n, n + 1))
    heads = decode_tree(scores)
    assert is_tree(heads)
    _, best_total = best_by_brute_force(scores)
    assert sum(scores[d, h] for d, h in enumerate(heads)) == pytest.approx(best_total)


def test_greedy_cycle_is_broken_by_hand():
    # Words 1 and 2 prefer each other (a cycle); word 3 prefers word 2.
    # Best tree: root -> 1 (1.0), 1 -> 2 (5.0), 2 -> 3 (4.0): 10. (root -> 2, 2 -> 1 scores 2 + 5 + 4 = 11 is better.)
    scores = np.array([
        # root, w1, w2, w3  (heads)
        [1.0, -9, 5.0, 0.0],   # word 1
        [2.0, 5.0, -9, 0.0],   # word 2
        [0.0, 0.0, 4.0, -9],   # word 3
    ])
    assert decode_tree(scores) == [2, 0, 2]


def test_only_one_word_hangs_from_the_root():
    scores = np.array([[9.0, -1.0, 0.0], [9.0, 0.0, -1.0]])  # both words like the root best
    heads = decode_tree(scores)
    assert heads.count(0) == 1 and is_tree(heads)
    assert heads in ([0, 1], [2, 0])


def test_is_tree_rejects_cycles_and_two_roots():
    assert is_tree([0, 1, 2]) and not is_tree([0, 0, 1]) and not is_tree([2, 3, 2]) and not is_tree([0, 5])
