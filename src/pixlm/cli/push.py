"""Upload a trained model folder to the Hugging Face Hub, with its renderer, processor and card.

Upload what `pixlm pretrain`, `finetune` or `vl` wrote to --output-dir: the model, its processor
(text_renderer_config.json with the fonts, preprocessor_config.json; or the tokenizer), the
model card (README.md) and all_results.json. Checkpoints, TensorBoard logs and figures stay
here. Log in first with `hf auth login` (or set HF_TOKEN).
"""

from __future__ import annotations

# Imports inside functions: `pixlm --help` imports this module and stays fast (see pixlm.cli).


def add_arguments(p) -> None:
    p.add_argument("folder", help="the output folder of a training command")
    p.add_argument("--repo", required=True, metavar="OWNER/NAME", help="the model repository on the Hub (created if missing)")
    p.add_argument("--private", action="store_true", help="create the repository as private")
    p.add_argument("--message", default="Upload with pixlm push", help="the commit message")


def run(args) -> int:
    from ..models.hub import push_folder

    url = push_folder(args.folder, args.repo, private=args.private, message=args.message)
    print(f"{args.folder} -> {url}")
    return 0
