"""The finetuning tasks, one module each, found by name in `TASKS` (see docs/ARCHITECTURE.md for
adding one)."""

# Importing a task module registers it; the order here is the order --help lists them in.
from . import classify, pos, ner, parse, qa  # noqa: F401, I001
from .base import TASKS, FinetuneRun, Task, get_task, register_task, text_length

__all__ = ["TASKS", "FinetuneRun", "Task", "get_task", "register_task", "text_length"]
