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

import logging
import math
import os
from dataclasses import asdict, dataclass, field

from ..data.processor import PixelProcessor
from .run import read_results, write_model_card, write_results
from .trainer import STAGING, PixlmTrainer, ReconstructionCallback, generation_figure, last_checkpoint, reconstruction_figure

logger = logging.getLogger(__name__)


@dataclass
class PretrainConfig:
    """Everything `pretrain` needs. Defaults follow PIXEL's recipe where it has one."""

    corpus: str
    output_dir: str
    validation: str | None = None  # a corpus of held-out text; else taken from `corpus`
    validation_size: int = 256  # held-out texts taken from the corpus when no validation is given
    model: str = "tiny"  # a preset of the model type, or a checkpoint folder to continue from
    model_overrides: dict = field(default_factory=dict)  # config fields, for presets
    model_type: str = "pixel"  # pixel (PIXEL) or pixelgpt (PixelGPT, MonoGPT, DualGPT by mixture)
    mixture: str = "pixelgpt"  # pixelgpt: kinds of batch and their shares, e.g. pixels=0.5,text=0.5
    tokenizer: str | None = None  # pixelgpt with text or paired batches: a tokenizer folder
    max_tokens: int = 256  # pixelgpt: tokens per text in text and paired batches
    renderer: str | None = None  # a text_renderer_config.json, or a folder holding one
    renderer_overrides: dict = field(default_factory=dict)  # RendererConfig fields
    text_column: str = "text"
    streaming: bool = False
    max_steps: int = 1000
    batch_size: int = 32  # per device
    gradient_accumulation_steps: int = 1
    learning_rate: float | None = None  # None: PIXEL's 1.5e-4 x total batch / 256
    min_learning_rate: float = 1e-5  # the end of the cosine decay
    warmup_fraction: float = 0.05
    weight_decay: float = 0.05
    span_masking: bool = True
    seed: int = 42
    logging_steps: int = 10
    eval_steps: int = 100
    save_steps: int = 500
    save_total_limit: int | None = 3
    reconstruction_steps: int = 500  # 0: only at the start and the end
    reconstruction_texts: int = 2
    num_workers: int = 0  # DataLoader workers (rendering runs in them)
    precision: str = "auto"  # auto (bf16 on GPUs that have it, else fp32), fp32, bf16, fp16
    resume: bool | str = True  # True: from the last checkpoint in output_dir if any; or a path
    report_to: list[str] = field(default_factory=lambda: ["tensorboard"])
    progress: bool = True

    def validate(self) -> None:
        for name in ("max_steps", "batch_size", "gradient_accumulation_steps", "logging_steps", "eval_steps", "save_steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.precision not in ("auto", "fp32", "bf16", "fp16"):
            raise ValueError(f"precision must be auto, fp32, bf16 or fp16; got {self.precision!r}")
        if self.learning_rate is not None and not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate}")
        if self.model_type not in MODEL_TYPES:
            raise ValueError(f"model_type must be one of {', '.join(MODEL_TYPES)}; got {self.model_type!r}")
        if self.model_type == "pixelgpt":
            from ..data.mixture import parse_mixture

            mixture = parse_mixture(self.mixture)
            if set(mixture) & {"text", "paired"} and self.tokenizer is None and not _has_tokenizer(self.model):
                raise ValueError(f"mixture {mixture} has text or paired batches: give a tokenizer folder "
                                 "(make one with `pixlm tokenizer train`)")


MODEL_TYPES = ("pixel", "pixelgpt")


def _has_tokenizer(folder: str) -> bool:
    return os.path.isfile(os.path.join(folder, "tokenizer_config.json"))


def _load_model(cfg: PretrainConfig, tokenizer=None):
    if cfg.model_type == "pixelgpt":
        return _load_pixelgpt(cfg, tokenizer)
    from ..models.pixel import PRESETS, PixelConfig, PixelForPreTraining

    if cfg.model in PRESETS:
        return PixelForPreTraining(PixelConfig.from_preset(cfg.model, **cfg.model_overrides))
    if os.path.isdir(cfg.model):
        return PixelForPreTraining.from_pretrained(cfg.model, **cfg.model_overrides)
    raise ValueError(f"model must be a preset ({', '.join(PRESETS)}) or a checkpoint folder; got {cfg.model!r}")


