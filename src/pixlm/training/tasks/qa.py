"""Extractive question answering (SQuAD v1.1 and v2.0): long contexts become overflow windows,
answers are mapped back to the context's characters through the patches' character spans and
scored with SQuAD's exact match and F1."""

from __future__ import annotations

import json

from ...files import written_whole
from .base import Task, register_task

# Imports inside functions: the CLI reads this registry for its choices without torch or datasets.


@register_task
class QuestionAnswering(Task):
    name = "qa"
    pixel_learning_rate = 7e-5  # PIXEL's for question answering
    description = "extractive question answering"
    formats = "SQuAD JSON"
    head = "PixelForQuestionAnswering"
    label_names = ("start_positions", "end_positions")
    group_by_length = False  # the windows all fill the canvas

    def read(self, path, cfg):
        from ...data.readers import read_squad

        return read_squad(path)

    def read_hub(self, ds, source, cfg):
        from ...data.hub import hub_squad

        return hub_squad(ds, source)

    def label_set(self, train, cfg):
        return None

    def labels_of(self, model_config):
        return None

    def label_kwargs(self, labels):
        return {}

    def dataset(self, examples, renderer, training):
        from ...data.qa import qa_features

        return qa_features(examples, renderer)

    def collator(self, renderer, num_channels, label2id, cfg):
        from ...data.qa import QACollator

        return QACollator(renderer.config.patch_size, num_channels, renderer.config.max_patches)

    def primary_metric(self, cfg):
        return "f1"

    def answers(self, examples, features, predictions) -> dict[str, str]:
        from ...data.qa import best_answers

        return best_answers(examples, features, predictions[0], predictions[1])

    def compute_metrics(self, labels, examples, dataset, cfg):
        from ...evaluation import squad_scores

        golds = {e["id"]: [a["text"] for a in e["answers"]] for e in examples}

        def compute(eval_pred) -> dict[str, float]:
            return squad_scores(self.answers(examples, dataset, eval_pred.predictions), golds)

        return compute

    def prediction_extension(self, path):
        return ".json"

    def write_predictions(self, run, path, examples, dataset, out_path):
        answers = self.answers(examples, dataset, run.trainer.predict(dataset).predictions)
        with written_whole(out_path) as tmp, open(tmp, "w", encoding="utf-8") as f:
            json.dump(answers, f, indent=2, ensure_ascii=False)
