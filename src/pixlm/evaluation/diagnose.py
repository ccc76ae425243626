"""Does a PIXEL model read its context, or predict masked patches from their position alone?

The masked-patch loss on held-out text is measured twice with the same masks and targets: the
model seeing the real strip, and seeing every patch blank. Their ratio R = real / blank is near
1 for a model that predicts from position alone (a mean line of text), and falls as the model
starts to read. The same is reported per span length: a model that reads fills short spans
from their neighbours first.

With a recognizer (`pixlm.read`), the reconstructions are also read as text: the characters
read in the masked patches of the strip with the model's predictions pasted in, against those
read there in the true strip (the character accuracy of the reconstruction), and, for scale,
with the masked patches left white.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..data.collators import PixelPretrainingCollator
from ..models.recognizer.reading import read_strips
from .metrics import edit_distance

READING_MARGIN = 0.98  # R below this: the real input helps by more than 2%
# Reconstructions must read back more than this share of masked characters above blank patches'
# share before a low R counts as reading letters rather than knowing where the ink lies.
READ_BACK_MARGIN = 0.01


def reads_letters(reconstructed: float, white: float) -> bool:
    """Whether reconstructions of masked patches read back as more of their characters than white
    patches do (by READ_BACK_MARGIN): letters, not only where the ink lies."""
    return reconstructed > white + READ_BACK_MARGIN


@dataclass
class Diagnosis:
    """The held-out masked-patch losses with the real and a blank context, overall and by span length."""

    texts: int
    real: float
    blank: float
    by_span: dict[int, tuple[float, float]] = field(default_factory=dict)  # span length -> (real, blank)
    # With a recognizer: character accuracy in masked patches of the reconstruction, of white patches, and the count.
    reading: dict[str, float] | None = None
    # What the decoder learns (PixelConfig.pixel_target). Only with PIXEL's per-patch normalised
    # targets does R speak of letters: with raw or binary ones a blank strip makes the model
    # predict no ink, so R falls with what the context says about ink, not about letters.
    pixel_target: str = "normalized"

    @property
    def ratio(self) -> float:
        """R = real / blank: 1 when the model does not read, lower the more it does."""
        return self.real / self.blank if self.blank > 0 else float("nan")

    @property
    def reads_back(self) -> bool | None:
        """Whether the reconstructions of masked patches read back as more of their characters than
        white patches do (None without a recognizer)."""
        if self.reading is None:
            return None
        return reads_letters(self.reading["reconstructed"], self.reading["white"])

    def _read_back(self) -> str:
        return (f"{100 * self.reading['reconstructed']:.1f}% of their characters (left white: "
                f"{100 * self.reading['white']:.1f}%)")

    @property
    def verdict(self) -> str:
        if self.pixel_target != "normalized":
            caveat = (f"R = {self.ratio:.3f} compares {self.pixel_target}-pixel losses (not per-patch normalised): shown a "
                      "blank strip the model "
                      "predicts no ink, so a low R can mean only that the context tells it how much ink a masked patch "
                      "holds, not which letters")
            if self.reading is None:
                return f"not decided by R: {caveat}; give a recognizer (--recognizer) to read what it reconstructs"
            return f"decided by what it reconstructs, not by R: its masked patches read back as {self._read_back()}; {caveat}"
        if self.ratio < READING_MARGIN:
            lowered = f"the real input lowers the masked-patch loss to {self.ratio:.3f} of the loss with blank patches"
            if self.reading is not None and not self.reads_back:
                return (f"the context helps but no letters come back: {lowered}, yet its masked patches read back as "
                        f"{self._read_back()}; it knows where the ink lies (word boundaries, ink height), not which "
                        "letters")
            read = f", and its masked patches read back as {self._read_back()}" if self.reading is not None else ""
            return f"the model reads its context: {lowered}{read}"
        return (f"the model predicts from position alone: with the real input the loss is {self.ratio:.3f} of the "
                f"loss with blank patches (reading shows as R below {READING_MARGIN}); train longer, or see docs/results.md "
                "for recipes that start reading sooner")

    def table(self) -> str:
        lines = ["| masked spans | real input | blank input | R |", "|---|---|---|---|",
                 f"| all | {self.real:.4f} | {self.blank:.4f} | {self.ratio:.3f} |"]
        for length, (real, blank) in sorted(self.by_span.items()):
            lines.append(f"| {length} patch{'es' if length > 1 else ''} | {real:.4f} | {blank:.4f} | "
                         f"{real / blank if blank else float('nan'):.3f} |")
        if self.reading is not None:
            lines += ["", "| masked patches read as text | character accuracy |", "|---|---|",
                      f"| the model's reconstruction | {100 * self.reading['reconstructed']:.1f}% |",
                      f"| left white (for scale) | {100 * self.reading['white']:.1f}% |",
                      f"| characters in masked patches | {int(self.reading['characters'])} |"]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"texts": self.texts, "real_loss": self.real, "blank_loss": self.blank, "reading_ratio": self.ratio,
                "by_span_length": {str(k): {"real_loss": r, "blank_loss": b} for k, (r, b) in self.by_span.items()},
                "masked_character_accuracy": self.reading, "verdict": self.verdict}


def span_lengths(patch_mask: torch.Tensor) -> torch.Tensor:
    """The length of the masked span each masked patch belongs to (0 where not masked)."""
    out = torch.zeros_like(patch_mask, dtype=torch.long)
    for row, mask in enumerate(patch_mask.bool().tolist()):
        k = 0
        while k < len(mask):
            if not mask[k]:
                k += 1
                continue
            end = k
            while end < len(mask) and mask[end]:
                end += 1
            out[row, k:end] = end - k
            k = end
    return out


def _gray(strips: torch.Tensor, num_patches: list[int], patch_size: int) -> list:
    """(B, C, p, W) in [0, 1] -> each strip's text patches as a (p, W') gray array."""
    gray = strips.mean(1).numpy()
    return [gray[b, :, : n * patch_size] for b, n in enumerate(num_patches)]


class _MaskedReading:
    """Edit distances between what a recognizer reads in masked patches of the true strips and
    of the same strips with those patches reconstructed (or left white)."""

    def __init__(self, recognizer):
        self.recognizer = recognizer
        self.errors = {"reconstructed": 0, "white": 0}
        self.characters = 0

    def add(self, pixels, predicted, patch_mask, attention) -> None:
        p = self.recognizer.config.patch_size
        hidden = patch_mask.bool() & attention.bool()
        columns = hidden.repeat_interleave(p, dim=1)[:, None, None, :]
        num_patches = [max(0, int(a.sum()) - 1) for a in attention]  # without the end patch
        strips = {"true": pixels, "reconstructed": torch.where(columns, predicted, pixels),
                  "white": torch.where(columns, torch.ones_like(pixels), pixels)}
        readings = {name: read_strips(self.recognizer, _gray(s, num_patches, p)) for name, s in strips.items()}
        for b in range(pixels.shape[0]):
            masked = set(torch.nonzero(hidden[b]).flatten().tolist())

            def inside(reading):
                return "".join(c for c, k in zip(reading.text, reading.patches) if k in masked)

            reference = inside(readings["true"][b])
            self.characters += len(reference)
            for name in self.errors:
                self.errors[name] += edit_distance(inside(readings[name][b]), reference)

    def result(self) -> dict[str, float]:
        n = max(1, self.characters)
        return {name: max(0.0, 1 - e / n) for name, e in self.errors.items()} | {"characters": float(self.characters)}


@torch.no_grad()
def diagnose(model, renderer, texts: list[str], seed: int = 0, batch_size: int = 32, recognizer=None,
             mask_ratio: float | None = None, max_span_length: int | None = None, span_weights=None) -> Diagnosis:
    """Masked-patch losses of `model` (a PixelForPreTraining) on `texts`, rendered by `renderer`,
    with the real strip and with blank patches, under the same span masks (drawn with `seed`);
    with a `recognizer` (a PixelRecognizer for this renderer), also the character accuracy of
    what the reconstructions of masked patches read as. The masks follow the model's config
    unless `mask_ratio`, `max_span_length` and `span_weights` are given (to compare models
    pretrained with other masks on the same ones)."""
    if not texts:
        raise ValueError("diagnose needs at least one held-out text")
    was_training = model.training
    model.eval()
    config = model.config
    collate = PixelPretrainingCollator(
        renderer, num_channels=config.num_channels, mask_ratio=config.mask_ratio if mask_ratio is None else mask_ratio,
        max_span_length=max_span_length or config.max_span_length, span_weights=span_weights or config.span_weights, seed=seed)
    sums: dict[str, dict[int, list[float]]] = {"real": {}, "blank": {}}  # span length (0: all) -> [loss sum, weight]
    reading = _MaskedReading(recognizer) if recognizer is not None else None
    for start in range(0, len(texts), batch_size):
        batch = collate([{"text": t} for t in texts[start : start + batch_size]])
        pixels, attention, patch_mask, noise = (batch[k] for k in ("pixel_values", "attention_mask", "patch_mask", "noise"))
        lengths = span_lengths(patch_mask)
        for name, seen in (("real", pixels), ("blank", torch.ones_like(pixels))):
            out = model(seen, attention, patch_mask=patch_mask, noise=noise, mask_ratio=mask_ratio)
            weight = out.mask * out.attention_mask
            per_patch = model.per_patch_loss(out.logits, pixels)
            if name == "real" and reading is not None:
                reading.add(pixels, model.reconstruct(out.logits, pixels), out.mask * out.attention_mask, attention)
            for length in [0] + sorted(set(lengths[lengths > 0].tolist())):
                chosen = weight if length == 0 else weight * (lengths == length)
                total = sums[name].setdefault(length, [0.0, 0.0])
                total[0] += float((per_patch * chosen).sum())
                total[1] += float(chosen.sum())
    model.train(was_training)

    def mean(name: str, length: int) -> float:
        loss, weight = sums[name][length]
        return loss / weight if weight else float("nan")

    by_span = {n: (mean("real", n), mean("blank", n)) for n in sums["real"] if n and sums["real"][n][1]}
    return Diagnosis(len(texts), mean("real", 0), mean("blank", 0), by_span, reading.result() if reading else None,
                     pixel_target=config.pixel_target)

