"""Train a BPE tokenizer on a corpus, for PixelGPT's text side (offline).

train: a byte-level BPE tokenizer (with <s>, </s>, <pad>, <unk>) trained with `tokenizers` on a
corpus, saved as a transformers tokenizer folder for pixlm pretrain --tokenizer.
"""

from __future__ import annotations

from .flags import positive_int

# Imports inside functions: `pixlm --help` imports this module and stays fast (see pixlm.cli).


def add_arguments(p) -> None:
    p.add_argument("action", choices=["train"], help="train a tokenizer")
    p.add_argument("--corpus", required=True, metavar="PATH", help="the text corpus (as for pixlm pretrain)")
    p.add_argument("--output-dir", required=True, metavar="DIR", help="where the tokenizer folder goes")
    p.add_argument("--vocab-size", type=positive_int, default=8000, metavar="N", help="vocabulary size (default 8000)")
    p.add_argument("--text-column", default="text", help="column holding the text in jsonl/parquet/csv (default text)")


def run(args) -> int:
    from ..data.tokenization import load_tokenizer, train_tokenizer_on_corpus

    folder = train_tokenizer_on_corpus(args.corpus, args.output_dir, args.vocab_size, args.text_column)
    print(f"{folder}: BPE tokenizer with {len(load_tokenizer(folder))} tokens")
    return 0
