"""English pretraining text from the training splits of the shared data (never a dev or test
split), shuffled, with a held-out part for the held-out loss and R.

    python scripts/english_corpus.py --data ../shared/data --output TRAIN.txt --held-out HELD_OUT.txt

Sources: UD English EWT train (`# text` lines), CoNLL-2003 English train (tokens joined by
spaces), and the train files of GLUE SST-2, CoLA, MRPC and STS-B. Texts shorter than
--min-chars are dropped (SST-2's train file holds many phrases of a word or two), duplicates
are dropped, the rest shuffled with --seed.

`--add SOURCE:REPEATS` (repeatable) adds the training text of a task in another language,
`ud/NAME` (a UD treebank's train.conllu) or `ner/NAME` (a CoNLL NER train.txt), each text
REPEATS times, to the training text only: the held-out texts stay English, so R and the
held-out loss are measured as without it.
"""

import argparse
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stdlib_split import write_lines  # noqa: E402

GLUE_TRAIN = ("SST-2", "CoLA", "MRPC", "STS-B")


def english_training_texts(data: str) -> dict[str, list[str]]:
    """The training texts of each English source under the shared data folder `data`."""
    from pixlm.data.readers import read_conll_ner, read_conllu, read_glue

    sources = {"ud/en_ewt": [s.text or " ".join(s.words) for s in read_conllu(os.path.join(data, "ud/en_ewt/train.conllu"))],
               "ner/conll2003_en": [" ".join(words) for words, _ in read_conll_ner(os.path.join(data, "ner/conll2003_en/train.txt"))]}
    for task in GLUE_TRAIN:
        examples = read_glue(task, os.path.join(data, "glue", task, "train.tsv"))
        sources[f"glue/{task}"] = [t for e in examples for t in (e["text_a"], e["text_b"]) if t]
    return sources


def added_training_texts(data: str, spec: str) -> list[str]:
    """The training texts named by `spec` ("ud/NAME:REPEATS" or "ner/NAME:REPEATS"), each
    repeated REPEATS times (never a dev or test split)."""
    from pixlm.data.readers import read_conll_ner, read_conllu

    source, _, repeats = spec.rpartition(":")
    kind = source.split("/")[0]
    if kind not in ("ud", "ner") or not repeats.isdigit() or int(repeats) < 1:
        raise ValueError(f"--add {spec}: expected ud/NAME:REPEATS or ner/NAME:REPEATS, e.g. ud/vi_vtb:10")
    path = os.path.join(data, source, "train.conllu" if kind == "ud" else "train.txt")
    if not os.path.isfile(path):
        raise ValueError(f"--add {spec}: no training file {path}")
    if kind == "ud":
        texts = [s.text or " ".join(s.words) for s in read_conllu(path)]
    else:
        texts = [" ".join(words) for words, _ in read_conll_ner(path)]
    return texts * int(repeats)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=os.environ.get("PIXLM_DATA", "../shared/data"),
                    help="the shared data folder (default $PIXLM_DATA or ../shared/data)")
    ap.add_argument("--output", required=True, help="the training text (a .txt file, one text per line)")
    ap.add_argument("--held-out", required=True, help="the held-out texts (a .txt file)")
    ap.add_argument("--held-out-size", type=int, default=256, help="texts held out (default 256)")
    ap.add_argument("--min-chars", type=int, default=20, help="drop texts shorter than this (default 20)")
    ap.add_argument("--seed", type=int, default=0, help="shuffling seed (default 0)")
    ap.add_argument("--add", action="append", default=[], metavar="SOURCE:REPEATS",
                    help="also train on this task's training text, each text REPEATS times (ud/NAME or ner/NAME, "
                         "e.g. ud/vi_vtb:10; repeatable); the held-out texts stay English")
    args = ap.parse_args()
    if not os.path.isdir(os.path.join(args.data, "ud", "en_ewt")):
        ap.error(f"--data {args.data}: no ud/en_ewt folder there; give the shared data folder")
    sources = english_training_texts(args.data)
    texts = list(dict.fromkeys(" ".join(t.split()) for lines in sources.values() for t in lines))
    texts = [t for t in texts if len(t) >= args.min_chars]
    if not 0 < args.held_out_size < len(texts):
        ap.error(f"--held-out-size must be between 1 and {len(texts) - 1}")
    random.Random(args.seed).shuffle(texts)
    held_out, training = texts[: args.held_out_size], texts[args.held_out_size:]
    counts = ", ".join(f"{name} {len(lines):,}" for name, lines in sources.items())
    for spec in args.add:
        try:
            added = added_training_texts(args.data, spec)
        except ValueError as e:
            ap.error(str(e))
        training += [" ".join(t.split()) for t in added]
        counts += f", {spec} {len(added):,}"
    if args.add:
        random.Random(args.seed + 1).shuffle(training)
    write_lines(args.held_out, held_out)
    write_lines(args.output, training)
    print(f"{len(training):,} training and {len(held_out)} held-out texts "
          f"({sum(map(len, training + held_out)) / (len(training) + len(held_out)):.0f} characters on average) from {counts}")


if __name__ == "__main__":
    main()
