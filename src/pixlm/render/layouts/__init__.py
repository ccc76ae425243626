"""Layouts: how lines of text are placed on a strip of patches, one module each, registered by
name (`LAYOUT_REGISTRY`). Callers ask a layout for its properties (`word_aligned`, `readable`)
instead of comparing names."""

# Each module registers its layout; this order is the order layouts are listed in.
from . import continuous, words, bigrams, mono  # noqa: F401, I001
from .base import LAYOUT_REGISTRY, Layout, Segment, Text, is_rtl, register_layout


def layout_class(name: str) -> type[Layout]:
    """The layout registered as `name`, or an error listing the layouts there are."""
    try:
        return LAYOUT_REGISTRY[name]
    except KeyError:
        raise ValueError(f"layout must be one of {', '.join(LAYOUT_REGISTRY)}; got {name!r}") from None


def word_aligned_layouts() -> list[str]:
    """Layouts in which every word starts a patch (token tasks label a word's first patch)."""
    return [name for name, cls in LAYOUT_REGISTRY.items() if cls.word_aligned]


def readable_layouts() -> list[str]:
    """Layouts whose patches a template reader can read back exactly."""
    return [name for name, cls in LAYOUT_REGISTRY.items() if cls.readable]


__all__ = ["LAYOUT_REGISTRY", "Layout", "Segment", "Text", "is_rtl", "layout_class", "readable_layouts",
           "register_layout", "word_aligned_layouts"]
