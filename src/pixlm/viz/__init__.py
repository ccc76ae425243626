"""Pictures for people: rendered strips, reconstructions, attention maps, loss curves (PNG)."""

from .strips import save_png, strip_image

__all__ = ["save_png", "strip_image"]
