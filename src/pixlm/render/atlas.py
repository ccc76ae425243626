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
    The first `white` columns are white: a gap between pieces at strip column c (counted from
    the first piece pasted) is filled from atlas column c, so that pasting needs no special case
    for gaps. `white` must be at least the width of any span pasted. Slots and columns of pieces
    that left the cache stay until `compact` packs the live ones again.
    """

    def __init__(self, height: int, rgb: bool, white: int, initial_columns: int = 4096):
        self.height, self.rgb, self.white = height, rgb, white
        self._set_columns(self._white(max(initial_columns, white + 1)))
        self.used = white
        self.numbers = np.zeros((1024, 6), np.float64)
        self.count = 0
        self._ramp = np.arange(white, dtype=np.intp)

    def _set_columns(self, columns: np.ndarray) -> None:
        self.columns = columns
        # The same memory with each pixel column as one row of the widest words that divide it
        # (a column of 16 gray pixels is two 64-bit words): gathering whole rows is several
        # times faster than gathering bytes.
        flat = columns.reshape(len(columns), -1)
        word = next(t for t in (np.uint64, np.uint32, np.uint16, np.uint8) if flat.shape[1] % np.dtype(t).itemsize == 0)
        self._words = flat.view(word)

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
        total = self.white + sum(paper.shape[1] for paper, _ in pieces)
        self._set_columns(self._white(max(2 * total, 4096)))
        self.used = self.white
        self.numbers = np.zeros((max(2 * len(pieces), 1024), 6), np.float64)
        self.count = 0
        return [self.add(paper, numbers) for paper, numbers in pieces]

    def paste(self, strip: np.ndarray, lo: np.ndarray, at: np.ndarray, width: np.ndarray) -> None:
        """Copy pieces (atlas columns at..at+width) to strip columns lo..lo+width, white between.

        The pieces must be in left-to-right order without overlap, and the strip white over
        [lo[0], lo[-1] + width[-1]), so that placing equals darkening.
        """
        if not len(lo):
            return
        first = int(lo[0])
        span = int(lo[-1] + width[-1]) - first
        if span > self.white:
            raise ValueError(f"a paste spans {span} columns, more than the atlas's {self.white} white ones")
        # The strip's columns in runs: a gap (read from the white columns, offset 0), a piece
        # (offset at - lo), the next gap, ...; each column reads atlas column (its offset + itself).
        rel = lo - first
        runs = np.empty(2 * len(lo), np.intp)
        runs[0] = 0
        runs[2::2] = rel[1:] - (rel[:-1] + width[:-1])
        runs[1::2] = width
        offsets = np.zeros(2 * len(lo), np.intp)
        offsets[1::2] = at - rel
        source = np.repeat(offsets, runs)
        source += self._ramp[:span]
        block = np.take(self._words, source, axis=0, mode="clip")  # sources are in range by construction
        strip[:, first : first + span] = block.view(np.uint8).reshape((span,) + self.columns.shape[1:]).swapaxes(0, 1)
