"""Rerun a named headline figure with several seeds and report it as people can build on it:
the mean, the range and every seed's value, with the exact commands, the thread count and the
machine. A goal counts as met only if its worst seed meets it.

    python scripts/figures.py list
    python scripts/figures.py run pixelbert-vqa --seeds 42 1 2 [--runs runs/figures] [--write docs/results.md]
    python scripts/figures.py table pixelbert-vqa --seeds 42 1 2 --write docs/results.md

Commands read data from $PIXLM_DATA (default ../shared/data).

`run` skips a seed whose results are already there (so an interrupted run continues), then
prints the table; `--write FILE` replaces the figure's block in FILE (between
`<!-- figure:NAME -->` and `<!-- /figure:NAME -->`, appended if absent). Threads: whatever
OMP_NUM_THREADS says (torch's default, all cores, when unset); the table records it.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """A figure: the commands of one seed (formatted with {runs} and {seed}), where its value is
    ({results file}, key path), the goal if any (a floor, or a ceiling for an error rate), and
    roughly how long one seed takes here."""

    description: str
    commands: tuple[str, ...]
    results: str
    key: tuple[str, ...]
    goal: float | None = None
    minutes_per_seed: int = 0
    lower_is_better: bool = False  # an error rate: the goal is a ceiling, the worst seed the highest


PIXELBERT_PRETRAIN = ("pixlm vl pretrain --output-dir {runs}/pb-s{seed} --pretraining-tasks mlm --steps 2000 --lr 3e-4 "
                      "--seed {seed}")
TRANSFER_CORPUS = "python scripts/english_corpus.py --data {data} --output {runs}/en-train.txt --held-out {runs}/en-held-out.txt"
PIXEL_PRETRAIN_STEPS = 6400
TRANSFER_PRETRAIN = ("pixlm pretrain --recipe cpu-reader --corpus {runs}/en-train.txt --validation {runs}/en-held-out.txt "
                     f"--output-dir {{runs}}/pixel-pretrained --steps {PIXEL_PRETRAIN_STEPS} --eval-steps 800 --save-steps 800 "
                     "--reconstruction-steps 1600")
TRANSFER_EN_POS = ("--task pos --train {data}/ud/en_ewt/train.conllu --validation {data}/ud/en_ewt/dev.conllu --test "
                   "{data}/ud/en_ewt/test.conllu --steps 1500 --eval-steps 100 --patience 5 --lr 1e-3 --max-patches 128 "
                   "--word-pooling first")  # PIXEL's tagger, as these figures were made
TRANSFER_TASKS = {  # task -> (what it scores, its finetuning flags, where its score is, #17's goal for a pretrained model)
    "en-pos": ("UPOS accuracy on UD English EWT test", TRANSFER_EN_POS, ("test", "accuracy"), None),  # its goal: the subword model
    "vi-pos": ("UPOS accuracy on UD Vietnamese VTB test", TRANSFER_EN_POS.replace("en_ewt", "vi_vtb"), ("test", "accuracy"),
               0.823),  # the most-frequent-tag baseline
    "pcm-ner": ("Entity F1 on MasakhaNER Nigerian Pidgin test",
                "--task ner --train {data}/ner/pcm/train.txt --validation {data}/ner/pcm/dev.txt --test "
                "{data}/ner/pcm/test.txt --steps 1500 --eval-steps 100 --patience 5 --lr 1e-3 --max-patches 128 "
                "--word-pooling first",
                ("test", "f1"), 0.367),  # the most-frequent-tag baseline
    "sst2": ("Accuracy on SST-2 dev",
             "--task classify --train {data}/glue/SST-2/train.tsv --validation {data}/glue/SST-2/dev.tsv --steps 3000 "
             "--eval-steps 250 --patience 12 --lr 1e-4 --max-patches 128", ("validation", "accuracy"), 0.70),
}

RECOGNIZER = ("python scripts/recognizer_corpus.py --data {data} --output {runs}/recognizer-corpus.txt",
              "pixlm read train --corpus {runs}/recognizer-corpus.txt --output-dir {runs}/recognizer-s{seed} --steps 4500 "
              "--batch-size 32 --hidden-size 192 --head-size 128 --num-layers 3 --lr 2e-3 --validation-size 200 "
              "--logging-steps 100 --save-steps 500 --seed {seed}",
              "python benchmarks/recognizer.py --recognizer {runs}/recognizer-s{seed} --data {data} --tables 1 --sentences 500 "
              "--output {runs}/recognizer-s{seed}/cer.json")


def _recognizer_figure(treebank: str, language: str, goal: float) -> Figure:
    """scripts/train_default_recognizer.sh's training with each seed (seed 42 makes the shipped
    recognizer), scored by benchmarks/recognizer.py on 500 test sentences it never saw."""
    return Figure(f"Character error rate of the default recognizer's training on 500 {language} test sentences "
                  f"(UD {treebank}, continuous layout, never trained on; 26 minutes of one thread on a quiet core, 36 beside another run)",
                  RECOGNIZER, "{runs}/recognizer-s{seed}/cer.json", (treebank, "continuous", "cer"), goal=goal,
                  minutes_per_seed=38, lower_is_better=True)


JOINED_COPIES = 4  # --join-sentences of the kinds ending in -join; -join8 and such name theirs
SHUFFLED_COPIES = 2  # --shuffle-words of the kinds with -shuffle; -shuffle4 and such name theirs
MIXED_COPIES = 2  # --mix-words of the kinds with -mix; -mix4 and such name theirs

PRETRAINED_KINDS = {  # kind -> (its recipe, its pretrained models' folder name, minutes of one pretraining seed here)
    "seeded": ("cpu-reader", "pixel-pretrained", 81),
    "words": ("cpu-reader-words", "pixel-pretrained-words", 100),
}


KIND = re.compile(r"(?P<model>seeded|words|scratch)(?P<mean>-mean)?(?P<join>-join(?P<copies>\d*))?"
                  r"(?P<shuffle>-shuffle(?P<shuffled>\d*))?(?P<mix>-mix(?P<mixed>\d*))?(-(?P<patches>\d+)patches)?"
                  r"(-(?P<steps>\d+)steps)?")


def _transfer_figure(task: str, kind: str) -> Figure:
    """scripts/transfer.sh's finetuning of one task, seeded: from scratch, or the pixel model
    pretrained anew with each seed with the kind's recipe (PRETRAINED_KINDS) and finetuned with it.
    A kind ending in `-mean` finetunes a tagging task's words from the mean of their patches; in
    `-mean-join`, also on JOINED_COPIES joined copies of each training sentence (`-mean-join8`: 8);
    `-shuffle` after it, also on SHUFFLED_COPIES copies with the words shuffled (`-shuffle4`: 4);
    `-mix` after these, also on MIXED_COPIES copies of the training set with its words drawn across
    its sentences (`-mix4`: 4);
    `-256patches` next reads that many patches per text instead of the task's 128;
    `-3000steps` at the end finetunes for that many steps instead of the task's."""
    what, flags, key, goal = TRANSFER_TASKS[task]
    run = f"{{runs}}/{kind}-{task}-s{{seed}}"
    parts = KIND.fullmatch(kind)
    kind, join = parts["model"], parts["copies"] or (str(JOINED_COPIES) if parts["join"] else "")
    if parts["mean"]:
        flags = flags.replace("--word-pooling first", "--word-pooling mean")
        what += ", each word read from the mean of its patches"
    if join:
        flags += f" --join-sentences {join}"
        what += f", trained also on {join} copies of each training sentence joined to another"
    shuffled = parts["shuffled"] or (str(SHUFFLED_COPIES) if parts["shuffle"] else "")
    if shuffled:
        flags += f" --shuffle-words {shuffled}"
        what += f" and {shuffled} with its words shuffled"
    mixed = parts["mixed"] or (str(MIXED_COPIES) if parts["mix"] else "")
    if mixed:
        flags += f" --mix-words {mixed}"
        what += f", and on {mixed} copies of the training set with its words drawn across its sentences"
    if parts["patches"]:
        flags = flags.replace("--max-patches 128", f"--max-patches {parts['patches']}")
        what += f", {parts['patches']} patches per text"
    longer = 1.0  # how many times the task's steps it finetunes for
    if parts["steps"]:
        steps = re.search(r"--steps (\d+)", flags)[1]
        flags = flags.replace(f"--steps {steps} ", f"--steps {parts['steps']} ")
        what += f", {int(parts['steps']):,} finetuning steps instead of {int(steps):,}"
        longer = int(parts["steps"]) / int(steps)
    if kind == "scratch":
        return Figure(f"{what}, PIXEL tiny from scratch, finetuned as the pretrained one (scripts/transfer.sh)",
                      (f"pixlm finetune --model tiny --output-dir {run} --seed {{seed}} {flags}",),
                      f"{run}/all_results.json", key, minutes_per_seed=round((16 if task == "sst2" or join else 10) * longer))
    recipe, folder, minutes = PRETRAINED_KINDS[kind]
    model = f"{{runs}}/{folder}-s{{seed}}"
    pretrain = (TRANSFER_PRETRAIN.replace("--recipe cpu-reader ", f"--recipe {recipe} ")
                .replace("{runs}/pixel-pretrained ", f"{model} ") + " --seed {seed}")
    how = " (scripts/transfer.sh)" if recipe == "cpu-reader" else ""  # transfer.sh pretrains with cpu-reader only
    return Figure(f"{what}, PIXEL tiny pretrained with the {recipe} recipe with each seed (up to {minutes} minutes of one thread), "
                  f"then finetuned with it{how}",
                  (TRANSFER_CORPUS, pretrain, f"pixlm finetune --model {model} --output-dir {run} --seed {{seed}} {flags}"),
                  f"{run}/all_results.json", key, goal=goal,
                  minutes_per_seed=minutes + round((20 if task == "sst2" else 12) * longer))


