"""NLVR2: is a statement true of a pair of images? Scored by accuracy."""

from __future__ import annotations

from .base import VLTask, register_vl_task

# Imports inside functions: the CLI reads this registry for its choices without torch or datasets.


@register_vl_task
class NaturalLanguageVisualReasoning(VLTask):
    name = "nlvr2"
    head = "PixelBertForNLVR2"
    text_key = "sentence"
    image_key = "images"

    def scene_examples(self, scenes, seed):
        from ...data.scenes import balanced_pairs

        return [{"images": [scenes[i], scenes[j]], "sentence": text, "label": label}
                for i, j, text, label in balanced_pairs(scenes, len(scenes), seed)]

    def read(self, path, annotations, cfg):
        from ...data.vl_readers import read_nlvr2

        return read_nlvr2(path, cfg.images)

    def collator(self, model, tokenizer, train, labels, cfg):
        from ...data.vl_collators import PixelBertNLVR2Collator

        return PixelBertNLVR2Collator.for_model(tokenizer, model.config, seed=cfg.seed)

    def evaluate(self, model, tokenizer, examples, batch_size, candidates, seed):
        from ...data.vl_collators import PixelBertNLVR2Collator

        collate = PixelBertNLVR2Collator.for_model(tokenizer, model.config)
        right = 0
        for k in range(0, len(examples), batch_size):
            batch = collate(examples[k : k + batch_size])
            right += int((model(**batch).logits.argmax(-1) == batch["labels"]).sum())
        return {"accuracy": right / len(examples)}
