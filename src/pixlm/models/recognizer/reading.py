"""Reading strips with a recognizer: whatever form the strips come in (a rendering, an array, a
PNG, a model's pixel values), batched by width, cut at their end patch.

    import pixlm
    pixlm.read("strip.png").text
    pixlm.read([renderer("Hello"), renderer("world")])  # a list of Readings
"""

from __future__ import annotations

import json
import os
import weakref
from importlib import resources

import numpy as np
import torch
from PIL import Image
from transformers.utils import logging as hf_logging

from ...render import RendererConfig
from ...render.images import read_strip_image
from ...render.reading import text_patch_count
from .configuration_recognizer import RecognizerConfig
from .modeling_recognizer import PixelRecognizer, Reading, decode_best

_DEFAULT = None


def _load(folder) -> PixelRecognizer:
    """A recognizer from a local folder, without transformers' progress bar (it is small, and
    reading is often one line of output)."""
    _check_current(folder)
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        return PixelRecognizer.from_pretrained(folder).eval()
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def _check_current(folder) -> None:
    """Refuse a recognizer saved before pixlm's recognizer took steps of several frames (its
    weights would not fit), saying how to get one that does."""
    path = os.path.join(folder, "config.json")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"recognizer folder {os.fspath(folder)!r} has no config.json (train one with pixlm read train)")
    with open(path, encoding="utf-8") as f:
        if "frames_per_step" not in json.load(f):
            raise ValueError(f"recognizer {os.fspath(folder)!r} was trained by an earlier pixlm, whose recognizer this one "
                             "cannot load: train it again with `pixlm read train` (its all_results.json holds the settings)")


def default_recognizer_path() -> str:
    """The folder of the recognizer that ships with pixlm (for pixlm's default renderer)."""
    return str(resources.files("pixlm") / "recognizers" / "default")


def default_recognizer() -> PixelRecognizer:
    """The recognizer that ships with pixlm, loaded once per process."""
    global _DEFAULT
    if _DEFAULT is None:
        path = default_recognizer_path()
        if not os.path.isfile(os.path.join(path, "model.safetensors")):
            raise FileNotFoundError(f"pixlm's default recognizer is missing from {path}: reinstall pixlm, or train one "
                                    "with `pixlm read train` and give its folder (--recognizer DIR, or recognizer=DIR)")
        _DEFAULT = _load(path)
    return _DEFAULT


# What a recognizer learned to read: strips drawn with the same glyphs at the same size.
_DRAWING_FIELDS = ("patch_size", "font_size", "dpi", "fonts", "backend")


def recognizer_for(renderer_config, recognizer: str | None = None) -> PixelRecognizer | None:
    """A recognizer for strips drawn with `renderer_config` (a RendererConfig): the one in
    folder `recognizer`, or else the shipped one if it was trained on the same drawing (patch
    size, font and size, resolution, backend); None when there is none."""
    if recognizer is not None:
        return _load(recognizer)
    path = default_recognizer_path()
    if not os.path.isfile(os.path.join(path, "model.safetensors")):
        return None
    trained = RendererConfig.from_pretrained(path)
    if any(getattr(trained, f) != getattr(renderer_config, f) for f in _DRAWING_FIELDS):
        return None
    return default_recognizer()


def _as_gray(strip, patch_size: int, num_patches: int | None) -> np.ndarray:
    """One strip as (H, W) float32 in [0, 1], up to its text's end."""
    if hasattr(strip, "pixel_values") and hasattr(strip, "num_text_patches"):  # a RenderedText
        num_patches = strip.num_text_patches if num_patches is None else num_patches
        strip = strip.pixel_values
    if isinstance(strip, (str, os.PathLike, Image.Image)):
        strip = read_strip_image(strip, patch_size)
    if torch.is_tensor(strip):
        strip = strip.detach().float().cpu().numpy()
    x = np.asarray(strip)
    if x.dtype == np.uint8:
        x = x.astype(np.float32) / 255.0
    elif not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"a strip must hold uint8 pixels or floats in [0, 1], got {x.dtype}")
    elif not np.isfinite(x).all():  # floats only: uint8 pixels cannot be NaN
        raise ValueError("a strip holds NaN or infinite pixel values: there is nothing to read in it")
    if x.ndim == 3:  # (C, H, W) as models take it, or (H, W, C) as the renderer draws it
        x = x.mean(0) if x.shape[0] in (1, 3) and x.shape[1] == patch_size else x.mean(-1)
    if x.ndim != 2 or x.shape[0] != patch_size:
        raise ValueError(f"a strip must be {patch_size} pixels high: (H, W), (H, W, C) or (C, H, W); got {tuple(x.shape)}")
    x = x.astype(np.float32)
    if num_patches is None:
        num_patches = text_patch_count(x, patch_size)
    return x[:, : num_patches * patch_size]


