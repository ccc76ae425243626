"""Text to pixels: `RendererConfig`, `TextRenderer`, `RenderedText`. Knows nothing of torch."""

from .backends import available_backends
from .config import CONFIG_NAME, LAYOUTS, RendererConfig
from .output import RenderedText
from .renderer import TextRenderer
from .samples import SCRIPT_SAMPLES

__all__ = [
    "CONFIG_NAME",
    "LAYOUTS",
    "RenderedText",
    "RendererConfig",
    "SCRIPT_SAMPLES",
    "TextRenderer",
    "available_backends",
]
