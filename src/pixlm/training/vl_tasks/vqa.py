"""Visual question answering: a classifier over the most frequent answers, scored by VQA's
official accuracy (min(matching annotators / 3, 1))."""

from __future__ import annotations

import random
from collections import Counter

from .base import VLTask, register_vl_task

# Imports inside functions: the CLI reads this registry for its choices without torch or datasets.


def answer_vocabulary(examples: list[dict], limit: int = 3129) -> list[str]:
    """The most frequent normalised answers (VQA's usual 3,129), most frequent first."""
    counts = Counter(a for e in examples for a in e["answers"])
    return [a for a, _ in counts.most_common(limit)]


@register_vl_task
class VisualQuestionAnswering(VLTask):
    name = "vqa"
    head = "PixelBertForQuestionAnswering"
    text_key = "question"
    groups_by_image = True

    def scene_examples(self, scenes, seed):
        from ...data.scenes import scene_questions

        rng = random.Random(seed)
        out = []
        for s in scenes:
            for q, a in scene_questions(s, rng):
                out.append({"image": s, "question": q, "answers": [a] * 10, "question_id": len(out)})
        return out

    def read(self, path, annotations, cfg):
        from ...data.vl_readers import read_vqa

        return read_vqa(path, annotations, cfg.images)

    def prepare(self, train, validation):
        from ...evaluation.vl_metrics import normalize_vqa_answer

        for e in train + validation:
            e["answers"] = [normalize_vqa_answer(a) for a in e["answers"]]
        return answer_vocabulary(train)

    def collator(self, model, tokenizer, train, labels, cfg):
        from ...data.vl_collators import PixelBertVQACollator

        return PixelBertVQACollator.for_model(tokenizer, model.config, answer2id={a: i for i, a in enumerate(labels)},
                                              seed=cfg.seed)

    def evaluate(self, model, tokenizer, examples, batch_size, candidates, seed):
        from ...data.vl_collators import PixelBertVQACollator
        from ...evaluation.vl_metrics import vqa_accuracy

        config = model.config
        collate = PixelBertVQACollator.for_model(tokenizer, config, answer2id=config.label2id)
        predictions = []
        for k in range(0, len(examples), batch_size):
            batch = {key: v for key, v in collate(examples[k : k + batch_size]).items() if key != "labels"}
            predictions += [config.id2label[int(i)] for i in model(**batch).logits.argmax(-1)]
        return {"vqa_accuracy": vqa_accuracy(predictions, [e["answers"] for e in examples])}