def _subword_transfer_figure(joined_copies: int, steps: int = 1500, pretrain_steps: int = 4800) -> Figure:
    """The subword BERT tiny pretrained with MLM on the pixel models' pretraining text with each
    seed, then finetuned on UPOS en_ewt as they are (with `joined_copies`, as the `-join` kinds;
    with `steps` other than the task's 1,500, as the `-3000steps` kinds). `pretrain_steps`
    PIXEL_PRETRAIN_STEPS gives it the pixel model's steps (on one thread here, 85% of the pixel model's minutes)."""
    join = f" --join-sentences {joined_copies}" if joined_copies else ""
    pretrained = "bert-en-pretrained" + (f"-{pretrain_steps}steps" if pretrain_steps != 4800 else "")
    name = ("subword" + (f"{pretrain_steps}" if pretrain_steps != 4800 else "") + ("-join" if joined_copies else "")
            + (f"-{steps}steps" if steps != 1500 else ""))
    run = f"{{runs}}/{name}-en-pos-s{{seed}}"
    flags = TRANSFER_EN_POS.replace("--steps 1500 ", f"--steps {steps} ")
    pretrain_minutes = 56 if pretrain_steps == 4800 else round(pretrain_steps / 116)  # steps a minute, measured here
    pretraining = (f"{pretrain_steps:,} steps" + (", the pixel model's" if pretrain_steps == PIXEL_PRETRAIN_STEPS else "")
                   + f", {pretrain_minutes} minutes of one thread with another run beside")
    return Figure(
        "UPOS accuracy on UD English EWT test, subword BERT tiny pretrained with MLM on the same text with each seed "
        f"({pretraining}), then finetuned as the pixel models"
        + (f", trained also on {joined_copies} copies of each training sentence joined to another" if joined_copies
           else " (scripts/transfer.sh)")
        + (f", {steps:,} finetuning steps instead of 1,500" if steps != 1500 else ""),
        (TRANSFER_CORPUS,
         "pixlm baseline create --corpus {runs}/en-train.txt --output-dir {runs}/bert-en-s{seed} --preset tiny --seed {seed}",
         "pixlm baseline pretrain --model {runs}/bert-en-s{seed} --corpus {runs}/en-train.txt --output-dir "
         f"{{runs}}/{pretrained}-s{{seed}} --steps {pretrain_steps} --seed {{seed}}",
         f"pixlm finetune --model {{runs}}/{pretrained}-s{{seed}} --output-dir {run} --seed {{seed}} {flags}{join}"),
        f"{run}/all_results.json", ("test", "accuracy"),
        minutes_per_seed=pretrain_minutes + 9 + round((6 if joined_copies else 0) * steps / 1500))


