"""Finetune a pixel model for any registered task.

Finetune a PIXEL checkpoint (or a preset from scratch) with early stopping on the validation
metric; writes all_results.json and predictions in the input's format.
"""

from __future__ import annotations

from ..training.config import FinetuneConfig
from ..training.tasks import TASKS
from .flags import config_from_args

# Imports inside functions: `pixlm --help` imports this module and stays fast (see pixlm.cli).

HELP = "Finetune a pixel model: " + ", ".join(t.description for t in TASKS.values())
EPILOG = (
    "Tasks:\n" + "".join(f"  {name}: {t.description}, from {t.formats}\n" for name, t in TASKS.items())
    + "Examples:\n  pixlm finetune --task pos --model runs/pixel --train ud/en_ewt/train.conllu "
    "--validation ud/en_ewt/dev.conllu --test ud/en_ewt/test.conllu --output-dir runs/pos\n"
    "  pixlm finetune --task classify --model runs/pixel --train glue/SST-2/train.tsv "
    "--validation glue/SST-2/dev.tsv --output-dir runs/sst2"
)


CONFIG = FinetuneConfig  # its fields are this command's flags


def run(args) -> int:
    from ..training import finetune

    cfg = config_from_args(CONFIG, args)
    results = finetune(cfg)
    for split in ("validation", "test"):
        if split in results:
            shown = {k: round(v, 4) for k, v in results[split].items()
                     if k not in ("runtime", "samples_per_second", "steps_per_second", "epoch")}
            print(f"{split}: {shown}")
    print(f"best checkpoint: {results['best_checkpoint']}; metrics and predictions in {results['output_dir']}")
    return 0
