"""Render text to PNG images or an Arrow dataset.

Render one text, a text file line by line, or the built-in multi-script sample.
"""

from __future__ import annotations

import argparse
import os

from ..render.config import BACKENDS
from ..render.layouts import LAYOUT_REGISTRY
from .flags import non_negative_int, positive_float, positive_int

# Imports inside functions: `pixlm --help` imports this module and stays fast (see pixlm.cli).

EPILOG = (
    "Examples:\n  pixlm render 'Hello world' -o hello.png --grid --wrap 40\n"
    "  pixlm render --sample -o renders/\n"
    "  pixlm render --input corpus.txt --output corpus.arrow --workers 2"
)


def add_arguments(p) -> None:
    p.add_argument("text", nargs="?", help="the text to render (omit with --input or --sample)")
    p.add_argument("--pair", metavar="TEXT", help="a second text: rendered after a black separator patch")
    p.add_argument("-o", "--output", metavar="PATH",
                   help="output: a .png for one text; a folder (PNGs) or a .arrow file with --input; "
                        "a folder with --sample (default: render.png, or renders/)")
    p.add_argument("--input", metavar="FILE", help="render this UTF-8 text file line by line (empty lines skipped)")
    p.add_argument("--sample", action="store_true", help="render the built-in multi-script sample, one PNG per script")
    p.add_argument("--limit", type=positive_int, metavar="N", help="with --input: only the first N lines")
    p.add_argument("--workers", type=non_negative_int, default=0, metavar="N",
                   help="with --input: worker processes (default 0: this process)")
    v = p.add_argument_group("picture")
    v.add_argument("--grid", action="store_true", help="overlay the patch grid in red")
    v.add_argument("--wrap", type=positive_int, metavar="N", help="wrap the strip into rows of N patches, so a person can read it")
    v.add_argument("--full", action="store_true", help="show the whole canvas, not only up to the end patch")
    v.add_argument("--scale", type=positive_int, default=1, metavar="K", help="enlarge each pixel K times (default 1)")
    _renderer_options(p)


def run(args) -> int:
    from ..render import export
    from ..viz import save_png, strip_image

    given = [bool(args.text), bool(args.input), bool(args.sample)]
    if sum(given) != 1:
        raise ValueError("give exactly one of TEXT, --input FILE or --sample (see pixlm render --help)")
    renderer = _build_renderer(args)
    if args.sample:
        out = args.output or "renders"
        report = export.samples_to_pngs(renderer, out, grid=args.grid, scale=max(args.scale, 2))
        for name, info in report.items():
            if name != "all":
                print(f"{name:12s} {info['num_patches']:4d} patches  {info['missing_glyphs']} missing glyphs  {info['path']}")
        print(f"all scripts: {report['all']['path']}")
        return 0
    if args.input:
        lines = export.read_lines(args.input, args.limit)
        out = args.output or "renders"
        if os.path.splitext(out)[1].lower() not in ("", ".arrow"):
            raise ValueError(f"-o {out}: with --input, give a folder (PNGs) or a .arrow file (a dataset)")
        if out.endswith(".arrow"):
            n = export.lines_to_arrow(renderer, lines, out, num_workers=args.workers)
            print(f"wrote {n} rows to {out} (load with datasets.Dataset.from_file)")
        else:
            paths = export.lines_to_pngs(renderer, lines, out, num_workers=args.workers,
                                         grid=args.grid, wrap=args.wrap, full=args.full)
            print(f"wrote {len(paths)} PNGs to {os.path.abspath(out)}")
        return 0
    if args.output and not args.output.lower().endswith(".png"):
        raise ValueError(f"-o {args.output}: one text is written as a PNG; give a name ending in .png")
    r = renderer(args.text, args.pair)
    img = strip_image(r.pixel_values, renderer.config.patch_size, grid=args.grid, wrap=args.wrap,
                      num_patches=None if args.full else r.num_patches, scale=args.scale)
    path = save_png(img, args.output or "render.png")
    note = " (truncated)" if r.truncated else ""
    print(f"{path}: {r.num_text_patches} text patches + end patch{note}; {r.missing_glyphs} missing glyphs")
    return 0


def _renderer_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("renderer")
    g.add_argument("--config", metavar="PATH",
                   help="a text_renderer_config.json (or a model folder holding one) to start from; "
                        "the flags below override it")
    g.add_argument("--layout", choices=list(LAYOUT_REGISTRY),
                   help="continuous: PIXEL's layout, patch boundaries fall anywhere (default); words: each word "
                        "starts a new patch; bigrams: two characters per patch, each word on a new patch; "
                        "mono: one fixed-width cell per character")
    g.add_argument("--rgb", action="store_true", default=None, help="render in colour (emoji in colour); grayscale otherwise")
    g.add_argument("--font", action="append", metavar="PATH", dest="fonts",
                   help="a font file or folder that heads the fallback chain (repeatable), "
                        "for instance PIXEL's GoNotoCurrent.ttf")
    g.add_argument("--backend", choices=list(BACKENDS), help="drawing backend (default skia; pango needs pixlm[pango])")
    g.add_argument("--max-patches", type=positive_int, metavar="N", help="patches on the canvas (default 529)")
    g.add_argument("--patch-size", type=positive_int, metavar="PX", help="patch size and strip height in pixels (default 16)")
    g.add_argument("--font-size", type=positive_float, metavar="PT", help="font size in points (default 8)")
    g.add_argument("--dpi", type=positive_int, help="dots per inch the font size is taken at (default 120)")


def _build_renderer(args):
    from ..render import RendererConfig, TextRenderer

    base = RendererConfig.from_pretrained(args.config).to_dict() if args.config else {}
    overrides = {
        "layout": args.layout, "rgb": args.rgb, "fonts": args.fonts, "backend": args.backend,
        "max_patches": args.max_patches, "patch_size": args.patch_size,
        "font_size": args.font_size, "dpi": args.dpi,
    }
    base.update({k: v for k, v in overrides.items() if v is not None})
    return TextRenderer(RendererConfig(**base))
