"""PIXEL's figure: original, mask, prediction, and the prediction pasted into the original."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..data.collators import PixelPretrainingCollator
from ..data.masking import num_masked
from .strips import labelled_panels, strip_image


def reconstruction_image(
    original: np.ndarray,
    predicted: np.ndarray,
    mask: np.ndarray,
    num_patches: int,
    patch_size: int = 16,
    wrap: int = 32,
):
    """Four strips stacked, each wrapped into rows of `wrap` patches.

    Args:
        original, predicted: (p, W, 3) or (p, W) uint8 strips.
        mask: (L,) 1 where a patch was hidden from the encoder.
        num_patches: patches to show (the text and its end patch).
    """
    def rgb(x):
        x = x[..., None] if x.ndim == 2 else x
        return np.repeat(x, 3, axis=2) if x.shape[2] == 1 else x

    original, predicted = rgb(original), rgb(predicted)
    n = num_patches
    hidden = np.repeat(np.asarray(mask[:n], bool), patch_size)
    masked = original[:, : n * patch_size].copy()
    masked[:, hidden] = (masked[:, hidden] * 0.25 + np.array([200, 200, 200]) * 0.75).astype(np.uint8)
    pasted = original[:, : n * patch_size].copy()
    pasted[:, hidden] = predicted[:, : n * patch_size][:, hidden]
    panels = [("original", original), ("masked", masked), ("prediction", predicted), ("prediction in the original", pasted)]
    images = [(label, strip_image(np.ascontiguousarray(p[:, : n * patch_size]), patch_size, wrap=wrap, scale=2)) for label, p in panels]
    return labelled_panels(images)


@dataclass
class Reconstruction:
    """A strip, the patches hidden from the model, and what the model drew there.

    original, predicted: (p, W, C) uint8 strips; mask: (L,) 1 where a patch was hidden;
    num_patches: the text's patches and its end patch; loss: the masked-patch loss."""

    original: np.ndarray
    predicted: np.ndarray
    mask: np.ndarray
    num_patches: int
    loss: float
    patch_size: int

    def pasted(self) -> np.ndarray:
        """The original with the hidden patches replaced by the model's."""
        hidden = np.repeat(np.asarray(self.mask, bool), self.patch_size)[: self.original.shape[1]]
        out = self.original.copy()
        out[:, hidden] = self.predicted[:, hidden]
        return out

    def hidden_spans(self) -> list[tuple[int, int]]:
        """The [start, end) runs of hidden patches among the text's."""
        spans, start = [], None
        for k, hidden in enumerate(list(np.asarray(self.mask[: self.num_patches], bool)) + [False]):
            if hidden and start is None:
                start = k
            elif not hidden and start is not None:
                spans.append((start, k))
                start = None
        return spans


def reconstruct(model, renderer, text: str, *, spans: list[tuple[int, int]] | None = None, seed: int = 0, wrap: int = 32):
    """Render `text`, hide patches (the given [start, end) patch spans, else PIXEL's span
    masking), let the model fill them in, and return (figure, masked-patch loss)."""
    result = reconstruction(model, renderer, text, spans=spans, seed=seed)
    image = reconstruction_image(result.original, result.predicted, result.mask, result.num_patches, result.patch_size, wrap)
    return image, result.loss


def reconstruction(model, renderer, text: str, *, spans: list[tuple[int, int]] | None = None, seed: int = 0) -> Reconstruction:
    """What `reconstruct` draws, as arrays (see `Reconstruction`)."""
    model.eval()
    cfg = model.config
    collate = PixelPretrainingCollator(renderer, num_channels=cfg.num_channels, mask_ratio=cfg.mask_ratio, seed=seed)
    batch = collate([{"text": text}])
    length = batch["attention_mask"].shape[1]
    generator = torch.Generator().manual_seed(seed)
    patch_mask, ratio = batch["patch_mask"], None
    if spans is not None:
        patch_mask = torch.zeros(1, length)
        for s, e in spans:
            if not (0 <= s < e <= length):
                raise ValueError(f"span ({s}, {e}) is outside the text's {length} patches")
            patch_mask[0, s:e] = 1
        hidden = int(patch_mask.sum())
        # Exactly the chosen patches: the model hides L - int(L * (1 - ratio)) of L.
        ratio = (hidden - 0.5) / length
        assert num_masked(length, ratio) == hidden
    noise = patch_mask + torch.rand(1, length, generator=generator) / 100
    with torch.no_grad():
        out = model(batch["pixel_values"], batch["attention_mask"], noise=noise, mask_ratio=ratio)
    pred = model.reconstruct(out.logits, batch["pixel_values"])[0]
    to_uint8 = lambda t: (t.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)  # noqa: E731
    n = int(batch["attention_mask"][0].sum())
    return Reconstruction(to_uint8(batch["pixel_values"][0]), to_uint8(pred), out.mask[0].numpy(), n, float(out.loss),
                          cfg.patch_size)
