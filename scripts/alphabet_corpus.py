"""A probe corpus in which every hidden patch is fully given by its neighbours: runs of the
alphabet ("klmnopqrs..."), each from a random letter, 40-110 letters long. A model that reads
its context fills in any gap here; one that predicts from position alone cannot. It separates
"cannot locate or read the neighbours" from "does not know the language yet".

    python scripts/alphabet_corpus.py --output TRAIN.txt --held-out HELD_OUT.txt [--texts 20000] [--seed 0]
"""

import argparse
import os
import random
import string
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stdlib_split import write_lines  # noqa: E402


def alphabet_runs(count: int, rng: random.Random, shortest: int = 40, longest: int = 110) -> list[str]:
    """`count` runs of the lower-case alphabet, each from a random letter, wrapping after z."""
    letters = string.ascii_lowercase
    runs = []
    for _ in range(count):
        start, length = rng.randrange(26), rng.randint(shortest, longest)
        runs.append("".join(letters[(start + i) % 26] for i in range(length)))
    return runs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--output", required=True, help="the training text (a .txt file)")
    ap.add_argument("--held-out", required=True, help="the held-out texts (a .txt file)")
    ap.add_argument("--texts", type=int, default=20000, help="training texts (default 20000)")
    ap.add_argument("--held-out-size", type=int, default=128, help="held-out texts (default 128)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the starts and lengths (default 0)")
    args = ap.parse_args()
    if args.texts < 1 or args.held_out_size < 1:
        ap.error("--texts and --held-out-size must be at least 1")
    rng = random.Random(args.seed)
    write_lines(args.output, alphabet_runs(args.texts, rng))
    write_lines(args.held_out, alphabet_runs(args.held_out_size, rng))


if __name__ == "__main__":
    main()
