"""PIXEL's span masking (Rust et al. 2022, Algorithm 1)."""

from __future__ import annotations

from bisect import bisect_right

import numpy as np

PIXEL_SPAN_WEIGHTS = (0.2, 0.4, 0.6, 0.8, 0.9, 1.0)


def num_masked(num_patches: int, mask_ratio: float) -> int:
    """How many of `num_patches` a model hides at `mask_ratio` (the rest, int(n(1-r)), is kept)."""
    return num_patches - int(num_patches * (1 - mask_ratio))


class SpanMaskingGenerator:
    """Masks of spans of consecutive patches.

    Span lengths 1..max_span_length are drawn with cumulative weights (PIXEL's [0.2, 0.4, 0.6,
    0.8, 0.9, 1.0]: lengths 1-4 at 20% each, 5 and 6 at 10%). The first span falls inside the
    text; later ones anywhere. A span is rejected if any patch within its own length to its left
    or right is masked already ("span" spacing). Spans are added until `num_masked` patches are
    masked; a span is tried at most 100 times, after which the mask is returned short and the
    model tops it up with random patches (PIXEL's controlled masking).
    """

    def __init__(
        self,
        mask_ratio: float = 0.25,
        max_span_length: int = 6,
        span_weights=PIXEL_SPAN_WEIGHTS,
        max_attempts: int = 100,
        seed: int | np.random.Generator | None = None,
    ):
        if not 0 < mask_ratio < 1:
            raise ValueError(f"mask_ratio must be in (0, 1), got {mask_ratio}")
        weights = np.asarray(span_weights, dtype=np.float64)
        if len(weights) != max_span_length or (np.diff(weights) < 0).any() or weights[-1] <= 0:
            raise ValueError(
                f"span_weights must be {max_span_length} non-decreasing cumulative weights, got {list(span_weights)}"
            )
        self.mask_ratio = mask_ratio
        self.max_span_length = max_span_length
        self.probabilities = np.diff(np.concatenate([[0.0], weights])) / weights[-1]
        # rng.choice(n, p=...) draws one uniform number and finds it in this cumulative table;
        # doing the same directly keeps the random stream (and so every mask) unchanged, at a
        # fraction of choice's cost per call.
        cdf = self.probabilities.cumsum()
        cdf /= cdf[-1]
        self._cdf = cdf.tolist()
        self.max_attempts = max_attempts
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    def _span(self) -> int:
        return bisect_right(self._cdf, self.rng.random()) + 1

    def __call__(self, num_patches: int, num_text_patches: int) -> np.ndarray:
        """A 0/1 mask over `num_patches` positions, the first `num_text_patches` holding text."""
        mask = bytearray(num_patches)  # tested and counted in C, a few patches at a time
        target = num_masked(num_patches, self.mask_ratio)
        first = True
        count = 0
        while count < target:
            room = min(target - count, self.max_span_length)
            added = 0
            for _ in range(self.max_attempts):
                span = self._span()
                if span >= num_patches:
                    continue
                if first:
                    left = int(self.rng.integers(0, max(0, num_text_patches - span) + 1))
                    first = False
                else:
                    left = int(self.rng.integers(0, num_patches - span + 1))
                if 1 in mask[max(0, left - span) : left] or 1 in mask[left + span : left + 2 * span]:
                    continue
                new = span - mask.count(1, left, left + span)
                if 0 < new <= room:
                    mask[left : left + span] = b"\x01" * span
                    added = new
                    break
            if not added:
                break
            count += added
        return np.frombuffer(mask, dtype=np.int8).copy()
