"""Pretraining the subword baseline (`pixlm baseline pretrain`): masked language modelling on the
pixel model's corpus, for the same budget."""

from __future__ import annotations

import json
import os

from transformers import AutoTokenizer, BertForMaskedLM, DataCollatorForLanguageModeling, set_seed

from ..data.corpus import load_corpus
from .run import resume_checkpoint, training_arguments, write_results
from .trainer import PixlmTrainer


def pretrain_subword(model_dir: str, corpus: str, output_dir: str, max_steps: int = 1000, batch_size: int = 32,
                     learning_rate: float = 5e-4, max_length: int = 128, seed: int = 42, save_steps: int = 500,
                     resume: bool | str = True, progress: bool = True) -> dict:
    """Masked language modelling (15% of tokens) on the same corpus, for as many steps as the
    pixel model got: the equal budget. Writes the model, its tokenizer and `all_results.json`
    (the settings, steps and training loss) to `output_dir`; `seed` sets the data order and masks.
    A checkpoint every `save_steps` (the last two kept); run again into the same folder, it
    continues from the newest (`resume=False` starts afresh, a path names the checkpoint) with
    its weights, optimizer, schedule and step. The masks after the cut are not the uninterrupted
    run's: transformers' MLM collator draws them from the global random stream, unlike pixlm's
    pixel collators, which derive each example's mask from the seed, the epoch and the example."""
    _check_baseline_folder(model_dir)
    set_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = BertForMaskedLM.from_pretrained(model_dir)
    texts = load_corpus(corpus)
    data = texts.map(lambda b: tokenizer(b["text"], truncation=True, max_length=max_length), batched=True,
                     remove_columns=texts.column_names)
    args = training_arguments(output_dir, max_steps=max_steps, per_device_train_batch_size=batch_size,
                              learning_rate=learning_rate, warmup_steps=0.05, weight_decay=0.01,
                              save_strategy="steps", save_steps=save_steps, save_total_limit=2,
                              logging_steps=max(1, max_steps // 20), seed=seed, disable_tqdm=not progress,
                              remove_unused_columns=True)
    trainer = PixlmTrainer(model=model, args=args, train_dataset=data,
                           data_collator=DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15))
    resumed_from = resume_checkpoint(output_dir, resume)
    out = trainer.train(resume_from_checkpoint=resumed_from)
    trainer.save_model_atomically(output_dir)
    tokenizer.save_pretrained(output_dir)
    results = {"steps": trainer.state.global_step, "train_loss": out.training_loss, "train_seconds": out.metrics["train_runtime"],
               "model": model_dir, "corpus": corpus, "batch_size": batch_size, "learning_rate": learning_rate, "seed": seed,
               "resumed_from": resumed_from}
    write_results(output_dir, results)  # last: its presence says the run finished
    return {**results, "output_dir": output_dir}


def _check_baseline_folder(model_dir: str) -> None:
    """A folder `pixlm baseline create` wrote: a BERT with its tokenizer."""
    config = os.path.join(model_dir, "config.json")
    if not os.path.isfile(config):
        raise FileNotFoundError(f"{model_dir!r} has no config.json: give the folder `pixlm baseline create` wrote")
    with open(config, encoding="utf-8") as f:
        model_type = json.load(f).get("model_type")
    if model_type != "bert":
        raise ValueError(f"{model_dir!r} holds a {model_type!r} model, not a subword baseline (BERT): give the folder "
                         "`pixlm baseline create` wrote")
