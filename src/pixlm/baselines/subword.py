"""A subword baseline at equal budget: a BERT-style transformers model with a WordPiece
tokenizer trained here, on the same corpus, with `tokenizers` (no download).

    from pixlm.baselines.subword import create_subword_model
    create_subword_model("corpus.txt", "runs/subword", preset="tiny", vocab_size=8000)

The folder it writes (a `BertForMaskedLM` and its tokenizer) goes wherever a PIXEL checkpoint
does: `pixlm.training.subword.pretrain_subword` continues it with masked language modelling, and `pixlm finetune` /
`pixlm evaluate` take it for classification, POS and NER.
"""

from __future__ import annotations

import json
import os

from transformers import BertConfig, BertForMaskedLM, set_seed

from ..data.corpus import load_corpus
from ..data.tokenization import train_wordpiece
from ..models.pixel.configuration_pixel import PRESETS

MARKER = "pixlm_subword_baseline"


def _bert_config(preset: str, vocab_size: int, max_positions: int):
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; presets: {', '.join(PRESETS)}")
    sizes = {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072}
    sizes.update({k: v for k, v in PRESETS[preset].items() if k in sizes})
    return BertConfig(vocab_size=vocab_size, max_position_embeddings=max_positions, **sizes)


def create_subword_model(corpus: str, output_dir: str, preset: str = "tiny", vocab_size: int = 8000,
                         max_positions: int = 512, text_column: str = "text", seed: int = 42) -> str:
    """Train a WordPiece tokenizer on `corpus` and save it with a BertForMaskedLM of the
    preset's size, initialised from `seed`; returns the folder."""
    texts = load_corpus(corpus, text_column=text_column)["text"]
    tokenizer = train_wordpiece(texts, vocab_size)
    config = _bert_config(preset, len(tokenizer), max_positions)
    config.update({MARKER: True})
    set_seed(seed)
    model = BertForMaskedLM(config)
    os.makedirs(output_dir, exist_ok=True)
    model.save_pretrained(output_dir)
    tokenizer.save_pretrained(output_dir)
    return output_dir


def is_subword_model(path: str) -> bool:
    """True for a folder written by `create_subword_model` (or a model finetuned from one)."""
    config = os.path.join(path, "config.json")
    if not os.path.isfile(config) or not os.path.isfile(os.path.join(path, "tokenizer.json")):
        return False
    with open(config, encoding="utf-8") as f:
        return json.load(f).get("model_type") == "bert"
