"""`RenderedText`: the pixels of one rendered text and what a collator needs to know about them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class RenderedText:
    """One rendered strip. Plain numpy and Python values only, so it pickles and crosses processes.

    Attributes:
        pixel_values: uint8 array, (patch_size, width) in grayscale or (patch_size, width, 3) in RGB;
            white background, black text, a black patch after each segment.
        num_text_patches: patches before the end patch (text, and separator patches of pairs).
        attention_mask: int8 (max_patches,), 1 on the text patches and the end patch.
        word_starts: patch index where each word starts (words as split by whitespace, or as given).
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
    """

    pixel_values: np.ndarray
    num_text_patches: int
    attention_mask: np.ndarray
    end_patch: int
    word_starts: np.ndarray | None = None
    char_spans: np.ndarray | None = None
    patch_segment: np.ndarray | None = None
    sep_patches: list[int] = field(default_factory=list)
    truncated: bool = False
    missing_glyphs: int = 0
    replaced_chars: int = 0
    segment_chars: list[tuple[int, int]] = field(default_factory=list)
    overflow: list["RenderedText"] = field(default_factory=list)

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
