"""Train a tiny PIXEL on Python's own documentation, in minutes on a CPU.

Pretrain a tiny PIXEL on sentences from Python's documentation topics (shipped with Python: no
download), then print the held-out loss before and after, R and the characters its
reconstructions read back, a verdict on whether it reads, where the checkpoint, loss curve and
reconstructions are, and the command that continues the same run.
"""

from __future__ import annotations

from .common import print_results
from .flags import positive_float, positive_int

READING_GOAL = 0.85  # R at or below which the model predicts masked patches from what it reads around them
# Seconds a training step of the quickstart takes on 2 CPU cores, by layout, on the slower of the
# machines of docs/results.md (an AMD EPYC VM: 1,500 steps took 9.4 min continuous, 11.7 words;
# bigrams there taken as 10% slower than continuous, as measured on the Intel machine; mono: the
# slowest of its runs there, 0.396-0.431 s a step, since that VM's pace varies from run to run).
SECONDS_PER_STEP = {"continuous": 0.375, "words": 0.468, "bigrams": 0.41, "mono": 0.431}
BUDGET_MINUTES = 10
START_SECONDS = 30  # besides the steps: start-up, evaluations, saving (16 s measured there), with a margin
MOST_STEPS = 1500
# The recipe whose quickstart comes nearest to reading, and what its resume command printed by
# the quickstart (RESUME_FACTOR times the steps) gave on the AMD EPYC VM of docs/results.md.
READING_RECIPE = "cpu-reader-mono"
CONTINUED = {"steps": 3900, "ratio": 0.796, "read_back": 19.8, "white": 10.8, "minutes": 19.0}
# Its quickstarts there (seeds 0, 1, 2): the final R, and the % of hidden characters their
# reconstructions read back as against white patches' %.
QUICKSTART_RUNS = ((0.773, 12.8, 10.8), (0.914, 10.8, 12.9), (0.806, 10.0, 11.7))
RESUME_FACTOR = 3  # the resume command the quickstart prints trains on to this many times its steps

# Imports inside functions: `pixlm --help` imports this module and stays fast (see pixlm.cli).


def add_arguments(p) -> None:
    p.add_argument("--output-dir", default="pixlm-quickstart", metavar="DIR", help="where to write (default pixlm-quickstart)")
    p.add_argument("--steps", type=int, default=None, metavar="N",
                   help="training steps (default: as many as fit 10 minutes on 2 CPU cores in the layout, at most 1500: "
                        + ", ".join(f"{default_steps(name):,} {name}" for name in SECONDS_PER_STEP) + ")")
    p.add_argument("--batch-size", type=positive_int, default=32, metavar="N", help="texts per step (default 32)")
    p.add_argument("--lr", type=positive_float, default=1e-3, metavar="LR", help="peak learning rate (default 1e-3)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--layout", default=None, choices=["continuous", "words", "bigrams", "mono"],
                   help="rendering of the corpus (default: the recipe's, else continuous): PIXEL's continuous strips, "
                        "words (each word from a patch boundary, as pixlm finetune draws word-level tasks), bigrams "
                        "(Lotz et al. 2023: two characters per patch, so equal bigrams are equal patches) or mono (two "
                        "fixed-width characters a patch)")
    p.add_argument("--recipe", default=READING_RECIPE, choices=quickstart_recipes(),
                   help=f"{READING_RECIPE} (default): the mono layout, single hidden patches, the character head on the "
                        "patches the encoder sees and the decoder's local bias, the recipe that comes nearest to reading "
                        "in minutes (docs/results.md); cpu-reader: PIXEL's objective with the character head, in the "
                        "continuous layout, whose model tags a little better after finetuning but does not read; "
                        "cpu-reader-words: the same in the words layout (the best transfer to SST-2 in docs/results.md); "
                        "cpu-tiny: PIXEL's objective alone")


def quickstart_recipes() -> list[str]:
    """The recipes at the quickstart's scale: those of the tiny model (`pixlm.training.recipes`)."""
    from ..training.recipes import RECIPES

    return [name for name, recipe in RECIPES.items() if recipe.model == "tiny"]


def recipe_layout(recipe: str) -> str:
    """The layout a recipe renders its corpus in (continuous unless it names one)."""
    from ..training.recipes import RECIPES

    return RECIPES[recipe].renderer_overrides.get("layout", "continuous")


def _names_characters(recipe: str) -> bool:
    from ..training.recipes import RECIPES

    return RECIPES[recipe].model_overrides.get("character_loss_weight", 0.0) > 0


def run(args) -> int:
    from ..training.quickstart import quickstart, stdlib_corpus

    if args.steps is not None and args.steps < 1:
        raise ValueError(f"--steps must be at least 1, got {args.steps}")
    out = args.output_dir
    layout = args.layout or recipe_layout(args.recipe)
    steps = args.steps or default_steps(layout)
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
  {resume_command(args, layout, steps, steps * RESUME_FACTOR)}
      # the same run continued to {steps * RESUME_FACTOR:,} steps (resumes from its last checkpoint)
  tensorboard --logdir {out}/runs                                                    # its curves, live
  pixlm finetune --task pos --model {out} --train train.conllu --validation dev.conllu \\
      --output-dir {out}-pos                                                           # a tagger from it""")
    return 0


