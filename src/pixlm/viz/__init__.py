"""Pictures for people: rendered strips, reconstructions, attention maps, loss curves (PNG)."""

from .curves import loss_curve
from .reconstruction import reconstruct, reconstruction_image
from .strips import save_png, strip_image

__all__ = ["loss_curve", "reconstruct", "reconstruction_image", "save_png", "strip_image"]
