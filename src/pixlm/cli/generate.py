"""Continue a prompt with a PixelGPT model: rendered patches (PNG) or tokens.

Render PROMPT, generate patches autoregressively with a key-value cache, and write a PNG of the
prompt and its continuation, read back as text: exactly by templates with a mono or bigrams
renderer, by a recognizer otherwise (pixlm's, or --recognizer DIR). With --tokens (or
--token-ids), continue the prompt as text instead: greedy generate() on tokens, as transformers
does it.
"""

from __future__ import annotations

from .common import load_folder
from .flags import png_path, positive_int

# Imports inside functions: `pixlm --help` imports this module and stays fast (see pixlm.cli).

EPILOG = (
    "Examples:\n  pixlm generate \"The cat sat\" --model runs/pixelgpt --patches 64\n"
    "  pixlm generate \"The cat sat\" --model PixelGPT --renderer pixelgpt/renderers/noto_renderer\n"
    "  pixlm generate \"The cat sat\" --model DualGPT --tokens --max-new-tokens 20\n"
    "  pixlm generate --model DualGPT --token-ids 1,450,6635 --max-new-tokens 20"
)


def add_arguments(p) -> None:
    p.add_argument("prompt", nargs="?", help="the text to continue")
    p.add_argument("--model", required=True, metavar="DIR",
                   help="a PixelGPT checkpoint folder (pixlm pretrain --model-type pixelgpt, or a released one)")
    p.add_argument("--patches", type=positive_int, default=64, metavar="N", help="patches to generate (default 64)")
    p.add_argument("--no-cache", action="store_true", help="recompute every step instead of reusing keys and values (slow)")
    p.add_argument("--wrap", type=positive_int, default=32, metavar="N", help="patches per row in the picture (default 32)")
    p.add_argument("--renderer", metavar="PATH",
                   help="a renderer folder or text_renderer_config.json (default: the model folder's; for a "
                        "checkpoint released without one, PIXEL's published renderer)")
    p.add_argument("--recognizer", metavar="DIR", help="read a continuation in the continuous or words layout with this "
                                                      "recognizer (default: pixlm's, when trained on the model's renderer)")
    p.add_argument("-o", "--output", type=png_path, default="generation.png", metavar="PNG", help="where to write (default generation.png)")
    t = p.add_argument_group("text (tokens)")
    t.add_argument("--tokens", action="store_true", help="continue PROMPT as tokens and print the text")
    t.add_argument("--token-ids", metavar="IDS", help="a prompt given as comma-separated token ids; prints the ids")
    t.add_argument("--tokenizer", metavar="DIR", help="tokenizer folder for --tokens (default: the model folder's)")
    t.add_argument("--max-new-tokens", type=positive_int, default=32, metavar="N", help="tokens to generate (default 32)")


def run(args) -> int:
    from ..models.pixelgpt import PixelGPTForCausalLM

    if args.tokens or args.token_ids:
        return _generate_tokens(args)
    from ..models.recognizer.reading import read, recognizer_for
    from ..render import RendererConfig, TextRenderer
    from ..render.layouts import layout_class
    from ..render.reading import PatchReader
    from ..viz import generate, save_png

    if args.prompt is None:
        raise ValueError("give a PROMPT to continue (or --token-ids)")
    if args.patches < 1:
        raise ValueError(f"--patches must be at least 1, got {args.patches}")
    model = load_folder(PixelGPTForCausalLM, args.model, needs="lm_pixel_head.", what="next-patch head")
    renderer = TextRenderer(RendererConfig.for_model(args.renderer or args.model, required=bool(args.renderer),
                                                      max_patches=model.config.max_patches))
    image, continuation = generate(model, renderer, args.prompt, args.patches, use_cache=not args.no_cache, wrap=args.wrap)
    print(f"{save_png(image, args.output)}: {continuation.shape[1] // renderer.config.patch_size} patches generated")
    if layout_class(renderer.config.layout).readable:
        print(f"read back: {PatchReader(renderer).read(continuation, num_patches=None)!r}")
        return 0
    recognizer = recognizer_for(renderer.config, args.recognizer)
    if recognizer is None:
        print("(no recognizer for this model's renderer: the continuation is not read; see pixlm read train)")
        return 0
    reading = read(continuation, recognizer, num_patches=continuation.shape[1] // renderer.config.patch_size)
    print(f"read back: {reading.text!r} (mean confidence {reading.mean_confidence:.2f})")
    return 0


def _generate_tokens(args) -> int:
    """Greedy token generation with transformers' generate(); prints the text or the ids."""
    import torch

    from ..models.pixelgpt import PixelGPTForCausalLM

    if args.max_new_tokens < 1:
        raise ValueError(f"--max-new-tokens must be at least 1, got {args.max_new_tokens}")
    model = load_folder(PixelGPTForCausalLM, args.model, needs="lm_token_head.", what="next-token head")
    tokenizer = None
    if args.token_ids:
        try:
            ids = [int(x) for x in args.token_ids.split(",") if x.strip()]
        except ValueError:
            raise ValueError(f"--token-ids must be comma-separated integers, got {args.token_ids!r}") from None
        if not ids or min(ids) < 0 or max(ids) >= model.config.vocab_size:
            raise ValueError(f"--token-ids must be ids in [0, {model.config.vocab_size}), got {args.token_ids!r}")
        prompt = torch.tensor([ids])
    else:
        if args.prompt is None:
            raise ValueError("give a PROMPT to continue with --tokens")
        from transformers import AutoTokenizer

        source = args.tokenizer or args.model
        try:
            tokenizer = AutoTokenizer.from_pretrained(source)
        except (OSError, ValueError):
            raise ValueError(f"--tokens needs a tokenizer: {source} has none; give one with --tokenizer") from None
        prompt = tokenizer(args.prompt, return_tensors="pt")["input_ids"]
    pad = model.config.pad_token_id if model.config.pad_token_id is not None else model.config.eos_token_id
    with torch.no_grad():
        out = model.generate(prompt, max_new_tokens=args.max_new_tokens, do_sample=False, pad_token_id=pad)
    if tokenizer is None:
        print(",".join(map(str, out[0].tolist())))
    else:
        print(args.prompt + tokenizer.decode(out[0, prompt.shape[1]:].tolist(), skip_special_tokens=True))
    return 0
