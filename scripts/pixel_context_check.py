"""Does a PIXEL checkpoint read its context? Held-out masked-patch loss with the real input
against the same with every input patch blank (same masks, same targets). Equal losses mean
the model predicts from position alone.

    python scripts/pixel_context_check.py pixlm-quickstart [--texts FILE] [--count 128]
"""

from __future__ import annotations

import argparse
import os

import torch

from pixlm.data.collators import PixelPretrainingCollator
from pixlm.models.pixel import PixelForPreTraining
from pixlm.render import TextRenderer


def masked_loss(model, input_values, attention_mask, noise, true_values) -> float:
    """The model sees `input_values`; its predictions are scored against `true_values`."""
    out = model(input_values, attention_mask, noise=noise)
    return float(model.masked_patch_loss(out.logits, true_values, out.mask, out.attention_mask))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help="a PIXEL pretraining checkpoint folder (e.g. the quickstart's output)")
    ap.add_argument("--texts", default=None, help="one text per line (default MODEL/corpus-held-out.txt)")
    ap.add_argument("--count", type=int, default=128, help="texts to use (default 128)")
    args = ap.parse_args()
    path = args.texts or os.path.join(args.model, "corpus-held-out.txt")
    if not os.path.isfile(path):
        raise SystemExit(f"{path} not found: pass --texts FILE")
    with open(path, encoding="utf-8") as f:
        texts = [t for t in f.read().split("\n") if t][: args.count]
    model = PixelForPreTraining.from_pretrained(args.model).eval()
    cfg = model.config
    collate = PixelPretrainingCollator(TextRenderer.from_pretrained(args.model), num_channels=cfg.num_channels,
                                       mask_ratio=cfg.mask_ratio, seed=0)
    batch = collate([{"text": t} for t in texts])
    noise = batch["patch_mask"] + torch.rand(batch["patch_mask"].shape, generator=torch.Generator().manual_seed(0)) / 100
    pixels, attention = batch["pixel_values"], batch["attention_mask"]
    with torch.no_grad():
        real = masked_loss(model, pixels, attention, noise, pixels)
        blank = masked_loss(model, torch.ones_like(pixels), attention, noise, pixels)
    print(f"held-out masked-patch loss over {len(texts)} texts: real input {real:.4f}, blank input {blank:.4f}")
    print(verdict(real, blank))


def verdict(real: float, blank: float, margin: float = 0.02) -> str:
    """What the two losses say: the model reads its context when seeing the real input lowers
    the loss by more than `margin` (relative) against seeing blank patches."""
    gain = (blank - real) / blank if blank > 0 else 0.0
    if gain > margin:
        return (f"verdict: the model reads its context (the real input lowers the loss by {100 * gain:.1f}% against "
                "blank patches)")
    return (f"verdict: the model predicts from position alone (the real input changes the loss by {100 * gain:+.1f}%, "
            f"within {100 * margin:.0f}%): train longer before expecting legible reconstructions")


if __name__ == "__main__":
    main()
