"""Pictures for people: rendered strips, reconstructions, generations, attention maps, loss
curves (PNG)."""

from .attention import attention_figure, word_to_pixel_attention
from .curves import loss_curve
from .generation import generate
from .reconstruction import Reconstruction, reconstruct, reconstruction, reconstruction_image
from .strips import labelled_panels, save_png, strip_image

__all__ = ["Reconstruction", "attention_figure", "word_to_pixel_attention", "generate", "labelled_panels", "loss_curve",
           "reconstruct", "reconstruction", "reconstruction_image", "save_png", "strip_image"]
