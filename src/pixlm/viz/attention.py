"""Pixel-BERT's Figure 3: where each word of a text looks in the image (the last layer's
attention from the word to the visual cells, averaged over heads, over the image)."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from .strips import labelled_panels


@torch.no_grad()
def word_to_pixel_attention(model, input_ids, attention_mask, pixel_values, pixel_mask, layer: int = -1):
    """(T, rows, cols) attention of each text position to the feature cells, from encoder layer
    `layer`, averaged over heads; and the grid."""
    base = model if hasattr(model, "visual_tokens") else model.pixelbert
    attention = base.bert.encoder.layer[layer].attention.self
    captured = {}
    def grab(module, args, kwargs):
        captured["hidden"] = args[0] if args else kwargs["hidden_states"]

    handle = attention.register_forward_pre_hook(grab, with_kwargs=True)
    try:
        out = base(input_ids, attention_mask, pixel_values, pixel_mask)
    finally:
        handle.remove()
    hidden = captured["hidden"][0]  # (L, D), one example
    heads, size = attention.num_attention_heads, attention.attention_head_size
    q = attention.query(hidden).view(-1, heads, size).transpose(0, 1)
    k = attention.key(hidden).view(-1, heads, size).transpose(0, 1)
    logits = q @ k.transpose(-1, -2) / size**0.5
    logits = logits.masked_fill(out.attention_mask[0][None, None, :] == 0, torch.finfo(logits.dtype).min)
    probs = logits.softmax(-1).mean(0)  # (L, L)
    t = out.num_text
    visual = base.visual_tokens(pixel_values, pixel_mask)
    rows, cols = visual.grid
    return probs[:t, t:].reshape(t, rows, cols).numpy(), (rows, cols)


def attention_figure(image, words: list[str], maps: np.ndarray, columns: int = 4):
    """The image once per word, tinted by that word's attention (red = most), labelled."""
    w, h = image.size
    panels = []
    for word, m in zip(words, maps):
        m = m / max(float(m.max()), 1e-9)
        heat = Image.fromarray((m * 255).astype(np.uint8)).resize((w, h), Image.BILINEAR)
        heat = np.asarray(heat, dtype=np.float32)[..., None] / 255
        base = np.asarray(image.convert("RGB"), dtype=np.float32)
        red = np.array([255, 0, 0], dtype=np.float32)
        blended = base * (1 - 0.6 * heat) + red * 0.6 * heat
        panels.append((word, Image.fromarray(blended.clip(0, 255).astype(np.uint8))))
    rows = [panels[k : k + columns] for k in range(0, len(panels), columns)]
    sheets = []
    for row in rows:
        sheet = Image.new("RGB", (w * len(row) + 6 * (len(row) - 1), h + 20), "white")
        for i, (word, img) in enumerate(row):
            sheet.paste(labelled_panels([(word, img)]), (i * (w + 6), 0))
        sheets.append(("", sheet))
    return labelled_panels(sheets, gap=4)
