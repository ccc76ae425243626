"""Rendering backends behind one interface: `skia` (default) and `pango` (optional extra)."""

from __future__ import annotations

import importlib.util

from ..config import BACKENDS, RendererConfig
from ..fonts import FontChain
from .base import Backend, Line

_REQUIREMENTS = {"skia": ("skia", "uharfbuzz"), "pango": ("pangocairocffi", "pangocffi", "cairocffi")}

# What a system needs before each backend's libraries load, by the error they give without it.
_SYSTEM_HELP = {
    "skia": "skia-python needs the system's EGL and OpenGL libraries (Debian/Ubuntu: "
            "`apt-get install libegl1 libgl1`; Fedora: `dnf install mesa-libEGL mesa-libGL`); "
            "or render with backend='pango'",
    "pango": "the pango backend needs the system's Pango and Cairo (Debian/Ubuntu: `apt-get install "
             "libpango-1.0-0 libpangocairo-1.0-0 libcairo2`; macOS: `brew install pango`) and "
             "`pip install pixlm[pango]`; or render with backend='skia'",
}


def backend_problem(name: str) -> str | None:
    """Why backend `name` cannot run here (a missing package or system library), or None."""
    missing = [m for m in _REQUIREMENTS[name] if importlib.util.find_spec(m) is None]
    if missing:
        return f"{', '.join(missing)} not installed; {_SYSTEM_HELP[name]}"
    try:
        if name == "skia":
            import skia  # noqa: F401  (loads libEGL and libGL)
        else:
            import pangocairocffi  # noqa: F401  (loads libpango, libpangocairo and libcairo)
    except (ImportError, OSError) as e:
        first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return f"{first_line}; {_SYSTEM_HELP[name]}"
    return None


def available_backends() -> list[str]:
    """Backends whose Python packages and system libraries are installed."""
    return [name for name in BACKENDS if backend_problem(name) is None]


def make_backend(config: RendererConfig, fonts: FontChain | None = None) -> Backend:
    """The backend named by `config.backend`, or an error saying what to install."""
    if config.backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}; got {config.backend!r}")
    problem = backend_problem(config.backend)
    if problem is not None:
        raise BackendUnavailableError(f"backend {config.backend!r} cannot run here: {problem}")
    if fonts is None:
        fonts = FontChain(config.fonts, bundled=config.fallback_fonts)
    if config.backend == "skia":
        from .skia_backend import SkiaBackend  # here: it loads libEGL; imported once found able to run

        return SkiaBackend(config, fonts)
    from .pango_backend import PangoBackend  # here: it loads libpango and libcairo

    return PangoBackend(config, fonts)


class BackendUnavailableError(RuntimeError):
    """A rendering backend whose packages or system libraries are missing."""


__all__ = ["Backend", "BackendUnavailableError", "Line", "available_backends", "backend_problem", "make_backend"]
