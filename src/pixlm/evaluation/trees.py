"""Decoding dependency trees from arc scores: maximum spanning arborescence with one root."""

from __future__ import annotations

import numpy as np


def _chu_liu_edmonds(scores: np.ndarray) -> np.ndarray:
    """Chu-Liu/Edmonds on scores[dep, head] over nodes 0..n (0 the root, which has no head).
    Returns head[dep] for dep 1..n (index 0 unused)."""
    n = scores.shape[0]
    s = scores.astype(np.float64).copy()
    np.fill_diagonal(s, -np.inf)
    s[0, :] = -np.inf  # the root takes no head
    heads = s.argmax(axis=1)
    heads[0] = -1
    cycle = _find_cycle(heads)
    if cycle is None:
        return heads
    # Contract the cycle into one node c and solve the smaller problem.
    in_cycle = np.zeros(n, bool)
    in_cycle[cycle] = True
    outside = [i for i in range(n) if not in_cycle[i]]
    c = len(outside)  # index of the contracted node in the new graph
    index = {old: new for new, old in enumerate(outside)}
    cycle_score = sum(s[d, heads[d]] for d in cycle)
    m = c + 1
    t = np.full((m, m), -np.inf)
    enter_from: dict[int, int] = {}  # outside head -> the cycle node it best enters
    leave_to: dict[int, int] = {}  # outside dep -> the cycle node it best hangs from
    for d in outside:
        for h in outside:
            t[index[d], index[h]] = s[d, h]
        best = max(cycle, key=lambda h: s[d, h])
        t[index[d], c] = s[d, best]
        leave_to[d] = best
    for h in outside:
        gains = [(s[d, h] - s[d, heads[d]], d) for d in cycle]
        gain, d = max(gains)
        t[c, index[h]] = cycle_score + gain
        enter_from[h] = d
    sub = _chu_liu_edmonds(t)
    out = heads.copy()
    for d in outside:
        if d == 0:
            continue
        h = sub[index[d]]
        out[d] = leave_to[d] if h == c else outside[h]
    entry_head = outside[sub[c]]
    out[enter_from[entry_head]] = entry_head  # break the cycle where the chosen arc enters it
    return out


def _find_cycle(heads: np.ndarray) -> list[int] | None:
    n = len(heads)
    state = [0] * n  # 0 new, 1 on the current path, 2 done
    for start in range(1, n):
        path = []
        v = start
        while v > 0 and state[v] == 0:
            state[v] = 1
            path.append(v)
            v = heads[v]
        if v > 0 and state[v] == 1:
            return path[path.index(v) :]
        for u in path:
            state[u] = 2
    return None


def decode_tree(scores: np.ndarray) -> list[int]:
    """The best dependency tree with exactly one word attached to the root.

    Args:
        scores: (n, n + 1) arc scores, scores[i, j] for word i + 1 taking head j (0 = root).
    Returns:
        head of each word (1-based word indices, 0 for the root), a tree.
    """
    n = scores.shape[0]
    if scores.shape != (n, n + 1):
        raise ValueError(f"scores must be (words, words + 1), got {scores.shape}")
    if n == 0:
        return []
    full = np.full((n + 1, n + 1), -np.inf)
    full[1:, :] = scores
    best, best_total = None, -np.inf
    # Try each word as the only child of the root (the usual single-root trick).
    candidates = np.argsort(-scores[:, 0])[: min(n, 8)] + 1
    for r in candidates:
        constrained = full.copy()
        constrained[1:, 0] = -np.inf
        constrained[r, 0] = full[r, 0]
        heads = _chu_liu_edmonds(constrained)
        total = sum(full[d, heads[d]] for d in range(1, n + 1))
        if total > best_total:
            best, best_total = heads, total
    return [int(h) for h in best[1:]]


def is_tree(heads: list[int]) -> bool:
    """One root child, every word reaching the root, no cycles."""
    n = len(heads)
    if sum(h == 0 for h in heads) != 1 or any(not 0 <= h <= n for h in heads):
        return False
    for start in range(1, n + 1):
        seen = set()
        v = start
        while v != 0:
            if v in seen:
                return False
            seen.add(v)
            v = heads[v - 1]
    return True
