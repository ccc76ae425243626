"""`pixlm quickstart`: a tiny PIXEL trained on text that ships with Python, in minutes on a CPU."""

from __future__ import annotations

import os
import random
import re
import time
from pydoc_data.topics import topics

from .pretraining import PretrainConfig, pretrain

QUICKSTART_STEPS = 1500


def stdlib_corpus() -> list[str]:
    """Sentences from Python's own documentation topics (`pydoc_data.topics`, in every CPython)."""

    sentences: list[str] = []
    for topic in sorted(topics):
        for para in re.split(r"\n\s*\n", topics[topic]):
            para = re.sub(r"\s+", " ", para).strip()
            for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", para):
                letters = sum(c.isalpha() for c in s)
                if 30 <= len(s) <= 200 and letters > 0.6 * len(s) and not s.startswith((">>>", "...")):
                    sentences.append(s)
    return list(dict.fromkeys(sentences))


def schedule(max_steps: int) -> dict[str, int]:
    """How often a quickstart of `max_steps` evaluates, checkpoints and logs."""
    return {"eval_steps": max(1, max_steps // 5), "save_steps": max(1, max_steps // 3),
            "logging_steps": max(1, max_steps // 50)}


def quickstart(
    output_dir: str = "pixlm-quickstart",
    max_steps: int = QUICKSTART_STEPS,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    held_out: int = 128,
    seed: int = 0,
    span_masking: bool = True,
    layout: str | None = None,
    recipe: str = "cpu-reader-mono",
    model_overrides: dict | None = None,
    progress: bool = True,
) -> dict:
    """Train a tiny PIXEL (grayscale, 128 patches, no dropout) on `stdlib_corpus()` with
    `recipe`'s settings (`pixlm.training.recipes`: `cpu-reader-mono`, the mono layout with single
    hidden patches, the character head on the patches the encoder sees and the decoder's local
    bias, the nearest to reading in minutes; `cpu-reader`, PIXEL's objective with the character
    head; `cpu-reader-words`, the same in the words layout; `cpu-tiny`, PIXEL's objective alone),
    rendered in `layout` (`continuous` as PIXEL, `words`, `bigrams` or `mono`; None: the
    recipe's, else continuous). `pixlm quickstart` gives `max_steps` as fit its 10 minutes.

    Writes the checkpoint, `loss_curve.png` and reconstructions from the start and the end of
    training into `output_dir`, and returns `pretrain`'s results with the run's wall time.
    """

    os.makedirs(output_dir, exist_ok=True)
    texts = stdlib_corpus()
    random.Random(seed).shuffle(texts)
    train_path = os.path.join(output_dir, "corpus-train.txt")
    held_path = os.path.join(output_dir, "corpus-held-out.txt")
    with open(train_path, "w", encoding="utf-8") as f:
        f.write("\n".join(texts[held_out:]) + "\n")
    with open(held_path, "w", encoding="utf-8") as f:
        f.write("\n".join(texts[:held_out]) + "\n")
    cfg = PretrainConfig(
        corpus=train_path,
        validation=held_path,
        output_dir=output_dir,
        model="tiny",
        recipe=recipe,
        model_overrides={"max_patches": 128, **(model_overrides or {})},  # positions for the 128 patches it renders
        span_masking=span_masking,
        renderer_overrides={"layout": layout} if layout else {},
        max_steps=max_steps,
        batch_size=batch_size,
        learning_rate=learning_rate,
        **schedule(max_steps),
        reconstruction_steps=0,
        seed=seed,
        resume=False,
        progress=progress,
    )
    start = time.perf_counter()
    results = pretrain(cfg)
    results["wall_seconds"] = time.perf_counter() - start
    return results
