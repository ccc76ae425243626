"""Task metrics as their benchmarks define them (each tested on cases worked out by hand)."""

from __future__ import annotations

import collections
import math
import re
import string
from typing import Sequence

from ..data.glue import glue_task


def _same_length(a: Sequence, b: Sequence, what: str) -> None:
    if len(a) != len(b):
        raise ValueError(f"{what}: {len(a)} predictions for {len(b)} references")
    if not a:
        raise ValueError(f"{what}: no examples")


def accuracy(predictions: Sequence, references: Sequence) -> float:
    _same_length(predictions, references, "accuracy")
    return sum(p == r for p, r in zip(predictions, references)) / len(references)


def token_accuracy(predictions: Sequence[Sequence], references: Sequence[Sequence]) -> float:
    """Accuracy over all tokens of all sentences (UPOS accuracy)."""
    _same_length(predictions, references, "token accuracy")
    flat_p = [t for s in predictions for t in s]
    flat_r = [t for s in references for t in s]
    return accuracy(flat_p, flat_r)


def attachment_scores(
    pred_heads: Sequence[Sequence[int]], pred_rels: Sequence[Sequence[str]],
    gold_heads: Sequence[Sequence[int]], gold_rels: Sequence[Sequence[str]],
) -> dict[str, float]:
    """UAS and LAS as the CoNLL 2018 shared task scores them: over all syntactic words,
    punctuation included; LAS compares the universal part of the relation (`nmod:poss` -> `nmod`)."""
    _same_length(pred_heads, gold_heads, "attachment scores")
    total = uas = las = 0
    for sentence in zip(pred_heads, pred_rels, gold_heads, gold_rels):
        if len({len(column) for column in sentence}) > 1:
            raise ValueError("attachment scores: a sentence's heads and relations differ in length")
        for head, rel, gold_head, gold_rel in zip(*sentence):
            total += 1
            if head == gold_head:
                uas += 1
                if rel.split(":")[0] == gold_rel.split(":")[0]:
                    las += 1
    return {"uas": uas / total, "las": las / total}


def chunks(tags: Sequence[str]) -> set[tuple[str, int, int]]:
    """Entities (type, start, end) of an IOB tag sequence, as seqeval's default mode and
    conlleval read them: an I- that does not continue an entity of its type starts a new one."""
    out = set()
    kind, start = None, None
    for k, tag in enumerate(list(tags) + ["O"]):
        prefix, _, label = tag.partition("-") if tag != "O" else ("O", "", None)
        ends = kind is not None and (prefix in ("O", "B") or label != kind)
        if ends:
            out.add((kind, start, k))
            kind = None
        if prefix == "B" or (prefix == "I" and kind is None):
            kind, start = label, k
    return out


def entity_f1(predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]]) -> dict[str, float]:
    """Micro-averaged entity precision, recall and F1 (seqeval's default)."""
    _same_length(predictions, references, "entity F1")
    tp = n_pred = n_gold = 0
    for k, (p, r) in enumerate(zip(predictions, references)):
        if len(p) != len(r):
            raise ValueError(f"entity F1: sentence {k} has {len(p)} predicted tags for {len(r)} words")
        cp, cr = chunks(p), chunks(r)
        tp += len(cp & cr)
        n_pred += len(cp)
        n_gold += len(cr)
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def binary_f1(predictions: Sequence, references: Sequence, positive=1) -> float:
    """F1 of the positive class (GLUE's MRPC and QQP)."""
    _same_length(predictions, references, "F1")
    tp = sum(p == positive and r == positive for p, r in zip(predictions, references))
    fp = sum(p == positive and r != positive for p, r in zip(predictions, references))
    fn = sum(p != positive and r == positive for p, r in zip(predictions, references))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def matthews_corrcoef(predictions: Sequence, references: Sequence) -> float:
    """Matthews correlation for binary labels (GLUE's CoLA); 0 when a margin is empty."""
    _same_length(predictions, references, "Matthews correlation")
    labels = sorted(set(references) | set(predictions))
    if len(labels) > 2:
        raise ValueError(f"Matthews correlation here is binary; got labels {labels}")
    pos = labels[-1]
    tp = sum(p == pos and r == pos for p, r in zip(predictions, references))
    tn = sum(p != pos and r != pos for p, r in zip(predictions, references))
    fp = sum(p == pos and r != pos for p, r in zip(predictions, references))
    fn = sum(p != pos and r == pos for p, r in zip(predictions, references))
    denom = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return (tp * tn - fp * fn) / denom if denom else 0.0


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    _same_length(x, y, "Pearson correlation")
    n = len(x)
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy) if sxx and syy else 0.0


def _ranks(values: Sequence[float]) -> list[float]:
    """Ranks from 1, ties sharing their mean rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    k = 0
    while k < len(order):
        j = k
        while j + 1 < len(order) and values[order[j + 1]] == values[order[k]]:
            j += 1
        for i in range(k, j + 1):
            ranks[order[i]] = (k + j) / 2 + 1
        k = j + 1
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Pearson correlation of the ranks (ties averaged), as scipy computes it."""
    return pearson(_ranks(x), _ranks(y))


METRICS = {  # by name, for records that name their metrics (GLUE's tasks)
    "accuracy": accuracy,
    "f1": lambda p, r: binary_f1(p, r, positive="1"),
    "matthews_correlation": matthews_corrcoef,
    "pearson": pearson,
    "spearman": spearman,
}


def glue_metrics(task: str, predictions: Sequence, references: Sequence) -> dict[str, float]:
    """GLUE's metrics for `task` (its record in pixlm.data.glue): CoLA Matthews; STS-B
    Pearson/Spearman; MRPC, QQP F1 and accuracy; the others accuracy."""
    return {name: METRICS[name](predictions, references) for name in glue_task(task).metrics}


# -- SQuAD --------------------------------------------------------------------------------------
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCT = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """SQuAD's normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def _f1(prediction: str, gold: str) -> float:
    p, g = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not p or not g:
        return float(p == g)  # no-answer: right only if both are empty
    common = collections.Counter(p) & collections.Counter(g)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(p), same / len(g)
    return 2 * precision * recall / (precision + recall)


def squad_scores(predictions: dict[str, str], references: dict[str, list[str]]) -> dict[str, float]:
    """Exact match and F1 (in %) as SQuAD v1.1/v2.0's scripts compute them: the best over each
    question's gold answers; a question without answers (v2) expects the empty string."""
    missing = [q for q in references if q not in predictions]
    if missing:
        raise ValueError(f"SQuAD scores: no prediction for {len(missing)} question(s), e.g. {missing[0]!r}")
    if not references:
        raise ValueError("SQuAD scores: no questions")
    em = f1 = 0.0
    for qid, golds in references.items():
        golds = [g for g in golds if normalize_answer(g)] or [""]
        pred = predictions[qid]
        em += max(float(normalize_answer(pred) == normalize_answer(g)) for g in golds)
        f1 += max(_f1(pred, g) for g in golds)
    n = len(references)
    return {"exact_match": 100 * em / n, "f1": 100 * f1 / n}


def edit_distance(a: Sequence, b: Sequence) -> int:
    """Levenshtein distance: insertions, deletions and substitutions, each costing 1."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def character_accuracy(prediction: str, reference: str) -> float:
    """1 - character error rate (edit distance over the reference's length), floored at 0."""
    if not reference:
        return 1.0 if not prediction else 0.0
    return max(0.0, 1.0 - edit_distance(prediction, reference) / len(reference))
