"""Image-text retrieval with a cross-encoder (Pixel-BERT): every image scored against every
caption, in chunks so that large test sets fit in memory, optionally after a cheap prefilter."""

from __future__ import annotations

import numpy as np
import torch

from ..data.vl_collators import ImageTextInputs
from ..models.pixelbert import VisualTokens, sample_cells
from .vl_metrics import retrieval_recall


def _pair_scores(model, input_ids, attention_mask, visual: VisualTokens) -> torch.Tensor:
    """The model's matching score: its retrieval head, or ITM's matched-minus-unmatched logit
    for a model straight from pretraining."""
    out = model.pixelbert(input_ids, attention_mask, visual=visual).pooler_output
    if hasattr(model, "score_head"):
        return model.score_head(out).squeeze(-1)
    logits = model.itm_head(out)
    return logits[:, 1] - logits[:, 0]


def _stack(visuals: list[tuple[torch.Tensor, torch.Tensor]], grid) -> VisualTokens:
    n = max(e.shape[0] for e, _ in visuals)
    emb = torch.zeros(len(visuals), n, visuals[0][0].shape[-1])
    mask = torch.zeros(len(visuals), n)
    for i, (e, m) in enumerate(visuals):
        emb[i, : e.shape[0]], mask[i, : m.shape[0]] = e, m
    return VisualTokens(emb, mask, grid)


@torch.no_grad()
def score_matrix(model, tokenizer, images: list, captions: list[str], batch_size: int = 256,
                 prefilter_k: int | None = None, prefilter_cells: int = 4, image_batch: int = 32) -> np.ndarray:
    """Scores (images x captions). Visual tokens are computed once per image; pairs are scored
    `batch_size` at a time. With `prefilter_k`, every pair is first scored with only
    `prefilter_cells` random cells per image, and only each image's `prefilter_k` best captions
    are scored in full (the rest keep their prefilter score, ranked below)."""
    model.eval()
    helper = ImageTextInputs.for_model(tokenizer, model.config)
    visuals = []
    for k in range(0, len(images), image_batch):
        opened = [helper.image(s) for s in images[k : k + image_batch]]
        if any(im is None for im in opened):
            raise ValueError(f"unreadable images among the candidates: {helper.skipped.examples}")
        v = model.pixelbert.visual_tokens(**helper.pixels(opened))
        visuals += [(v.embeddings[i], v.mask[i]) for i in range(len(opened))]
    grid = v.grid
    tokens = helper.tokens(captions)

    def score_pairs(pairs: list[tuple[int, int]], cells: int | None) -> np.ndarray:
        out = []
        generator = torch.Generator().manual_seed(0)
        for k in range(0, len(pairs), batch_size):
            chunk = pairs[k : k + batch_size]
            visual = _stack([visuals[i] for i, _ in chunk], grid)
            if cells:
                visual = sample_cells(visual, cells, generator)
            t = [j for _, j in chunk]
            out.append(_pair_scores(model, tokens["input_ids"][t], tokens["attention_mask"][t], visual).float().numpy())
        return np.concatenate(out) if out else np.zeros(0)

    all_pairs = [(i, j) for i in range(len(images)) for j in range(len(captions))]
    if not prefilter_k or prefilter_k >= len(captions):
        return score_pairs(all_pairs, None).reshape(len(images), len(captions))
    rough = score_pairs(all_pairs, prefilter_cells).reshape(len(images), len(captions))
    scores = rough - 1e6  # below every fully scored pair
    keep = np.argsort(-rough, axis=1)[:, :prefilter_k]
    pairs = [(i, int(j)) for i in range(len(images)) for j in keep[i]]
    scores[tuple(np.array(pairs).T)] = score_pairs(pairs, None)
    return scores


def retrieval_scores(model, tokenizer, images: list, captions: list[str], text_to_image: list[int], **kwargs) -> dict:
    """Recall at 1, 5 and 10 for text retrieval (image -> captions) and image retrieval
    (caption -> images)."""
    return retrieval_recall(score_matrix(model, tokenizer, images, captions, **kwargs), text_to_image)
