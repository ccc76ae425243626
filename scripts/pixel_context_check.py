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
from pixlm.models.patches import patch_stats, patchify
from pixlm.models.pixel import PixelForPreTraining
from pixlm.render import TextRenderer


def masked_loss(model, pixel_values, attention_mask, noise, targets) -> float:
    out = model(pixel_values, attention_mask, noise=noise)
    per_patch = ((out.logits - targets) ** 2).mean(-1)
    weight = out.mask * attention_mask
    return float((per_patch * weight).sum() / weight.sum())


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
    targets = patchify(batch["pixel_values"], cfg.patch_size)
    if cfg.norm_pix_loss:
        mean, std = patch_stats(targets)
        targets = (targets - mean) / std
    with torch.no_grad():
        real = masked_loss(model, batch["pixel_values"], batch["attention_mask"], noise, targets)
        blank = masked_loss(model, torch.ones_like(batch["pixel_values"]), batch["attention_mask"], noise, targets)
    print(f"held-out masked-patch loss over {len(texts)} texts: real input {real:.4f}, blank input {blank:.4f}")


if __name__ == "__main__":
    main()
