"""Pixel-BERT pretraining: masked language modelling and image-text matching, scored by MLM and
ITM accuracy on held-out captions."""

from __future__ import annotations

from .base import CaptionTask, register_vl_task

# Imports inside functions: the CLI reads this registry for its choices without torch or datasets.


@register_vl_task
class Pretraining(CaptionTask):
    name = "pretrain"
    head = "PixelBertForPreTraining"

    def collator(self, model, tokenizer, train, labels, cfg):
        from ...data.vl_collators import PixelBertPretrainingCollator

        return PixelBertPretrainingCollator.for_model(tokenizer, model.config, mlm_probability=model.config.mlm_probability,
                                                      seed=cfg.seed)

    def evaluate(self, model, tokenizer, examples, batch_size, candidates, seed):
        from ...data.vl_collators import PixelBertPretrainingCollator

        config = model.config
        collate = PixelBertPretrainingCollator.for_model(tokenizer, config, mlm_probability=config.mlm_probability, seed=seed)
        itm_right = itm_total = mlm_right = mlm_total = 0
        for k in range(0, len(examples), batch_size):
            batch = collate(examples[k : k + batch_size])
            out = model(**batch)
            if out.itm_logits is not None:
                itm_right += int((out.itm_logits.argmax(-1) == batch["itm_labels"]).sum())
                itm_total += len(batch["itm_labels"])
            if out.mlm_logits is not None:
                chosen = batch["mlm_labels"] != -100
                mlm_right += int((out.mlm_logits.argmax(-1)[chosen] == batch["mlm_labels"][chosen]).sum())
                mlm_total += int(chosen.sum())
        scores = {}
        if itm_total:
            scores["itm_accuracy"] = itm_right / itm_total
        if mlm_total:
            scores["mlm_accuracy"] = mlm_right / mlm_total
        return scores

    def summary(self, cfg):
        return f"pretrained with {cfg.pretraining_tasks}"
