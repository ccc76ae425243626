"""Tokenizers trained here with `tokenizers`, so that everything runs offline: byte-level BPE
for PixelGPT's text side, WordPiece for BERT-style models (the subword baseline, Pixel-BERT).
Any transformers tokenizer on disk works as well.

    from pixlm.data.tokenization import train_bpe_tokenizer
    tokenizer = train_bpe_tokenizer(["some text", ...], vocab_size=8000)
    tokenizer.save_pretrained("runs/bpe")
"""

from __future__ import annotations

import os

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import AutoTokenizer, PreTrainedTokenizerFast

from .corpus import load_corpus

BOS, EOS, PAD, UNK = "<s>", "</s>", "<pad>", "<unk>"


def train_bpe_tokenizer(texts, vocab_size: int = 8000, min_frequency: int = 2):
    """A byte-level BPE tokenizer (GPT-2 style: no unknown bytes) trained on `texts`, an
    iterable of strings, with `<s>`, `</s>`, `<pad>` and `<unk>` as special tokens."""
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 300:
        raise ValueError(f"vocab_size must be an integer of at least 300 (256 bytes and the special tokens), got {vocab_size!r}")
    tok = Tokenizer(models.BPE(unk_token=UNK))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=[PAD, BOS, EOS, UNK],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=BOS, eos_token=EOS, pad_token=PAD, unk_token=UNK)


def train_wordpiece(texts, vocab_size: int = 8000, lowercase: bool = False):
    """A BERT WordPiece tokenizer trained on `texts` (an iterable of strings)."""
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=lowercase)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    tok.train_from_iterator(texts, trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=special))
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]",
        mask_token="[MASK]", model_max_length=512,
    )


def train_tokenizer_on_corpus(corpus: str, output_dir: str, vocab_size: int = 8000, text_column: str = "text") -> str:
    """Train a BPE tokenizer on a corpus (anything `pixlm pretrain` reads) and save it to
    `output_dir`; returns the folder."""
    texts = load_corpus(corpus, text_column=text_column)["text"]
    if not len(texts):
        raise ValueError(f"corpus {corpus!r} has no texts to train a tokenizer on")
    tokenizer = train_bpe_tokenizer(texts, vocab_size)
    os.makedirs(output_dir, exist_ok=True)
    tokenizer.save_pretrained(output_dir)
    return output_dir


def load_tokenizer(path: str, vocab_size: int | None = None):
    """A transformers tokenizer from a folder. With `vocab_size` (a checkpoint's), a tokenizer
    whose vocabulary is larger is an error naming both sizes; it needs a pad token, and an end
    token to close each text."""
    if not os.path.isdir(path):
        raise FileNotFoundError(f"tokenizer folder {path!r} does not exist; make one with `pixlm tokenizer train`")
    tokenizer = AutoTokenizer.from_pretrained(path)
    if vocab_size is not None and len(tokenizer) > vocab_size:
        raise ValueError(
            f"tokenizer {path!r} has {len(tokenizer)} tokens but the model's vocab_size is {vocab_size}; "
            "use the tokenizer the model was trained with"
        )
    if tokenizer.eos_token_id is None:
        raise ValueError(f"tokenizer {path!r} has no end-of-sequence token (eos_token)")
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer
