"""Rendering backends behind one interface: `skia` (default) and `pango` (optional extra)."""

from __future__ import annotations

import importlib.util

from ..config import BACKENDS, RendererConfig
from ..fonts import FontChain
from .base import Backend, Run

_REQUIREMENTS = {"skia": ("skia", "uharfbuzz"), "pango": ("pangocairocffi", "pangocffi", "cairocffi")}


def available_backends() -> list[str]:
    """Backends whose Python packages are installed (pango also needs the system's Pango)."""
    found = []
    for name in BACKENDS:
        if all(importlib.util.find_spec(m) is not None for m in _REQUIREMENTS[name]):
            if name == "pango":
                try:
                    import pangocairocffi  # noqa: F401  (loads the system libraries)
                except (ImportError, OSError):
                    continue
            found.append(name)
    return found


def make_backend(config: RendererConfig, fonts: FontChain) -> Backend:
    """The backend named by `config.backend`, or an error saying how to install it."""
    if config.backend == "skia":
        from .skia_backend import SkiaBackend

        return SkiaBackend(config, fonts)
    if config.backend == "pango":
        try:
            from .pango_backend import PangoBackend
        except (ImportError, OSError) as e:
            raise ValueError(
                "backend 'pango' needs the system's Pango and Cairo and `pip install pixlm[pango]` "
                f"({e}); installed backends: {', '.join(available_backends())}"
            ) from e
        return PangoBackend(config, fonts)
    raise ValueError(f"backend must be one of {', '.join(BACKENDS)}; got {config.backend!r}")


__all__ = ["Backend", "Run", "available_backends", "make_backend"]
