"""Data: corpora, collators that render and pad to the batch's longest text, masking."""

from .collators import PixelPretrainingCollator, check_renderer_fits
from .masking import SpanMaskingGenerator, num_masked

__all__ = ["PixelPretrainingCollator", "SpanMaskingGenerator", "check_renderer_fits", "num_masked"]
