"""Training entry points on transformers' Trainer (torchrun, DDP/FSDP, DeepSpeed, resume). The
names below load on first use (see pixlm._lazy): the task registry (`pixlm.training.tasks`)
is read without importing torch."""

from .._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "config": ("FinetuneConfig", "PretrainConfig", "PixelBertRunConfig", "RecognizerTrainConfig"),
    "recognizer": ("train_recognizer",),
    "finetuning": ("finetune",),
    "pretraining": ("pretrain",),
    "trainer": ("NonFiniteLossError", "PixlmTrainer", "last_checkpoint"),
})
