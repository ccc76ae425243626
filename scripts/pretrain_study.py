"""What makes a small pixel model start reading soonest: pretraining variants at a fixed CPU
budget, one change at a time against a reference recipe, compared by held-out loss and R.

    python scripts/pretrain_study.py list
    python scripts/pretrain_study.py run baseline lr-3e-3 --corpus TRAIN.txt --validation HELD_OUT.txt \\
        --runs runs/study [--minutes 10 | --steps N]
    python scripts/pretrain_study.py report --runs runs/study --validation HELD_OUT.txt [--png docs/study.png] [NAME ...]

`run` gives each variant the number of steps that fits in --minutes of training on this
machine at its thread count (measured by a trial of that variant, since a variant can
change the cost of a step; --steps gives every variant a fixed number instead), then
pretrains it with `pixlm pretrain`, evaluating the held-out loss and R (held-out loss with
the real input / with blank patches; 1 = predicts from position alone) six times along the
way. A variant whose run is complete is skipped. Run it with OMP_NUM_THREADS=1 and two
processes side by side on two cores.

`report` prints a markdown table and draws the curves of every run, overlaid, into one PNG.
The table has each run's held-out loss and R under its own masks (as logged while it trained),
then R and the character accuracy of what its reconstructions of masked patches read back as
(`pixlm read`'s recognizer, where it reads the renderer) under PIXEL's masks for every run, so
that variants with other masks are compared on the same task.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass

# The reference: the quickstart's recipe (tiny PIXEL, grayscale, 128 patches, no dropout,
# lr 1e-3 with 5% warm-up and cosine decay, batch 32, PIXEL's span masking at 25%).
BASE_ARGS = ("--model tiny --model-arg num_channels=1 --model-arg hidden_dropout_prob=0 "
             "--model-arg attention_probs_dropout_prob=0 --renderer-arg max_patches=128 --lr 1e-3 --batch-size 32")


@dataclass(frozen=True)
class Variant:
    """One change against the reference: what it is and the `pixlm pretrain` flags that make it
    (later flags override the reference's)."""

    description: str
    args: str = ""
    corpus_texts: int | None = None  # train on this many texts of the corpus (a seeded sample), not all
    # A curriculum: variant `first` for the first half of the steps (its own warm-up and decay),
    # then the reference's recipe continued from that model for the second half.
    first: str | None = None


# The reference's masks and layout, set again when a curriculum's second stage continues from a
# model pretrained with others (a checkpoint brings its own).
REFERENCE_AGAIN = ("--renderer-arg layout=continuous --model-arg mask_ratio=0.25 --model-arg max_span_length=6 "
                   "--model-arg span_weights=[0.2,0.4,0.6,0.8,0.9,1.0]")


VARIANTS = {
    "baseline": Variant("the reference (the quickstart's recipe)"),
    "lr-3e-3": Variant("learning rate 3e-3", "--lr 3e-3"),
    "lr-3e-4": Variant("learning rate 3e-4", "--lr 3e-4"),
    "warmup-20": Variant("warm-up over 20% of the steps", "--warmup 0.2"),
    "batch-8": Variant("batch 8 (four times the steps)", "--batch-size 8"),
    "batch-128": Variant("batch 128", "--batch-size 128"),
    "mask-15": Variant("mask ratio 15%", "--model-arg mask_ratio=0.15"),
    "mask-40": Variant("mask ratio 40%", "--model-arg mask_ratio=0.4"),
    "span-1": Variant("single masked patches (spans of one)", "--random-masking"),
    "span-2": Variant("spans of at most 2 patches", "--model-arg max_span_length=2 --model-arg span_weights=[0.5,1.0]"),
    "raw-targets": Variant("raw pixel targets (no per-patch normalisation)", "--model-arg norm_pix_loss=false"),
    "binary-targets": Variant("binary pixel targets (ink or not, binary cross-entropy; PIXAR)",
                              "--model-arg pixel_target=binary"),
    "decoder-1": Variant("a one-layer decoder", "--model-arg decoder_num_hidden_layers=1"),
    "encoder-wide": Variant("encoder 256 wide, 4 heads", "--model-arg hidden_size=256 --model-arg num_attention_heads=4 "
                                                      "--model-arg intermediate_size=1024"),
    "corpus-32": Variant("32 texts of the corpus, each seen ~1,700 times: can the recipe memorise them", corpus_texts=32),
    "corpus-256": Variant("256 texts of the corpus, each seen ~210 times", corpus_texts=256),
    "corpus-1024": Variant("1,024 texts of the corpus, each seen ~50 times", corpus_texts=1024),
    "corpus-2200": Variant("2,200 texts of the corpus (the quickstart's corpus size), each seen many times",
                           corpus_texts=2200),
    "font-12px": Variant("a smaller font (12 px instead of 13.3: 7.2 pt at 120 dpi)", "--renderer-arg font_size=7.2"),
    "patch-24": Variant("taller patches, the text scaled with them: 24 x 24 pixels a patch, 12 pt (20 px) instead of 16 and "
                        "8 pt (13.3 px)", "--renderer-arg patch_size=24 --model-arg patch_size=24 --renderer-arg font_size=12"),
    "patch-12": Variant("smaller patches, the text scaled with them: 12 x 12 pixels a patch, 6 pt (10 px) instead of 16 and "
                        "8 pt (13.3 px)", "--renderer-arg patch_size=12 --model-arg patch_size=12 --renderer-arg font_size=6"),
    "words": Variant("the words layout (each word from a patch boundary)", "--renderer-arg layout=words"),
    "bigrams": Variant("the bigrams layout (two characters a patch)", "--renderer-arg layout=bigrams"),
    "mono": Variant("the mono layout (one character a cell, two cells a patch)", "--renderer-arg layout=mono"),
    "mono-span-1": Variant("the easiest filling-in: the mono layout (two characters a patch), single masked patches, 15% of them",
                           "--renderer-arg layout=mono --random-masking --model-arg mask_ratio=0.15"),
    "mono-span-1-char-head": Variant("the easiest filling-in, with a character head on the hidden patches: the decoder also names "
                                     "each hidden character (a discrete target beside its pixels)",
                                     "--renderer-arg layout=mono --random-masking --model-arg mask_ratio=0.15 "
                                     "--model-arg character_loss_weight=1.0"),
    "mono-span-1-char-visible": Variant("the easiest filling-in, with a character head on the encoder's visible patches",
                                        "--renderer-arg layout=mono --random-masking --model-arg mask_ratio=0.15 "
                                        "--model-arg character_loss_weight=1.0 --model-arg character_patches=visible"),
    "local-bias": Variant("the decoder's attention biased toward near patches (ALiBi's penalty on both sides)",
                          "--model-arg decoder_position_bias=local"),
    "reader-local": Variant("the character head on the encoder's visible patches and the decoder's local bias together",
                            "--model-arg character_loss_weight=1.0 --model-arg character_patches=visible "
                            "--model-arg decoder_position_bias=local"),
    "mono-span-1-local": Variant("the easiest filling-in, with the decoder's local bias",
                                 "--renderer-arg layout=mono --random-masking --model-arg mask_ratio=0.15 "
                                 "--model-arg decoder_position_bias=local"),
    "mono-span-1-reader-local": Variant("the easiest filling-in, with the character head on visible patches and the "
                                        "decoder's local bias",
                                        "--renderer-arg layout=mono --random-masking --model-arg mask_ratio=0.15 "
                                        "--model-arg character_loss_weight=1.0 --model-arg character_patches=visible "
                                        "--model-arg decoder_position_bias=local"),
    "bigrams-span-1": Variant("two characters a patch, single masked patches, 15% of them",
                              "--renderer-arg layout=bigrams --random-masking --model-arg mask_ratio=0.15"),
    "curriculum-span-1": Variant("single masked patches for the first half of the steps, then PIXEL's spans", first="span-1"),
    "curriculum-mono": Variant("the mono layout for the first half of the steps, then the continuous one", first="mono"),
    "curriculum-corpus-32": Variant("32 texts for the first half of the steps (memorised: the model learns to recall letters), "
                                    "then the whole corpus", first="corpus-32"),
    "char-head": Variant("a character head on hidden patches (the renderer's labels)", "--model-arg character_loss_weight=1.0"),
    "char-visible": Variant("a character head on the encoder's visible patches (reading them)",
                            "--model-arg character_loss_weight=1.0 --model-arg character_patches=visible"),
}


def run_dir(runs: str, name: str) -> str:
    return os.path.join(runs, name)


def variant_corpus(name: str, corpus: str, output: str) -> str:
    """The corpus variant `name` trains on: `corpus`, or for a variant with `corpus_texts` a sample
    of that many of its texts (drawn with seed 0), written once into the run's folder."""
    texts = VARIANTS[name].corpus_texts
    if texts is None:
        return corpus
    path = os.path.join(output, f"corpus-{texts}.txt")
    if not os.path.exists(path):
        import random

        with open(corpus, encoding="utf-8") as f:
            lines = [line for line in f.read().splitlines() if line.strip()]
        if len(lines) < texts:
            raise SystemExit(f"--corpus {corpus} has {len(lines)} texts; variant {name} needs {texts}")
        random.Random(0).shuffle(lines)
        os.makedirs(output, exist_ok=True)
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            f.write("\n".join(lines[:texts]) + "\n")
        os.replace(path + ".tmp", path)
    return path


def pretrain_command(name: str, corpus: str, validation: str, output: str, steps: int, eval_steps: int,
                     extra: str = "") -> list[str]:
    """The `pixlm pretrain` command of variant `name`."""
    return ["pixlm", "pretrain", "--corpus", variant_corpus(name, corpus, output), "--validation", validation, "--output-dir", output,
            *shlex.split(BASE_ARGS), *shlex.split(VARIANTS[name].args), "--steps", str(steps),
            "--eval-steps", str(eval_steps), "--save-steps", str(eval_steps), "--save-total-limit", "1",
            "--reconstruction-steps", "0", "--report-to", "tensorboard", *shlex.split(extra)]


def first_stage(out: str) -> str:
    """Where a curriculum's first stage runs, inside the variant's folder."""
    return os.path.join(out, "stage-1")


def stage_commands(name: str, corpus: str, validation: str, out: str, steps: int) -> list[list[str]]:
    """The `pixlm pretrain` commands of variant `name` in order: one, or a curriculum's two (its
    first variant for half the steps, then the reference continued from that model)."""
    first = VARIANTS[name].first
    if first is None:
        return [pretrain_command(name, corpus, validation, out, steps, steps // 6)]
    half = steps // 2
    return [pretrain_command(first, corpus, validation, first_stage(out), half, half // 3),
            pretrain_command("baseline", corpus, validation, out, steps - half, (steps - half) // 3,
                             f"--model {shlex.quote(first_stage(out))} {REFERENCE_AGAIN}")]


def trial_seconds_per_step(name: str, args) -> float:
    """Seconds a training step of `name` takes here: the wall time of a 40-step trial less that of
    a 10-step one, over 30 (so that startup and evaluation cancel out)."""
    out = os.path.join(args.runs, f".trial-{name}")
    walls = []
    for steps in (10, 40):
        cmd = pretrain_command(name, args.corpus, args.validation, out, steps, 1000, "--no-resume --report-to none")
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls.append(time.perf_counter() - start)
        subprocess.run(["rm", "-rf", out], check=True)
    return max(walls[1] - walls[0], 1e-3) / 30


def planned_steps(name: str, args) -> tuple[float | None, int]:
    """Seconds a step and the steps of `name`: those that fit --minutes by a trial, or --steps as
    given (to repeat another machine's study with its steps, or on a machine with other work)."""
    if args.steps:
        return None, args.steps
    per_step = trial_seconds_per_step(name, args)
    return per_step, max(60, int(args.minutes * 60 / per_step) // 60 * 60)


def finished(out: str) -> dict | None:
    """The run's results when it has finished (all_results.json holds the step-0 figures from the
    start, marked "complete": false)."""
    path = os.path.join(out, "all_results.json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        results = json.load(f)
    return None if results.get("complete") is False else results


def run_variant(name: str, args) -> None:
    out = run_dir(args.runs, name)
    if finished(out):
        print(f"{name}: done already ({out})")
        return
    plan_path = os.path.join(out, "study.json")
    if os.path.exists(plan_path):  # resuming: keep the steps chosen before
        with open(plan_path, encoding="utf-8") as f:
            plan = json.load(f)
    else:
        per_step, steps = planned_steps(name, args)
        plan = {"variant": name, "description": VARIANTS[name].description, "minutes": args.minutes,
                "trial_seconds_per_step": per_step, "steps": steps,
                "threads": os.environ.get("OMP_NUM_THREADS", "default")}
        os.makedirs(out, exist_ok=True)
        with open(plan_path, "w", encoding="utf-8") as f:
            json.dump(plan, f, indent=1)
    commands = stage_commands(name, args.corpus, args.validation, out, plan["steps"])
    per_step = plan["trial_seconds_per_step"]
    pace = f"{per_step:.3f} s a step" if per_step else "steps as given"
    print(f"{name}: {plan['steps']} steps ({pace}) -> {out}", flush=True)
    start = time.perf_counter()
    for cmd in commands:
        print(f"  {shlex.join(cmd)}", flush=True)
        with open(os.path.join(out, "log.txt"), "a", encoding="utf-8") as log:
            subprocess.run(cmd, check=True, stdout=log, stderr=subprocess.STDOUT)
    plan["wall_minutes"] = (time.perf_counter() - start) / 60
    plan["command"] = " && ".join(shlex.join(cmd) for cmd in commands)
    with open(plan_path, "w", encoding="utf-8") as f:
        json.dump(plan, f, indent=1)


def curves(out: str) -> dict[str, list[tuple[int, float]]]:
    """Held-out loss and R by step, from the run's last checkpoint's trainer state."""
    checkpoints = sorted((d for d in os.listdir(out) if d.startswith("checkpoint-")), key=lambda d: int(d.split("-")[1]))
    with open(os.path.join(out, checkpoints[-1], "trainer_state.json"), encoding="utf-8") as f:
        history = json.load(f)["log_history"]
    series: dict[str, list[tuple[int, float]]] = {"eval_loss": [], "eval_reading_ratio": [], "loss": []}
    for entry in history:
        for key in series:
            if key in entry:
                series[key].append((entry["step"], entry[key]))
    return series


def training_minutes(out: str, stages: int = 1) -> float | None:
    """The Trainer's train_runtime (training and its evaluations, without startup) summed over the
    last `stages` runs in the run's log (a curriculum logs two)."""
    import re

    with open(os.path.join(out, "log.txt"), encoding="utf-8", errors="replace") as f:
        found = re.findall(r"'train_runtime': '([0-9.]+)'", f.read())
    return sum(float(x) for x in found[-stages:]) / 60 if len(found) >= stages else None


PIXEL_MASKS = dict(mask_ratio=0.25, max_span_length=6, span_weights=[0.2, 0.4, 0.6, 0.8, 0.9, 1.0])


def reference_diagnosis(out: str, texts: list[str]) -> dict:
    """R and the read-back character accuracy of the run's final model on the held-out `texts`
    under PIXEL's masks (25%, spans up to 6), whatever masks it was pretrained with, so that
    every variant is measured alike. Cached in the run's folder."""
    cache = os.path.join(out, "diagnosis-pixel-masks.json")
    if os.path.exists(cache):
        with open(cache, encoding="utf-8") as f:
            return json.load(f)
    from pixlm.evaluation.diagnose import diagnose
    from pixlm.models.pixel import PixelForPreTraining
    from pixlm.models.recognizer.reading import recognizer_for
    from pixlm.render import RendererConfig, TextRenderer

    model = PixelForPreTraining.from_pretrained(out)
    renderer = TextRenderer(RendererConfig.from_pretrained(out))
    d = diagnose(model, renderer, texts, recognizer=recognizer_for(renderer.config), **PIXEL_MASKS)
    result = {"ratio": d.ratio, "real": d.real, "blank": d.blank,
              "read_back": None if d.reading is None else d.reading["reconstructed"]}
    with open(cache, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
    return result


def load_run(runs: str, name: str) -> dict | None:
    out = run_dir(runs, name)
    results = finished(out)
    if results is None:
        return None
    with open(os.path.join(out, "study.json"), encoding="utf-8") as f:
        plan = json.load(f)
    series = run_curves(out, results)
    stages = 1
    if VARIANTS[name].first is not None:  # a curriculum: its first stage's curves, then the second's after them
        stages, before = 2, run_curves(first_stage(out), finished(first_stage(out)))
        offset = max(step for step, _ in before["eval_loss"])
        for key in series:
            series[key] = before[key] + [(step + offset, value) for step, value in series[key] if step > 0]
        results = {**results, "initial_eval_loss": before["eval_loss"][0][1]}
    return {**plan, "results": results, "curves": series, "train_minutes": training_minutes(out, stages)}


def run_curves(out: str, results: dict) -> dict[str, list[tuple[int, float]]]:
    """The run's curves, starting with its evaluation before training."""
    series = curves(out)
    for key, first in (("eval_loss", "initial_eval_loss"), ("eval_reading_ratio", "initial_reading_ratio")):
        if results.get(first) is not None:
            series[key].insert(0, (0, results[first]))
    return series


def table(runs: list[dict]) -> str:
    rows = ["| variant | change | steps | minutes | held-out loss, own masks | R, own masks | R, PIXEL's masks | "
            "characters read back |", "|---|---|---|---|---|---|---|---|"]
    for r in runs:
        res, ref = r["results"], r["reference"]
        acc = ref["read_back"]
        rows.append(f"| {r['variant']} | {r['description']} | {r['steps']:,} | {r['train_minutes'] or 0:.1f} | "
                    f"{res['initial_eval_loss']:.4f} -> {res['final_eval_loss']:.4f} | {res['reading_ratio']:.3f} | "
                    f"**{ref['ratio']:.3f}** | {'-' if acc is None else f'{100 * acc:.1f}%'} |")
    return "\n".join(rows)


def draw(runs: list[dict], path: str) -> None:
    """R and the held-out loss of every run against its training minutes, side by side."""
    from PIL import Image

    from pixlm.viz import loss_curve

    panels = []
    for key, title in (("eval_reading_ratio", "R = held-out loss, real / blank context (1: predicts from position)"),
                       ("eval_loss", "held-out masked-patch loss (own masks)")):
        series = {}
        for r in runs:
            scale = (r["train_minutes"] or r["minutes"]) / r["steps"]  # in minutes, so that step costs line up
            series[r["variant"]] = [(step * scale, value) for step, value in r["curves"][key]]
        panels.append(loss_curve(series, title=title, size=(640, 420), x_label="minutes of training (one thread)"))
    figure = Image.new("RGB", (sum(p.width for p in panels), panels[0].height), "white")
    for k, panel in enumerate(panels):
        figure.paste(panel, (k * panels[0].width, 0))
    figure.save(path)
    print(f"curves: {path}")


def main() -> None:
    from pixlm.cli.flags import positive_int

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the variants")
    run = sub.add_parser("run", help="pretrain variants at a fixed budget")
    run.add_argument("names", nargs="+", metavar="NAME", help="variants (see list)")
    run.add_argument("--corpus", required=True, help="training text (scripts/english_corpus.py makes one)")
    run.add_argument("--validation", required=True, help="held-out text")
    run.add_argument("--runs", required=True, help="a folder; each variant's run goes to RUNS/NAME")
    run.add_argument("--minutes", type=float, default=10, help="training minutes per variant (default 10)")
    run.add_argument("--steps", type=positive_int, help="give every variant this many steps instead of those a trial "
                                                         "fits in --minutes (to repeat a study made elsewhere)")
    report = sub.add_parser("report", help="table and curves of finished runs")
    report.add_argument("names", nargs="*", metavar="NAME", help="variants (default: every finished one)")
    report.add_argument("--runs", required=True, help="the folder given to run")
    report.add_argument("--validation", required=True, help="the held-out text given to run")
    report.add_argument("--png", help="draw the curves into this PNG")
    args = ap.parse_args()
    if args.command == "list":
        for name, v in VARIANTS.items():
            print(f"{name:14} {v.description}")
        return
    names = getattr(args, "names", None) or list(VARIANTS)
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        ap.error(f"unknown variant(s) {', '.join(unknown)}; known: {', '.join(VARIANTS)}")
    if args.command == "run":
        for name in names:
            run_variant(name, args)
        return
    found = [r for r in (load_run(args.runs, n) for n in names) if r is not None]
    if not found:
        sys.exit(f"no finished run under {args.runs}")
    with open(args.validation, encoding="utf-8") as f:
        texts = [line.strip() for line in f if line.strip()]
    for r in found:
        r["reference"] = reference_diagnosis(run_dir(args.runs, r["variant"]), texts)
    print(table(found))
    if args.png:
        draw(found, args.png)


if __name__ == "__main__":
    main()
