"""Train Pixel-BERT's VQA head from scratch on chosen question types of the synthetic scenes
and print held-out accuracy as it goes, per kind and on training questions, optionally with a
linear probe of each shape's colour from its cell's visual token: the diagnostic behind
docs/results.md's account of what VQA needed (which kinds of question the model learns, and when).

    python scripts/pixelbert_question_types.py --types "what colour" --steps 3000 --lr 3e-4
    python scripts/pixelbert_question_types.py --model runs/pixelbert/pretrain-mlm --probe --eval-every 500

A plain loop (SGD for the CNN, AdamW for the transformer, constant rates), not the Trainer:
it isolates the model and the data from the schedule.
"""

from __future__ import annotations

import argparse
import random
import time

import torch
import torch.nn.functional as F

from pixlm.data import vl_collators as vc
from pixlm.data.images import image_key
from pixlm.data.samplers import ImageGroupedSampler
from pixlm.data.scenes import COLOURS, QUADRANTS, make_scenes, scene_questions
from pixlm.models import pixelbert as pb
from pixlm.training.pixelbert import PixelBertRunConfig, _tokenizer

KINDS = ("how many", "what colour", "what size", "what shape", "is there")


def questions(scenes, kinds, seed: int) -> list[dict]:
    rng = random.Random(seed)
    return [{"image": s, "question": q, "answers": [a] * 10}
            for s in scenes for q, a in scene_questions(s, rng) if q.startswith(tuple(kinds))]