FIGURES = {
    "pixelbert-vqa": Figure(
        "Pixel-BERT VQA accuracy on held-out synthetic scenes, after MLM pretraining (the README's commands)",
        (PIXELBERT_PRETRAIN,
         "pixlm vl vqa --model {runs}/pb-s{seed} --output-dir {runs}/pb-vqa-s{seed} --steps 3000 --lr 3e-4 --seed {seed}"),
        "{runs}/pb-vqa-s{seed}/all_results.json", ("validation", "vqa_accuracy"), goal=0.90, minutes_per_seed=12),
    "pixelbert-vqa-6000": Figure(
        "Pixel-BERT VQA accuracy on held-out synthetic scenes, after MLM pretraining, finetuned twice as long",
        (PIXELBERT_PRETRAIN,
         "pixlm vl vqa --model {runs}/pb-s{seed} --output-dir {runs}/pb-vqa6000-s{seed} --steps 6000 --lr 3e-4 --seed {seed}"),
        "{runs}/pb-vqa6000-s{seed}/all_results.json", ("validation", "vqa_accuracy"), goal=0.90, minutes_per_seed=20),
    "pixelbert-vqa-pretrain4000": Figure(
        "Pixel-BERT VQA accuracy on held-out synthetic scenes, after twice as much MLM pretraining (4,000 steps)",
        ("pixlm vl pretrain --output-dir {runs}/pb4000-s{seed} --pretraining-tasks mlm --steps 4000 --lr 3e-4 --seed {seed}",
         "pixlm vl vqa --model {runs}/pb4000-s{seed} --output-dir {runs}/pb4000-vqa-s{seed} --steps 6000 --lr 3e-4 --seed {seed}"),
        "{runs}/pb4000-vqa-s{seed}/all_results.json", ("validation", "vqa_accuracy"), goal=0.90, minutes_per_seed=16),
    "pixelbert-vqa-constant": Figure(
        "Pixel-BERT VQA accuracy on held-out synthetic scenes, after 4,000 MLM pretraining steps, the learning rates "
        "constant after warm-up (the README's commands)",
        ("pixlm vl pretrain --output-dir {runs}/pb4000-s{seed} --pretraining-tasks mlm --steps 4000 --lr 3e-4 --seed {seed}",
         "pixlm vl vqa --model {runs}/pb4000-s{seed} --output-dir {runs}/pb4000-vqa-const-s{seed} --steps 6000 --lr 3e-4 "
         "--decay-at none --seed {seed}"),
        "{runs}/pb4000-vqa-const-s{seed}/all_results.json", ("validation", "vqa_accuracy"), goal=0.90, minutes_per_seed=18),
    "pixelbert-retrieval": Figure(
        "Pixel-BERT caption -> image R@1 among 100 held-out scenes, after MLM pretraining and 1,500 retrieval steps",
        (PIXELBERT_PRETRAIN,
         "pixlm vl retrieval --model {runs}/pb-s{seed} --output-dir {runs}/pb-ret-s{seed} --steps 1500 --batch-size 8 "
         "--lr 3e-4 --seed {seed}"),
        "{runs}/pb-ret-s{seed}/all_results.json", ("validation", "image_r1"), goal=0.80, minutes_per_seed=14),
    "pixelbert-retrieval-constant": Figure(
        "Pixel-BERT caption -> image R@1 among 100 held-out scenes, after 4,000 MLM pretraining steps and 1,500 "
        "retrieval steps, the learning rates constant after warm-up",
        ("pixlm vl pretrain --output-dir {runs}/pb4000-s{seed} --pretraining-tasks mlm --steps 4000 --lr 3e-4 --seed {seed}",
         "pixlm vl retrieval --model {runs}/pb4000-s{seed} --output-dir {runs}/pb4000-ret-const-s{seed} --steps 1500 "
         "--batch-size 8 --lr 3e-4 --decay-at none --seed {seed}"),
        "{runs}/pb4000-ret-const-s{seed}/all_results.json", ("validation", "image_r1"), goal=0.80, minutes_per_seed=18),
    "pixelbert-itm": Figure(
        "Pixel-BERT held-out image-text matching accuracy after 2,000 steps of MLM + ITM pretraining",
        ("pixlm vl pretrain --output-dir {runs}/pb-both-s{seed} --steps 2000 --lr 3e-4 --seed {seed}",),
        "{runs}/pb-both-s{seed}/all_results.json", ("validation", "itm_accuracy"), goal=0.95, minutes_per_seed=7),
    "pixelbert-mlm": Figure(
        "Pixel-BERT held-out MLM accuracy after 2,000 pretraining steps on synthetic scenes",
        (PIXELBERT_PRETRAIN,), "{runs}/pb-s{seed}/all_results.json", ("validation", "mlm_accuracy"), minutes_per_seed=6),
    "upos-pixel": Figure(
        "UPOS accuracy on UD English EWT test, PIXEL tiny from scratch (words layout, 7,000 steps)",
        ("pixlm finetune --task pos --model tiny --train {data}/ud/en_ewt/train.conllu --validation "
         "{data}/ud/en_ewt/dev.conllu --test {data}/ud/en_ewt/test.conllu --output-dir {runs}/upos-pixel-s{seed} "
         "--steps 7000 --eval-steps 500 --patience 4 --batch-size 32 --lr 1e-3 --max-patches 128 --word-pooling first --seed {seed}",),
        "{runs}/upos-pixel-s{seed}/all_results.json", ("test", "accuracy"), goal=0.90, minutes_per_seed=35),
    "upos-subword": Figure(
        "UPOS accuracy on UD English EWT test, subword BERT tiny from scratch (WordPiece 8,000 on the training text)",
        ("pixlm baseline create --corpus {data}/ud/en_ewt/train.conllu --output-dir {runs}/upos-bert-s{seed} "
         "--preset tiny --seed {seed}",
         "pixlm finetune --task pos --model {runs}/upos-bert-s{seed} --train {data}/ud/en_ewt/train.conllu --validation "
         "{data}/ud/en_ewt/dev.conllu --test {data}/ud/en_ewt/test.conllu --output-dir {runs}/upos-subword-s{seed} "
         "--steps 6000 --eval-steps 500 --patience 4 --batch-size 32 --lr 1e-3 --seed {seed}"),
        "{runs}/upos-subword-s{seed}/all_results.json", ("test", "accuracy"), minutes_per_seed=20),
    "transfer-upos-pretrained": Figure(
        "UPOS accuracy on UD English EWT test, PIXEL tiny pretrained with the cpu-reader recipe (45 minutes of one "
        "thread, once for all seeds; scripts/transfer.sh), then finetuned 1,500 steps",
        (TRANSFER_CORPUS, TRANSFER_PRETRAIN,
         "pixlm finetune --model {runs}/pixel-pretrained --output-dir {runs}/pretrained-en-pos-s{seed} --seed {seed} "
         + TRANSFER_EN_POS),
        "{runs}/pretrained-en-pos-s{seed}/all_results.json", ("test", "accuracy"), minutes_per_seed=8),
    "transfer-upos-scratch": Figure(
        "UPOS accuracy on UD English EWT test, PIXEL tiny from scratch, finetuned as the pretrained one (1,500 steps)",
        ("pixlm finetune --model tiny --output-dir {runs}/scratch-en-pos-s{seed} --seed {seed} " + TRANSFER_EN_POS,),
        "{runs}/scratch-en-pos-s{seed}/all_results.json", ("test", "accuracy"), minutes_per_seed=8),
    "transfer-en-pos-subword": _subword_transfer_figure(joined_copies=0),
    "transfer-en-pos-subword-join": _subword_transfer_figure(joined_copies=JOINED_COPIES),
    "transfer-en-pos-subword-join-3000steps": _subword_transfer_figure(joined_copies=JOINED_COPIES, steps=3000),
    "transfer-en-pos-subword-join-6000steps": _subword_transfer_figure(joined_copies=JOINED_COPIES, steps=6000),
    f"transfer-en-pos-subword{PIXEL_PRETRAIN_STEPS}-join-3000steps": _subword_transfer_figure(
        joined_copies=JOINED_COPIES, steps=3000, pretrain_steps=PIXEL_PRETRAIN_STEPS),
    **{f"transfer-{task}-{kind}": _transfer_figure(task, kind) for task in TRANSFER_TASKS
       for kind in ("seeded", "words", "scratch")
       if (task, kind) != ("en-pos", "scratch")},  # transfer-upos-scratch is that one
    **{f"transfer-{task}-{kind}": _transfer_figure(task, kind) for task in TRANSFER_TASKS if task != "sst2"
       for kind in ("words-mean", "scratch-mean", "words-mean-join", "scratch-mean-join",
                    "words-mean-join8", "scratch-mean-join8",
                    "words-mean-join-3000steps", "scratch-mean-join-3000steps",
                    "words-mean-join-shuffle", "scratch-mean-join-shuffle",
                    "words-mean-join-mix", "scratch-mean-join-mix",
                    "words-mean-join-mix4", "scratch-mean-join-mix4",
                    "words-mean-join-256patches", "scratch-mean-join-256patches",
                    "words-mean-join-256patches-3000steps", "scratch-mean-join-256patches-3000steps",
                    "words-mean-join-256patches-6000steps")},  # tagging with --word-pooling mean
    "recognizer-cer-en": _recognizer_figure("en_ewt", "English", 0.005),
    "recognizer-cer-vi": _recognizer_figure("vi_vtb", "Vietnamese", 0.015),
    "pixelgpt-readback": Figure(
        "PixelGPT tiny (mono layout, binary pixel targets, 2,000 steps on Python's documentation): character accuracy "
        "of its 8 generated patches read back, on 50 held-out sentences",
        ("python scripts/stdlib_split.py --output {runs}/stdlib-train.txt --held-out {runs}/stdlib-held-out.txt",
         "pixlm pretrain --model-type pixelgpt --model tiny --corpus {runs}/stdlib-train.txt --validation "
         "{runs}/stdlib-held-out.txt --steps 2000 --batch-size 32 --lr 1e-3 --eval-steps 500 --save-steps 1000 "
         "--reconstruction-steps 1000 --report-to none --model-arg num_channels=1 --model-arg pixel_target=binary "
         "--renderer-arg max_patches=128 --renderer-arg layout=mono --seed {seed} --output-dir {runs}/gpt-mono-s{seed}",
         "python scripts/pixelgpt_read_eval.py {runs}/gpt-mono-s{seed} {runs}/stdlib-held-out.txt "
         "--output {runs}/gpt-mono-s{seed}/read-eval.json"),
        "{runs}/gpt-mono-s{seed}/read-eval.json", ("reader_on_generated_patches",), minutes_per_seed=15),
}
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("PIXLM_DATA", os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data")))


def value(figure: Figure, runs: str, seed: int) -> float | None:
    path = figure.results.format(runs=runs, seed=seed)
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    for key in figure.key:
        data = data[key]
    return float(data)


def _threads() -> str:
    return os.environ.get("OMP_NUM_THREADS") or f"unset (torch's default: {os.cpu_count()} cores)"


def _cpu() -> str:
    """The processor's model name (Linux), else the architecture: kernels and their sums differ by CPU."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.machine()


def _meta(runs: str) -> dict:
    path = os.path.join(runs, "figures.json")
    if not os.path.isfile(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def record(runs: str, name: str, seed: int) -> None:
    """Note in RUNS/figures.json the threads and machine of a seed about to run. Seeds may run
    side by side, each in its own process: the file is read, changed and replaced under a lock,
    so that no process's record overwrites another's."""
    os.makedirs(runs, exist_ok=True)
    path = os.path.join(runs, "figures.json")
    with open(path + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        meta = _meta(runs)
        meta.setdefault(name, {})[str(seed)] = {"threads": _threads(), "machine": platform.node(), "cpu": _cpu()}
        with open(f"{path}.{os.getpid()}.tmp", "w", encoding="utf-8") as f:
            json.dump(meta, f, indent=2)
        os.replace(f"{path}.{os.getpid()}.tmp", path)  # never half-written for a reader without the lock


def run(figure: Figure, runs: str, seeds: list[int], name: str) -> None:
    for seed in seeds:
        if value(figure, runs, seed) is not None:
            continue
        record(runs, name, seed)
        for command in figure.commands:
            command = command.format(runs=runs, seed=seed, data=DATA)
            argv = shlex.split(command)
            if is_complete(made(argv)):
                continue  # a step another figure (or an earlier try) already made
            print(f"$ {command}", flush=True)
            if argv[0] == "pixlm":  # the pixlm of this Python, whatever PATH says
                argv = [sys.executable, "-m", "pixlm", *argv[1:]]
            elif argv[0] == "python":  # this Python; scripts/ of this repository
                argv = [sys.executable, os.path.join(os.path.dirname(HERE), argv[1]), *argv[2:]]
            subprocess.run(argv, check=True)


def is_complete(path: str) -> bool:
    """Whether a command's output file shows it finished: `pixlm pretrain` writes its
    all_results.json at step 0 with "complete": false, so that a resumed run can report its start."""
    if not os.path.isfile(path):
        return False
    if not path.endswith(".json"):
        return True
    with open(path, encoding="utf-8") as f:
        try:
            return json.load(f).get("complete", True) is not False
        except (json.JSONDecodeError, AttributeError):
            return False


def made(argv: list[str]) -> str:
    """The file that shows a command has run: all_results.json in its --output-dir, or its --output."""
    for flag, inside in (("--output-dir", "all_results.json"), ("--output", "")):
        if flag in argv:
            return os.path.join(argv[argv.index(flag) + 1], inside) if inside else argv[argv.index(flag) + 1]
    raise ValueError(f"figure command {' '.join(argv)!r} has no --output-dir or --output")


def _rerun_threads(threads: list[str]) -> str:
    """What the rerun command sets so that it runs as the recorded seeds did: their thread
    count when they all ran with the same OMP_NUM_THREADS (other threads, other sums)."""
    return f"OMP_NUM_THREADS={threads[0]} " if len(threads) == 1 and threads[0].isdigit() else ""


def _against_goal(figure: Figure, worst: float, every: str) -> str:
    """Whether the worst seed meets the figure's goal (a ceiling for an error rate, else a floor)."""
    floor = f"{figure.goal:.2f}" if round(figure.goal, 2) == figure.goal else f"{figure.goal:.3f}"  # 0.823 is not 0.82
    goal = f"at most {figure.goal:.3f}" if figure.lower_is_better else floor
    met = worst <= figure.goal if figure.lower_is_better else worst >= figure.goal
    return f"{goal}: met by {every}" if met else f"{goal}: not met (worst seed {worst:.4f})"


def table(name: str, figure: Figure, runs: str, seeds: list[int], figure_name: str | None = None) -> str:
    values = {seed: value(figure, runs, seed) for seed in seeds}
    done = {s: v for s, v in values.items() if v is not None}
    meta = _meta(runs)
    recorded = meta.get(name) or meta.get(figure_name or name, {})  # a block of another name shows the figure's runs
    threads = sorted({recorded[str(s)]["threads"] for s in done if str(s) in recorded}) or [_threads() + " (not recorded)"]
    unrecorded = [str(s) for s in done if str(s) not in recorded]
    if unrecorded and len(unrecorded) < len(done):  # say which seeds the recorded threads leave out
        threads[-1] += f" (seed{'s' * (len(unrecorded) > 1)} {', '.join(unrecorded)}: not recorded)"
    cpus = sorted({recorded[str(s)]["cpu"] for s in done if "cpu" in recorded.get(str(s), {})}) or [
        _cpu() + " (where this table was made; the runs did not record theirs)"]
    lines = [f"<!-- figure:{name} -->", f"**{figure.description}**", ""]
    lines += ["| seeds | mean | range | " + " | ".join(f"seed {s}" for s in seeds) + " | goal |",
              "|---|---|---|" + "---|" * len(seeds) + "---|"]
    if done:
        mean, low, high = statistics.mean(done.values()), min(done.values()), max(done.values())
        every = "every seed" if len(done) == len(seeds) else f"the {len(done)} seed{'s' * (len(done) > 1)} run so far"
        worst = high if figure.lower_is_better else low
        met = "" if figure.goal is None else _against_goal(figure, worst, every)
        cells = [f"{values[s]:.4f}" if values[s] is not None else "not run" for s in seeds]
        lines.append(f"| {len(done)} of {len(seeds)} | {mean:.4f} | {low:.4f}-{high:.4f} | " + " | ".join(cells) + f" | {met} |")
    else:
        lines.append(f"| 0 of {len(seeds)} | - | - | " + " | ".join("not run" for _ in seeds) + " | |")
    lines += ["", "Commands (per seed):", "", "```bash"]
    lines += [c.format(runs="RUNS", seed="SEED", data="$PIXLM_DATA") for c in figure.commands]
    block = f" --block {name}" if figure_name not in (None, name) else ""
    lines += ["```", "", f"Threads: OMP_NUM_THREADS={', '.join(threads)}; machine: {' / '.join(cpus)}, {os.cpu_count()} cores, "
              f"Python {platform.python_version()}, {platform.system()}. Rerun: `{_rerun_threads(threads)}python scripts/figures.py "
              f"run {figure_name or name} "
              f"--seeds {' '.join(map(str, seeds))}{block}` (about {figure.minutes_per_seed * len(seeds)} minutes here).",
              f"<!-- /figure:{name} -->"]
    return "\n".join(lines)


def write(path: str, name: str, block: str) -> None:
    text = ""
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
    start, end = f"<!-- figure:{name} -->", f"<!-- /figure:{name} -->"
    if start in text and end in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["list", "run", "table"])
    parser.add_argument("figure", nargs="?", choices=list(FIGURES))
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 1, 2], help="seeds (default 42 1 2)")
    parser.add_argument("--runs", default="runs/figures", help="where the runs go (default runs/figures)")
    parser.add_argument("--write", metavar="FILE", help="replace the figure's block in FILE (e.g. docs/results.md)")
    parser.add_argument("--block", metavar="NAME", help="the block's name in FILE and the run's record (default: the "
                                                        "figure's; e.g. FIGURE-default-threads beside a one-thread run)")
    args = parser.parse_args(argv)
    if args.action == "list":
        for name, figure in FIGURES.items():
            print(f"{name}: {figure.description} (about {figure.minutes_per_seed} min per seed here)")
        return 0
    if not args.figure:
        parser.error("name a figure (see: list)")
    figure = FIGURES[args.figure]
    if args.action == "run":
        print(f"{args.figure}: {len(args.seeds)} seeds, about {figure.minutes_per_seed * len(args.seeds)} minutes here",
              file=sys.stderr)
        run(figure, args.runs, args.seeds, args.block or args.figure)
    block = table(args.block or args.figure, figure, args.runs, args.seeds, args.figure)
    print(block)
    if args.write:
        write(args.write, args.block or args.figure, block)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
