"""PixelGPT speed: training against transformers' LlamaForCausalLM of the same size, and
generation with and without the key-value cache, in the same run.

    python benchmarks/pixelgpt.py [--sizes tiny small] [--batch 8] [--length 256] [--generate 256]

Training: one step (forward, backward, AdamW) on a batch of `length` positions per example:
PixelGPT on pixels (patches in through the 16 x 16 convolution, next-patch loss), on paired
batches (half patches, half tokens, both losses), and Llama on tokens alone, vocabulary as
PixelGPT's. Reported as positions (patches and tokens) per second; the ratio is against Llama.

Generation: `generate` patches after a 16-patch prompt, batch 1, with the cache (one patch per
step) and without (the whole sequence every step). The issue's goal: the cache >= 5x at 256.

On a GPU (when one is present) everything runs there, training in bf16 autocast.
"""

from __future__ import annotations

import argparse
import json
import platform
import time


def _device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _time(fn, repeats: int) -> float:
    fn()  # warm-up
    _sync()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    _sync()
    return (time.perf_counter() - start) / repeats


def training_rows(size: str, batch: int, length: int, steps: int, vocab: int) -> list[dict]:
    import torch
    from transformers import LlamaForCausalLM

    from pixlm.models.pixelgpt import PixelGPTConfig, PixelGPTForCausalLM

    torch.manual_seed(0)
    cfg = PixelGPTConfig.from_preset(size, vocab_size=vocab, num_channels=1, max_patches=length, max_tokens=length)
    device = _device()
    ours = PixelGPTForCausalLM(cfg).to(device).train()
    ref_cfg = cfg.llama_config()
    ref_cfg._attn_implementation = ours.config._attn_implementation or "sdpa"
    ref = LlamaForCausalLM(ref_cfg).to(device).train()
    pixels = torch.rand(batch, 1, 16, length * 16, device=device)
    tokens = torch.randint(0, vocab, (batch, length), device=device)
    half = length // 2
    paired_px = torch.rand(batch, 1, 16, half * 16, device=device)
    paired_ids = torch.randint(0, vocab, (batch, length - half), device=device)

    def stepper(model, **inputs):
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4)

        def step():
            opt.zero_grad(set_to_none=True)
            with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=device == "cuda"):
                out = model(**inputs)
            out.loss.backward()
            opt.step()
        return step

    rows = []
    runs = [
        ("Llama, tokens (reference)", stepper(ref, input_ids=tokens, labels=tokens)),
        ("PixelGPT, pixels", stepper(ours, pixel_values=pixels)),
        ("PixelGPT, paired (half patches, half tokens)", stepper(ours, pixel_values=paired_px, input_ids=paired_ids)),
    ]
    reference = None
    for name, step in runs:
        seconds = _time(step, steps)
        rate = batch * length / seconds
        reference = reference or rate
        rows.append({"size": size, "input": name, "step_s": seconds, "positions_per_s": rate, "vs_llama": rate / reference})
    return rows


def generation_rows(size: str, new: int, repeats: int) -> list[dict]:
    import torch

    from pixlm.models.pixelgpt import PixelGPTConfig, PixelGPTForCausalLM

    torch.manual_seed(0)
    device = _device()
    model = PixelGPTForCausalLM(PixelGPTConfig.from_preset(size, num_channels=1, max_patches=16 + new, vocab_size=256))
    model = model.to(device).eval()
    prompt = torch.rand(1, 1, 16, 16 * 16, device=device)
    rows = []
    for cache in (False, True):
        seconds = _time(lambda: model.generate_patches(prompt, new, use_cache=cache), repeats)
        rows.append({"size": size, "cache": cache, "seconds": seconds, "patches_per_s": new / seconds})
    rows[1]["speedup"] = rows[0]["seconds"] / rows[1]["seconds"]
    return rows


def main() -> None:
    import torch

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", nargs="+", default=["tiny", "small"], help="PixelGPT presets (default tiny small)")
    ap.add_argument("--batch", type=int, default=8, help="examples per training step (default 8)")
    ap.add_argument("--length", type=int, default=256, help="positions per example (default 256)")
    ap.add_argument("--steps", type=int, default=3, help="timed training steps after one warm-up (default 3)")
    ap.add_argument("--vocab", type=int, default=8000, help="vocabulary of both models (default 8000)")
    ap.add_argument("--generate", type=int, default=256, help="patches to generate (default 256)")
    ap.add_argument("--json", help="also write the rows here")
    args = ap.parse_args()
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else f"CPU, {torch.get_num_threads()} threads"
    print(f"# {platform.processor() or platform.machine()}, torch {torch.__version__}, {device}")
    train, gen = [], []
    for size in args.sizes:
        train += training_rows(size, args.batch, args.length, args.steps, args.vocab)
        gen += generation_rows(size, args.generate, 1)
    print(f"\n## training step, batch {args.batch} x {args.length} positions\n")
    print("| size | input | step (s) | positions/s | vs Llama |\n|---|---|---|---|---|")
    for r in train:
        print(f"| {r['size']} | {r['input']} | {r['step_s']:.3f} | {r['positions_per_s']:,.0f} | {r['vs_llama']:.2f}x |")
    print(f"\n## generating {args.generate} patches after a 16-patch prompt, batch 1\n")
    print("| size | key-value cache | seconds | patches/s | speed-up |\n|---|---|---|---|---|")
    for r in gen:
        speedup = f"{r['speedup']:.1f}x" if "speedup" in r else "1.0x (reference)"
        print(f"| {r['size']} | {'yes' if r['cache'] else 'no'} | {r['seconds']:.2f} | {r['patches_per_s']:,.1f} | {speedup} |")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"training": train, "generation": gen}, f, indent=2)


if __name__ == "__main__":
    main()
