"""Pretraining on transformers' Trainer: PIXEL (masked patches) and the PixelGPT family
(next patch and next token, one kind of batch at a time from a mixture).

    from pixlm.training import PretrainConfig, pretrain
    pretrain(PretrainConfig(corpus="corpus.txt", output_dir="runs/pixel", model="small"))
    pretrain(PretrainConfig(corpus="corpus.txt", output_dir="runs/dual", model_type="pixelgpt",
                            mixture="dualgpt", tokenizer="runs/bpe"))

Runs as is under `torchrun --nproc_per_node N` (DDP; gloo on CPU), resumes from the last
complete checkpoint in `output_dir`, logs to TensorBoard, writes reconstruction figures.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from dataclasses import asdict

import datasets
import torch

from ..data import check_renderer_fits
from ..data.corpus import load_corpus
from ..data.processor import PixelProcessor
from ..data.tokenization import load_tokenizer
from ..files import check_writable
from ..options import unknown_keys
from ..render import CONFIG_NAME, RendererConfig, TextRenderer
from ..viz import loss_curve, save_png
from .config import PretrainConfig
from .families import FAMILIES, Family, has_tokenizer
from .recipes import apply_recipe
from .run import read_results, resume_checkpoint, seed_everything, sharding_arguments, training_arguments, write_model_card, write_results
from .trainer import STAGING, PixlmTrainer, ReconstructionCallback

logger = logging.getLogger(__name__)


def _load_tokenizer(cfg: PretrainConfig):
    """The tokenizer given, else the one saved with a checkpoint being continued, else none."""

    source = cfg.tokenizer or (cfg.model if has_tokenizer(cfg.model) else None)
    return load_tokenizer(source) if source else None


def _load_renderer(cfg: PretrainConfig, model_config):
    source = cfg.renderer
    if source is None and os.path.isfile(os.path.join(cfg.model, CONFIG_NAME)):
        source = cfg.model  # a checkpoint brings its renderer
    base = RendererConfig.from_pretrained(source).to_dict() if source else {"max_patches": model_config.max_patches}
    unknown_keys(cfg.renderer_overrides, [f.name for f in dataclasses.fields(RendererConfig)], "RendererConfig")
    base.update(cfg.renderer_overrides)
    renderer = TextRenderer(RendererConfig(**base))
    check_renderer_fits(renderer.config, model_config.patch_size, model_config.num_channels, model_config.max_patches)
    return renderer


def _split(cfg: PretrainConfig, stats: dict):
    train = load_corpus(cfg.corpus, text_column=cfg.text_column, streaming=cfg.streaming, stats=stats)
    if cfg.validation:
        held_out = load_corpus(cfg.validation, text_column=cfg.text_column, stats=stats)
    elif cfg.streaming:
        held_out = _materialise(train.take(cfg.validation_size))
        train = train.skip(cfg.validation_size)
    else:
        if len(train) < 2 * cfg.validation_size:
            size = max(1, len(train) // 10)
            logger.warning("corpus has %d texts: holding out %d instead of %d", len(train), size, cfg.validation_size)
        else:
            size = cfg.validation_size
        parts = train.train_test_split(test_size=size, seed=cfg.seed, shuffle=True)
        train, held_out = parts["train"], parts["test"]
    return train, held_out


def _materialise(iterable):
    return datasets.Dataset.from_list(list(iterable))


def _precision(choice: str) -> dict:
    if choice == "auto":
        if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
            return {"bf16": True}
        return {}
    return {"fp32": {}, "bf16": {"bf16": True}, "fp16": {"fp16": True}}[choice]


def pretrain(cfg: PretrainConfig) -> dict:
    """Pretrain PIXEL; return the held-out loss before and after, and where everything went.

    Writes into `output_dir`: checkpoints (`checkpoint-N/`, atomically), the final model and
    its renderer config, TensorBoard logs (`runs/`), reconstruction figures
    (`reconstructions/`), `loss_curve.png` and `all_results.json`.
    """


    cfg.validate()
    if cfg.recipe is not None:
        cfg = apply_recipe(dataclasses.replace(cfg, model_overrides=dict(cfg.model_overrides),
                                               renderer_overrides=dict(cfg.renderer_overrides)))
        cfg.validate()
    sharding = sharding_arguments(cfg.fsdp, cfg.deepspeed)
    check_writable(cfg.output_dir)
    seed_everything(cfg.seed, cfg.deterministic)  # the model's initial weights too
    family = FAMILIES[cfg.model_type]
    tokenizer = _load_tokenizer(cfg) if family.uses_tokenizer else None
    model = family.pretraining_model(cfg, tokenizer)
    renderer = _load_renderer(cfg, model.config)
    stats: dict = {"skipped": 0}
    train, held_out = _split(cfg, stats)
    if stats["skipped"]:
        logger.warning("skipped %d texts too short to mask (empty or only whitespace)", stats["skipped"])
    train_collator, eval_collator = family.collators(cfg, model, renderer, tokenizer)

    world = int(os.environ.get("WORLD_SIZE", "1"))
    # A stream under several processes: each reads it and keeps its own slice of every global
    # batch (accelerate's IterableDatasetShard), so no text comes twice in an epoch. Its default
    # for a stream (the first process reads every batch and sends out slices) ended in "Batch
    # does not contain any data" at the stream's end.
    shared_stream = cfg.streaming and world > 1
    total_batch = cfg.batch_size * cfg.gradient_accumulation_steps * world
    lr = cfg.learning_rate if cfg.learning_rate is not None else 1.5e-4 * total_batch / 256
    args = training_arguments(
        cfg.output_dir,
        max_steps=cfg.max_steps,
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        learning_rate=lr,
        weight_decay=cfg.weight_decay,
        lr_scheduler_type="cosine_with_min_lr",
        lr_scheduler_kwargs={"min_lr": cfg.min_learning_rate},
        warmup_steps=int(cfg.warmup_fraction * cfg.max_steps),
        logging_steps=cfg.logging_steps,
        logging_first_step=True,
        eval_strategy="steps",
        eval_steps=cfg.eval_steps,
        save_strategy="steps",
        save_steps=cfg.save_steps,
        save_total_limit=cfg.save_total_limit,
        seed=cfg.seed,
        full_determinism=cfg.deterministic,
        dataloader_num_workers=cfg.num_workers,
        label_names=["pixel_values"],
        prediction_loss_only=True,
        report_to=cfg.report_to,
        disable_tqdm=not cfg.progress,
        ddp_find_unused_parameters=family.unused_parameters if world > 1 else None,
        accelerator_config={"dispatch_batches": False} if shared_stream else None,
        **_precision(cfg.precision),
        **sharding,
    )
    sample = [held_out[k]["text"] for k in range(min(cfg.reconstruction_texts, len(held_out))) if "text" in held_out.column_names]
    pictures = ReconstructionCallback(renderer, sample, cfg.reconstruction_steps,
                                      os.path.join(cfg.output_dir, family.figure_folder), family.figure)
    trainer = PixlmTrainer(
        model=model,
        args=args,
        train_dataset=train,
        eval_dataset=held_out,
        data_collator=train_collator,
        callbacks=[pictures],
        pixel_processor=PixelProcessor(renderer, model.config.num_channels),
        processing_class=tokenizer,
        eval_data_collator=eval_collator,
        eval_probe=family.eval_probe(renderer, _held_out_texts(held_out, 64)),
    )

    resume = resume_checkpoint(cfg.output_dir, cfg.resume)
    if resume is None:
        step0 = trainer.evaluate()
        start = {"initial_eval_loss": step0["eval_loss"], "initial_reading_ratio": step0.get("eval_reading_ratio")}
        logger.info("held-out %s at step 0: %.4f", family.loss_name, start["initial_eval_loss"])
        if trainer.args.should_save:  # kept for a resumed run to report (the Trainer's state does not hold it)
            write_results(cfg.output_dir, {**start, "steps": 0, "complete": False})
    else:
        logger.info("resuming from %s", resume)
        start = _step0_results(cfg.output_dir)
    trainer.train(resume_from_checkpoint=resume)
    final_metrics = trainer.evaluate()
    trainer.save_model_atomically(cfg.output_dir)
    pictures.write_figure(trainer.model, trainer.state.global_step, trainer.state)

    initial = start.get("initial_eval_loss")
    results = {
        "initial_eval_loss": initial,
        "final_eval_loss": final_metrics["eval_loss"],
        "steps": trainer.state.global_step,
        "resumed_from": resume,
        "learning_rate": lr,
        "total_batch_size": total_batch,
        "skipped_texts": stats["skipped"],
        "output_dir": cfg.output_dir,
        "reconstructions": pictures.written,
        "initial_reading_ratio": start.get("initial_reading_ratio"),
        "reading_ratio": final_metrics.get("eval_reading_ratio"),  # held-out loss, real / blank context
        "masked_character_accuracy": final_metrics.get("eval_masked_character_accuracy"),  # with a recognizer
        "white_character_accuracy": final_metrics.get("eval_white_character_accuracy"),  # the same of white patches
        "config": asdict(cfg),
    }
    if trainer.args.should_save:
        history = trainer.state.log_history
        curve = loss_curve(
            {
                "train": [(h["step"], h["loss"]) for h in history if "loss" in h],
                "held-out": ([(0, initial)] if initial is not None else [])
                + [(h["step"], h["eval_loss"]) for h in history if "eval_loss" in h],
            },
            title=family.loss_name,
        )
        results["loss_curve"] = save_png(curve, os.path.join(cfg.output_dir, "loss_curve.png"))
        write_results(cfg.output_dir, results)
        _model_card(cfg, family, results)
    staging = os.path.join(cfg.output_dir, STAGING)
    if trainer.args.should_save and os.path.isdir(staging) and not os.listdir(staging):
        os.rmdir(staging)
    return results


def _model_card(cfg: PretrainConfig, family: Family, results: dict) -> None:
    write_model_card(
        cfg.output_dir, title=f"{family.title} pretrained with pixlm", family=family.name,
        summary=f"A {family.title} model ({cfg.model}) pretrained by {family.objective} on rendered text, "
                f"{results['steps']} steps.",
        data={"corpus": cfg.corpus, "held-out text": cfg.validation}, base_model=cfg.model if os.path.isdir(cfg.model) else None,
        metrics={k: results[k] for k in ("initial_eval_loss", "final_eval_loss") if results.get(k) is not None},
        usage=f"""from pixlm.data import PixelProcessor
from pixlm.models.{family.module} import {family.pretraining_head}

processor = PixelProcessor.from_pretrained("{cfg.output_dir}")
model = {family.pretraining_head}.from_pretrained("{cfg.output_dir}")
outputs = model(**processor(["Some text to read."]))""")


def _held_out_texts(held_out, count: int) -> list[str]:
    """Up to `count` held-out texts (none for a pre-rendered corpus, which keeps no text)."""
    if "text" not in held_out.column_names:
        return []
    return [held_out[k]["text"] for k in range(min(count, len(held_out)))]


def _step0_results(output_dir: str) -> dict:
    """The step-0 figures of a resumed run, as the run it continues recorded them when they
    were measured (none if it did not: a later evaluation is not the step-0 one)."""
    saved = read_results(output_dir) or {}
    return {k: saved.get(k) for k in ("initial_eval_loss", "initial_reading_ratio")}
