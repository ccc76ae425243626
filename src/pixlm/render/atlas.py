"""Cached pieces in flat arrays, so that a long text of cached words is laid out and pasted
with a few array operations instead of a few Python operations per word."""

from __future__ import annotations

import numpy as np

# Columns of `PieceAtlas.geometry`.
ADVANCE, MISSING, INK_START, WIDTH, LEFT, CHARS, FIRST_VISIBLE, AT = range(8)


class PieceAtlas:
    """Each added piece gets a slot: a row of `geometry` (advance, missing glyphs, ink_start
    (where its word's ink starts), width, left, characters, first_visible (its word's first
    character), and `at`, where its columns start) and, if it has ink, `width` columns of
    `columns`.

    Columns are stored one per row (`columns[k]` is a pixel column of height[, 3] values), so a
    piece is one contiguous block of memory and a gather copies whole columns at a time.
    The first `white` columns are white: a gap between pieces at strip column c is filled from
    atlas column c - (the first piece's column), so that pasting needs no special case for gaps.
    `white` must be at least the width of the strips pasted into. Slots and columns of pieces
    that left the cache stay until `compact` packs the live ones again.
    """

    def __init__(self, height: int, rgb: bool, white: int, initial_columns: int = 4096):
        self.height, self.rgb, self.white = height, rgb, white
        self._set_columns(self._white(max(initial_columns, white + 1)))
        self.used = white
        self.geometry = np.zeros((1024, AT + 1), np.float64)
        self.count = 0
        self._ramp = np.arange(white, dtype=np.intp)
        self._block = np.empty_like(self._words[:white])  # gathered columns, reused (stays in cache)
        # Grayscale columns of an even height are transposed two rows at a time (see `paste`).
        self._row_pairs = None if rgb or height % 2 else np.empty((height // 2, white), "<u2")

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

    def add(self, image: np.ndarray, geometry: tuple) -> int:
        """Store a piece's image (height, width[, 3]) and its (advance, missing, ink_start,
        width, left, characters, first_visible); return its slot."""
        width = image.shape[1]
        if self.used + width > len(self.columns):
            grown = self._white(max(2 * len(self.columns), self.used + width))
            grown[: self.used] = self.columns[: self.used]
            self._set_columns(grown)
        at = self.used
        self.columns[at : at + width] = image.swapaxes(0, 1)
        self.used += width
        if self.count == len(self.geometry):
            self.geometry = np.concatenate([self.geometry, np.zeros_like(self.geometry)])
        self.geometry[self.count] = (*geometry, at)
        self.count += 1
        return self.count - 1

    def compact(self, pieces: list[tuple[np.ndarray, tuple]]) -> list[int]:
        """Start again with only these (image, geometry) pairs (the live pieces); return their
        new slots."""
        total = self.white + sum(image.shape[1] for image, _ in pieces)
        self._set_columns(self._white(max(2 * total, 4096)))
        self.used = self.white
        self.geometry = np.zeros((max(2 * len(pieces), 1024), AT + 1), np.float64)
        self.count = 0
        return [self.add(image, geometry) for image, geometry in pieces]

    def paste(self, strip: np.ndarray, lo: np.ndarray, at: np.ndarray, width: np.ndarray) -> bool:
        """Copy pieces (atlas columns at..at+width) to strip columns lo..lo+width, white between;
        return False, copying nothing, if one piece's columns reach into the next one's.

        The pieces must be in left-to-right order, and the strip white over
        [lo[0], lo[-1] + width[-1]), so that placing equals darkening. Pieces of width 0 are
        allowed (nothing of theirs is copied).
        """
        if not len(lo):
            return True
        hi = lo + width
        gaps = lo[1:] - hi[:-1]
        if len(gaps) and gaps.min() < 0:
            return False
        first = int(lo[0])
        span = int(hi[-1]) - first
        if first < 0 or first + span > self.white:
            raise ValueError(f"a paste over strip columns {first}..{first + span} reaches past the atlas's {self.white} white columns")
        # The strip's columns in runs: a gap (read from the white columns), a piece, the next
        # gap, ...; strip column c reads atlas column c + the offset of its run: -first in the
        # gaps (the white columns 0..span-1), at - lo in a piece.
        runs = np.empty(2 * len(lo), np.intp)
        runs[0] = 0
        runs[2::2] = gaps
        runs[1::2] = width
        offsets = np.empty(2 * len(lo), np.intp)
        offsets.fill(-first)
        offsets[1::2] = at - lo
        source = offsets.repeat(runs)
        source += self._ramp[first : first + span]
        block = self._words.take(source, axis=0, mode="clip", out=self._block[:span])  # in range by construction
        target = strip[:, first : first + span]
        if self._row_pairs is None:
            target[...] = block.view(np.uint8).reshape((span,) + self.columns.shape[1:]).swapaxes(0, 1)
            return True
        # The transposition into the row-major strip moves 16-bit words (two rows of a column),
        # about a third faster than bytes; each row is then a cast of their low or high bytes.
        pairs = self._row_pairs[:, :span]
        np.copyto(pairs, block.view("<u2").T)
        np.copyto(target[0::2], pairs, casting="unsafe")
        np.right_shift(pairs, 8, out=pairs)
        np.copyto(target[1::2], pairs, casting="unsafe")
        return True
