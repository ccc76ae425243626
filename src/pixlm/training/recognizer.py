"""Training a line recognizer on strips rendered on the fly (`pixlm read train`).

    from pixlm.training import RecognizerTrainConfig, train_recognizer
    train_recognizer(RecognizerTrainConfig(corpus="train.txt", output_dir="runs/reader"))

The corpus's lines are cut into pieces and drawn in a mix of layouts, some strips are random
words (so every character of the charset is seen), and the collator degrades strips as models'
outputs are degraded. The folder written holds the recognizer, the renderer config it reads,
and all_results.json with the character error rate on held-out lines of the corpus, drawn
clean in each layout.
"""

from __future__ import annotations

import random
import time
import unicodedata
from dataclasses import asdict

import numpy as np
from transformers import Trainer

from ..data.corpus import load_corpus
from ..data.recognition import Degradation, RecognitionCollator, RecognitionStrips, parse_layout_mix
from ..evaluation.metrics import edit_distance
from ..files import check_writable, read_text
from ..models.recognizer import PixelRecognizer, RecognizerConfig
from ..models.recognizer.modeling_recognizer import flushed_denormals
from ..models.recognizer.reading import read_strips
from ..render import RendererConfig, TextRenderer
from ..render.charsets import DEFAULT_CHARSET, normalize_text
from .config import RecognizerTrainConfig
from .run import resume_checkpoint, seed_everything, training_arguments, write_model_card, write_results


def corpus_charset(texts: list[str], base: str = DEFAULT_CHARSET) -> str:
    """`base` and then every other printable, non-space character of `texts`, in NFC, most
    frequent first."""
    counts: dict[str, int] = {}
    for t in texts:
        for c in unicodedata.normalize("NFC", t):
            counts[c] = counts.get(c, 0) + 1
    extra = [c for c, _ in sorted(counts.items(), key=lambda kv: -kv[1])
             if c not in base and not c.isspace() and unicodedata.category(c)[0] != "C"]
    return base + "".join(extra)


def choose_charset(spec: str, texts: list[str]) -> str:
    if spec == "default":
        return DEFAULT_CHARSET
    if spec == "corpus":
        return corpus_charset(texts)
    chars = "".join(c for c in unicodedata.normalize("NFC", read_text(spec)) if not c.isspace())
    if not chars:
        raise ValueError(f"charset file {spec!r} holds no characters")
    return "".join(dict.fromkeys(chars))


def split_corpus(texts: list[str], held_out: int, seed: int) -> tuple[list[str], list[str]]:
    """(training lines, `held_out` lines kept aside), shuffled by `seed`."""
    lines = [t for t in (normalize_text(t) for t in texts) if t]
    if len(lines) <= held_out:
        raise ValueError(f"the corpus has {len(lines)} lines: too few to hold out {held_out} (lower --validation-size)")
    random.Random(seed).shuffle(lines)
    return lines[held_out:], lines[:held_out]


