"""Cached pieces in flat arrays, so that a long text of cached words is laid out and pasted
with a few array operations instead of a few Python operations per word."""

from __future__ import annotations

import numpy as np

# Columns of `PieceAtlas.numbers`.
ADVANCE, MISSING, LEAD, WIDTH, LEFT, AT = range(6)


class PieceAtlas:
    """Each added piece gets a slot: a row of `numbers` (advance, missing glyphs, lead, width,
    left, and `at`, where its columns start) and, if it has ink, `width` columns of `columns`.

    Columns are stored one per row (`columns[k]` is a pixel column of height[, 3] values), so a
    piece is one contiguous block of memory and a gather copies whole columns at a time.
    Column 0 is white (the gaps between words). Slots and columns of pieces that left the
    cache stay until `compact` packs the live ones again.
    """

    def __init__(self, height: int, rgb: bool, initial_columns: int = 4096):
        self.height, self.rgb = height, rgb
        self._set_columns(self._white(max(initial_columns, 2)))
        self.used = 1  # column 0: white
        self.numbers = np.zeros((1024, 6), np.float64)
        self.count = 0

    def _set_columns(self, columns: np.ndarray) -> None:
        self.columns = columns
        # The same memory with each pixel column as one opaque item: gathering these is several
        # times faster than a 2-D gather of the same bytes.
        self._items = columns.reshape(len(columns), -1).view(np.dtype((np.void, columns[0].nbytes))).ravel()

    def _white(self, columns: int) -> np.ndarray:
        return np.full((columns, self.height) + ((3,) if self.rgb else ()), 255, np.uint8)

    def add(self, paper: np.ndarray, numbers: tuple) -> int:
        """Store a piece's paper (height, width[, 3]) and its (advance, missing, lead, width,
        left); return its slot."""
        width = paper.shape[1]
        if self.used + width > len(self.columns):
            grown = self._white(max(2 * len(self.columns), self.used + width))
            grown[: self.used] = self.columns[: self.used]
            self._set_columns(grown)
        at = self.used
        self.columns[at : at + width] = paper.swapaxes(0, 1)
        self.used += width
        if self.count == len(self.numbers):
            self.numbers = np.concatenate([self.numbers, np.zeros_like(self.numbers)])
        self.numbers[self.count] = (*numbers, at)
        self.count += 1
        return self.count - 1

    def compact(self, pieces: list[tuple[np.ndarray, tuple]]) -> list[int]:
        """Start again with only these (paper, numbers) pairs (the live pieces); return their
        new slots."""
        total = 1 + sum(paper.shape[1] for paper, _ in pieces)
        self._set_columns(self._white(max(2 * total, 4096)))
        self.used = 1
        self.numbers = np.zeros((max(2 * len(pieces), 1024), 6), np.float64)
        self.count = 0
        return [self.add(paper, numbers) for paper, numbers in pieces]

    def paste(self, strip: np.ndarray, lo: np.ndarray, at: np.ndarray, width: np.ndarray) -> None:
        """Copy pieces (atlas columns at..at+width) to strip columns lo..lo+width, white between.

        The pieces must be in left-to-right order without overlap, and the strip white over
        [lo[0], lo[-1] + width[-1]), so that placing equals darkening.
        """
        total = int(width.sum())
        if not total:
            return
        first = int(lo[0])
        span = int(lo[-1] + width[-1]) - first
        before = np.cumsum(width) - width  # columns of earlier pieces
        ramp = np.arange(total)
        source = np.zeros(span, np.intp)
        source[np.repeat(lo - first - before, width) + ramp] = np.repeat(at - before, width) + ramp
        block = np.take(self._items, source)
        strip[:, first : first + span] = block.view(np.uint8).reshape((span,) + self.columns.shape[1:]).swapaxes(0, 1)
