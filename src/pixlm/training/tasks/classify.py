"""Text and text-pair classification and regression: GLUE TSV files (each task by its record in
pixlm.data.glue), CSV/JSONL with named columns, Hub splits; PIXEL, PixelGPT and the subword
baseline."""

from __future__ import annotations

import numpy as np

from ...data.glue import GlueTask, glue_task, glue_task_in_path
from ...data.hub import is_hub_name, parse_hub_name
from ...files import written_whole
from .base import Task, register_task

# Imports inside functions: the CLI reads this registry for its choices without torch or datasets.


def glue_of(cfg) -> GlueTask | None:
    """The GLUE task of the run: --glue-task, a `hf:glue/CONFIG` split, or a folder in the path."""
    if cfg.glue_task:
        return glue_task(cfg.glue_task)
    if is_hub_name(cfg.train):
        name, config, _ = parse_hub_name(cfg.train)
        return glue_task(config) if name == "glue" and config else None
    return glue_task_in_path(cfg.train)


@register_task
class Classify(Task):
    name = "classify"
    description = "text classification"
    formats = "texts or pairs (GLUE TSV, CSV, JSONL)"
    head = "PixelForSequenceClassification"
    subword_head = "BertForSequenceClassification"
    pixelgpt = True
    pooled = True
    small_model_learning_rate = 1e-4  # at 1e-3 a tiny model stays at the majority class on SST-2
    pixel_learning_rate = 3e-5  # PIXEL's for GLUE

    def read(self, path, cfg):
        from ...data.readers import read_glue, read_table

        glue = glue_of(cfg)
        if glue:
            return read_glue(glue.name, path)
        columns = list(cfg.text_columns) + [cfg.label_column]
        rows = read_table(path, columns)
        b = cfg.text_columns[1] if len(cfg.text_columns) > 1 else None
        return [{"text_a": r[cfg.text_columns[0]], "text_b": r[b] if b else None, "label": r[cfg.label_column]} for r in rows]

    def read_hub(self, ds, source, cfg):
        from ...data.hub import hub_texts

        return hub_texts(ds, source, list(cfg.text_columns), cfg.label_column)

    def example_labels(self, example):
        return [] if example.get("label") is None else [str(example["label"])]

    def label_set(self, train, cfg):
        glue = glue_of(cfg)
        return None if glue and glue.regression else super().label_set(train, cfg)

    def labels_of(self, model_config):
        return None if model_config.num_labels == 1 else super().labels_of(model_config)

    def collator(self, renderer, num_channels, label2id, cfg):
        from ...data import PixelClassificationCollator

        return PixelClassificationCollator(renderer, num_channels, label2id)

    def subword_collator(self, tokenizer, label2id, cfg):
        from ...data import TextClassificationCollator

        return TextClassificationCollator(tokenizer, label2id)

    def has_gold(self, examples):
        return all(e.get("label") is not None for e in examples)

    def primary_metric(self, cfg):
        glue = glue_of(cfg)
        return glue.primary_metric if glue else "accuracy"

    def details(self, cfg):
        glue = glue_of(cfg)
        return {"glue_task": glue.name if glue else None}

    def title(self, cfg):
        glue = glue_of(cfg)
        return self.description + (f" ({glue.name})" if glue else "")

    def compute_metrics(self, labels, examples, dataset, cfg):
        from ...evaluation import accuracy, glue_metrics

        glue = glue_of(cfg)

        def compute(eval_pred) -> dict[str, float]:
            logits, label_ids = eval_pred.predictions, eval_pred.label_ids
            if labels is None:
                return glue_metrics(glue.name, logits.reshape(-1).tolist(), label_ids.reshape(-1).tolist())
            pred = [labels[i] for i in logits.argmax(-1)]
            gold = [labels[i] for i in label_ids]
            return glue_metrics(glue.name, pred, gold) if glue else {"accuracy": accuracy(pred, gold)}

        return compute

    def prediction_extension(self, path):
        return ".tsv"

    def write_predictions(self, run, path, examples, dataset, out_path):
        logits = run.trainer.predict(dataset).predictions
        values = logits.reshape(-1).tolist() if run.labels is None else [run.labels[i] for i in np.asarray(logits).argmax(-1)]
        with written_whole(out_path) as tmp, open(tmp, "w", encoding="utf-8") as f:
            f.write("index\tprediction\n")
            for k, v in enumerate(values):
                f.write(f"{k}\t{v}\n")

    def attack(self, example, attack, severity, seed, index, noise_dir):
        from ...evaluation.attacks import attack_text

        attacked = {**example, "text_a": attack_text(example["text_a"], attack, severity, seed + 2 * index, noise_dir)}
        if example.get("text_b"):
            attacked["text_b"] = attack_text(example["text_b"], attack, severity, seed + 2 * index + 1, noise_dir)
        return attacked
