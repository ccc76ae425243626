"""Data: corpora, readers, the processor and collators that render and pad to the batch's
longest text, masking. The names below load on first use (see pixlm._lazy)."""

from .._lazy import lazy_exports

_EXPORTS = {
    "PairedClassificationCollator": "collators",
    "PixelClassificationCollator": "collators",
    "PixelParsingCollator": "collators",
    "PixelPretrainingCollator": "collators",
    "PixelTokenClassificationCollator": "collators",
    "TextClassificationCollator": "collators",
    "check_renderer_fits": "collators",
    "SpanMaskingGenerator": "masking",
    "num_masked": "masking",
    "PixelProcessor": "processor",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = list(_EXPORTS)
