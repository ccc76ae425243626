"""PIXEL pretraining speed against transformers' ViT-MAE, same configuration, same run.

    python benchmarks/pretrain.py [--sizes tiny base] [--steps 3] [--batch 8]

For each size, one training step (forward, backward, AdamW) is timed for
- full length: 529 patches per example, PIXEL on the 16 x 8464 strip, ViT-MAE on the same
  patches as a 368 x 368 image;
- short text: about 40 text patches (a typical English sentence) padded to 529. PIXEL cuts the
  batch to its longest text (dynamic length); ViT-MAE has a fixed input size and runs all 529.
Each measurement runs in a fresh process (so its peak resident memory is its own). Achieved
FLOP/s are counted analytically (matrix products of the encoder on kept patches, decoder on all,
attention included; x3 for forward and backward) and set against an fp32 matmul peak measured
in the same run. On a GPU (when one is present) the same table runs in bf16.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import time

SHORT_TEXT_PATCHES = 40


def configs(size: str):
    from transformers import ViTMAEConfig

    from pixlm.models.pixel import PixelConfig

    ours = PixelConfig.from_preset(size, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    ref = ViTMAEConfig(
        hidden_size=ours.hidden_size, num_hidden_layers=ours.num_hidden_layers, num_attention_heads=ours.num_attention_heads,
        intermediate_size=ours.intermediate_size, image_size=368, patch_size=16, num_channels=3, qkv_bias=True,
        decoder_hidden_size=ours.decoder_hidden_size, decoder_num_hidden_layers=ours.decoder_num_hidden_layers,
        decoder_num_attention_heads=ours.decoder_num_attention_heads, decoder_intermediate_size=ours.decoder_intermediate_size,
        mask_ratio=ours.mask_ratio, norm_pix_loss=True, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
    )
    ref._attn_implementation = "sdpa"
    return ours, ref


def step_flops(cfg, batch: int, length: int) -> float:
    """Matrix-product FLOPs of one training step (forward + backward = 3 x forward)."""
    kept = int(length * (1 - cfg.mask_ratio)) + 1
    full = length + 1

    def stack(n, d, ff, layers):
        per_layer = 2 * n * (4 * d * d + 2 * d * ff) + 4 * n * n * d  # projections, MLP, attention
        return layers * per_layer

    patch = 16 * 16 * cfg.num_channels
    forward = (
        2 * length * patch * cfg.hidden_size
        + stack(kept, cfg.hidden_size, cfg.intermediate_size, cfg.num_hidden_layers)
        + 2 * kept * cfg.hidden_size * cfg.decoder_hidden_size
        + stack(full, cfg.decoder_hidden_size, cfg.decoder_intermediate_size, cfg.decoder_num_hidden_layers)
        + 2 * full * cfg.decoder_hidden_size * patch
    )
    return 3.0 * batch * forward


def _measure(job: dict, queue) -> None:
    import torch

    torch.manual_seed(0)
    from transformers import ViTMAEForPreTraining

    from pixlm.models.pixel import PixelForPreTraining

    ours_cfg, ref_cfg = configs(job["size"])
    device = job["device"]
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    b, text = job["batch"], job["text_patches"]
    strip = torch.ones(b, 3, 16, 529 * 16)
    strip[..., : text * 16] = torch.rand(b, 3, 16, text * 16)
    attention = torch.zeros(b, 529)
    attention[:, : text + 1] = 1
    if job["model"] == "pixel":
        model = PixelForPreTraining(ours_cfg)
        length = text + 1 if job["dynamic"] else 529
        inputs = {"pixel_values": strip[..., : length * 16], "attention_mask": attention[:, :length]}
    else:
        model = ViTMAEForPreTraining(ref_cfg)
        length = 529
        square = strip.reshape(b, 3, 16, 23, 23, 16).permute(0, 1, 3, 2, 4, 5).reshape(b, 3, 368, 368)
        inputs = {"pixel_values": square}
    model.to(device).train()
    inputs = {k: v.to(device) for k, v in inputs.items()}
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def step():
        with torch.autocast(device_type=device, dtype=dtype, enabled=dtype != torch.float32):
            loss = model(**inputs).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if device == "cuda":
            torch.cuda.synchronize()

    step()  # warm-up
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for _ in range(job["steps"]):
        step()
    seconds = (time.perf_counter() - start) / job["steps"]
    peak = torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put({"seconds": seconds, "peak_mib": peak, "length": length, "flops": step_flops(ours_cfg, b, length)})


def measure(**job) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_measure, args=(job, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def matmul_peak(device: str) -> float:
    import torch

    n = 8192 if device == "cuda" else 2048  # a GPU needs a large product to reach its peak
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    reps = 10
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    if device == "cuda":
        torch.cuda.synchronize()
    return 2 * n**3 * reps / (time.perf_counter() - start)


def main() -> None:
    import torch

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=["tiny", "base"], help="model sizes (default tiny base)")
    ap.add_argument("--steps", type=int, default=3, help="timed steps per measurement (default 3)")
    ap.add_argument("--batch", type=int, default=8, help="examples per step (default 8)")
    ap.add_argument("--json", metavar="PATH", help="also write the rows as JSON")
    args = ap.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    peak = matmul_peak(device)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads), device {device}")
    side = 8192 if device == "cuda" else 2048
    print(f"matmul peak ({'bf16' if device == 'cuda' else 'fp32'}, {side}^3): {peak / 1e9:.1f} GFLOP/s\n")
    print("| size | input | model | patches/example | step (s) | examples/s | patches/s | GFLOP/s | % of peak "
          "| peak memory (MiB) | PIXEL / ViT-MAE |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    rows = []
    for size in args.sizes:
        for label, text, dynamic in (("full length", 528, True), (f"short text ({SHORT_TEXT_PATCHES} patches)", SHORT_TEXT_PATCHES, True)):
            ref = measure(size=size, model="vitmae", text_patches=text, dynamic=False, batch=args.batch, steps=args.steps, device=device)
            ours = measure(size=size, model="pixel", text_patches=text, dynamic=dynamic, batch=args.batch, steps=args.steps, device=device)
            for name, r in (("ViT-MAE (transformers)", ref), ("PIXEL (pixlm)", ours)):
                eps = args.batch / r["seconds"]
                flops = r["flops"] / r["seconds"]
                ratio = f"{ref['seconds'] / ours['seconds']:.2f}x" if name.startswith("PIXEL") else ""
                print(f"| {size} | {label} | {name} | {r['length']} | {r['seconds']:.3f} | {eps:.1f} | {eps * r['length']:,.0f} | "
                      f"{flops / 1e9:.1f} | {100 * flops / peak:.0f}% | {r['peak_mib']:,.0f} | {ratio} |")
                rows.append({"size": size, "input": label, "model": name, **r})
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"matmul_peak_flops": peak, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
