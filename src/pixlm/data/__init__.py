"""Data: corpora, readers, the processor and collators that render and pad to the batch's
longest text, masking. The names below load on first use (see pixlm._lazy)."""

from .._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "collators": ("PairedClassificationCollator", "PixelClassificationCollator", "PixelParsingCollator",
                  "PixelPretrainingCollator", "PixelTokenClassificationCollator", "TextClassificationCollator",
                  "check_renderer_fits"),
    "masking": ("SpanMaskingGenerator", "num_masked"),
    "processor": ("PixelProcessor",),
})
