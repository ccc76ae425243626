"""Show what a PIXEL model reconstructs of masked text (PNG).

Render TEXT, hide patches (PIXEL's span masking, or the spans you give), and write a PNG:
original, mask, prediction, and the prediction pasted into the original.
"""

from __future__ import annotations

from .common import load_folder
from .flags import png_path, positive_int

# Imports inside functions: `pixlm --help` imports this module and stays fast (see pixlm.cli).


def add_arguments(p) -> None:
    p.add_argument("text", help="the text to render and reconstruct")
    p.add_argument("--model", required=True, metavar="DIR", help="a PIXEL checkpoint folder (with its text_renderer_config.json)")
    p.add_argument("--spans", metavar="S:E,...", help="hide these patch spans, e.g. 2:5,9:11 (end exclusive); default: span masking")
    p.add_argument("--seed", type=int, default=0, help="random seed for the mask (default 0)")
    p.add_argument("--wrap", type=positive_int, default=32, metavar="N", help="patches per row in the picture (default 32)")
    p.add_argument("-o", "--output", type=png_path, default="reconstruction.png", metavar="PNG",
                   help="where to write (default reconstruction.png)")


def run(args) -> int:
    from ..models.pixel import PixelForPreTraining
    from ..render import RendererConfig, TextRenderer
    from ..viz import reconstruct, save_png

    model = load_folder(PixelForPreTraining, args.model, needs="decoder.", what="pretraining decoder")
    renderer = TextRenderer(RendererConfig.for_model(args.model, max_patches=model.config.max_patches))
    image, loss = reconstruct(model, renderer, args.text, spans=_parse_spans(args.spans), seed=args.seed, wrap=args.wrap)
    print(f"{save_png(image, args.output)}: masked-patch loss {loss:.4f}")
    return 0


def _parse_spans(text: str | None):
    if not text:
        return None
    spans = []
    for part in text.split(","):
        try:
            s, e = (int(x) for x in part.split(":"))
        except ValueError:
            raise ValueError(f"--spans takes START:END pairs separated by commas, got {part!r}") from None
        spans.append((s, e))
    return spans
