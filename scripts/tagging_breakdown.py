"""Where a tagger gains or loses against the most-frequent-tag baseline: UPOS accuracy on the
test words seen in training and on those never seen, for the baseline and for each tagger's
predictions (the `predictions-test.conllu` that `pixlm finetune --test` writes).

    python scripts/tagging_breakdown.py --train TRAIN.conllu --test TEST.conllu RUN/predictions-test.conllu ...

Prints a Markdown table: one row for the baseline (each word's most frequent training tag, the
overall most frequent tag for unseen words, as `pixlm finetune` reports it), one per
predictions file.
"""

import argparse
import collections
import os
import sys


def most_frequent_tags(train) -> tuple[dict[str, str], str]:
    """Each training word's most frequent tag, and the most frequent tag overall."""
    per_word = collections.defaultdict(collections.Counter)
    overall = collections.Counter()
    for sentence in train:
        for token in sentence.tokens:
            per_word[token.form][token.upos] += 1
            overall[token.upos] += 1
    return {w: c.most_common(1)[0][0] for w, c in per_word.items()}, overall.most_common(1)[0][0]


def accuracy_by_seen(gold, predicted: list[list[str]], seen: set[str]) -> dict[str, tuple[int, int]]:
    """(correct, words) for the test words seen in training, unseen, and all."""
    counts = {"seen": [0, 0], "unseen": [0, 0], "all": [0, 0]}
    for sentence, tags in zip(gold, predicted, strict=True):
        if len(tags) != len(sentence.tokens):
            raise ValueError(f"a predicted sentence has {len(tags)} tags for {len(sentence.tokens)} words")
        for token, tag in zip(sentence.tokens, tags):
            for key in ("seen" if token.form in seen else "unseen", "all"):
                counts[key][0] += tag == token.upos
                counts[key][1] += 1
    return {k: (c, n) for k, (c, n) in counts.items()}


def row(name: str, counts: dict[str, tuple[int, int]]) -> str:
    cells = [f"{100 * c / n:.1f}" if n else "-" for c, n in (counts[k] for k in ("all", "seen", "unseen"))]
    return f"| {name} | " + " | ".join(cells) + " |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train", required=True, help="the training treebank (.conllu)")
    ap.add_argument("--test", required=True, help="the gold test treebank (.conllu)")
    ap.add_argument("predictions", nargs="*", help="predicted treebanks (.conllu) of the same test sentences")
    args = ap.parse_args()
    from pixlm.data.readers import read_conllu

    for path in [args.train, args.test, *args.predictions]:
        if not os.path.isfile(path):
            ap.error(f"{path}: no such file")
    train, gold = read_conllu(args.train), read_conllu(args.test)
    lexicon, fallback = most_frequent_tags(train)
    seen = set(lexicon)
    baseline = [[lexicon.get(t.form, fallback) for t in s.tokens] for s in gold]
    words = sum(len(s.tokens) for s in gold)
    unseen = sum(t.form not in seen for s in gold for t in s.tokens)
    print(f"{words:,} test words, {unseen:,} ({100 * unseen / words:.1f}%) never seen in training\n")
    print("| tagger | all words | seen in training | unseen |\n|---|---|---|---|")
    print(row("most frequent tag", accuracy_by_seen(gold, baseline, seen)))
    for path in args.predictions:
        predicted = [[t.upos for t in s.tokens] for s in read_conllu(path)]
        try:
            print(row(path, accuracy_by_seen(gold, predicted, seen)))
        except ValueError as e:
            sys.exit(f"{path}: {e}")


if __name__ == "__main__":
    main()
