"""What every training command shares: transformers' `TrainingArguments` with pixlm's defaults,
the results file (`all_results.json`, as transformers' example scripts write it) and the model
card (`README.md`) of an output folder."""

from __future__ import annotations

import json
import os
import sys

import torch
from transformers import TrainingArguments

RESULTS_FILE = "all_results.json"


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


def write_results(output_dir: str, results: dict) -> str:
    """`<output_dir>/all_results.json`, replaced whole."""
    path = os.path.join(output_dir, RESULTS_FILE)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2, default=str)
    os.replace(path + ".tmp", path)
    return path


def read_results(output_dir: str) -> dict | None:
    path = os.path.join(output_dir, RESULTS_FILE)
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_model_card(output_dir: str, *, title: str, summary: str, family: str, data: dict[str, str | None],
                     metrics: dict[str, float], base_model: str | None = None, usage: str | None = None,
                     tags: tuple[str, ...] = ()) -> str:
    """`<output_dir>/README.md`: what was trained, on what, with which command, and how it
    scored, with the Hub's metadata header."""
    from .. import __version__

    base = base_model if base_model and not os.path.isdir(base_model) else None  # a Hub name, not a local path
    header = ["---", "library_name: pixlm", "tags:", "- pixel-language-model", f"- {family}",
              *(f"- {t}" for t in tags)]
    if base:
        header.append(f"base_model: {base}")
    header.append("---")
    lines = header + ["", f"# {title}", "", summary, ""]
    lines += ["## Training data", ""]
    lines += [f"- {name}: `{value}`" for name, value in data.items() if value] or ["- (see the command below)"]
    lines += ["", "## How it was trained", ""]
    if base_model:
        lines += [f"Started from `{base_model}`.", ""]
    # The `pixlm` command sets PIXLM_COMMAND to its command line.
    command = os.environ.get("PIXLM_COMMAND") or f"{os.path.basename(sys.argv[0])} (Python API; the configuration is in {RESULTS_FILE})"
    lines += ["```bash", command, "```", "", f"pixlm {__version__}, transformers {_version('transformers')}, "
              f"torch {torch.__version__}. Every setting and figure of the run is in `{RESULTS_FILE}`.", ""]
    if metrics:
        lines += ["## Results", "", "| metric | value |", "|---|---|"]
        lines += [f"| {k} | {v:.4f} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in metrics.items()]
        lines.append("")
    if usage:
        lines += ["## How to use", "", "```python", usage.strip(), "```", ""]
    path = os.path.join(output_dir, "README.md")
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    os.replace(path + ".tmp", path)
    return path


def _version(module: str) -> str:
    try:
        return __import__(module).__version__
    except (ImportError, AttributeError):
        return "?"