def _load_pixelgpt(cfg: PretrainConfig, tokenizer):
    from ..models.pixelgpt import PRESETS, PixelGPTConfig, PixelGPTForCausalLM

    if cfg.model in PRESETS:
        overrides = dict(cfg.model_overrides)
        if tokenizer is not None:
            overrides.setdefault("vocab_size", len(tokenizer))
        return PixelGPTForCausalLM(PixelGPTConfig.from_preset(cfg.model, **overrides))
    if os.path.isdir(cfg.model):
        return PixelGPTForCausalLM.from_pretrained(cfg.model, **cfg.model_overrides)
    raise ValueError(f"model must be a PixelGPT preset ({', '.join(PRESETS)}) or a checkpoint folder; got {cfg.model!r}")


def _load_tokenizer(cfg: PretrainConfig):
    """The tokenizer given, else the one saved with a checkpoint being continued, else none."""
    from ..data.tokenization import load_tokenizer

    source = cfg.tokenizer or (cfg.model if _has_tokenizer(cfg.model) else None)
    return load_tokenizer(source) if source else None


def _collators(cfg: PretrainConfig, model, renderer, tokenizer):
    """(training collator, held-out collator). PixelGPT's held-out batches are always pixels,
    so that every variant is scored by the same next-patch loss."""
    mc = model.config
    if cfg.model_type == "pixelgpt":
        from ..data.mixture import PixelGPTCollator

        if tokenizer is not None and len(tokenizer) > mc.vocab_size:
            raise ValueError(f"tokenizer has {len(tokenizer)} tokens but the model's vocab_size is {mc.vocab_size}")
        args = dict(num_channels=mc.num_channels, max_tokens=min(cfg.max_tokens, mc.max_tokens), seed=cfg.seed)
        return (PixelGPTCollator(renderer, tokenizer, mixture=cfg.mixture, **args),
                PixelGPTCollator(renderer, None, mixture="pixelgpt", **args))
    from ..data import PixelPretrainingCollator

    collate_args = dict(num_channels=mc.num_channels, mask_ratio=mc.mask_ratio, span_masking=cfg.span_masking,
                        max_span_length=mc.max_span_length, span_weights=mc.span_weights, seed=cfg.seed)
    return (PixelPretrainingCollator(renderer, **collate_args),
            PixelPretrainingCollator(renderer, deterministic=True, **collate_args))


def _load_renderer(cfg: PretrainConfig, model_config):
    from ..data import check_renderer_fits
    from ..render import CONFIG_NAME, RendererConfig, TextRenderer

    source = cfg.renderer
    if source is None and os.path.isfile(os.path.join(cfg.model, CONFIG_NAME)):
        source = cfg.model  # a checkpoint brings its renderer
    base = RendererConfig.from_pretrained(source).to_dict() if source else {"max_patches": model_config.max_patches}
    base.update(cfg.renderer_overrides)
    renderer = TextRenderer(RendererConfig(**base))
    check_renderer_fits(renderer.config, model_config.patch_size, model_config.num_channels, model_config.max_patches)
    return renderer


def _split(cfg: PretrainConfig, stats: dict):
    from ..data.corpus import load_corpus

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
    import datasets

    return datasets.Dataset.from_list(list(iterable))


