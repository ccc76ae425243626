"""Reading rendered patches back as text, for the layouts whose cells hold known characters at
known places: `mono` (one grapheme per cell) and `bigrams` (two graphemes per patch, each word
starting a patch).

Each cell of a strip is matched against the renderer's own drawing of every character (or
pair) of a character set, nearest in pixel distance. On clean renderings this reads back the
text; on a model's generated patches it reads what the model drew.

    reader = PatchReader(TextRenderer(layout="mono"))
    reader.read(renderer("Hello world").pixel_values)  # 'Hello world'
"""

from __future__ import annotations

import string

import numpy as np

from .renderer import TextRenderer

DEFAULT_CHARSET = "".join(c for c in string.printable if not c.isspace())
READABLE_LAYOUTS = ("mono", "bigrams")


class PatchReader:
    """Nearest-cell reader for `mono` and `bigrams` strips of one renderer.

    Args:
        renderer: the renderer that drew (or taught the model to draw) the strips.
        layout: `mono` or `bigrams` (default: the renderer's own layout).
        charset: the characters to recognise (default: printable ASCII). `bigrams` builds a
            cell for every ordered pair and every single character (a word's odd tail).
    """

    def __init__(self, renderer: TextRenderer, layout: str | None = None, charset: str = DEFAULT_CHARSET):
        layout = layout or renderer.config.layout
        if layout not in READABLE_LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(READABLE_LAYOUTS)} to read patches back; got {layout!r}")
        if not charset:
            raise ValueError("charset must hold at least one character")
        self.renderer, self.layout = renderer, layout
        self.patch_size = renderer.config.patch_size
        self.cell = renderer.config.mono_cell_width if layout == "mono" else self.patch_size
        units = list(dict.fromkeys(charset))
        if layout == "bigrams":
            units += [a + b for a in charset for b in charset]
        else:
            units.append(" ")
        self.units = units
        self.codebook = np.stack([self._first_cell(u) for u in units])
        self._norms = (self.codebook ** 2).sum(1)

    def _first_cell(self, unit: str) -> np.ndarray:
        if unit == " ":
            return np.ones(self.patch_size * self.cell, np.float32)
        strip = self.renderer(unit, layout=self.layout).pixel_values
        return self._gray(strip)[:, : self.cell].reshape(-1)

    @staticmethod
    def _gray(pixels: np.ndarray) -> np.ndarray:
        x = np.asarray(pixels, dtype=np.float32) / 255.0
        return x.mean(-1) if x.ndim == 3 else x

    def text_cells(self, pixels: np.ndarray, num_patches: int | None = None) -> np.ndarray:
        """The cells of a strip up to its end patch (a black patch) or `num_patches`: (N, p*cell)."""
        if not isinstance(pixels, np.ndarray) or pixels.ndim not in (2, 3) or pixels.shape[0] != self.patch_size:
            raise ValueError(f"pixels must be a ({self.patch_size}, W) or ({self.patch_size}, W, C) array, "
                             f"got {getattr(pixels, 'shape', type(pixels).__name__)}")
        gray = self._gray(pixels)
        p = self.patch_size
        patches = gray.shape[1] // p
        if num_patches is None:
            dark = [k for k in range(patches) if gray[:, k * p : (k + 1) * p].mean() < 0.2]
            num_patches = dark[0] if dark else patches
        width = min(num_patches, patches) * p // self.cell * self.cell
        cells = gray[:, :width].reshape(p, -1, self.cell).transpose(1, 0, 2)
        return cells.reshape(len(cells), -1)

    def read(self, pixels: np.ndarray, num_patches: int | None = None) -> str:
        """The text of a strip (uint8 (p, W) or (p, W, C)). `mono` keeps spaces; `bigrams`
        cannot tell where words end, so its text has none."""
        cells = self.text_cells(pixels, num_patches)
        if not len(cells):
            return ""
        distance = self._norms[None, :] - 2.0 * cells @ self.codebook.T
        return "".join(self.units[k] for k in distance.argmin(1)).rstrip()
