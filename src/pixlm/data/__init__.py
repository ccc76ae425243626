"""Data: corpora, collators that render and pad to the batch's longest text, masking."""

from .collators import (
    PixelClassificationCollator, PixelPretrainingCollator, PixelTokenClassificationCollator, check_renderer_fits,
)
from .masking import SpanMaskingGenerator, num_masked

__all__ = ["PixelClassificationCollator", "PixelPretrainingCollator", "PixelTokenClassificationCollator", "SpanMaskingGenerator", "check_renderer_fits", "num_masked"]
