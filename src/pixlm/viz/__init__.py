"""Pictures for people: rendered strips, reconstructions, generations, loss curves (PNG)."""

from .curves import loss_curve
from .generation import generate
from .reconstruction import reconstruct, reconstruction_image
from .strips import labelled_panels, save_png, strip_image

__all__ = ["generate", "labelled_panels", "loss_curve", "reconstruct", "reconstruction_image", "save_png", "strip_image"]
