"""Metrics on cases worked out by hand."""

import math

import pytest

from pixlm.evaluation import metrics


def test_token_accuracy_counts_tokens_not_sentences():
    # 3 of 4 tokens right (one sentence of 1, one of 3 with a miss): 0.75, not the sentence mean 0.83.
    assert metrics.token_accuracy([["NOUN"], ["DET", "VERB", "ADJ"]], [["NOUN"], ["DET", "NOUN", "ADJ"]]) == 0.75


def test_attachment_scores_use_the_universal_relation():
    gold_h, gold_r = [[2, 0, 2]], [["det", "root", "nmod:poss"]]
    pred_h, pred_r = [[2, 0, 1]], [["det", "root", "nmod"]]
    # heads right for words 1 and 2 -> UAS 2/3; those two relations right -> LAS 2/3.
    assert metrics.attachment_scores(pred_h, pred_r, gold_h, gold_r) == pytest.approx({"uas": 2 / 3, "las": 2 / 3})
    # Same heads, and nmod vs nmod:poss counts as the same relation.
    assert metrics.attachment_scores(gold_h, [["det", "root", "nmod"]], gold_h, gold_r)["las"] == 1.0
    assert metrics.attachment_scores(gold_h, [["amod", "root", "nmod"]], gold_h, gold_r)["las"] == pytest.approx(2 / 3)


def test_chunks_follow_conlleval():
    assert metrics.chunks(["B-PER", "I-PER", "O", "B-LOC"]) == {("PER", 0, 2), ("LOC", 3, 4)}
    # An I- after O, or after another type, starts an entity.
    assert metrics.chunks(["O", "I-ORG", "I-ORG", "I-LOC"]) == {("ORG", 1, 3), ("LOC", 3, 4)}
    assert metrics.chunks(["B-PER", "B-PER"]) == {("PER", 0, 1), ("PER", 1, 2)}


def test_entity_f1_micro_average():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    pred = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "B-MISC"]]
    # gold entities 3; predicted 4; right 2 (PER, ORG): P 2/4, R 2/3, F1 = 2PR/(P+R) = 4/7.
    scores = metrics.entity_f1(pred, gold)
    assert scores["precision"] == 0.5 and scores["recall"] == pytest.approx(2 / 3)
    assert scores["f1"] == pytest.approx(4 / 7)


def test_glue_metrics_by_hand():
    # CoLA: tp=2 tn=1 fp=1 fn=0 -> (2*1 - 1*0) / sqrt(3*2*2*1) = 2/sqrt(12).
    assert metrics.matthews_corrcoef([1, 1, 1, 0], [1, 1, 0, 0]) == pytest.approx(2 / math.sqrt(12))
    assert metrics.matthews_corrcoef([1, 1], [1, 1]) == 0.0  # an empty margin
    # MRPC: tp=1 fp=1 fn=1 -> F1 = 2/(2+1+1) = 0.5; accuracy 2/4.
    assert metrics.glue_metrics("MRPC", ["1", "1", "0", "0"], ["1", "0", "1", "0"]) == {"accuracy": 0.5, "f1": 0.5}
    assert metrics.binary_f1([0, 0], [0, 0]) == 0.0
    assert metrics.accuracy(["a", "b"], ["a", "c"]) == 0.5


def test_pearson_and_spearman_by_hand():
    assert metrics.pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert metrics.pearson([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    # y = x^3 is monotone: Spearman 1, Pearson below 1.
    x = [1, 2, 3, 4]
    y = [v**3 for v in x]
    assert metrics.spearman(x, y) == pytest.approx(1.0) and metrics.pearson(x, y) < 0.99
    # Ties share their mean rank: ranks of [1, 2, 2, 3] are [1, 2.5, 2.5, 4].
    assert metrics.spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(metrics.pearson([1, 2.5, 2.5, 4], [1, 2, 3, 4]))


def test_squad_normalisation_and_scores():
    assert metrics.normalize_answer("The  Eiffel Tower!") == "eiffel tower"
    refs = {"q1": ["the Eiffel Tower", "Eiffel Tower in Paris"], "q2": ["1889"], "q3": []}
    preds = {"q1": "Eiffel tower", "q2": "in 1889 it was", "q3": ""}
    # q1: exact (1, F1 1); q2: EM 0, F1 = 2*(1/4*1)/(1/4+1) = 0.4; q3 (no answer): predicted "" -> 1, 1.
    scores = metrics.squad_scores(preds, refs)
    assert scores["exact_match"] == pytest.approx(200 / 3)
    assert scores["f1"] == pytest.approx(100 * (1 + 0.4 + 1) / 3)
    with pytest.raises(ValueError, match="no prediction for 1 question"):
        metrics.squad_scores({"q1": "x"}, {"q1": ["x"], "q2": ["y"]})


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError, match="2 predictions for 3 references"):
        metrics.accuracy([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="sentence 0 has 1 predicted tags for 2 words"):
        metrics.entity_f1([["O"]], [["O", "O"]])
