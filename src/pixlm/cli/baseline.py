"""A subword (WordPiece BERT) baseline trained on the same corpus, for equal-budget comparisons.

create: train a WordPiece tokenizer on a corpus and save it with a fresh BERT of a preset's
size. pretrain: masked language modelling on a corpus. The folder then goes to pixlm
finetune/evaluate like a PIXEL checkpoint (classify, pos, ner).
"""

from __future__ import annotations

from .flags import positive_float, positive_int

# Imports inside functions: `pixlm --help` imports this module and stays fast (see pixlm.cli).


def add_arguments(p) -> None:
    p.add_argument("action", choices=["create", "pretrain"], help="create a model, or pretrain one with MLM")
    p.add_argument("--corpus", required=True, metavar="FILE", help="the text corpus (as for pixlm pretrain)")
    p.add_argument("--output-dir", required=True, metavar="DIR", help="where the model and tokenizer go")
    p.add_argument("--model", metavar="DIR", help="pretrain: the model folder to start from")
    p.add_argument("--preset", default="tiny", choices=["tiny", "small", "base"], help="create: model size (default tiny)")
    p.add_argument("--vocab-size", type=positive_int, default=8000, metavar="N", help="create: WordPiece vocabulary size (default 8000)")
    p.add_argument("--steps", type=positive_int, default=1000, metavar="N", help="pretrain: steps, as many as the pixel model had")
    p.add_argument("--batch-size", type=positive_int, default=32, metavar="N", help="pretrain: texts per step (default 32)")
    p.add_argument("--seed", type=int, default=42,
                   help="create: the seed of the model's initial weights; pretrain: of the data order and masks (default 42)")
    p.add_argument("--lr", type=positive_float, default=5e-4, help="pretrain: peak learning rate (default 5e-4)")
    p.add_argument("--save-steps", type=positive_int, default=500, metavar="N",
                   help="pretrain: a checkpoint every N steps, the last two kept (default 500)")
    p.add_argument("--no-resume", dest="resume", action="store_false",
                   help="pretrain: start afresh even if --output-dir holds checkpoints (by default the run continues from the newest)")


def run(args) -> int:
    from ..baselines.subword import create_subword_model
    from ..training.subword import pretrain_subword

    if args.action == "create":
        folder = create_subword_model(args.corpus, args.output_dir, args.preset, args.vocab_size, seed=args.seed)
        print(f"subword model and tokenizer: {folder}")
        return 0
    if not args.model:
        raise ValueError("pretrain needs --model, a folder made by `pixlm baseline create`")
    res = pretrain_subword(args.model, args.corpus, args.output_dir, args.steps, args.batch_size, args.lr, seed=args.seed,
                           save_steps=args.save_steps, resume=args.resume)
    print(f"{res['steps']} steps, train loss {res['train_loss']:.4f}: {res['output_dir']}")
    return 0
