"""English pretraining text from the training splits of the shared data (never a dev or test
split), shuffled, with a held-out part for the held-out loss and R.

    python scripts/english_corpus.py --data ../shared/data --output TRAIN.txt --held-out HELD_OUT.txt

Sources: UD English EWT train (`# text` lines), CoNLL-2003 English train (tokens joined by
spaces), and the train files of GLUE SST-2, CoLA, MRPC and STS-B. Texts shorter than
--min-chars are dropped (SST-2's train file holds many phrases of a word or two), duplicates
are dropped, the rest shuffled with --seed.
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=os.environ.get("PIXLM_DATA", "../shared/data"),
                    help="the shared data folder (default $PIXLM_DATA or ../shared/data)")
    ap.add_argument("--output", required=True, help="the training text (a .txt file, one text per line)")
    ap.add_argument("--held-out", required=True, help="the held-out texts (a .txt file)")
    ap.add_argument("--held-out-size", type=int, default=256, help="texts held out (default 256)")
    ap.add_argument("--min-chars", type=int, default=20, help="drop texts shorter than this (default 20)")
    ap.add_argument("--seed", type=int, default=0, help="shuffling seed (default 0)")
    args = ap.parse_args()
    if not os.path.isdir(os.path.join(args.data, "ud", "en_ewt")):
        ap.error(f"--data {args.data}: no ud/en_ewt folder there; give the shared data folder")
    sources = english_training_texts(args.data)
    texts = list(dict.fromkeys(" ".join(t.split()) for lines in sources.values() for t in lines))
    texts = [t for t in texts if len(t) >= args.min_chars]
    if not 0 < args.held_out_size < len(texts):
        ap.error(f"--held-out-size must be between 1 and {len(texts) - 1}")
    random.Random(args.seed).shuffle(texts)
    write_lines(args.held_out, texts[: args.held_out_size])
    write_lines(args.output, texts[args.held_out_size:])
    counts = ", ".join(f"{name} {len(lines):,}" for name, lines in sources.items())
    print(f"{len(texts) - args.held_out_size:,} training and {args.held_out_size} held-out texts "
          f"({sum(map(len, texts)) / len(texts):.0f} characters on average) from {counts}")


if __name__ == "__main__":
    main()
