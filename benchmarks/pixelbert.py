"""Pixel-BERT speed: pretraining steps per second with and without random pixel sampling, and
retrieval scoring throughput (image-caption pairs per second) in chunks, in the same run.

    python benchmarks/pixelbert.py [--preset tiny] [--image-size 512] [--batch 16] [--samples 16]

Pretraining: one step (CNN, MLM pass, ITM pass, backward, SGD + AdamW) on synthetic scenes of
`image-size` pixels (an 8 x 8 grid of cells at 512), all cells against `samples` cells per image.
Retrieval: a 64 x 64 score matrix (4,096 pairs), scored in chunks of 256 and 1,024 pairs, and
with a prefilter (4 cells per image, then the 10 best captions per image in full).
VQA: a finetuning step on random questions against questions grouped by image (collation is
left out of both, though grouping also draws fewer images).
"""

from __future__ import annotations

import argparse
import platform
import time


def _timed(fn, repeats: int) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def main() -> None:
    import torch

    from pixlm.data.scenes import make_scenes
    from pixlm.data.tokenization import train_wordpiece
    from pixlm.data.vl_collators import PixelBertPretrainingCollator
    from pixlm.evaluation.retrieval import score_matrix
    from pixlm.models.pixelbert import PixelBertConfig, PixelBertForPreTraining
    from pixlm.training.pixelbert import HybridOptimizer

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="tiny", help="Pixel-BERT preset (default tiny)")
    ap.add_argument("--image-size", type=int, default=512, help="scene side in pixels (default 512: 8 x 8 cells)")
    ap.add_argument("--batch", type=int, default=16, help="scenes per pretraining step (default 16)")
    ap.add_argument("--samples", type=int, default=16, help="cells kept per image with pixel sampling (default 16)")
    ap.add_argument("--steps", type=int, default=3, help="timed steps after one warm-up (default 3)")
    args = ap.parse_args()
    print(f"# {platform.processor() or platform.machine()}, torch {torch.__version__}, {torch.get_num_threads()} threads")

    scenes = make_scenes(max(args.batch, 64), seed=0, size=args.image_size)
    captions = [s.caption() for s in scenes]
    tokenizer = train_wordpiece(captions, vocab_size=300, lowercase=True)
    rows = []
    for samples in (0, args.samples):
        torch.manual_seed(0)
        config = PixelBertConfig.from_preset(args.preset, vocab_size=len(tokenizer), num_visual_samples=samples,
                                             image_min_size=args.image_size, image_max_size=args.image_size)
        model = PixelBertForPreTraining(config).train()
        collate = PixelBertPretrainingCollator.for_model(tokenizer, config)
        batch = collate([{"image": s, "text": c} for s, c in zip(scenes[: args.batch], captions)])
        cnn = [p for n, p in model.named_parameters() if ".visual.backbone." in n]
        rest = [p for n, p in model.named_parameters() if ".visual.backbone." not in n]
        opt = HybridOptimizer(cnn, [{"params": rest}])

        def step():
            opt.zero_grad()
            model(**batch).loss.backward()
            opt.step()

        seconds = _timed(step, args.steps)
        cells = batch["pixel_values"].shape[-1] // 64 * batch["pixel_values"].shape[-2] // 64
        rows.append(("all cells" if not samples else f"{samples} sampled cells", cells if not samples else samples, seconds))
    print(f"\n## pretraining step, {args.preset}, batch {args.batch}, {args.image_size} px scenes\n")
    print("| visual tokens per image | cells | step (s) | steps/s | speed-up |\n|---|---|---|---|---|")
    for name, cells, seconds in rows:
        print(f"| {name} | {cells} | {seconds:.3f} | {1 / seconds:.2f} | {rows[0][2] / seconds:.2f}x |")

    model.eval()
    images, texts = scenes[:64], captions[:64]
    print("\n## retrieval scoring, 64 images x 64 captions (4,096 pairs)\n")
    print("| chunk (pairs) | prefilter | seconds | pairs/s |\n|---|---|---|---|")
    reference = None
    for chunk, prefilter in ((256, None), (1024, None), (256, 10)):
        seconds = _timed(lambda: score_matrix(model, tokenizer, images, texts, batch_size=chunk, prefilter_k=prefilter), 1)
        reference = reference or seconds
        label = "none" if prefilter is None else f"4 cells, then top {prefilter} in full"
        print(f"| {chunk} | {label} | {seconds:.2f} | {4096 / seconds:,.0f} |")

    vqa_steps(args)


def vqa_steps(args) -> None:
    """VQA training steps on 128-pixel scenes: 32 random questions (32 images through the CNN)
    against 32 questions grouped by image (`--group-by-image`: each image's questions together)."""
    import random

    import torch

    from pixlm.data.images import image_key
    from pixlm.data.samplers import ImageGroupedSampler
    from pixlm.data.scenes import make_scenes, scene_questions
    from pixlm.data.tokenization import train_wordpiece
    from pixlm.data.vl_collators import PixelBertVQACollator
    from pixlm.models.pixelbert import PixelBertConfig, PixelBertForQuestionAnswering

    rng = random.Random(0)
    questions = [{"image": s, "question": q, "answers": [a] * 10}
                 for s in make_scenes(200, seed=0, size=128) for q, a in scene_questions(s, rng)]
    answers = sorted({e["answers"][0] for e in questions})
    tokenizer = train_wordpiece([e["question"] for e in questions], vocab_size=300, lowercase=True)
    config = PixelBertConfig.from_preset(args.preset, vocab_size=len(tokenizer), num_labels=len(answers),
                                         image_min_size=128, image_max_size=128)
    torch.manual_seed(0)
    model = PixelBertForQuestionAnswering(config).train()
    collate = PixelBertVQACollator.for_model(tokenizer, config, answer2id={a: i for i, a in enumerate(answers)})
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    grouped = [questions[i] for i in ImageGroupedSampler([image_key(e["image"]) for e in questions])]
    orders = {"random questions": rng.sample(questions, len(questions)), "grouped by image": grouped}
    print(f"\n## VQA training step, {args.preset}, 32 questions, 128 px scenes\n")
    print("| batch | images through the CNN | step (s) | steps/s | speed-up |\n|---|---|---|---|---|")
    reference = None
    for name, order in orders.items():
        repeats = max(args.steps, 10)  # steps are short: time more of them
        batches = iter([collate(order[k : k + 32]) for k in range(0, 32 * (repeats + 1), 32)])

        def step():
            batch = next(batches)
            opt.zero_grad()
            model(**batch).loss.backward()
            opt.step()

        seconds = _timed(step, repeats)
        reference = reference or seconds
        images = len(collate(order[:32])["pixel_values"])
        print(f"| {name} | {images} | {seconds:.3f} | {1 / seconds:.2f} | {reference / seconds:.2f}x |")


if __name__ == "__main__":
    main()
