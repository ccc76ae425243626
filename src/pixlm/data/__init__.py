"""Data: corpora, collators that render and pad to the batch's longest text, masking."""

from .collators import (
    PixelClassificationCollator, PixelParsingCollator, PixelPretrainingCollator, PixelTokenClassificationCollator,
    check_renderer_fits,
)
from .masking import SpanMaskingGenerator, num_masked

__all__ = ["PixelClassificationCollator", "PixelParsingCollator", "PixelPretrainingCollator", "PixelTokenClassificationCollator", "SpanMaskingGenerator", "check_renderer_fits", "num_masked"]
