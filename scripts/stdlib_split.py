"""Python's documentation sentences (the quickstart's corpus), split into training text and a
held-out tail that is never trained on.

    python scripts/stdlib_split.py --output TRAIN.txt --held-out HELD_OUT.txt [--held-out-size 200]
"""

import argparse
import os


def write_lines(path: str, lines: list[str]) -> None:
    """`lines` into `path`, one per line, replacing the file whole."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"  # seeds running side by side may write the same shared file
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in lines))
    os.replace(tmp, path)


def main() -> None:
    from pixlm.training.quickstart import stdlib_corpus

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--output", required=True, help="the training text (a .txt file)")
    ap.add_argument("--held-out", required=True, help="the held-out sentences (a .txt file)")
    ap.add_argument("--held-out-size", type=int, default=200, help="sentences held out, from the end (default 200)")
    args = ap.parse_args()
    sentences = stdlib_corpus()
    if not 0 < args.held_out_size < len(sentences):
        ap.error(f"--held-out-size must be between 1 and {len(sentences) - 1}")
    write_lines(args.held_out, sentences[-args.held_out_size:])
    write_lines(args.output, sentences[: -args.held_out_size])


if __name__ == "__main__":
    main()
