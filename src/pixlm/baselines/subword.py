"""A subword baseline at equal budget: a BERT-style transformers model with a WordPiece
tokenizer trained here, on the same corpus, with `tokenizers` (no download).

    from pixlm.baselines.subword import create_subword_model
    create_subword_model("corpus.txt", "runs/subword", preset="tiny", vocab_size=8000)

The folder it writes (a `BertForMaskedLM` and its tokenizer) goes wherever a PIXEL checkpoint
does: `pretrain_subword` continues it with masked language modelling, and `pixlm finetune` /
`pixlm evaluate` take it for classification, POS and NER.
"""

from __future__ import annotations

import os

from ..data.tokenization import train_wordpiece
from ..models.pixel.configuration_pixel import PRESETS

MARKER = "pixlm_subword_baseline"


def _bert_config(preset: str, vocab_size: int, max_positions: int):
    from transformers import BertConfig

    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; presets: {', '.join(PRESETS)}")
    sizes = {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072}
    sizes.update({k: v for k, v in PRESETS[preset].items() if k in sizes})
    return BertConfig(vocab_size=vocab_size, max_position_embeddings=max_positions, **sizes)


def create_subword_model(corpus: str, output_dir: str, preset: str = "tiny", vocab_size: int = 8000,
                         max_positions: int = 512, text_column: str = "text") -> str:
    """Train a WordPiece tokenizer on `corpus` and save it with a freshly initialised
    BertForMaskedLM of the preset's size; returns the folder."""
    from transformers import BertForMaskedLM

    from ..data.corpus import load_corpus

    texts = load_corpus(corpus, text_column=text_column)["text"]
    tokenizer = train_wordpiece(texts, vocab_size)
    config = _bert_config(preset, len(tokenizer), max_positions)
    config.update({MARKER: True})
    model = BertForMaskedLM(config)
    os.makedirs(output_dir, exist_ok=True)
    model.save_pretrained(output_dir)
    tokenizer.save_pretrained(output_dir)
    return output_dir


def is_subword_model(path: str) -> bool:
    """True for a folder written by `create_subword_model` (or a model finetuned from one)."""
    import json

    config = os.path.join(path, "config.json")
    if not os.path.isfile(config) or not os.path.isfile(os.path.join(path, "tokenizer.json")):
        return False
    with open(config, encoding="utf-8") as f:
        return json.load(f).get("model_type") == "bert"


def pretrain_subword(model_dir: str, corpus: str, output_dir: str, max_steps: int = 1000, batch_size: int = 32,
                     learning_rate: float = 5e-4, max_length: int = 128, seed: int = 42) -> dict:
    """Masked language modelling (15% of tokens) on the same corpus, for as many steps as the
    pixel model got: the equal budget."""
    from transformers import AutoTokenizer, BertForMaskedLM, DataCollatorForLanguageModeling, set_seed

    from ..data.corpus import load_corpus
    from ..training.run import training_arguments
    from ..training.trainer import PixlmTrainer

    set_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = BertForMaskedLM.from_pretrained(model_dir)
    texts = load_corpus(corpus)
    data = texts.map(lambda b: tokenizer(b["text"], truncation=True, max_length=max_length), batched=True,
                     remove_columns=texts.column_names)
    args = training_arguments(output_dir, max_steps=max_steps, per_device_train_batch_size=batch_size,
                              learning_rate=learning_rate, warmup_steps=0.05, weight_decay=0.01,
                              save_strategy="no", logging_steps=max(1, max_steps // 20), seed=seed, disable_tqdm=True,
                              remove_unused_columns=True)
    trainer = PixlmTrainer(model=model, args=args, train_dataset=data,
                           data_collator=DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15))
    out = trainer.train()
    trainer.save_model_atomically(output_dir)
    tokenizer.save_pretrained(output_dir)
    return {"steps": trainer.state.global_step, "train_loss": out.training_loss, "output_dir": output_dir}


class SubwordCollator:
    """The subword counterpart of pixlm's collators: texts or pairs for classification; word
    lists for POS/NER, labelled on each word's first subword (-100 elsewhere)."""

    def __init__(self, tokenizer, task: str, label2id: dict | None, max_length: int = 256):
        if task not in ("classify", "pos", "ner"):
            raise ValueError(f"the subword baseline covers classify, pos and ner; not {task!r}")
        self.tokenizer, self.task, self.label2id, self.max_length = tokenizer, task, label2id, max_length

    def __call__(self, examples):
        import torch

        if self.task == "classify":
            from ..data import TextClassificationCollator

            return TextClassificationCollator(self.tokenizer, self.label2id, self.max_length)(examples)
        enc = self.tokenizer([list(e["words"]) for e in examples], is_split_into_words=True, truncation=True,
                             max_length=self.max_length, padding=True, return_tensors="pt")
        labels = torch.full(enc["input_ids"].shape, -100, dtype=torch.long)
        for i, e in enumerate(examples):
            seen = set()
            for pos, word in enumerate(enc.word_ids(i)):
                if word is not None and word not in seen:
                    seen.add(word)
                    labels[i, pos] = self.label2id[e["tags"][word]]
        batch = dict(enc)
        batch["labels"] = labels
        return batch
