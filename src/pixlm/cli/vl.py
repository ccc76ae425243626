"""Pixel-BERT: pretrain (MLM + ITM) and finetune (VQA, NLVR2, retrieval) on images and text.

Pixel-BERT on synthetic scenes (the default: learns on a CPU in minutes) or on files. pretrain:
masked language modelling and image-text matching with random pixel sampling; vqa, nlvr2,
retrieval: finetune a pretrained folder (--model). Writes the model, its tokenizer and
all_results.json (held-out scores before and after) to --output-dir.
"""

from __future__ import annotations

from ..training.config import PixelBertRunConfig
from .flags import config_from_args

# Imports inside functions: `pixlm --help` imports this module and stays fast (see pixlm.cli).

CONFIG = PixelBertRunConfig  # its fields are this command's flags
EPILOG = (
    "Examples (the synthetic-scenes recipe of docs/results.md):\n"
    "  pixlm vl pretrain --pretraining-tasks mlm --steps 2000 --lr 3e-4 --output-dir runs/pb\n"
    "  pixlm vl vqa --model runs/pb --steps 6000 --lr 3e-4 --output-dir runs/vqa\n"
    "  pixlm vl vqa --model runs/pb --train vqav2/questions.json --train-annotations vqav2/annotations.json "
    "--validation ... --validation-annotations ... --images images/vqav2 --output-dir runs/vqa"
)


def run(args) -> int:
    from ..training.pixelbert import run_pixelbert

    res = run_pixelbert(config_from_args(CONFIG, args))
    before = res["before"] or {}
    for name, value in res["validation"].items():
        start = f"{before[name]:.3f} -> " if name in before else ""
        print(f"held-out {name}: {start}{value:.3f}")
    print(f"{res['steps']} steps in {res['train_seconds'] / 60:.1f} min; model, tokenizer and all_results.json in {res['output_dir']}")
    return 0
