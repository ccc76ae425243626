"""What every training command shares: transformers' `TrainingArguments` with pixlm's defaults."""

from __future__ import annotations

import torch
from transformers import TrainingArguments


def training_arguments(output_dir: str, **kwargs) -> TrainingArguments:
    """`TrainingArguments` for a pixlm run in `output_dir`.

    Defaults that differ from transformers': nothing is reported unless `report_to` names it
    (TensorBoard logs then go to `<output_dir>/runs`, see `PixlmTrainer`), memory is pinned
    only when a GPU is there to use it, and batches keep every field the collators make.
    """
    kwargs.setdefault("report_to", [])
    kwargs.setdefault("dataloader_pin_memory", torch.cuda.is_available())
    kwargs.setdefault("remove_unused_columns", False)
    return TrainingArguments(output_dir=output_dir, **kwargs)
