"""Where a tagger gains or loses against the most-frequent-tag baseline: UPOS accuracy on the
test words seen in training and on those never seen, and on the seen words by how often
training holds them, for the baseline and for each tagger's predictions (the
`predictions-test.conllu` that `pixlm finetune --test` writes).

    python scripts/tagging_breakdown.py --train TRAIN.conllu --test TEST.conllu RUN/predictions-test.conllu ...

Prints a Markdown table: one column per group of words, one row for the baseline (each word's
most frequent training tag, the overall most frequent tag for unseen words, as `pixlm finetune`
reports it), one per predictions file.

With `--alone FILE`, also writes the test words seen once or twice in training whose training
tag is right, each as a sentence of its own (CoNLL-U): `pixlm evaluate --task pos --data FILE`
then says how many of them a tagger tags from the word alone, without the context it saw them in.
"""

import argparse
import collections
import os
import sys


def tagged_words(path: str) -> list[dict]:
    """A treebank's sentences as {words, tags} (UPOS), as `pixlm finetune --task pos` reads them."""
    from pixlm.data.readers import read_conllu

    return [{"words": s.words, "tags": [t.upos for t in s.tokens]} for s in read_conllu(path)]


FREQUENCY_BANDS = ((1, 2), (3, 9), (10, 99), (100, None))  # times a seen word occurs in training
GROUPS = ("all", "seen", "unseen", *(f"{lo}-{hi}" if hi else f"{lo}+" for lo, hi in FREQUENCY_BANDS))


def frequency_band(count: int) -> str:
    """The group of a word that training holds `count` times: "unseen", "1-2", ... "100+"."""
    for lo, hi in FREQUENCY_BANDS:
        if count >= lo and (hi is None or count <= hi):
            return f"{lo}-{hi}" if hi else f"{lo}+"
    return "unseen"


def accuracy_by_group(gold: list[dict], predicted: list[list[str]], train_counts: collections.Counter) -> dict[str, tuple[int, int]]:
    """(correct, words) over all test words, the seen and unseen ones, and each frequency band."""
    counts = {k: [0, 0] for k in GROUPS}
    for sentence, tags in zip(gold, predicted, strict=True):
        if len(tags) != len(sentence["tags"]):
            raise ValueError(f"a predicted sentence has {len(tags)} tags for {len(sentence['tags'])} words")
        for word, tag, right in zip(sentence["words"], tags, sentence["tags"]):
            band = frequency_band(train_counts[word])
            for key in {"all", band, "unseen" if band == "unseen" else "seen"}:
                counts[key][0] += tag == right
                counts[key][1] += 1
    return {k: (c, n) for k, (c, n) in counts.items()}


def rare_words_alone(gold: list[dict], train_counts: collections.Counter, lexicon: dict[str, str]) -> list[tuple[str, str]]:
    """(word, tag) of each test word seen once or twice in training whose most frequent
    training tag is its tag, in the test's order."""
    return [(w, t) for s in gold for w, t in zip(s["words"], s["tags"]) if frequency_band(train_counts[w]) == "1-2" and lexicon[w] == t]


def write_sentences_of_one_word(path: str, words: list[tuple[str, str]]) -> None:
    """A CoNLL-U file of one-word sentences, each word with its UPOS tag."""
    with open(path, "w", encoding="utf-8") as f:
        for k, (word, tag) in enumerate(words, 1):
            f.write(f"# sent_id = {k}\n# text = {word}\n1\t{word}\t_\t{tag}\t_\t_\t0\troot\t_\t_\n\n")


def row(name: str, counts: dict[str, tuple[int, int]]) -> str:
    cells = [f"{100 * c / n:.1f}" if n else "-" for c, n in (counts[k] for k in GROUPS)]
    return f"| {name} | " + " | ".join(cells) + " |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train", required=True, help="the training treebank (.conllu)")
    ap.add_argument("--test", required=True, help="the gold test treebank (.conllu)")
    ap.add_argument("predictions", nargs="*", help="predicted treebanks (.conllu) of the same test sentences")
    ap.add_argument("--alone", metavar="FILE", help="also write the test words seen once or twice in training whose "
                    "training tag is right, one sentence each (CoNLL-U), for pixlm evaluate")
    args = ap.parse_args()
    from pixlm.training.finetuning import most_frequent_tags

    for path in [args.train, args.test, *args.predictions]:
        if not os.path.isfile(path):
            ap.error(f"{path}: no such file")
    gold = tagged_words(args.test)
    train = tagged_words(args.train)
    lexicon, fallback = most_frequent_tags(train)
    train_counts = collections.Counter(w for s in train for w in s["words"])
    baseline = [[lexicon.get(w, fallback) for w in s["words"]] for s in gold]
    shares = accuracy_by_group(gold, baseline, train_counts)
    words = shares["all"][1]
    print(f"{words:,} test words, {shares['unseen'][1]:,} ({100 * shares['unseen'][1] / words:.1f}%) never seen in training\n")
    print("| tagger | all words | seen in training | unseen | " + " | ".join(f"seen {k} times" for k in GROUPS[3:]) + " |")
    print("|---" * (len(GROUPS) + 1) + "|")
    print("| share of the test words | " + " | ".join(f"{100 * shares[k][1] / words:.1f}%" for k in GROUPS) + " |")
    print(row("most frequent tag", shares))
    if args.alone:
        alone = rare_words_alone(gold, train_counts, lexicon)
        write_sentences_of_one_word(args.alone, alone)
        print(f"\n{args.alone}: {len(alone):,} test words seen once or twice in training, their training tag right, "
              "one sentence each\n", file=sys.stderr)
    for path in args.predictions:
        predicted = [s["tags"] for s in tagged_words(path)]
        try:
            print(row(path, accuracy_by_group(gold, predicted, train_counts)))
        except ValueError as e:
            sys.exit(f"{path}: {e}")

if __name__ == "__main__":
    main()
