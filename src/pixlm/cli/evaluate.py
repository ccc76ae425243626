"""Score a finetuned model on a file, clean or under orthographic noise.

Score a checkpoint made by `pixlm finetune` on a file. With --attack, that attack is applied to
--severity of each example's words first; with --attack all and several severities, one table
over all word-preserving attacks.
"""

from __future__ import annotations

import json

from ..training.tasks import TASKS
from .flags import fraction, positive_int

# Imports inside functions: `pixlm --help` imports this module and stays fast (see pixlm.cli).


def add_arguments(p) -> None:
    p.add_argument("--model", required=True, metavar="DIR|HUB-ID",
                   help="a checkpoint made by pixlm finetune, or a published finetuned PIXEL model (a folder, or "
                        "its Hub name, e.g. Team-PIXEL/pixel-base-finetuned-pos-ud-vietnamese-vtb, downloaded)")
    p.add_argument("--task", required=True, choices=list(TASKS), help="the task the model was finetuned for")
    p.add_argument("--max-patches", type=positive_int, metavar="N",
                   help="patches per text (default: the model's saved renderer; PIXEL's scripts used 256 for POS, NER "
                        "and parsing)")
    p.add_argument("--pooling", choices=["mean", "max", "cls", "pma"],  # as PIXEL named its poolings
                   help="classify: the pooling a published PIXEL classifier was finetuned with (PIXEL did not save "
                        "it; pixlm's checkpoints carry theirs)")
    p.add_argument("--data", required=True, metavar="FILE", help="the file to score (same format as for finetuning)")
    p.add_argument("--attack", metavar="NAME", help="an attack (see pixlm attack --help), or all")
    p.add_argument("--severity", type=fraction, nargs="+", default=[0.5], metavar="P", help="share(s) of words attacked (default 0.5)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the attacks (default 0)")
    p.add_argument("--noise-dir", metavar="DIR", help="folder of the noise tables (default $PIXLM_DATA/noise)")
    p.add_argument("--glue-task", help="GLUE task of a TSV file (default: found in the path)")
    p.add_argument("--text-columns", nargs="+", default=["text"], metavar="COL", help="CSV/JSONL text column(s)")
    p.add_argument("--label-column", default="label", metavar="COL", help="CSV/JSONL label column")
    p.add_argument("--output", metavar="JSON", help="also write the scores as JSON")


def run(args) -> int:
    from ..evaluation.attacks import WORD_PRESERVING
    from ..training.finetuning import evaluate, robustness_table

    common = dict(seed=args.seed, noise_dir=args.noise_dir, glue_task=args.glue_task,
                  text_columns=tuple(args.text_columns), label_column=args.label_column, max_patches=args.max_patches,
                  pooling=args.pooling)
    if args.attack == "all" or (args.attack and len(args.severity) > 1):
        attacks = list(WORD_PRESERVING) if args.attack == "all" else [args.attack]
        rows, table = robustness_table(args.model, args.task, args.data, attacks, args.severity, **common)
        print(table)
    else:
        rows = [evaluate(args.model, args.task, args.data, attack=args.attack, severity=args.severity[0], **common)]
        print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in rows[0].items()})
    if args.output:
        from ..files import written_whole

        with written_whole(args.output) as tmp, open(tmp, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=2)
    return 0
