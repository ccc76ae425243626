"""Where a tagger gains or loses against the most-frequent-tag baseline: UPOS accuracy on the
test words seen in training and on those never seen, for the baseline and for each tagger's
predictions (the `predictions-test.conllu` that `pixlm finetune --test` writes).

    python scripts/tagging_breakdown.py --train TRAIN.conllu --test TEST.conllu RUN/predictions-test.conllu ...

Prints a Markdown table: one row for the baseline (each word's most frequent training tag, the
overall most frequent tag for unseen words, as `pixlm finetune` reports it), one per
predictions file.
"""

import argparse
import os
import sys


def tagged_words(path: str) -> list[dict]:
    """A treebank's sentences as {words, tags} (UPOS), as `pixlm finetune --task pos` reads them."""
    from pixlm.data.readers import read_conllu

    return [{"words": s.words, "tags": [t.upos for t in s.tokens]} for s in read_conllu(path)]


def accuracy_by_seen(gold: list[dict], predicted: list[list[str]], seen: set[str]) -> dict[str, tuple[int, int]]:
    """(correct, words) for the test words seen in training, unseen, and all."""
    counts = {"seen": [0, 0], "unseen": [0, 0], "all": [0, 0]}
    for sentence, tags in zip(gold, predicted, strict=True):
        if len(tags) != len(sentence["tags"]):
            raise ValueError(f"a predicted sentence has {len(tags)} tags for {len(sentence['tags'])} words")
        for word, tag, right in zip(sentence["words"], tags, sentence["tags"]):
            for key in ("seen" if word in seen else "unseen", "all"):
                counts[key][0] += tag == right
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
    from pixlm.training.finetuning import most_frequent_tags

    for path in [args.train, args.test, *args.predictions]:
        if not os.path.isfile(path):
            ap.error(f"{path}: no such file")
    gold = tagged_words(args.test)
    lexicon, fallback = most_frequent_tags(tagged_words(args.train))
    seen = set(lexicon)
    baseline = [[lexicon.get(w, fallback) for w in s["words"]] for s in gold]
    words = sum(len(s["words"]) for s in gold)
    unseen = sum(w not in seen for s in gold for w in s["words"])
    print(f"{words:,} test words, {unseen:,} ({100 * unseen / words:.1f}%) never seen in training\n")
    print("| tagger | all words | seen in training | unseen |\n|---|---|---|---|")
    print(row("most frequent tag", accuracy_by_seen(gold, baseline, seen)))
    for path in args.predictions:
        predicted = [s["tags"] for s in tagged_words(path)]
        try:
            print(row(path, accuracy_by_seen(gold, predicted, seen)))
        except ValueError as e:
            sys.exit(f"{path}: {e}")

if __name__ == "__main__":
    main()
