"""A causal pixel model continuing rendered text: prompt and continuation as a picture."""

from __future__ import annotations

import numpy as np

from ..data.processor import PixelProcessor
from .strips import labelled_panels, strip_image


def to_uint8_strip(pixel_values) -> np.ndarray:
    """(C, p, W) float tensor in [0, 1] -> (p, W, C) uint8 array."""
    return (pixel_values.permute(1, 2, 0).float().clamp(0, 1).numpy() * 255).round().astype(np.uint8)


def generate(model, renderer, prompt: str, num_new_patches: int | None = None, *, use_cache: bool = True,
             prompt_patches: int | None = None, wrap: int = 32):
    """Render `prompt`, drop its end patch (or keep only its first `prompt_patches` patches),
    let the model generate `num_new_patches` (default: as many as the prompt has, within
    the model's limit), and return (figure, continuation strip as uint8 (p, W, C))."""
    cfg = model.config
    rendered = renderer(prompt)
    text_patches = max(1, rendered.num_patches - 1)
    keep = text_patches if prompt_patches is None else max(1, min(int(prompt_patches), text_patches))
    pixel_values = PixelProcessor(renderer, cfg.num_channels).batch([(rendered.pixel_values, keep)], keep)["pixel_values"]
    room = cfg.max_patches - keep
    new = min(room, num_new_patches if num_new_patches is not None else keep)
    if new < 1:
        raise ValueError(f"the prompt fills the model's {cfg.max_patches} patches; give a shorter prompt")
    model.eval()
    continuation = model.generate_patches(pixel_values, new, use_cache=use_cache)
    p = cfg.patch_size
    prompt_img = to_uint8_strip(pixel_values[0])
    cont_img = to_uint8_strip(continuation[0])
    joined = np.concatenate([prompt_img, cont_img], axis=1)
    marked = joined.copy()
    marked[:, keep * p :] = (marked[:, keep * p :] * 0.85 + np.array([255, 230, 200])[: marked.shape[2]] * 0.15).astype(np.uint8)
    panels = [("prompt", prompt_img), ("prompt + generated (tinted)", marked)]
    if rendered.num_patches - 1 > keep:
        panels.insert(1, ("the rendered text", rendered.pixel_values[:, : (rendered.num_patches - 1) * p]))
    images = [(label, strip_image(np.ascontiguousarray(img if img.ndim == 2 or img.shape[2] != 1 else img[..., 0]), p,
                                  wrap=wrap, scale=2)) for label, img in panels]
    return labelled_panels(images), cont_img
