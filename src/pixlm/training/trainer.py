"""`PixlmTrainer`: transformers' Trainer with atomic checkpoints and a stop on a bad loss."""

from __future__ import annotations

import os
import re
import shutil

import torch
from PIL import Image
from transformers import Trainer, TrainerCallback
from transformers.integrations import TensorBoardCallback
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from ..viz import save_png

STAGING = ".staging"
_LAYER_INDEX = re.compile(r"(?:^|\.)(?:layers?|h|blocks)\.(\d+)\.")


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite."""


def checkpoints(output_dir: str) -> list[str]:
    """The `checkpoint-N` folders in `output_dir`, oldest (smallest N) first."""
    if not os.path.isdir(output_dir):
        return []
    found = sorted(
        (int(m.group(1)), name)
        for name in os.listdir(output_dir)
        if (m := re.fullmatch(rf"{PREFIX_CHECKPOINT_DIR}-(\d+)", name)) and os.path.isdir(os.path.join(output_dir, name))
    )
    return [os.path.join(output_dir, name) for _, name in found]


def last_checkpoint(output_dir: str) -> str | None:
    """The newest complete `checkpoint-N` in `output_dir` (checkpoints appear only when whole)."""
    found = checkpoints(output_dir)
    return found[-1] if found else None


def remove_old_checkpoints(output_dir: str, keep: int | None, best: str | None = None) -> list[str]:
    """Delete all but the `keep` newest checkpoints, never the best one; return what was
    deleted. `keep` None or 0 keeps everything."""
    if not keep:
        return []
    found = checkpoints(output_dir)
    best = os.path.abspath(best) if best else None
    doomed = [p for p in found[: max(len(found) - keep, 0)] if os.path.abspath(p) != best]
    for path in doomed:
        shutil.rmtree(path, ignore_errors=True)
    return doomed


def layer_depths(model: torch.nn.Module) -> dict[str, int]:
    """Each parameter's depth for layer-wise learning-rate decay: 0 for the embeddings (and
    anything else below the first layer), i + 1 for the i-th transformer layer (`layers.i.`,
    `layer.i.`, `h.i.` or `blocks.i.` in its name), and one more than the last layer for what
    sits on top (final norm, pooler, head)."""
    names = [name for name, _ in model.named_parameters()]
    layers = {name: int(m.group(1)) for name in names if (m := _LAYER_INDEX.search(name))}
    if not layers:
        raise ValueError(f"{type(model).__name__}: no numbered layers in its parameter names, so layer-wise "
                         "learning-rate decay has nothing to decay over; leave --layer-lr-decay at 1")
    top = max(layers.values()) + 2
    first = next(i for i, name in enumerate(names) if name in layers)
    return {name: layers[name] + 1 if name in layers else (0 if i < first else top) for i, name in enumerate(names)}


def layer_lr_scales(model: torch.nn.Module, decay: float) -> dict[str, float]:
    """Each parameter's learning-rate factor under layer-wise decay (BEiT, ELECTRA): 1 on top,
    `decay` for the last layer, `decay ** 2` for the one below, down to the embeddings."""
    depths = layer_depths(model)
    top = max(depths.values())
    return {name: decay ** (top - depth) for name, depth in depths.items()}


class PixlmTrainer(Trainer):
    """A `transformers.Trainer` that

    - writes each checkpoint into `<output_dir>/.staging/` and renames it into place when whole,
      so an interrupted save never leaves a checkpoint that resuming would pick up;
    - saves the pixel processor (`text_renderer_config.json`, `preprocessor_config.json`) in every
      checkpoint and beside the final model, so `PixelProcessor.from_pretrained` reloads it;
    - stops with a message naming the step when the loss is NaN or infinite;
    - evaluates in the data's order, even when training batches are grouped by length, and
      with `eval_data_collator` if given (deterministic masks for a held-out loss), adding the
      figures of `eval_probe(model)` if given;
    - writes TensorBoard logs to `<output_dir>/runs`, evaluations before training included
      (transformers' callback would open its writer in `./runs` of the working directory
      when something is logged before training starts);
    - tells a training collator with `set_epoch` (random masks) each epoch as it starts;
    - logs the parts of a loss made of several (`character_loss` of a PIXEL model with a
      character head) beside the loss, averaged over the same steps;
    - with `layer_lr_decay` below 1, gives each layer its own learning rate, lower the deeper
      it lies (`layer_lr_scales`), the head keeping the full rate.
    """

    LOSS_PARTS = ("character_loss",)

    def __init__(self, *args, pixel_processor=None, eval_data_collator=None, eval_probe=None, layer_lr_decay: float = 1.0,
                 **kwargs):
        if not 0 < layer_lr_decay <= 1:
            raise ValueError(f"layer_lr_decay: expected a factor in (0, 1], got {layer_lr_decay}")
        super().__init__(*args, **kwargs)
        self.layer_lr_decay = layer_lr_decay
        self.pixel_processor = pixel_processor
        self.eval_data_collator = eval_data_collator
        self.eval_probe = eval_probe
        self._loss_parts: dict[str, list[torch.Tensor]] = {}
        if hasattr(self.data_collator, "set_epoch"):
            self.add_callback(CollatorEpochCallback(self.data_collator))
        for callback in self.callback_handler.callbacks:
            if isinstance(callback, TensorBoardCallback) and callback.logging_dir is None:
                callback.logging_dir = os.path.join(self.args.output_dir, "runs")

    def train(self, *args, **kwargs):
        """The Trainer's training; under torchrun the model is wrapped in DDP even when it was
        evaluated first. (An evaluation before training prepares the model for evaluation only
        and marks it prepared, after which accelerate wraps it no more: every process trained
        its own copy, and only the first one's was saved.)"""
        model = self.model
        if self.args.world_size > 1 and self.model_wrapped is model and getattr(model, "_is_accelerate_prepared", False):
            model._is_accelerate_prepared = False
            self.accelerator._models[:] = [m for m in self.accelerator._models if m is not model]
        return super().train(*args, **kwargs)

    def create_optimizer(self, model=None):
        """The Trainer's optimizer; with layer-wise decay, one parameter group per learning rate
        and weight decay (the scheduler scales each group's rate alike)."""
        if self.layer_lr_decay == 1 or self.optimizer is not None:
            return super().create_optimizer(model)
        model = self.model if model is None else model
        decayed = set(self.get_decay_parameter_names(model))
        scales = layer_lr_scales(model, self.layer_lr_decay)
        groups: dict[tuple[float, float], list[torch.nn.Parameter]] = {}
        for name, param in model.named_parameters():
            if param.requires_grad:
                weight_decay = self.args.weight_decay if name in decayed else 0.0
                groups.setdefault((scales[name], weight_decay), []).append(param)
        optimizer_cls, optimizer_kwargs = self.get_optimizer_cls_and_kwargs(self.args, model)
        self.optimizer = optimizer_cls(
            [{"params": params, "lr": self.args.learning_rate * scale, "weight_decay": weight_decay}
             for (scale, weight_decay), params in groups.items()],
            **optimizer_kwargs,
        )
        return self.optimizer

    def _get_eval_sampler(self, eval_dataset):
        """Evaluation keeps the data's order (predictions are written next to their inputs),
        even when training batches are grouped by length."""
        if eval_dataset is None or not hasattr(eval_dataset, "__len__"):
            return None
        if self.args.world_size <= 1:
            return torch.utils.data.SequentialSampler(eval_dataset)
        return None

    def evaluate(self, *args, **kwargs) -> dict:
        """The Trainer's evaluation, then `eval_probe(model)`'s figures (e.g. whether a PIXEL
        model reads its context), logged beside the loss (TensorBoard, the log history)."""
        metrics = super().evaluate(*args, **kwargs)
        if self.eval_probe is not None:
            prefix = kwargs.get("metric_key_prefix", "eval")
            extra = {f"{prefix}_{k}": v for k, v in self.eval_probe(self.model).items()}
            self.log(extra)
            metrics.update(extra)
        return metrics

    def get_eval_dataloader(self, eval_dataset=None):
        return self._with_eval_collator(super().get_eval_dataloader, eval_dataset)

    def get_test_dataloader(self, test_dataset):
        return self._with_eval_collator(super().get_test_dataloader, test_dataset)

    def _with_eval_collator(self, make_loader, dataset):
        if self.eval_data_collator is None:
            return make_loader(dataset)
        # The base class batches with self.data_collator: swap it for the time of the call.
        training_collator, self.data_collator = self.data_collator, self.eval_data_collator
        try:
            return make_loader(dataset)
        finally:
            self.data_collator = training_collator

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        loss, outputs = super().compute_loss(model, inputs, return_outputs=True, num_items_in_batch=num_items_in_batch)
        if model.training and isinstance(outputs, dict):
            for name in self.LOSS_PARTS:
                if outputs.get(name) is not None:
                    self._loss_parts.setdefault(name, []).append(outputs[name].detach())
        return (loss, outputs) if return_outputs else loss

    def log(self, logs: dict, *args, **kwargs) -> None:
        if "loss" in logs and self._loss_parts:  # a training log: add the parts' means since the last one
            for name, values in self._loss_parts.items():
                logs[name] = round(torch.stack(values).mean().item(), 4)
            self._loss_parts = {}
        super().log(logs, *args, **kwargs)

    def training_step(self, model, inputs, num_items_in_batch=None):
        loss = super().training_step(model, inputs, num_items_in_batch)
        if not torch.isfinite(loss.detach()).all():
            step = self.state.global_step + 1
            raise NonFiniteLossError(
                f"the training loss became {loss.item()} at step {step}; lower the learning rate, "
                f"use fp32, or look at the batch of step {step}; resume from the last checkpoint"
            )
        return loss

    def _save_checkpoint(self, model, trial) -> None:
        run_dir = self.args.output_dir
        staging = os.path.join(run_dir, STAGING)
        name = f"{PREFIX_CHECKPOINT_DIR}-{self.state.global_step}"
        # The base class writes the checkpoint under args.output_dir: point that at the staging
        # folder for the time of the save (public state, unlike the method that computes it).
        self.args.output_dir = staging
        try:
            super()._save_checkpoint(model, trial)
        finally:
            self.args.output_dir = run_dir
        if self.args.should_save and self.pixel_processor is not None:
            self.pixel_processor.save_pretrained(os.path.join(staging, name))
        self._barrier()  # every rank has written its RNG state
        if self.args.should_save:
            final = os.path.join(run_dir, name)
            if os.path.exists(final):
                shutil.rmtree(final)
            os.replace(os.path.join(staging, name), final)
            best = self.state.best_model_checkpoint
            if best and best.startswith(staging):
                self.state.best_model_checkpoint = os.path.join(run_dir, os.path.basename(best))
                state_file = os.path.join(final, "trainer_state.json")
                self.state.save_to_json(state_file + ".tmp")
                os.replace(state_file + ".tmp", state_file)
            remove_old_checkpoints(run_dir, self.args.save_total_limit, self.state.best_model_checkpoint)
        self._barrier()

    def save_model_atomically(self, output_dir: str) -> None:
        """Save the final model (and its pixel processor) into `output_dir`, each file replaced whole."""
        tmp = os.path.join(output_dir, STAGING, "final")
        if self.args.should_save and os.path.exists(tmp):
            shutil.rmtree(tmp)
        self.save_model(tmp)
        if self.args.should_save:
            if self.pixel_processor is not None:
                self.pixel_processor.save_pretrained(tmp)
            for name in os.listdir(tmp):
                os.replace(os.path.join(tmp, name), os.path.join(output_dir, name))
            shutil.rmtree(tmp, ignore_errors=True)
        self._barrier()

    def _barrier(self) -> None:
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.barrier()


class CollatorEpochCallback(TrainerCallback):
    """Sets the collator's epoch as each epoch starts, before the epoch's DataLoader workers copy
    the collator (a resumed run starts inside the epoch its state records)."""

    def __init__(self, collator):
        self.collator = collator

    def on_epoch_begin(self, args, state, control, **kwargs):
        self.collator.set_epoch(int(state.epoch or 0))


class ReconstructionCallback(TrainerCallback):
    """Every `every` steps (and at step 0), write a figure of a few held-out texts to
    `<out_dir>/step-NNNNNN.png`: `figure(model, renderer, text, k)` draws one (a model family's
    `figure`: PIXEL's reconstructions, PixelGPT's continuations)."""

    def __init__(self, renderer, texts: list[str], every: int, out_dir: str, figure):
        self.renderer, self.texts, self.every, self.out_dir = renderer, texts, every, out_dir
        self.figure = figure
        self.written: list[str] = []

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        if state.global_step == 0:
            self.write_figure(model, 0, state)

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if self.every and state.global_step % self.every == 0:
            self.write_figure(model, state.global_step, state)

    def write_figure(self, model, step: int, state) -> None:
        """Write the figure of `step` (on the main process only) and remember its path."""
        if not state.is_world_process_zero or model is None or not self.texts:
            return
        model = getattr(model, "module", model)
        was_training = model.training
        images = [self.figure(model, self.renderer, t, k) for k, t in enumerate(self.texts)]
        model.train(was_training)
        sheet = Image.new("RGB", (max(i.width for i in images), sum(i.height + 10 for i in images)), "white")
        y = 0
        for img in images:
            sheet.paste(img, (0, y))
            y += img.height + 10
        path = save_png(sheet, os.path.join(self.out_dir, f"step-{step:06d}.png"))
        if path not in self.written:  # the final figure may redraw the last periodic one's step
            self.written.append(path)
