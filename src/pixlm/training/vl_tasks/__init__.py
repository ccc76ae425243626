"""Pixel-BERT's tasks, one module each, found by name in `VL_TASKS`."""

# Importing a task module registers it; the order here is the order --help lists them in.
from . import pretrain, vqa, nlvr2, retrieval  # noqa: F401, I001
from .base import VL_TASKS, VLTask, get_vl_task, register_vl_task

__all__ = ["VL_TASKS", "VLTask", "get_vl_task", "register_vl_task"]
