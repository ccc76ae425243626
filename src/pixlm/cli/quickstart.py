"""Train a tiny PIXEL on Python's own documentation, in minutes on a CPU.

Pretrain a tiny PIXEL on sentences from Python's documentation topics (shipped with Python: no
download), then print the held-out loss before and after and where the checkpoint, loss curve
and reconstructions are.
"""

from __future__ import annotations

from .common import print_results
from .flags import positive_float, positive_int

READING_GOAL = 0.85  # R at or below which the model predicts masked patches from what it reads around them
# Seconds a training step of the quickstart takes on 2 CPU cores, by layout, on the slower of the
# machines of docs/results.md (an AMD EPYC VM: 1,500 steps took 9.4 min continuous, 11.7 words;
# bigrams there taken as 10% slower than continuous, as measured on the Intel machine).
SECONDS_PER_STEP = {"continuous": 0.375, "words": 0.468, "bigrams": 0.41}
BUDGET_MINUTES = 10

# Imports inside functions: `pixlm --help` imports this module and stays fast (see pixlm.cli).


def add_arguments(p) -> None:
    p.add_argument("--output-dir", default="pixlm-quickstart", metavar="DIR", help="where to write (default pixlm-quickstart)")
    p.add_argument("--steps", type=int, default=None, metavar="N", help="training steps (default 1500)")
    p.add_argument("--batch-size", type=positive_int, default=32, metavar="N", help="texts per step (default 32)")
    p.add_argument("--lr", type=positive_float, default=1e-3, metavar="LR", help="peak learning rate (default 1e-3)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--layout", default=None, choices=["continuous", "words", "bigrams"],
                   help="rendering of the corpus (default: the recipe's, else continuous): PIXEL's continuous strips, "
                        "words (each word from a patch boundary, as pixlm finetune draws word-level tasks), or bigrams "
                        "(Lotz et al. 2023: two characters per patch, so equal bigrams are equal patches)")
    p.add_argument("--recipe", default="cpu-reader", choices=quickstart_recipes(),
                   help="cpu-reader (default): PIXEL's objective plus pixlm's character head on the patches the "
                        "encoder sees, whose model finetunes better than one from scratch (docs/results.md); "
                        "cpu-reader-words: the same in the words layout (the best transfer in docs/results.md); "
                        "cpu-tiny: PIXEL's objective alone")


def quickstart_recipes() -> list[str]:
    """The recipes at the quickstart's scale: those of the tiny model (`pixlm.training.recipes`)."""
    from ..training.recipes import RECIPES

    return [name for name, recipe in RECIPES.items() if recipe.model == "tiny"]


def _names_characters(recipe: str) -> bool:
    from ..training.recipes import RECIPES

    return RECIPES[recipe].model_overrides.get("character_loss_weight", 0.0) > 0


def run(args) -> int:
    from ..training.quickstart import QUICKSTART_STEPS, quickstart, stdlib_corpus

    if args.steps is not None and args.steps < 1:
        raise ValueError(f"--steps must be at least 1, got {args.steps}")
    steps = args.steps or QUICKSTART_STEPS
    out = args.output_dir
    from ..training.recipes import RECIPES

    layout = args.layout or RECIPES[args.recipe].renderer_overrides.get("layout", "continuous")
    reading = " and to name the characters of the patches it sees" if _names_characters(args.recipe) else ""
    print(f"pixlm quickstart: a tiny PIXEL (4 layers, 192 wide, grayscale, 128 patches) learns, on "
          f"{len(stdlib_corpus()):,} sentences from Python's own documentation rendered in the {layout} layout, "
          f"to fill in masked patches{reading} ({args.recipe} recipe): {steps:,} steps, {expected_minutes(steps, layout)}. "
          f"Checkpoints, the loss curve and reconstructions go to {out}/.", flush=True)
    results = quickstart(out, max_steps=steps, batch_size=args.batch_size, learning_rate=args.lr, seed=args.seed,
                         layout=layout, recipe=args.recipe)
    print_results(results)
    print(f"wall time: {results['wall_seconds'] / 60:.1f} min")
    summary = reading_summary(results.get("reading_ratio"), results.get("masked_character_accuracy"),
                              results.get("white_character_accuracy"), args.recipe)
    if summary:
        print(f"\n{summary}")
    print(f"""
Next:
  pixlm reconstruct --model {out} "Text of your own to fill in" -o recon.png   # what it fills in
  pixlm pretrain --corpus {out}/corpus-train.txt --validation {out}/corpus-held-out.txt --model {out} \\
      --output-dir {out}-longer --steps 5000                                         # train on from here
  tensorboard --logdir {out}-longer/runs                                           # its curves, live
  pixlm finetune --task pos --model {out} --train train.conllu --validation dev.conllu \\
      --output-dir {out}-pos                                                           # a tagger from it""")
    return 0


def expected_minutes(steps: int, layout: str) -> str:
    """How long the run takes on 2 CPU cores, at most, from the pace measured here; said when it
    is over the quickstart's budget."""
    minutes = steps * SECONDS_PER_STEP[layout] / 60
    whole = max(1, round(minutes))
    said = f"up to about {whole} minute{'s' if whole > 1 else ''} on 2 CPU cores"
    if minutes > BUDGET_MINUTES:
        said += f" (over the quickstart's {BUDGET_MINUTES}-minute budget: fewer --steps, or the continuous layout, fit it)"
    return said


def reading_summary(ratio: float | None, read_back: float | None, white: float | None, recipe: str) -> str | None:
    """What the run's final R (and, with a recognizer, the share of masked characters its
    reconstructions read back as, against white patches' share) says about reading, for the end
    of the quickstart; the rule is pixlm diagnose's."""
    if ratio is None:
        return None
    if ratio > READING_GOAL:
        return (f"Not reading yet: R = {ratio:.3f}, where a model that reads its context gets R <= {READING_GOAL}. "
                "No recipe tried on this machine gets there in minutes: in docs/results.md's study no variant read "
                "after 10-24 CPU-minutes (R 0.93-1.00 with PIXEL's targets), nor did 45-81 minutes of the cpu-reader "
                "recipe (R 0.96-0.99) or 100 minutes of cpu-reader-words (R 0.81-0.91, no letter read back); "
                "its reconstructions are the average look of a line of text. The recipe can draw letters: it restores "
                "those of texts it has seen some 500 times (docs/results.md), so what minutes lack is the language, "
                "not the pipeline. What the budget does give is a "
                "working pipeline to take further with the commands below" + (
                    f", and ({recipe}) an encoder that names the characters of what it sees: a better start for "
                    "finetuning than random weights (docs/results.md)." if _names_characters(recipe) else "."))
    from ..evaluation.diagnose import reads_letters

    if read_back is not None and not reads_letters(read_back, white or 0.0):
        return (f"R = {ratio:.3f} is at the goal (<= {READING_GOAL}), but the reconstructions of masked patches read "
                f"back as {100 * read_back:.1f}% of their characters (white patches: {100 * (white or 0.0):.1f}%): the "
                "model has learnt where the ink lies in this layout, not which letters (docs/results.md: the words "
                "layout does this; pixlm diagnose for more).")
    return None
