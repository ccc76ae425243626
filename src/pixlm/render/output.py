"""`RenderedText`: the pixels of one rendered text and what a collator needs to know about them."""

from __future__ import annotations

from typing import Callable

import numpy as np


class RenderedText:
    """One rendered strip. Plain numpy and Python values (it pickles and crosses processes).

    Attributes:
        pixel_values: uint8 array, (patch_size, width) in grayscale or (patch_size, width, 3) in RGB;
            white background, black text, a black patch after each segment.
        num_text_patches: patches before the end patch (text, and separator patches of pairs).
        attention_mask: int8 (max_patches,), 1 on the text patches and the end patch.
        word_starts: patch index where each drawn word starts (words as split by whitespace, or
            as given); worked out when first read.
        char_spans: (max_patches, 2) int32, the [start, end) character range drawn in each patch,
            in the coordinates of the segment named by `patch_segment`; (-1, -1) where none.
            Only filled when asked for (`char_spans=True`).
        patch_segment: int8 (max_patches,), 0 for text a, 1 for text b, -1 elsewhere (with char_spans).
        sep_patches: indices of separator patches (pairs).
        end_patch: index of the black end patch.
        truncated: True when some text did not fit.
        missing_glyphs: characters that no font in the chain could draw.
        replaced_chars: control characters and unpaired surrogates that were replaced.
        segment_chars: per segment, the [start, end) range of its characters that were drawn.
        overflow: further windows of a long text (when overflow windows were asked for).
        offset_mapping: (max_patches, 2) int32, PIXEL's (first, last) character of each patch of
            a pair (with `offset_mapping=True`): question characters, then (0, 0) for the
            separator, then context characters; (-1, -1) for a blank patch PIXEL inserts.

    Units, against PIXEL's `Encoding`: `sep_patches` and `end_patch` are patch indices (PIXEL
    gives pixel offsets: multiply by the patch size; PIXEL-M4 gives patch indices, and lists
    the end patch among its separators); `word_starts` has one entry per drawn word (PIXEL
    appends the end patch as a last entry).
    """

    __slots__ = ("pixel_values", "num_text_patches", "attention_mask", "end_patch", "_word_starts", "char_spans",
                 "patch_segment", "sep_patches", "truncated", "missing_glyphs", "replaced_chars", "segment_chars",
                 "overflow", "offset_mapping")

    def __init__(
        self,
        pixel_values: np.ndarray,
        num_text_patches: int,
        attention_mask: np.ndarray,
        end_patch: int,
        word_starts: np.ndarray | Callable[[], np.ndarray] | None = None,
        char_spans: np.ndarray | None = None,
        patch_segment: np.ndarray | None = None,
        sep_patches: list[int] | None = None,
        truncated: bool = False,
        missing_glyphs: int = 0,
        replaced_chars: int = 0,
        segment_chars: list[tuple[int, int]] | None = None,
        overflow: list["RenderedText"] | None = None,
        offset_mapping: np.ndarray | None = None,
    ):
        self.pixel_values = pixel_values
        self.num_text_patches = num_text_patches
        self.attention_mask = attention_mask
        self.end_patch = end_patch
        self._word_starts = word_starts  # an array, or a function that makes it
        self.char_spans = char_spans
        self.patch_segment = patch_segment
        self.sep_patches = list(sep_patches or [])
        self.truncated = truncated
        self.missing_glyphs = missing_glyphs
        self.replaced_chars = replaced_chars
        self.segment_chars = list(segment_chars or [])
        self.overflow = list(overflow or [])
        self.offset_mapping = offset_mapping

    @property
    def word_starts(self) -> np.ndarray | None:
        if callable(self._word_starts):
            self._word_starts = np.asarray(self._word_starts(), np.int32)
        return self._word_starts

    @word_starts.setter
    def word_starts(self, value) -> None:
        self._word_starts = value

    @property
    def num_patches(self) -> int:
        """Patches that carry content: the text patches plus the end patch."""
        return self.num_text_patches + 1

    def patches(self, patch_size: int) -> np.ndarray:
        """The strip cut into patches: (max_patches, patch_size, patch_size[, 3])."""
        h = self.pixel_values.shape[0]
        n = self.pixel_values.shape[1] // patch_size
        x = self.pixel_values.reshape(h, n, patch_size, *self.pixel_values.shape[2:])
        return np.moveaxis(x, 1, 0)

    def __getstate__(self) -> dict:
        self.word_starts  # noqa: B018  (worked out now: the function cannot cross processes)
        return {name: getattr(self, name) for name in self.__slots__}

    def __setstate__(self, state: dict) -> None:
        for name, value in state.items():
            setattr(self, name, value)

    def __repr__(self) -> str:
        extra = ", truncated" if self.truncated else ""
        return (f"RenderedText({self.num_text_patches} text patches, end patch {self.end_patch}, "
                f"separators {self.sep_patches}{extra})")
