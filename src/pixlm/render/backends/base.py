"""What a rendering backend provides: one line of text shaped and drawn into a small bitmap."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from ..config import RendererConfig
from ..fonts import FontChain


@dataclass
class Run:
    """A drawn piece of text, ready to be copied into a strip.

    `ink` is coverage (0 = nothing drawn, 255 = solid black) as (height, width) in grayscale, or
    premultiplied RGBA (height, width, 4) in RGB mode. The pen starts at column `origin` (the
    columns before it hold overhangs such as the tail of a `j`) and moves `advance` pixels.
    `char_x0`/`char_x1` are each character's extent along the pen, in display order (a right-to-
    left character has a larger x than the one after it).
    """

    ink: np.ndarray
    origin: int
    advance: float
    char_x0: np.ndarray
    char_x1: np.ndarray
    missing: int = 0


class Backend(ABC):
    """Shapes and draws text; layouts, pairs, padding and patches are the renderer's business."""

    name: str = ""
    # Whether left-to-right text may be drawn word by word from a cache. A backend that rounds
    # or kerns across words (as Pango does) lays out each line whole instead.
    caches_words: bool = True

    def __init__(self, config: RendererConfig, fonts: FontChain):
        self.config = config
        self.fonts = fonts
        self.height = config.patch_size
        self.margin = config.patch_size // 2

    @abstractmethod
    def render_run(self, text: str) -> Run:
        """Shape `text` (one line, any scripts and directions) and draw it."""

    def baseline(self) -> int:
        """Row of the baseline: caps and descenders of the primary font centred in the strip."""
        import skia

        font = skia.Font(self.fonts.typeface(0), self.config.font_px)
        m = font.getMetrics()
        cap = m.fCapHeight or -m.fAscent * 0.7
        return int(round(self.height / 2 + (cap - m.fDescent) / 2))


def empty_run(config: RendererConfig, height: int, margin: int) -> Run:
    shape = (height, 2 * margin, 4) if config.rgb else (height, 2 * margin)
    z = np.zeros(0, np.float32)
    return Run(np.zeros(shape, np.uint8), margin, 0.0, z, z.copy())


def rgba_to_ink(rgba: np.ndarray, rgb: bool) -> np.ndarray:
    """Premultiplied RGBA to the strip's ink: RGBA kept in RGB mode, darkness over white otherwise."""
    if rgb:
        return rgba
    c = rgba.astype(np.int32)
    # Over white a premultiplied pixel shows c + 255 - a; its darkness is a - luminance(c).
    lum_premul = (c[..., 0] * 77 + c[..., 1] * 150 + c[..., 2] * 29) >> 8
    return (c[..., 3] - lum_premul).clip(0, 255).astype(np.uint8)


def alpha_to_ink(alpha: np.ndarray, rgb: bool) -> np.ndarray:
    """Coverage of black text as the strip's ink (black premultiplied RGBA in RGB mode)."""
    if not rgb:
        return alpha
    out = np.zeros(alpha.shape + (4,), np.uint8)
    out[..., 3] = alpha
    return out
