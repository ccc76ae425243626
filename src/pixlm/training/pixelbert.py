"""Pixel-BERT training on transformers' Trainer: pretraining (MLM + ITM with random pixel
sampling) and finetuning for VQA, NLVR2 and image-text retrieval, on synthetic scenes or real
files.

    from pixlm.training.pixelbert import PixelBertRunConfig, run_pixelbert
    run_pixelbert(PixelBertRunConfig(task="pretrain", output_dir="runs/pb"))           # scenes
    run_pixelbert(PixelBertRunConfig(task="vqa", model="runs/pb", output_dir="runs/vqa"))

The CNN is optimised with SGD and the transformer with AdamW, as in the paper, through one
optimizer object the Trainer drives (`HybridOptimizer`), with step decay.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import asdict

import torch
from transformers import AutoTokenizer

from ..data.images import image_key, keep_readable
from ..data.samplers import ImageGroupedSampler
from ..data.scenes import make_scenes
from ..data.tokenization import train_wordpiece
from ..files import check_writable
from ..models import pixelbert as pb
from ..models.loading import load_model
from .config import PixelBertRunConfig
from .run import resume_checkpoint, seed_everything, training_arguments, write_model_card, write_results
from .trainer import PixlmTrainer
from .vl_tasks import VL_TASKS, VLTask, get_vl_task

logger = logging.getLogger(__name__)

class HybridOptimizer(torch.optim.Optimizer):
    """SGD for the CNN backbone and AdamW for everything else, driven as one optimizer (so the
    Trainer's scheduler, checkpoints and resume handle both). `param_groups` are the two
    optimizers' own groups: a scheduler scales each from its own base learning rate."""

    def __init__(self, cnn_params, transformer_groups, cnn_lr=1e-2, cnn_weight_decay=5e-4, cnn_momentum=0.9,
                 lr=1e-4, weight_decay=1e-2):
        cnn_params = list(cnn_params)
        groups = [dict(g, weight_decay=g.get("weight_decay", weight_decay)) for g in transformer_groups]
        self.sgd = torch.optim.SGD(cnn_params, lr=cnn_lr, momentum=cnn_momentum, weight_decay=cnn_weight_decay) if cnn_params else None
        self.adamw = torch.optim.AdamW(groups, lr=lr)
        everything = [p for g in self._inner_groups() for p in g["params"]]
        super().__init__([{"params": everything}], {})
        self.param_groups = self._inner_groups()

    def _optimizers(self):
        return [o for o in (self.sgd, self.adamw) if o is not None]

    def _inner_groups(self):
        return [g for o in self._optimizers() for g in o.param_groups]

    @torch.no_grad()
    def step(self, closure=None):
        loss = closure() if closure is not None else None
        for o in self._optimizers():
            o.step()
        return loss

    def zero_grad(self, set_to_none: bool = True):
        for o in self._optimizers():
            o.zero_grad(set_to_none=set_to_none)

    def state_dict(self):
        return {"sgd": self.sgd.state_dict() if self.sgd else None, "adamw": self.adamw.state_dict()}

    def load_state_dict(self, state_dict):
        if self.sgd is not None and state_dict.get("sgd") is not None:
            self.sgd.load_state_dict(state_dict["sgd"])
        self.adamw.load_state_dict(state_dict["adamw"])
        self.param_groups = self._inner_groups()


def step_decay(total_steps: int, warmup_fraction: float, milestones: tuple[float, ...], factor: float = 0.1):
    """Linear warm-up, then the learning rate times `factor` at each milestone (a fraction of
    the steps): the paper's step decay."""
    warmup = int(warmup_fraction * total_steps)
    marks = [int(m * total_steps) for m in milestones]

    def rate(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        return factor ** sum(step >= m for m in marks)

    return rate


class PixelBertTrainer(PixlmTrainer):
    """PixlmTrainer with Pixel-BERT's two optimisers and step decay."""

    def __init__(self, *args, optimizer_args: dict | None = None, milestones=(0.6, 0.85), image_groups=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.optimizer_args = optimizer_args or {}
        self.milestones = milestones
        self.image_groups = image_groups  # each training example's image: batches keep an image's examples together

    def _get_train_sampler(self, train_dataset=None):
        if self.image_groups is None:
            return super()._get_train_sampler(train_dataset)

        return ImageGroupedSampler(self.image_groups, seed=self.args.seed)

    def create_optimizer(self, model=None):
        if self.optimizer is None:
            model = model or self.model
            cnn, decay, no_decay = [], [], []
            for name, p in model.named_parameters():
                if not p.requires_grad:
                    continue
                if ".visual.backbone." in f".{name}":
                    cnn.append(p)
                elif p.ndim < 2 or "LayerNorm" in name or name.endswith(".bias"):
                    no_decay.append(p)
                else:
                    decay.append(p)
            groups = [{"params": decay}, {"params": no_decay, "weight_decay": 0.0}]
            self.optimizer = HybridOptimizer(cnn, [g for g in groups if g["params"]], **self.optimizer_args)
        return self.optimizer

    def create_scheduler(self, num_training_steps: int, optimizer=None):
        if self.lr_scheduler is None:
            warmup = self.args.warmup_steps  # a fraction below 1, else a number of steps
            fraction = warmup if warmup < 1 else warmup / max(num_training_steps, 1)
            rate = step_decay(num_training_steps, fraction, self.milestones)
            self.lr_scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer or self.optimizer, rate)
        return self.lr_scheduler


# -- data -------------------------------------------------------------------------------------
def _file_examples(task: VLTask, cfg: PixelBertRunConfig, path: str, annotations: str | None) -> list[dict]:
    examples = task.read(path, annotations, cfg)
    kept, skipped = keep_readable(examples, task.image_key)
    if not kept:
        raise ValueError(f"{path}: none of its {len(examples)} examples has a readable image under {cfg.images!r}")
    return kept


def load_examples(cfg: PixelBertRunConfig) -> tuple[list[dict], list[dict]]:
    """(training, validation) examples for the run's task."""
    task = get_vl_task(cfg.task)
    if cfg.train:
        return (_file_examples(task, cfg, cfg.train, cfg.train_annotations),
                _file_examples(task, cfg, cfg.validation, cfg.validation_annotations))

    train = make_scenes(cfg.scenes, seed=cfg.seed, size=cfg.scene_size)
    held_out = make_scenes(cfg.validation_scenes, seed=cfg.seed + 1_000_003, size=cfg.scene_size)
    return task.scene_examples(train, cfg.seed), task.scene_examples(held_out, cfg.seed + 1)


# -- model ------------------------------------------------------------------------------------
def _tokenizer(cfg: PixelBertRunConfig, train: list[dict]):
    source = cfg.tokenizer or (cfg.model if os.path.isfile(os.path.join(cfg.model, "tokenizer_config.json")) else None)
    source = source or cfg.bert
    if source:
        return AutoTokenizer.from_pretrained(source)
    task = get_vl_task(cfg.task)
    texts = [e[task.text_key] for e in train] if cfg.train else _scene_vocabulary_texts(cfg)
    return train_wordpiece(texts, vocab_size=min(8000, 200 + 4 * len(set(w for t in texts for w in t.split()))), lowercase=True)


def _scene_vocabulary_texts(cfg: PixelBertRunConfig) -> list[str]:
    """Every kind of scene text (captions, questions, statements), so that a tokenizer made at
    pretraining also covers the finetuning tasks."""

    scenes = make_scenes(min(cfg.scenes, 500), seed=cfg.seed, size=16)
    tasks = {task.text_key: task for task in VL_TASKS.values()}.values()  # one task per kind of text
    return [e[task.text_key] for task in tasks for e in task.scene_examples(scenes, cfg.seed)]


def _model(cfg: PixelBertRunConfig, tokenizer, labels: list[str] | None):
    head = getattr(pb, get_vl_task(cfg.task).head)
    overrides = dict(cfg.model_overrides)
    overrides["pretraining_tasks"] = [t.strip() for t in cfg.pretraining_tasks.split(",") if t.strip()]
    if cfg.pixel_sampling is not None:
        overrides["num_visual_samples"] = cfg.pixel_sampling
    if labels is not None:
        overrides.update(num_labels=len(labels), id2label=dict(enumerate(labels)), label2id={a: i for i, a in enumerate(labels)})
    if cfg.model in pb.PRESETS:  # a new model takes the tokenizer's vocabulary
        overrides.update(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id)
    model = load_model(head, cfg.model, **overrides)
    if len(tokenizer) > model.config.vocab_size:
        raise ValueError(f"tokenizer has {len(tokenizer)} tokens but checkpoint {cfg.model} has vocab_size "
                         f"{model.config.vocab_size}")
    if cfg.bert:
        model.init_text_from_bert(cfg.bert)
    if cfg.backbone_weights:
        model.load_backbone(cfg.backbone_weights)
    return model


# -- evaluation -------------------------------------------------------------------------------
@torch.no_grad()
def evaluate_pixelbert(task: str, model, tokenizer, examples: list[dict], batch_size: int = 32,
                       retrieval_candidates: int = 100, seed: int = 0) -> dict:
    """Held-out scores: pretraining ITM and MLM accuracy; VQA accuracy (official); NLVR2
    accuracy; retrieval recall at 1/5/10 in both directions among `retrieval_candidates` images."""
    model.eval()
    return get_vl_task(task).evaluate(model, tokenizer, examples, batch_size, retrieval_candidates, seed)


# -- entry point ------------------------------------------------------------------------------
def run_pixelbert(cfg: PixelBertRunConfig) -> dict:
    """Train for the task, score the held-out examples before and after, save the model, its
    tokenizer and `all_results.json` in `output_dir`."""


    cfg.validate()
    seed_everything(cfg.seed, cfg.deterministic)
    check_writable(cfg.output_dir)
    task = get_vl_task(cfg.task)
    train, validation = load_examples(cfg)
    labels = task.prepare(train, validation)
    tokenizer = _tokenizer(cfg, train)
    model = _model(cfg, tokenizer, labels)
    collator = task.collator(model, tokenizer, train, labels, cfg)
    args = training_arguments(
        cfg.output_dir, max_steps=cfg.max_steps, per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.batch_size, warmup_steps=cfg.warmup_fraction, logging_steps=max(1, cfg.eval_steps // 4),
        save_strategy="steps", save_steps=cfg.save_steps, save_total_limit=2, seed=cfg.seed, full_determinism=cfg.deterministic,
        dataloader_num_workers=cfg.num_workers, report_to=cfg.report_to,
        disable_tqdm=not cfg.progress, ddp_find_unused_parameters=True if int(os.environ.get("WORLD_SIZE", "1")) > 1 else None,
    )
    trainer = PixelBertTrainer(
        model=model, args=args, train_dataset=train, data_collator=collator, processing_class=tokenizer,
        optimizer_args=dict(cnn_lr=cfg.cnn_learning_rate, cnn_weight_decay=cfg.cnn_weight_decay, lr=cfg.learning_rate,
                            weight_decay=cfg.weight_decay),
        milestones=tuple(cfg.decay_milestones),
        image_groups=[image_key(e[task.image_key]) for e in train] if task.groups_by_image and cfg.group_by_image else None,
    )
    score = lambda: evaluate_pixelbert(cfg.task, trainer.model, tokenizer, validation, cfg.batch_size,  # noqa: E731
                                       cfg.retrieval_candidates, cfg.seed)
    resume = resume_checkpoint(cfg.output_dir, cfg.resume)
    before = score() if resume is None else None
    started = time.perf_counter()
    trainer.train(resume_from_checkpoint=resume)
    seconds = time.perf_counter() - started
    after = score()
    trainer.save_model_atomically(cfg.output_dir)
    results = {"task": cfg.task, "steps": trainer.state.global_step, "train_seconds": round(seconds, 1),
               "before": before, "validation": after, "train_examples": len(train), "validation_examples": len(validation),
               "output_dir": cfg.output_dir, "config": asdict(cfg)}
    write_results(cfg.output_dir, results)
    scores = {f"held-out {k}": v for k, v in after.items() if isinstance(v, (int, float))}
    write_model_card(
        cfg.output_dir, title=f"Pixel-BERT ({cfg.task}) trained with pixlm", family="pixelbert",
        summary=f"Pixel-BERT (a CNN over the image's pixels joined with a BERT transformer) "
                f"{task.summary(cfg)}, "
                f"{results['steps']} steps, on {'files' if cfg.train else 'synthetic scenes'}.",
        data={"train": cfg.train or f"{cfg.scenes} synthetic scenes", "validation": cfg.validation or
              f"{cfg.validation_scenes} synthetic scenes", "images": cfg.images}, base_model=cfg.model, metrics=scores,
        tags=(cfg.task,))
    return results