def resume_command(args, layout: str, steps: int, to_steps: int) -> str:
    """The `pixlm pretrain` command that continues this quickstart's run of `steps` in its own
    folder to `to_steps` (from its last checkpoint, the schedule stretched to the new end): its
    corpus, recipe, seed and every setting of the quickstart that `pixlm pretrain` would not take."""
    from ..training.quickstart import schedule

    out = args.output_dir
    flags = [f"--corpus {out}/corpus-train.txt", f"--validation {out}/corpus-held-out.txt", f"--output-dir {out}",
             f"--recipe {args.recipe}", "--model-arg max_patches=128"]
    if layout != recipe_layout(args.recipe):
        flags.append(f"--renderer-arg layout={layout}")
    flags += [f"--lr {args.lr:g}", f"--batch-size {args.batch_size}", f"--seed {args.seed}"]
    flags += [f"--{name.replace('_steps', '')}-steps {n}" for name, n in schedule(steps).items()]
    flags += ["--reconstruction-steps 0", f"--steps {to_steps}"]
    return "pixlm pretrain " + " ".join(flags)


def default_steps(layout: str) -> int:
    """The most steps, in hundreds and at most MOST_STEPS, that fit the quickstart's budget in
    `layout` at the pace measured on the slower machine."""
    fit = (BUDGET_MINUTES * 60 - START_SECONDS) / SECONDS_PER_STEP[layout]
    return int(min(MOST_STEPS, fit // 100 * 100))


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
    """The verdict at the end of the quickstart: what the run's final R (and, with a recognizer,
    the share of masked characters its reconstructions read back as, against white patches'
    share) says about reading, by pixlm diagnose's rule, and how far the resume command it prints
    took the same run here."""
    from ..evaluation.diagnose import reads_letters

    if ratio is None:
        return None
    further = (f"This recipe's quickstart, continued by its resume command (below) to {CONTINUED['steps']:,} steps in "
               f"{CONTINUED['minutes']} more minutes on 2 CPU cores, reached R {CONTINUED['ratio']} on the machine of "
               f"docs/results.md, its reconstructions reading back {CONTINUED['read_back']}% of the hidden characters "
               f"(white patches: {CONTINUED['white']}%): letters in single hidden patches.")
    if ratio > READING_GOAL:
        said = f"Not reading yet: R = {ratio:.3f}, where a model that reads its context gets R <= {READING_GOAL}. "
        if recipe == READING_RECIPE:
            return said + f"{quickstart_spread()} {further}"
        return said + (
            f"The {recipe} recipe has not read on the machines of docs/results.md in minutes or hours (cpu-reader R "
            "0.96-0.99 after 45-81 CPU-minutes, cpu-reader-words 0.81-0.91 after 100 with no letter read back); "
            f"--recipe {READING_RECIPE} (the default) does" + (
                f". What {recipe} gives is an encoder that names the characters of what it sees: a better start for "
                "finetuning than random weights (docs/results.md)." if _names_characters(recipe) else "."))
    if read_back is not None and not reads_letters(read_back, white or 0.0):
        said = (f"R = {ratio:.3f} is at the goal (<= {READING_GOAL}), but the reconstructions of masked patches read "
                f"back as {100 * read_back:.1f}% of their characters (white patches: {100 * (white or 0.0):.1f}%): the "
                "model has learnt where the ink lies in this layout, not which letters")
        if recipe == READING_RECIPE:
            return f"{said} yet. {quickstart_spread()} {further}"
        return f"{said} (docs/results.md: the words layout does this; pixlm diagnose for more)."
    letters = ("" if read_back is None else f", and its reconstructions of masked patches read back as "
               f"{100 * read_back:.1f}% of their characters (white patches: {100 * (white or 0.0):.1f}%)")
    return (f"Reading: R = {ratio:.3f}, at the goal (<= {READING_GOAL}){letters}: the model fills in what it hides from "
            "what it sees around it (pixlm reconstruct shows what it draws)."
            + (f" {further}" if recipe == READING_RECIPE else ""))


def quickstart_spread() -> str:
    """What the reading recipe's quickstart gave over seeds on the machine of docs/results.md."""
    from ..evaluation.diagnose import reads_letters

    ratios = ", ".join(f"{ratio:.3f}" for ratio, _, _ in QUICKSTART_RUNS)
    letters = sum(reads_letters(read_back / 100, white / 100) for _, read_back, white in QUICKSTART_RUNS)
    return (f"In its 10 minutes this recipe ends on either side of the goal (R {ratios} in {len(QUICKSTART_RUNS)} runs "
            f"on the machine of docs/results.md), its reconstructions reading back more characters than white patches "
            f"do in {letters} of them: letters come in the minutes after.")
