"""Train Pixel-BERT's VQA head from scratch on chosen question types of the synthetic scenes
and print held-out accuracy as it goes: the diagnostic behind docs/results.md's analysis of
why VQA stops short (which kinds of question the model learns, and when).

    python scripts/pixelbert_question_types.py --types "what colour" --steps 3000 --lr 3e-4

A plain loop (SGD for the CNN, AdamW for the transformer, constant rates), not the Trainer:
it isolates the model and the data from the schedule.
"""

from __future__ import annotations

import argparse
import random
import time

import torch

from pixlm.data import vl_collators as vc
from pixlm.data.scenes import make_scenes, scene_questions
from pixlm.models import pixelbert as pb
from pixlm.training.pixelbert import PixelBertRunConfig, _tokenizer

KINDS = ("how many", "what colour", "what size", "what shape", "is there")


def questions(scenes, kinds, seed: int) -> list[dict]:
    rng = random.Random(seed)
    return [{"image": s, "question": q, "answers": [a] * 10}
            for s in scenes for q, a in scene_questions(s, rng) if q.startswith(tuple(kinds))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--types", default=",".join(KINDS), help=f"comma-separated question starts (default all: {', '.join(KINDS)})")
    ap.add_argument("--steps", type=int, default=3000, help="training steps of 32 questions (default 3000)")
    ap.add_argument("--lr", type=float, default=3e-4, help="AdamW learning rate of the transformer (default 3e-4)")
    ap.add_argument("--cnn-lr", type=float, default=1e-2, help="SGD learning rate of the CNN (default 1e-2)")
    ap.add_argument("--layers", type=int, default=2, help="transformer layers (the tiny preset has 2)")
    ap.add_argument("--eval-every", type=int, default=1000, help="steps between held-out evaluations (default 1000)")
    ap.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = ap.parse_args()
    kinds = [k.strip() for k in args.types.split(",") if k.strip()]
    if not kinds or any(k not in KINDS for k in kinds):
        raise SystemExit(f"--types must be among: {', '.join(KINDS)}")
    torch.manual_seed(args.seed)

    tokenizer = _tokenizer(PixelBertRunConfig(task="vqa", output_dir="unused"), [])  # WordPiece on every scene text
    train = questions(make_scenes(3000, seed=42, size=128), kinds, 0)
    held_out = questions(make_scenes(200, seed=9, size=128), kinds, 1)
    labels = sorted({e["answers"][0] for e in train})
    label2id = {a: i for i, a in enumerate(labels)}
    config = pb.PixelBertConfig.from_preset("tiny", vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id,
                                            num_hidden_layers=args.layers, num_labels=len(labels),
                                            id2label=dict(enumerate(labels)), label2id=label2id)
    model = pb.PixelBertForQuestionAnswering(config)
    collate = vc.PixelBertVQACollator.for_model(tokenizer, config, answer2id=label2id, seed=args.seed)
    cnn = [p for n, p in model.named_parameters() if ".backbone." in n]
    rest = [p for n, p in model.named_parameters() if ".backbone." not in n]
    optimizers = [torch.optim.SGD(cnn, lr=args.cnn_lr, momentum=0.9, weight_decay=5e-4),
                  torch.optim.AdamW(rest, lr=args.lr, weight_decay=0.01)]

    @torch.no_grad()
    def accuracy() -> float:
        model.eval()
        right = 0
        for k in range(0, len(held_out), 64):
            chunk = held_out[k : k + 64]
            batch = {key: v for key, v in collate(chunk).items() if key != "labels"}
            right += sum(labels[i] == e["answers"][0] for i, e in zip(model(**batch).logits.argmax(-1).tolist(), chunk))
        model.train()
        return right / len(held_out)

    print(f"{len(train)} training and {len(held_out)} held-out questions of kinds {kinds}; {len(labels)} answers")
    rng, start = random.Random(args.seed), time.time()
    model.train()
    for step in range(1, args.steps + 1):
        loss = model(**collate(rng.sample(train, 32))).loss
        for opt in optimizers:
            opt.zero_grad()
        loss.backward()
        for opt in optimizers:
            opt.step()
        if step % args.eval_every == 0 or step == args.steps:
            print(f"step {step}: held-out accuracy {accuracy():.1%}, loss {loss.item():.3f}, {time.time() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
