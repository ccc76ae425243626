"""Training entry points on transformers' Trainer (torchrun, DDP/FSDP, DeepSpeed, resume)."""

from .finetuning import FinetuneConfig, finetune
from .pretraining import PretrainConfig, pretrain
from .trainer import NonFiniteLossError, PixlmTrainer, last_checkpoint

__all__ = ["FinetuneConfig", "finetune", "NonFiniteLossError", "PixlmTrainer", "PretrainConfig", "last_checkpoint", "pretrain"]
