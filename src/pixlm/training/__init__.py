"""Training entry points on transformers' Trainer (torchrun, DDP/FSDP, DeepSpeed, resume). The
names below load on first use (see pixlm._lazy): the task registry (`pixlm.training.tasks`)
is read without importing torch."""

from .._lazy import lazy_exports

_EXPORTS = {
    "FinetuneConfig": "config",
    "finetune": "finetuning",
    "PretrainConfig": "config",
    "pretrain": "pretraining",
    "NonFiniteLossError": "trainer",
    "PixlmTrainer": "trainer",
    "last_checkpoint": "trainer",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = list(_EXPORTS)
