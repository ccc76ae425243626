"""A rendered strip as a picture a person can read, and PNG files written whole."""

from __future__ import annotations

import os

import numpy as np
from PIL import Image

from ..files import written_whole


def strip_image(
    pixels: np.ndarray,
    patch_size: int = 16,
    *,
    grid: bool = False,
    wrap: int | None = None,
    num_patches: int | None = None,
    scale: int = 1,
):
    """A PIL image of a strip.

    Args:
        pixels: (p, W) or (p, W, 3) uint8, as in `RenderedText.pixel_values`.
        grid: draw the patch grid in red.
        wrap: patches per row: the strip is cut into rows stacked top to bottom, with a gap.
        num_patches: show only this many patches (for instance `rendered.num_patches`).
        scale: enlarge each pixel to scale x scale.
    """
    if not isinstance(pixels, np.ndarray) or pixels.dtype != np.uint8 or pixels.ndim not in (2, 3):
        raise TypeError("pixels must be a uint8 numpy array of shape (p, W) or (p, W, 3)")
    rgb = pixels if pixels.ndim == 3 else np.repeat(pixels[..., None], 3, axis=2)
    p = patch_size
    total = rgb.shape[1] // p
    n = total if num_patches is None else max(1, min(int(num_patches), total))
    rgb = rgb[:, : n * p]
    if grid:
        rgb = rgb.copy()
        rgb[:, ::p] = (rgb[:, ::p] * 0.4 + np.array([255, 0, 0]) * 0.6).astype(np.uint8)
    if wrap:
        if not isinstance(wrap, int) or wrap < 1:
            raise ValueError(f"wrap must be a positive number of patches per row, got {wrap!r}")
        rows = -(-n // wrap)
        gap = max(2, p // 4)
        canvas = np.full((rows * (p + gap) - gap, min(n, wrap) * p, 3), 255, np.uint8)
        for r in range(rows):
            piece = rgb[:, r * wrap * p : (r + 1) * wrap * p]
            canvas[r * (p + gap) : r * (p + gap) + p, : piece.shape[1]] = piece
        rgb = canvas
    img = Image.fromarray(rgb)
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    return img


def read_strip_image(source, patch_size: int = 16) -> np.ndarray:
    """A strip picture (a PNG path or a PIL image, as `pixlm render` writes it, `--scale`
    included) back as (p, W) uint8 gray pixels: a picture k patches high is shrunk k times."""
    if isinstance(source, (str, os.PathLike)):
        if not os.path.isfile(source):
            raise FileNotFoundError(f"image {os.fspath(source)!r} does not exist")
        try:
            source = Image.open(source)
            source.load()
        except (OSError, SyntaxError) as e:  # PIL's errors for a file that is not, or no longer, a picture
            raise ValueError(f"image {os.fspath(source)!r} cannot be read as a picture ({e}); give a PNG strip as "
                             "pixlm render writes it") from e
    image = source.convert("L")
    if image.height != patch_size:
        k = image.height // patch_size
        if k < 1 or image.height % patch_size or image.width % k:
            raise ValueError(f"an image {image.width} x {image.height} pixels is not a strip {patch_size} pixels high "
                             "(or a whole multiple, as pixlm render --scale writes it)")
        image = image.resize((image.width // k, patch_size), Image.BOX)  # each k x k block back to its pixel
    return np.asarray(image)


def save_png(image, path: str | os.PathLike) -> str:
    """Save a PIL image as PNG, creating the folder; return the path."""
    path = os.fspath(path)
    with written_whole(path) as tmp:
        image.save(tmp, format="PNG")
    return path
