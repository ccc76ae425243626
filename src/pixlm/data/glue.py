"""The GLUE tasks, one record each: where the texts and the label are in its TSV files, its name
on the Hugging Face Hub, whether it is a regression, and the metrics it is scored by (the first
is the one early stopping and tables use)."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class GlueTask:
    name: str
    hub_config: str  # the config of the Hub's `glue` dataset
    text_a: str | int  # column name, or index for header-less files
    text_b: str | int | None
    label: str | int | None
    has_header: bool = True
    regression: bool = False
    metrics: tuple[str, ...] = ("accuracy",)  # names in pixlm.evaluation.metrics.METRICS; the first is primary
    labels: tuple[str, ...] = ("0", "1")  # the values its label column may hold (none for a regression)

    @property
    def primary_metric(self) -> str:
        return self.metrics[0]


GLUE_TASKS = {task.name: task for task in (
    GlueTask("CoLA", "cola", 3, None, 1, has_header=False, metrics=("matthews_correlation",)),
    GlueTask("SST-2", "sst2", "sentence", None, "label"),
    GlueTask("MRPC", "mrpc", "#1 String", "#2 String", "Quality", metrics=("f1", "accuracy")),
    GlueTask("STS-B", "stsb", "sentence1", "sentence2", "score", regression=True, metrics=("pearson", "spearman"),
             labels=()),
    GlueTask("WNLI", "wnli", "sentence1", "sentence2", "label"),
    GlueTask("RTE", "rte", "sentence1", "sentence2", "label", labels=("entailment", "not_entailment")),
    GlueTask("QNLI", "qnli", "question", "sentence", "label", labels=("entailment", "not_entailment")),
    GlueTask("QQP", "qqp", "question1", "question2", "is_duplicate", metrics=("f1", "accuracy")),
    GlueTask("MNLI", "mnli", "sentence1", "sentence2", "gold_label", labels=("contradiction", "entailment", "neutral")),
)}


def glue_task(name: str) -> GlueTask:
    """The record of a GLUE task by its name (SST-2) or Hub config (sst2)."""
    for task in GLUE_TASKS.values():
        if name in (task.name, task.hub_config):
            return task
    raise ValueError(f"unknown GLUE task {name!r}; tasks: {', '.join(GLUE_TASKS)}")


def glue_task_in_path(path: str) -> GlueTask | None:
    """The GLUE task a TSV file belongs to, from a folder in its path (.../SST-2/train.tsv)."""
    if not str(path).endswith(".tsv"):
        return None
    parts = os.path.normpath(os.path.abspath(path)).split(os.sep)
    return next((task for name, task in GLUE_TASKS.items() if name in parts), None)
