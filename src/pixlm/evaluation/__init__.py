"""Evaluation: metrics (`metrics`), orthographic noise (`attacks`), dependency trees (`trees`) and
retrieval scoring (`retrieval`); the metrics are importable from here."""

from .metrics import (
    accuracy,
    attachment_scores,
    binary_f1,
    chunks,
    entity_f1,
    glue_metrics,
    matthews_corrcoef,
    normalize_answer,
    pearson,
    spearman,
    squad_scores,
    token_accuracy,
)

__all__ = [
    "accuracy", "attachment_scores", "binary_f1", "chunks", "entity_f1", "glue_metrics", "matthews_corrcoef",
    "normalize_answer", "pearson", "spearman", "squad_scores", "token_accuracy",
]
