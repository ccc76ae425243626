"""Image-text retrieval: image-text matching trained with sampled negative captions, scored by
recall at 1, 5 and 10 in both directions among a pool of held-out images."""

from __future__ import annotations

from .base import CaptionTask, register_vl_task

# Imports inside functions: the CLI reads this registry for its choices without torch or datasets.


def one_caption_per_image(examples: list[dict]) -> list[dict]:
    seen, out = set(), []
    for e in examples:
        key = e.get("image_id", id(e["image"]))
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out


@register_vl_task
class ImageTextRetrieval(CaptionTask):
    name = "retrieval"
    head = "PixelBertForImageTextRetrieval"

    def collator(self, model, tokenizer, train, labels, cfg):
        from ...data.vl_collators import PixelBertRetrievalCollator

        return PixelBertRetrievalCollator.for_model(tokenizer, model.config, captions=[e["text"] for e in train],
                                                    negatives=cfg.retrieval_negatives, seed=cfg.seed)

    def evaluate(self, model, tokenizer, examples, batch_size, candidates, seed):
        from ...evaluation.retrieval import retrieval_scores

        pool = one_caption_per_image(examples)[:candidates]
        return retrieval_scores(model, tokenizer, [e["image"] for e in pool], [e["text"] for e in pool],
                                list(range(len(pool))), batch_size=max(batch_size, 64))
