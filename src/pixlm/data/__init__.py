"""Data: corpora, collators that render and pad to the batch's longest text, masking."""

from .collators import (
    PairedClassificationCollator,
    PixelClassificationCollator,
    PixelParsingCollator,
    PixelPretrainingCollator,
    PixelTokenClassificationCollator,
    TextClassificationCollator,
    check_renderer_fits,
)
from .masking import SpanMaskingGenerator, num_masked
from .processor import PixelProcessor

__all__ = ["PairedClassificationCollator", "PixelClassificationCollator", "PixelParsingCollator", "PixelPretrainingCollator",
           "PixelProcessor", "PixelTokenClassificationCollator", "SpanMaskingGenerator", "TextClassificationCollator",
           "check_renderer_fits",
           "num_masked"]
