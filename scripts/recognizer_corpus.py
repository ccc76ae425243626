"""The training text of the default recognizer, from the train splits of the shared data (never a
test split: benchmarks/recognizer.py scores on UD en_ewt and vi_vtb test).

    python scripts/recognizer_corpus.py --data ../shared/data --output CORPUS.txt

One text per line, in this order: UD en_ewt train (`# text` lines), UD vi_vtb train three times
over (for its diacritics), and the sentences of the nine MasakhaNER languages' train files
(African Latin alphabets; tokens joined by spaces). Greek, Cyrillic and the rest of the charset
come from the random words `pixlm read train` mixes in.
"""

import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stdlib_split import write_lines  # noqa: E402

MASAKHANER = ("yor", "ibo", "hau", "swa", "wol", "luo", "lug", "kin", "pcm")
VIETNAMESE_REPEATS = 3
TEXT_LINE = re.compile(r"# text *= *(.*)")  # vi_vtb writes "# text =..." without the space


def treebank_texts(path: str) -> list[str]:
    """The `# text` lines of a CoNLL-U file, as written."""
    with open(path, encoding="utf-8") as f:
        return [m.group(1) for line in f.read().split("\n") if (m := TEXT_LINE.match(line))]


def ner_sentences(path: str) -> list[str]:
    """A CoNLL-2003-style file's sentences: each line's first field, joined by spaces; blank lines
    end a sentence, -DOCSTART- lines are skipped."""
    sentences, words = [], []
    with open(path, encoding="utf-8") as f:
        for line in f.read().split("\n"):
            fields = line.split()
            if not fields:
                if words:
                    sentences.append(" ".join(words))
                words = []
            elif fields[0] != "-DOCSTART-":
                words.append(fields[0])
    if words:
        sentences.append(" ".join(words))
    return sentences


def recognizer_texts(data: str) -> list[str]:
    """The default recognizer's training text, in order."""
    for path in (os.path.join(data, "ud", "en_ewt", "train.conllu"), os.path.join(data, "ud", "vi_vtb", "train.conllu"),
                 *(os.path.join(data, "ner", lang, "train.txt") for lang in MASAKHANER)):
        if not os.path.isfile(path):
            raise SystemExit(f"{path} not found: pass --data (or set PIXLM_DATA) to the shared data folder")
    english = treebank_texts(os.path.join(data, "ud", "en_ewt", "train.conllu"))
    vietnamese = treebank_texts(os.path.join(data, "ud", "vi_vtb", "train.conllu"))
    african = [s for lang in MASAKHANER for s in ner_sentences(os.path.join(data, "ner", lang, "train.txt"))]
    return english + vietnamese * VIETNAMESE_REPEATS + african


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.environ.get("PIXLM_DATA", "../shared/data"),
                    help="the shared data folder (default $PIXLM_DATA or ../shared/data)")
    ap.add_argument("--output", required=True, help="the training text (a .txt file, one text per line)")
    args = ap.parse_args()
    texts = recognizer_texts(args.data)
    write_lines(args.output, texts)
    print(f"{len(texts):,} texts: {args.output}")


if __name__ == "__main__":
    main()
