"""Vision-and-language metrics: the official VQA accuracy with its answer normalisation, and
image-text retrieval recall at k in both directions."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

# The official VQA evaluation's contractions (apostrophes restored), digits and articles.
_CONTRACTIONS = {
    "aint": "ain't", "arent": "aren't", "cant": "can't", "couldve": "could've", "couldnt": "couldn't",
    "didnt": "didn't", "doesnt": "doesn't", "dont": "don't", "hadnt": "hadn't", "hasnt": "hasn't",
    "havent": "haven't", "hed": "he'd", "hes": "he's", "howd": "how'd", "howll": "how'll", "hows": "how's",
    "Im": "I'm", "Ive": "I've", "isnt": "isn't", "itd": "it'd", "itll": "it'll", "its": "it's", "lets": "let's",
    "mightnt": "mightn't", "mightve": "might've", "mustnt": "mustn't", "mustve": "must've", "neednt": "needn't",
    "notve": "not've", "oclock": "o'clock", "shant": "shan't", "shed": "she'd", "shes": "she's",
    "shouldve": "should've", "shouldnt": "shouldn't", "somebodyd": "somebody'd", "someoned": "someone'd",
    "somethingd": "something'd", "thatll": "that'll", "thats": "that's", "thered": "there'd", "therere": "there're",
    "theres": "there's", "theyd": "they'd", "theyll": "they'll", "theyre": "they're", "theyve": "they've",
    "twas": "'twas", "wasnt": "wasn't", "wed": "we'd", "weve": "we've", "werent": "weren't", "whatll": "what'll",
    "whatre": "what're", "whats": "what's", "whatve": "what've", "whens": "when's", "whered": "where'd",
    "wheres": "where's", "whereve": "where've", "whod": "who'd", "wholl": "who'll", "whos": "who's",
    "whove": "who've", "whyll": "why'll", "whyre": "why're", "whys": "why's", "wont": "won't", "wouldve": "would've",
    "wouldnt": "wouldn't", "yall": "y'all", "youd": "you'd", "youll": "you'll", "youre": "you're", "youve": "you've",
}
_DIGITS = {"none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
           "seven": "7", "eight": "8", "nine": "9", "ten": "10"}
_ARTICLES = {"a", "an", "the"}
_PUNCTUATION = [";", "/", "[", "]", '"', "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@", "`", ",", "?", "!"]
_PERIOD = re.compile(r"(?!<=\d)(\.)(?!\d)")
_COMMA_DIGITS = re.compile(r"(\d)(,)(\d)")


def normalize_vqa_answer(answer: str) -> str:
    """The official VQA answer normalisation: whitespace, punctuation (a period or comma inside
    a number kept), number words to digits, articles dropped, contractions restored."""
    text = answer.replace("\n", " ").replace("\t", " ").strip()
    out = text
    for p in _PUNCTUATION:
        if (p + " " in text or " " + p in text) or re.search(_COMMA_DIGITS, text) is not None:
            out = out.replace(p, "")
        else:
            out = out.replace(p, " ")
    out = _PERIOD.sub("", out)
    words = []
    for word in out.lower().split():
        word = _DIGITS.get(word, word)
        if word not in _ARTICLES:
            words.append(_CONTRACTIONS.get(word, word))
    return " ".join(words)


def vqa_accuracy(predictions: Sequence[str], answers: Sequence[Sequence[str]]) -> float:
    """Official VQA accuracy: for each question, min(#annotators who gave the prediction / 3, 1)
    averaged over the leave-one-annotator-out subsets; then the mean over questions."""
    if len(predictions) != len(answers):
        raise ValueError(f"{len(predictions)} predictions for {len(answers)} questions")
    if not predictions:
        raise ValueError("no questions to score")
    scores = []
    for pred, gold in zip(predictions, answers):
        pred = normalize_vqa_answer(pred)
        gold = [normalize_vqa_answer(g) for g in gold]
        per_subset = []
        for k in range(len(gold)):
            others = gold[:k] + gold[k + 1 :]
            per_subset.append(min(sum(g == pred for g in others) / 3.0, 1.0))
        scores.append(float(np.mean(per_subset)))
    return float(np.mean(scores))


def retrieval_recall(scores: np.ndarray, text_to_image: Sequence[int], ks: Sequence[int] = (1, 5, 10)) -> dict[str, float]:
    """Recall at k from a score matrix `scores` (images x texts), where text t describes image
    `text_to_image[t]`. Text retrieval (image -> texts): an image is found when any of its
    texts ranks in the top k. Image retrieval (text -> images): its image ranks in the top k."""
    scores = np.asarray(scores)
    owner = np.asarray(text_to_image)
    if scores.ndim != 2 or scores.shape[1] != len(owner):
        raise ValueError(f"scores must be (images, texts) with {len(owner)} texts; got {scores.shape}")
    out = {}
    order_t = np.argsort(-scores, axis=1)  # per image, texts best first
    best_rank_t = np.array([np.flatnonzero(owner[order_t[i]] == i).min() if (owner == i).any() else np.inf
                            for i in range(scores.shape[0])])
    order_i = np.argsort(-scores, axis=0)  # per text, images best first
    rank_i = np.array([np.flatnonzero(order_i[:, t] == owner[t])[0] for t in range(scores.shape[1])])
    has_text = np.isfinite(best_rank_t)
    for k in ks:
        out[f"text_r{k}"] = float((best_rank_t[has_text] < k).mean())
        out[f"image_r{k}"] = float((rank_i < k).mean())
    return out