def grouped_batches(examples: list[dict], size: int, seed: int):
    """Endless batches in ImageGroupedSampler's order (epoch after epoch)."""
    sampler = ImageGroupedSampler([image_key(e["image"]) for e in examples], seed)
    epoch, batch = 0, []
    while True:
        sampler.set_epoch(epoch)
        for i in sampler:
            batch.append(examples[i])
            if len(batch) == size:
                yield batch
                batch = []
        epoch += 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--types", default=",".join(KINDS), help=f"comma-separated question starts (default all: {', '.join(KINDS)})")
    ap.add_argument("--steps", type=int, default=3000, help="training steps of 32 questions (default 3000)")
    ap.add_argument("--lr", type=float, default=3e-4, help="AdamW learning rate of the transformer (default 3e-4)")
    ap.add_argument("--cnn-lr", type=float, default=1e-2, help="SGD learning rate of the CNN (default 1e-2)")
    ap.add_argument("--model", metavar="DIR", help="start from this Pixel-BERT checkpoint and its tokenizer (default: the tiny preset)")
    ap.add_argument("--layers", type=int, default=4, help="transformer layers of a new model (default 4, as the tiny preset)")
    ap.add_argument("--eval-every", type=int, default=1000, help="steps between held-out evaluations (default 1000)")
    ap.add_argument("--scenes", type=int, default=3000, help="training scenes (default 3000)")
    ap.add_argument("--dropout", type=float, default=0.1, help="dropout of the transformer (default 0.1, BERT's)")
    ap.add_argument("--group-by-image", action="store_true",
                    help="batches of whole images' questions (each image through the CNN once) instead of random questions")
    ap.add_argument("--probe", action="store_true", help="also report a linear probe of each shape's colour from its visual token")
    ap.add_argument("--no-visual-positions", action="store_true",
                    help="a new model without row and column embeddings on the visual tokens (the paper's; the tiny preset has them)")
    ap.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = ap.parse_args()
    kinds = [k.strip() for k in args.types.split(",") if k.strip()]
    if not kinds or any(k not in KINDS for k in kinds):
        raise SystemExit(f"--types must be among: {', '.join(KINDS)}")
    torch.manual_seed(args.seed)

    tokenizer = _tokenizer(PixelBertRunConfig(task="vqa", output_dir="unused", model=args.model or "tiny"), [])
    train = questions(make_scenes(args.scenes, seed=42, size=128), kinds, 0)
    held_out = questions(make_scenes(200, seed=9, size=128), kinds, 1)
    labels = sorted({e["answers"][0] for e in train})
    label2id = {a: i for i, a in enumerate(labels)}
    head = dict(num_labels=len(labels), id2label=dict(enumerate(labels)), label2id=label2id,
                hidden_dropout_prob=args.dropout, attention_probs_dropout_prob=args.dropout)
    if args.model:
        model = pb.PixelBertForQuestionAnswering.from_pretrained(args.model, **head)
    else:
        model = pb.PixelBertForQuestionAnswering(pb.PixelBertConfig.from_preset(
            "tiny", vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, num_hidden_layers=args.layers,
            visual_position_embeddings=not args.no_visual_positions, **head))
    config = model.config
    collate = vc.PixelBertVQACollator.for_model(tokenizer, config, answer2id=label2id, seed=args.seed)
    cnn = [p for n, p in model.named_parameters() if ".backbone." in n]
    rest = [p for n, p in model.named_parameters() if ".backbone." not in n]
    optimizers = [torch.optim.SGD(cnn, lr=args.cnn_lr, momentum=0.9, weight_decay=5e-4),
                  torch.optim.AdamW(rest, lr=args.lr, weight_decay=0.01)]

    @torch.no_grad()
    def accuracy(examples: list[dict]) -> tuple[float, dict[str, float]]:
        """Exact-match accuracy overall and per question kind."""
        model.eval()
        right = {k: [0, 0] for k in kinds}
        for k in range(0, len(examples), 64):
            chunk = examples[k : k + 64]
            batch = {key: v for key, v in collate(chunk).items() if key != "labels"}
            for i, e in zip(model(**batch).logits.argmax(-1).tolist(), chunk):
                counts = right[next(q for q in kinds if e["question"].startswith(q))]
                counts[0] += labels[i] == e["answers"][0]
                counts[1] += 1
        model.train()
        overall = sum(r for r, _ in right.values()) / len(examples)
        return overall, {k: r / n for k, (r, n) in right.items() if n}

    @torch.no_grad()
    def colour_probe() -> float:
        """How well a linear (ridge) probe reads each shape's colour from its cell's visual token:
        fitted on training scenes, scored on held-out ones (chance 20%)."""
        model.eval()

        def cells(scenes):
            pixels = collate.pixels([collate.image(s) for s in scenes])
            tokens = model.pixelbert.visual_tokens(pixels["pixel_values"], pixels["pixel_mask"]).embeddings
            x, y = [], []
            for scene, row in zip(scenes, tokens):
                for shape in scene.shapes:
                    x.append(row[QUADRANTS.index(shape.quadrant)])
                    y.append(list(COLOURS).index(shape.colour))
            return torch.stack(x), torch.tensor(y)

        x, y = cells(probe_train)
        xt, yt = cells(probe_test)
        x1 = torch.cat([x, torch.ones(len(x), 1)], 1)
        w = torch.linalg.solve(x1.T @ x1 + 1e-2 * torch.eye(x1.shape[1]), x1.T @ F.one_hot(y, len(COLOURS)).float())
        model.train()
        return float(((torch.cat([xt, torch.ones(len(xt), 1)], 1) @ w).argmax(1) == yt).float().mean())

    probe_train, probe_test = make_scenes(600, seed=42, size=128), make_scenes(200, seed=9, size=128)
    seen = random.Random(1).sample(train, min(len(train), len(held_out)))  # training questions, to tell fitting from overfitting

    print(f"{len(train)} training and {len(held_out)} held-out questions of kinds {kinds}; {len(labels)} answers")
    rng, start = random.Random(args.seed), time.time()
    order = grouped_batches(train, 32, args.seed) if args.group_by_image else None
    model.train()
    for step in range(1, args.steps + 1):
        loss = model(**collate(next(order) if order else rng.sample(train, 32))).loss
        for opt in optimizers:
            opt.zero_grad()
        loss.backward()
        for opt in optimizers:
            opt.step()
        if step % args.eval_every == 0 or step == args.steps:
            held, kinds_held = accuracy(held_out)
            fitted, _ = accuracy(seen)
            per_kind = ", ".join(f"{k} {v:.0%}" for k, v in kinds_held.items())
            probe = f"; colour probe {colour_probe():.0%}" if args.probe else ""
            print(f"step {step}: held-out {held:.1%} ({per_kind}); training {fitted:.1%}{probe}; loss {loss.item():.3f}; "
                  f"{time.time() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
