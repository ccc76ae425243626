"""What every training command shares: transformers' `TrainingArguments` with pixlm's defaults,
the results file (`all_results.json`, as transformers' example scripts write it) and the model
card (`README.md`) of an output folder."""

from __future__ import annotations

import ctypes
import importlib.util
import json
import logging
import os
import sys
import zipfile

import torch
from safetensors import safe_open
from transformers import TrainingArguments, enable_full_determinism, set_seed

from .. import __version__
from .trainer import checkpoints

RESULTS_FILE = "all_results.json"


def training_arguments(output_dir: str, **kwargs) -> TrainingArguments:
    """`TrainingArguments` for a pixlm run in `output_dir`.

    Defaults that differ from transformers': nothing is reported unless `report_to` names it
    (TensorBoard logs then go to `<output_dir>/runs`, see `PixlmTrainer`), memory is pinned
    only when a GPU is there to use it, and batches keep every field the collators make. Under
    torchrun on a machine without a GPU the processes train as one (DDP over gloo). The
    process keeps freed memory for reuse (`reuse_freed_memory`), as every run starts here.
    """
    reuse_freed_memory()
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not torch.cuda.is_available():
        # Without use_cpu, accelerate opens the process group but leaves the model unwrapped
        # (DistributedType.NO): every process trained its own copy on its own share of the
        # data, and only the first one's was saved.
        kwargs.setdefault("use_cpu", True)
        kwargs.setdefault("ddp_backend", "gloo")
    kwargs.setdefault("report_to", [])
    kwargs.setdefault("dataloader_pin_memory", torch.cuda.is_available())
    kwargs.setdefault("remove_unused_columns", False)
    return TrainingArguments(output_dir=output_dir, **kwargs)


def sharding_arguments(fsdp: str | None = None, deepspeed: str | None = None) -> dict:
    """`TrainingArguments` fields for FSDP (a transformers fsdp_config file) or DeepSpeed (its
    config file), refused where they would not do what they say: accelerate enables FSDP for
    GPUs only (on CPU the processes would quietly train with plain DDP), and DeepSpeed must be
    installed."""
    if fsdp:
        if not torch.cuda.is_available():
            raise ValueError(f"--fsdp {fsdp}: FSDP needs GPUs; on this machine accelerate would train with plain DDP "
                             "instead (drop --fsdp here: torchrun alone gives DDP over gloo)")
        return {"fsdp": True, "fsdp_config": fsdp}
    if deepspeed:
        if importlib.util.find_spec("deepspeed") is None:
            raise ValueError(f"--deepspeed {deepspeed}: DeepSpeed is not installed (pip install deepspeed)")
        return {"deepspeed": deepspeed}
    return {}


_MMAP_THRESHOLD = -3  # mallopt's M_MMAP_THRESHOLD


def reuse_freed_memory(threshold: int = 1 << 30) -> bool:
    """Have glibc's malloc serve blocks under `threshold` bytes from its heap. By default a block
    over its mmap threshold (at most 32 MiB) is mapped when allocated and unmapped when freed, so
    the same large tensors of every training step are zero-filled by the kernel again each step:
    on this machine 20% of `pixlm read train`'s CPU time went to the kernel (29 s of 135 s over
    300 steps; 1.6 s with this). Left as it is where the C library is not glibc or the user set
    MALLOC_MMAP_THRESHOLD_; returns whether it was set."""
    if os.environ.get("MALLOC_MMAP_THRESHOLD_") is not None or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(_MMAP_THRESHOLD, threshold))
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False


def seed_everything(seed: int, deterministic: bool = False) -> None:
    """Seed Python, NumPy and torch before the model is made; with `deterministic`, also switch
    torch to its deterministic algorithms (transformers' `enable_full_determinism`)."""
    if deterministic:
        enable_full_determinism(seed)
    else:
        set_seed(seed)


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


def checkpoint_problem(folder: str) -> str | None:
    """Why a checkpoint folder cannot be resumed from (a file missing, truncated or unreadable),
    or None when it looks whole. Cheap: headers and directories only, no tensors are read."""

    state = os.path.join(folder, "trainer_state.json")
    try:
        with open(state, encoding="utf-8") as f:
            json.load(f)
    except (OSError, ValueError) as e:
        return f"{state} is unreadable ({type(e).__name__})"
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if name.endswith(".safetensors"):
            try:
                with safe_open(path, framework="pt") as f:
                    f.keys()
            except Exception as e:  # noqa: BLE001 - safetensors raises its own error types
                return f"{path} is truncated or corrupt ({type(e).__name__})"
        elif name.endswith((".pt", ".pth", ".bin")) and os.path.getsize(path):
            try:
                zipfile.ZipFile(path).close()  # torch.save writes a zip archive; a cut one has no directory
            except zipfile.BadZipFile:
                return f"{path} is truncated or corrupt"
    return None


def resume_checkpoint(output_dir: str, resume: bool | str) -> str | None:
    """The checkpoint a run continues from: `resume` itself if it is a path; with True, the
    newest checkpoint in `output_dir` that is whole (a damaged one is skipped, with a warning
    naming it and the reason); None to start afresh."""
    if resume is False or resume is None:
        return None
    if isinstance(resume, str):
        problem = checkpoint_problem(resume) if os.path.isdir(resume) else f"{resume} is not a checkpoint folder"
        if problem:
            raise ValueError(f"cannot resume from {resume}: {problem}")
        return resume
    for folder in reversed(checkpoints(output_dir)):
        problem = checkpoint_problem(folder)
        if problem is None:
            return folder
        logging.getLogger("pixlm").warning("not resuming from %s: %s; trying the checkpoint before it", folder, problem)
    return None