def clean_strips(renderer: TextRenderer, texts: list[str], layout: str) -> tuple[list[np.ndarray], list[str]]:
    """`texts` drawn clean in `layout`, each cut to the words that fit: the strips' text patches
    as (p, W) gray in [0, 1], and the text each holds."""
    strips, refs = [], []
    for text in texts:
        rendered = renderer(text, layout=layout)
        words = text.split(" ")
        while rendered.truncated and len(words) > 1:
            words = words[: len(words) * 3 // 4]
            rendered = renderer(" ".join(words), layout=layout)
        pixels = np.asarray(rendered.pixel_values, dtype=np.float32)[:, : rendered.num_text_patches * renderer.config.patch_size]
        strips.append((pixels.mean(-1) if pixels.ndim == 3 else pixels) / 255.0)
        refs.append(" ".join(words))
    return strips, refs


def character_error_rate(model: PixelRecognizer, renderer: TextRenderer, texts: list[str], layout: str) -> dict:
    """Render `texts` clean in `layout` (`clean_strips`), read them back: CER (edit distance
    over reference characters), the same with spaces ignored (`bigrams` and `words` leave no
    gap after a word that fills its last patch), lines read exactly, and strips per second."""
    strips, refs = clean_strips(renderer, texts, layout)
    started = time.perf_counter()
    readings = read_strips(model, strips)
    seconds = time.perf_counter() - started
    errors = sum(edit_distance(r.text, ref) for r, ref in zip(readings, refs))
    exact = sum(r.text == ref for r, ref in zip(readings, refs))
    spaceless = sum(edit_distance(r.text.replace(" ", ""), ref.replace(" ", "")) for r, ref in zip(readings, refs))
    return {"cer": errors / max(1, sum(len(r) for r in refs)),
            "cer_without_spaces": spaceless / max(1, sum(len(r.replace(" ", "")) for r in refs)),
            "exact_lines": exact / len(refs), "lines": len(refs), "strips_per_second": len(refs) / seconds}


def train_recognizer(cfg: RecognizerTrainConfig) -> dict:
    """Train (or resume) a recognizer as `cfg` says; returns the results written."""
    cfg.validate()
    check_writable(cfg.output_dir, "--output-dir")
    texts = [t for path in cfg.corpus_paths() for t in load_corpus(path)["text"]]
    if cfg.validation:
        train_texts = [t for t in (normalize_text(t) for t in texts) if t]
        held_out = [t for t in (normalize_text(t) for t in load_corpus(cfg.validation)["text"]) if t][: cfg.validation_size]
    else:
        train_texts, held_out = split_corpus(texts, cfg.validation_size, cfg.seed)
    renderer = TextRenderer(RendererConfig.from_pretrained(cfg.renderer) if cfg.renderer else RendererConfig())
    layouts = parse_layout_mix(cfg.layouts)
    charset = choose_charset(cfg.charset, train_texts)
    seed_everything(cfg.seed)
    model = PixelRecognizer(RecognizerConfig(charset=charset, patch_size=renderer.config.patch_size,
                                             hidden_size=cfg.hidden_size, num_layers=cfg.num_layers,
                                             head_size=cfg.head_size))
    args = training_arguments(
        cfg.output_dir, max_steps=cfg.max_steps, per_device_train_batch_size=cfg.batch_size,
        learning_rate=cfg.learning_rate, lr_scheduler_type="cosine", warmup_steps=int(cfg.warmup_fraction * cfg.max_steps),
        weight_decay=0.01, max_grad_norm=1.0, logging_steps=cfg.logging_steps, save_steps=cfg.save_steps,
        save_total_limit=2, dataloader_num_workers=cfg.num_workers, report_to=cfg.report_to, seed=cfg.seed,
        disable_tqdm=not cfg.progress,
    )
    trainer = Trainer(
        model=model, args=args,
        train_dataset=RecognitionStrips(train_texts, renderer, layouts, cfg.random_text, seed=cfg.seed, charset=charset),
        data_collator=RecognitionCollator(charset, Degradation(), renderer.config.patch_size, cfg.seed),
    )
    started = time.perf_counter()
    resumed_from = resume_checkpoint(cfg.output_dir, cfg.resume)
    # Rare characters' gradients and optimizer moments sink into denormal floats as training
    # goes on, which x86 computes many times slower: the default recognizer's steps slowed from
    # 2.9 to 1.95 a second over its run; flushed to zero they stay at 2.7-3.1, with the same
    # weights bit for bit (37 -> 26 minutes).
    with flushed_denormals():
        trainer.train(resume_from_checkpoint=resumed_from)
    train_seconds = time.perf_counter() - started
    model.eval()
    scores = {layout: character_error_rate(model, renderer, held_out, layout) for layout in layouts}
    results = {"train_seconds": round(train_seconds, 1), "steps": trainer.state.global_step, "resumed_from": resumed_from,
               "charset_size": len(charset),
               "training_lines": len(train_texts), "held_out_lines": len(held_out), "validation": scores,
               "config": asdict(cfg)}
    trainer.save_model(cfg.output_dir)
    renderer.config.save_pretrained(cfg.output_dir)
    write_results(cfg.output_dir, results)
    write_model_card(cfg.output_dir, title="pixlm line recognizer",
                     summary=f"Reads strips drawn by the renderer in this folder ({', '.join(layouts)}) back as text; "
                             f"{len(charset)} characters.",
                     family="recognizer", data={"corpus": cfg.corpus},
                     metrics={f"cer_{layout}": s["cer"] for layout, s in scores.items()},
                     usage="import pixlm\npixlm.read(\"strip.png\", recognizer=\"THIS_FOLDER\").text")
    return results
