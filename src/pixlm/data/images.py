"""Images for Pixel-BERT: loading (unreadable files are skipped, counted and named), resizing as
the paper does (shorter edge to a size, longer edge capped), normalising and padding a batch of
different sizes with a mask of where each image is."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

logger = logging.getLogger(__name__)


@dataclass
class SkippedImages:
    """Images that could not be read: how many, and which (the first few named)."""

    count: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, path: str, reason: str) -> None:
        self.count += 1
        if len(self.examples) < 20:
            self.examples.append(f"{path} ({reason})")
        logger.warning("skipping image %s: %s", path, reason)


def image_key(source):
    """What names an example's image, so that examples sharing one can be told: its path, or
    the object itself (an in-memory image or a synthetic scene)."""
    return source if isinstance(source, str) else id(source)


def open_image(source, skipped: SkippedImages | None = None):
    """A PIL RGB image from a path, a PIL image or an (H, W, 3) uint8 array; None (counted in
    `skipped`, named in the log) when a file is missing, unreadable or truncated."""
    if isinstance(source, Image.Image):
        return source.convert("RGB")
    if isinstance(source, np.ndarray):
        if source.ndim != 3 or source.shape[2] != 3 or source.dtype != np.uint8:
            raise ValueError(f"an image array must be (height, width, 3) uint8; got {source.shape} {source.dtype}")
        return Image.fromarray(source)
    path = os.fspath(source)
    skipped = skipped if skipped is not None else SkippedImages()
    if not os.path.isfile(path):
        skipped.add(path, "no such file")
        return None
    try:
        with Image.open(path) as image:
            image.load()  # decodes everything: a truncated file fails here, not mid-epoch
            return image.convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        skipped.add(path, f"unreadable: {e}")
        return None


def resize_shorter_edge(image, min_size: int, max_size: int):
    """Resize so the shorter edge is `min_size`, unless the longer edge would pass `max_size`
    (then the longer edge is `max_size`), keeping the aspect ratio."""
    w, h = image.size
    scale = min(min_size / min(w, h), max_size / max(w, h))
    size = (max(1, int(w * scale + 0.5)), max(1, int(h * scale + 0.5)))  # halves round up
    return image if size == (w, h) else image.resize(size, Image.BILINEAR)


def images_to_batch(images: list, mean, std, multiple: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """PIL images (already resized) -> normalised `pixel_values` (B, 3, H, W), padded with zeros
    to the largest height and width rounded up to `multiple`, and `pixel_mask` (B, H, W), 1
    inside each image."""
    if not images:
        raise ValueError("cannot batch an empty list of images")
    height = -(-max(im.size[1] for im in images) // multiple) * multiple
    width = -(-max(im.size[0] for im in images) // multiple) * multiple
    pixel_values = torch.zeros(len(images), 3, height, width)
    pixel_mask = torch.zeros(len(images), height, width)
    mean_t = torch.tensor(mean).view(3, 1, 1)
    std_t = torch.tensor(std).view(3, 1, 1)
    for i, im in enumerate(images):
        x = torch.from_numpy(np.asarray(im, dtype=np.uint8).copy()).permute(2, 0, 1).float().div_(255)
        h, w = x.shape[1:]
        pixel_values[i, :, :h, :w] = (x - mean_t) / std_t
        pixel_mask[i, :h, :w] = 1
    return pixel_values, pixel_mask


def _readable(source, skipped: SkippedImages) -> bool:
    return not isinstance(source, (str, os.PathLike)) or open_image(source, skipped) is not None


def keep_readable(examples: list[dict], key: str = "image") -> tuple[list[dict], SkippedImages]:
    """Examples whose image file(s) open; the rest are dropped, counted and named in the log.
    Run before training, so that a bad file never stops an epoch."""
    skipped = SkippedImages()
    kept = []
    for e in examples:
        sources = e[key] if isinstance(e[key], (list, tuple)) else [e[key]]
        if all(_readable(s, skipped) for s in sources):
            kept.append(e)
    if skipped.count:
        logger.warning("%d image(s) could not be read and their examples were left out: %s", skipped.count,
                       "; ".join(skipped.examples))
    return kept, skipped
