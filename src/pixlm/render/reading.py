"""Reading rendered patches back as text, for the layouts whose cells hold known characters at
known places: `mono` (one grapheme per cell) and `bigrams` (a character bigram from each
patch boundary, PIXEL-M4's layout).

`mono` cells are matched one by one against the renderer's own drawing of every character of
a character set, nearest in pixel distance. A bigram starts a patch but may be wider than one
(two wide characters reach into the next patch), so `bigrams` strips are read as the sequence
of bigram drawings, one or more patches each, that together lie nearest the strip (dynamic
programming over the patches). On clean renderings this reads back the text; on a model's
generated patches it reads what the model drew.

    reader = PatchReader(TextRenderer(layout="mono"))
    reader.read(renderer("Hello world").pixel_values)  # 'Hello world'
"""

from __future__ import annotations

import string

import numpy as np

from .layouts import layout_class, readable_layouts
from .renderer import TextRenderer

DEFAULT_CHARSET = "".join(c for c in string.printable if not c.isspace())
READABLE_LAYOUTS = tuple(readable_layouts())


def text_patch_count(gray: np.ndarray, patch_size: int) -> int:
    """The patches of a (p, W) gray strip in [0, 1] before its first black (end) patch, or all of
    them; an end patch a model drew counts if it is mostly dark."""
    n = gray.shape[1] // patch_size
    means = gray[:, : n * patch_size].reshape(gray.shape[0], n, patch_size).mean(axis=(0, 2))
    dark = np.flatnonzero(means < 0.2)
    return int(dark[0]) if len(dark) else n


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
        self.spec = layout_class(layout)
        self.patch_size = renderer.config.patch_size
        self.cell = self.spec.cell_width(renderer.config)
        units = list(dict.fromkeys(charset))
        if self.spec.characters_per_cell == 2:
            units += [a + b for a in charset for b in charset]
        if self.spec.draws_spaces:
            units.append(" ")
        self.units = units
        images = [self._unit_image(u) for u in units]
        self.spans = np.asarray([img.shape[1] // self.cell for img in images])
        # Codebooks by span: the units drawn over that many cells, flattened.
        self.codebooks = {}
        for span in sorted(set(self.spans.tolist())):
            chosen = np.flatnonzero(self.spans == span)
            book = np.stack([images[k].reshape(-1) for k in chosen])
            self.codebooks[span] = (chosen, book, (book**2).sum(1))

    def _unit_image(self, unit: str) -> np.ndarray:
        """A unit as drawn from a cell boundary: (p, span * cell) gray values in [0, 1]."""
        if unit == " ":
            return np.ones((self.patch_size, self.cell), np.float32)
        rendered = self.renderer(unit, layout=self.layout)
        cells = 1 if self.spec.characters_per_cell == 1 else max(rendered.num_text_patches, 1)
        return self._gray(rendered.pixel_values)[:, : cells * self.cell]

    @staticmethod
    def _gray(pixels: np.ndarray) -> np.ndarray:
        x = np.asarray(pixels, dtype=np.float32) / 255.0
        return x.mean(-1) if x.ndim == 3 else x

    def text_cells(self, pixels: np.ndarray, num_patches: int | None = None) -> np.ndarray:
        """The cells of a strip up to its end patch (a black patch) or `num_patches`: (N, p, cell)."""
        if not isinstance(pixels, np.ndarray) or pixels.ndim not in (2, 3) or pixels.shape[0] != self.patch_size:
            raise ValueError(f"pixels must be a ({self.patch_size}, W) or ({self.patch_size}, W, C) array, "
                             f"got {getattr(pixels, 'shape', type(pixels).__name__)}")
        gray = self._gray(pixels)
        p = self.patch_size
        patches = gray.shape[1] // p
        if num_patches is None:
            num_patches = text_patch_count(gray, p)
        width = min(num_patches, patches) * p // self.cell * self.cell
        return gray[:, :width].reshape(p, -1, self.cell).transpose(1, 0, 2)

    def read(self, pixels: np.ndarray, num_patches: int | None = None) -> str:
        """The text of a strip (uint8 (p, W) or (p, W, C)). `mono` keeps spaces; `bigrams`
        cannot tell where words end, so its text has none."""
        cells = self.text_cells(pixels, num_patches)
        n = len(cells)
        if not n:
            return ""
        # best[q]: the least distance of units covering cells 0..q-1; back[q]: the last unit.
        best = np.full(n + 1, np.inf)
        best[0] = 0.0
        back = np.zeros((n + 1, 2), np.int64)
        windows = {}
        for span, (chosen, book, norms) in self.codebooks.items():
            if span > n:
                continue
            flat = np.stack([cells[q : q + span].transpose(1, 0, 2).reshape(-1) for q in range(n - span + 1)])
            distance = norms[None, :] - 2.0 * flat @ book.T + (flat**2).sum(1, keepdims=True)
            windows[span] = (chosen, distance.argmin(1), distance.min(1))
        for q in range(1, n + 1):
            for span, (chosen, arg, dist) in windows.items():
                if span <= q and best[q - span] + dist[q - span] < best[q]:
                    best[q] = best[q - span] + dist[q - span]
                    back[q] = (span, chosen[arg[q - span]])
        out, q = [], n
        while q > 0 and np.isfinite(best[q]):
            span, unit = back[q]
            out.append(self.units[unit])
            q -= span
        return "".join(reversed(out)).rstrip()