PRECISIONS = ("auto", "float32", "bfloat16")
INK = 0.25  # darkness above which a column holds ink
# How far from a read character's column its ink may lie: about a character's width at
# PIXEL's 8-point size (the score of unread ink is calibrated with it; docs/results.md).
UNREAD_REACH = 6
_COPIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def reading_dtype(model: PixelRecognizer, precision: str = "auto") -> torch.dtype:
    """The dtype to read in: `precision` itself, or for "auto" bfloat16 where the hardware
    multiplies in it natively (a GPU that supports it; a CPU with AMX tiles, where reading is
    about 1.3x faster) and float32 elsewhere."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision != "auto":
        return getattr(torch, precision)
    device = next(model.parameters()).device
    if device.type == "cuda":
        native = torch.cuda.is_bf16_supported()
    else:  # a private probe, so guarded: without it, float32
        native = device.type == "cpu" and getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)()
    return torch.bfloat16 if native else torch.float32


def reading_copy(model: PixelRecognizer, dtype: torch.dtype) -> PixelRecognizer:
    """`model.for_reading(dtype)`, kept for the next call until the model's weights or
    statistics change (their in-place version counters say when)."""
    state = (dtype, tuple(t._version for t in (*model.parameters(), *model.buffers())))
    kept = _COPIES.get(model)
    if kept is None or kept[0] != state:
        kept = (state, model.for_reading(dtype))
        _COPIES[model] = kept
    return kept[1]


@torch.no_grad()
def read_strips(model: PixelRecognizer, strips: list[np.ndarray], batch_size: int = 32,
                precision: str = "auto") -> list[Reading]:
    """Read (H, W) float strips in [0, 1] (white background), in batches of similar width, in
    the `precision` that `reading_dtype` picks."""
    config: RecognizerConfig = model.config
    model = reading_copy(model, reading_dtype(model, precision))
    order = sorted(range(len(strips)), key=lambda i: strips[i].shape[1])
    out: list[Reading | None] = [None] * len(strips)
    device = next(model.parameters()).device
    for k in range(0, len(order), batch_size):
        chosen = order[k : k + batch_size]
        # at least one window wide: a strip of no columns reads as nothing (its length is 0 frames)
        width = max(config.window, max(strips[i].shape[1] for i in chosen))
        batch = np.ones((len(chosen), config.patch_size, width), np.float32)
        for b, i in enumerate(chosen):
            batch[b, :, : strips[i].shape[1]] = strips[i]
        widths = torch.tensor([strips[i].shape[1] for i in chosen], device=device)
        best, best_p, lengths = model.best_frames(torch.from_numpy(batch).to(device), widths=widths)
        inked = batch.min(1) < 1.0 - INK  # (B, W): the columns with ink, for the whole batch at once
        for b, (i, reading) in enumerate(zip(chosen, decode_best(best, best_p, lengths, config))):
            reading.unread_ink = _unread_share(np.flatnonzero(inked[b]), reading.columns, UNREAD_REACH)
            out[i] = reading
    return out


def unread_ink(strip: np.ndarray, columns: list[int], reach: int, threshold: float = INK) -> float:
    """The share of a strip's inked columns (darkness above `threshold`) with no read character
    within `reach` pixels."""
    return _unread_share(np.flatnonzero(strip.min(0) < 1.0 - threshold), columns, reach)


def _unread_share(inked: np.ndarray, columns: list[int], reach: int) -> float:
    if len(inked) == 0:
        return 0.0
    if not len(columns):
        return 1.0
    read_at = np.sort(np.asarray(columns))
    after = np.searchsorted(read_at, inked).clip(max=len(read_at) - 1)
    before = (after - 1).clip(min=0)
    nearest = np.minimum(np.abs(read_at[after] - inked), np.abs(read_at[before] - inked))
    return float((nearest > reach).mean())


def read(strips, recognizer: PixelRecognizer | str | None = None, num_patches: int | list[int] | None = None,
         batch_size: int = 32, precision: str = "auto"):
    """Read one strip or a list of them as text; returns a `Reading` (or a list).

    A strip is a `RenderedText`, a PNG path or PIL image (as pixlm render writes it, --scale
    included), an array (H, W), (H, W, C) or (C, H, W) of uint8 pixels or floats in [0, 1], or a
    (B, C, H, W) tensor of a model's pixel values. Each is read up to its end patch (the first
    black patch), or up to `num_patches` patches when given. `recognizer`: a `PixelRecognizer`,
    a folder holding one, or None for the one that ships with pixlm. `precision`: "auto"
    (bfloat16 where the hardware computes in it natively, else float32), "float32" or
    "bfloat16" (`reading_dtype`).
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if recognizer is None:
        model = default_recognizer()
    elif isinstance(recognizer, (str, os.PathLike)):
        model = _load(recognizer)
    else:
        model = recognizer
    single = not isinstance(strips, (list, tuple)) and not (torch.is_tensor(strips) and strips.dim() == 4)
    items = [strips] if single else list(strips)
    if isinstance(num_patches, (list, tuple)):
        if len(num_patches) != len(items):
            raise ValueError(f"num_patches has {len(num_patches)} entries for {len(items)} strips")
        counts = list(num_patches)
    else:
        counts = [num_patches] * len(items)
    for n in counts:
        if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0):
            raise ValueError(f"num_patches must be None or a non-negative integer (per strip), got {n!r}")
    gray = [_as_gray(s, model.config.patch_size, n) for s, n in zip(items, counts)]
    readings = read_strips(model, gray, batch_size, precision)
    return readings[0] if single else readings