def _precision(choice: str) -> dict:
    import torch

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
    import torch
    from transformers import set_seed

    from ..viz import loss_curve, save_png
    from .run import training_arguments

    cfg.validate()
    os.makedirs(cfg.output_dir, exist_ok=True)
    set_seed(cfg.seed)  # the model's initial weights too
    tokenizer = _load_tokenizer(cfg) if cfg.model_type == "pixelgpt" else None
    model = _load_model(cfg, tokenizer)
    renderer = _load_renderer(cfg, model.config)
    stats: dict = {"skipped": 0}
    train, held_out = _split(cfg, stats)
    if stats["skipped"]:
        logger.warning("skipped %d texts too short to mask (empty or only whitespace)", stats["skipped"])
    train_collator, eval_collator = _collators(cfg, model, renderer, tokenizer)

    world = int(os.environ.get("WORLD_SIZE", "1"))
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
        dataloader_num_workers=cfg.num_workers,
        label_names=["pixel_values"],
        prediction_loss_only=True,
        report_to=cfg.report_to,
        disable_tqdm=not cfg.progress,
        ddp_backend="gloo" if world > 1 and not torch.cuda.is_available() else None,
        # A pixel batch leaves the token embedding and head unused, a text batch the pixel side.
        ddp_find_unused_parameters=cfg.model_type == "pixelgpt" if world > 1 else None,
        **_precision(cfg.precision),
    )
    sample = [held_out[k]["text"] for k in range(min(cfg.reconstruction_texts, len(held_out))) if "text" in held_out.column_names]
    figure, folder = ((generation_figure, "generations") if cfg.model_type == "pixelgpt" else (reconstruction_figure, "reconstructions"))
    pictures = ReconstructionCallback(renderer, sample, cfg.reconstruction_steps, os.path.join(cfg.output_dir, folder), figure)
    trainer = PixlmTrainer(
        model=model,
        args=args,
        train_dataset=train,
        eval_dataset=held_out,
        data_collator=train_collator,
        callbacks=[pictures],
        pixel_processor=PixelProcessor(renderer, model.config.num_channels),
        processing_class=tokenizer,
    )
    trainer.get_eval_dataloader = _with_collator(trainer.get_eval_dataloader, trainer, eval_collator)

    resume = cfg.resume
    if resume is True:
        resume = last_checkpoint(cfg.output_dir)
    elif resume is False:
        resume = None
    initial = None
    if resume is None:
        initial = trainer.evaluate()["eval_loss"]
        logger.info("held-out masked-patch loss at step 0: %.4f", initial)
    else:
        logger.info("resuming from %s", resume)
    trainer.train(resume_from_checkpoint=resume)
    final = trainer.evaluate()["eval_loss"]
    if initial is None:
        initial = _initial_eval_loss(cfg.output_dir, trainer.state.log_history)
    trainer.save_model_atomically(cfg.output_dir)
    pictures._write(trainer.model, trainer.state.global_step, trainer.state)

    results = {
        "initial_eval_loss": initial,
        "final_eval_loss": final,
        "steps": trainer.state.global_step,
        "learning_rate": lr,
        "total_batch_size": total_batch,
        "skipped_texts": stats["skipped"],
        "output_dir": cfg.output_dir,
        "reconstructions": pictures.written,
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
            title="next-patch loss (pixels)" if cfg.model_type == "pixelgpt" else "masked-patch loss",
        )
        results["loss_curve"] = save_png(curve, os.path.join(cfg.output_dir, "loss_curve.png"))
        write_results(cfg.output_dir, results)
        _model_card(cfg, results)
    staging = os.path.join(cfg.output_dir, STAGING)
    if trainer.args.should_save and os.path.isdir(staging) and not os.listdir(staging):
        os.rmdir(staging)
    return results


def _model_card(cfg: PretrainConfig, results: dict) -> None:
    gpt = cfg.model_type == "pixelgpt"
    family = "PixelGPT" if gpt else "PIXEL"
    objective = "next-patch prediction" if gpt else "masked-patch reconstruction with span masking"
    load = "PixelGPTForCausalLM" if gpt else "PixelForPreTraining"
    write_model_card(
        cfg.output_dir, title=f"{family} pretrained with pixlm", family=cfg.model_type,
        summary=f"A {family} model ({cfg.model}) pretrained by {objective} on rendered text, "
                f"{results['steps']} steps.",
        data={"corpus": cfg.corpus, "held-out text": cfg.validation}, base_model=cfg.model if os.path.isdir(cfg.model) else None,
        metrics={k: results[k] for k in ("initial_eval_loss", "final_eval_loss") if results.get(k) is not None},
        usage=f"""from pixlm.data import PixelProcessor
from pixlm.models.{'pixelgpt' if gpt else 'pixel'} import {load}

processor = PixelProcessor.from_pretrained("{cfg.output_dir}")
model = {load}.from_pretrained("{cfg.output_dir}")
outputs = model(**processor(["Some text to read."]))""")


def _with_collator(get_loader, trainer, collator):
    """Evaluation batches use their own (deterministic) collator."""

    def wrapped(eval_dataset=None):
        saved = trainer.data_collator
        trainer.data_collator = collator
        try:
            return get_loader(eval_dataset)
        finally:
            trainer.data_collator = saved

    return wrapped


def _initial_eval_loss(output_dir: str, history: list[dict]) -> float | None:
    """The step-0 loss of a resumed run, from the results of the run it continues."""
    saved = read_results(output_dir)
    if saved is not None:
        return saved.get("initial_eval_loss")
    evals = [h["eval_loss"] for h in history if "eval_loss" in h and not math.isnan(h["eval_loss"])]
    return evals[0] if evals else None
