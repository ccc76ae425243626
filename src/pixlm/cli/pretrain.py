"""Pretrain PIXEL (masked patches) or PixelGPT/MonoGPT/DualGPT (next patch and token) on a text corpus.

Pretrain with transformers' Trainer: PIXEL (default) or, with --model-type pixelgpt, the causal
decoder on a --mixture of pixel, text and paired batches. Runs under torchrun for several
processes, resumes from the last checkpoint in --output-dir, logs to TensorBoard.
"""

from __future__ import annotations

from ..training.config import PretrainConfig
from .common import print_results
from .flags import config_from_args

# Imports inside functions: `pixlm --help` imports this module and stays fast (see pixlm.cli).

EPILOG = (
    "Example:\n  pixlm pretrain --corpus wiki.txt --output-dir runs/pixel-small --model small --steps 100000\n"
    "  torchrun --nproc_per_node 8 -m pixlm pretrain --corpus wiki.txt --output-dir runs/pixel --model base\n"
    "  pixlm pretrain --model-type pixelgpt --mixture dualgpt --tokenizer runs/bpe --corpus wiki.txt --output-dir runs/dual"
)
CONFIG = PretrainConfig  # its fields are this command's flags


def add_arguments(p) -> None:
    p.add_argument("--resume-from", metavar="CHECKPOINT", help="resume from this checkpoint folder")


def run(args) -> int:
    from ..training import pretrain

    cfg = config_from_args(CONFIG, args)
    if args.resume_from:
        cfg.resume = args.resume_from
    print_results(pretrain(cfg))
    return 0
