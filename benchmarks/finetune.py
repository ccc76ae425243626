"""Finetuning speed: dynamic length and length grouping against always running 529 patches.

    python benchmarks/finetune.py [--data ../shared/data] [--sizes tiny base] [--batches 3]

One training step (forward, backward, AdamW) of PIXEL's sequence classifier on SST-2 dev
sentences, and of its token classifier on UD en_ewt dev sentences in the `words` layout, timed
three ways in the same run: every batch padded to the full 529 patches (what a fixed-size
model does); batches cut to their longest text (dynamic length) drawn at random; and batches
of similar lengths (length grouping, as `pixlm finetune` does) cut to their longest text.
Batches are rendered and collated before timing: the table is the model's time.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import time
from pathlib import Path


def batches(examples, collate, batch_size: int, count: int, grouped: bool, seed: int = 0):
    rng = random.Random(seed)
    order = list(range(len(examples)))
    rng.shuffle(order)
    if grouped:  # mega-batches of 50 batches, sorted by length inside, as LengthGroupedSampler
        mega = batch_size * 50
        order = [i for k in range(0, len(order), mega) for i in sorted(order[k : k + mega], key=lambda i: -examples[i]["length"])]
        chunks = [order[k : k + batch_size] for k in range(0, len(order), batch_size)]
        rng.shuffle(chunks)
    else:
        chunks = [order[k : k + batch_size] for k in range(0, len(order), batch_size)]
    return [collate([examples[i] for i in c]) for c in chunks[:count]]


def pad_to(batch: dict, patches: int) -> dict:
    import torch

    px, mask = batch["pixel_values"], batch["attention_mask"]
    extra = patches - mask.shape[1]
    out = dict(batch)
    out["pixel_values"] = torch.nn.functional.pad(px, (0, extra * 16), value=1.0)
    out["attention_mask"] = torch.nn.functional.pad(mask, (0, extra))
    if "labels" in batch and batch["labels"].dim() == 2:
        out["labels"] = torch.nn.functional.pad(batch["labels"], (0, extra), value=-100)
    return out


def step_time(model, batch_list) -> float:
    import torch

    opt = torch.optim.AdamW(model.parameters(), lr=1e-5)
    model.train()

    def step(b):
        model(**b).loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    step(batch_list[0])  # warm-up
    start = time.perf_counter()
    for b in batch_list:
        step(b)
    return (time.perf_counter() - start) / len(batch_list)


def main() -> None:
    import torch

    from pixlm.data import PixelClassificationCollator, PixelTokenClassificationCollator
    from pixlm.data.readers import read_conllu, read_glue
    from pixlm.models.pixel import PixelConfig, PixelForSequenceClassification, PixelForTokenClassification
    from pixlm.render import TextRenderer
    from pixlm.training.tasks import text_length

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    shared = Path(__file__).resolve().parents[2] / "shared" / "data"
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("PIXLM_DATA", shared)))
    ap.add_argument("--sizes", nargs="+", default=["tiny", "base"])
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--batches", type=int, default=3, help="timed batches per mode (default 3)")
    args = ap.parse_args()
    torch.manual_seed(0)

    sst = [{**e, "length": text_length(e)} for e in read_glue("SST-2", args.data / "glue" / "SST-2" / "dev.tsv")]
    ud = [{"words": s.words, "tags": [t.upos for t in s.tokens]} for s in read_conllu(args.data / "ud" / "en_ewt" / "dev.conllu")]
    ud = [{**e, "length": text_length(e)} for e in ud]
    tags = sorted({t for e in ud for t in e["tags"]})
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__} ({torch.get_num_threads()} threads)")
    print(f"SST-2 dev: {len(sst)} sentences; en_ewt dev: {len(ud)} sentences; batch {args.batch_size}\n")
    print("| size | task | batches | patches per example (mean) | step (s) | examples/s | vs 529 patches |")
    print("|---|---|---|---|---|---|---|")
    for size in args.sizes:
        for task in ("SST-2", "POS (words layout)"):
            if task == "SST-2":
                renderer = TextRenderer()
                collate = PixelClassificationCollator(renderer, 3, {"0": 0, "1": 1})
                model = PixelForSequenceClassification(PixelConfig.from_preset(size, num_labels=2))
                data = sst
            else:
                renderer = TextRenderer(layout="words")
                collate = PixelTokenClassificationCollator(renderer, 3, {t: i for i, t in enumerate(tags)})
                model = PixelForTokenClassification(PixelConfig.from_preset(size, num_labels=len(tags)))
                data = ud
            random_batches = batches(data, collate, args.batch_size, args.batches, grouped=False)
            grouped_batches = batches(data, collate, args.batch_size, args.batches, grouped=True)
            modes = [
                ("always 529 patches", [pad_to(b, 529) for b in random_batches]),
                ("dynamic length", random_batches),
                ("dynamic length + length grouping", grouped_batches),
            ]
            reference = None
            for name, bl in modes:
                seconds = step_time(model, bl)
                eps = args.batch_size / seconds
                reference = reference or eps
                mean_patches = sum(b["attention_mask"].shape[1] for b in bl) / len(bl)
                print(f"| {size} | {task} | {name} | {mean_patches:.0f} | {seconds:.3f} | {eps:.1f} | {eps / reference:.1f}x |")


if __name__ == "__main__":
    main()
