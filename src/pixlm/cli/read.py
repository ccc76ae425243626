"""Read mono or bigrams patches back as text.

Match each cell of a rendered strip against the renderer's own cells and print the text. Give a
PNG strip (as pixlm render writes), or --text to render and read back as a check (prints the
character accuracy).
"""

from __future__ import annotations

import os

from ..render.layouts import readable_layouts

# Imports inside functions: `pixlm --help` imports this module and stays fast (see pixlm.cli).


def add_arguments(p) -> None:
    p.add_argument("image", nargs="?", help="a PNG of a strip, 16 pixels high")
    p.add_argument("--text", help="render this text and read it back, printing the character accuracy")
    p.add_argument("--layout", choices=readable_layouts(), default="mono", help="the strip's layout (default mono)")
    p.add_argument("--renderer", metavar="PATH", help="a text_renderer_config.json, or a model folder holding one")
    p.add_argument("--charset", metavar="CHARS", help="characters to recognise (default printable ASCII)")


def run(args) -> int:
    import numpy as np

    from ..evaluation.metrics import character_accuracy
    from ..render import RendererConfig, TextRenderer
    from ..render.reading import DEFAULT_CHARSET, PatchReader

    if (args.image is None) == (args.text is None):
        raise ValueError("give either an IMAGE to read or --text to render and read back")
    config = RendererConfig.from_pretrained(args.renderer).to_dict() if args.renderer else {}
    renderer = TextRenderer(RendererConfig(**{**config, "layout": args.layout}))
    reader = PatchReader(renderer, charset=args.charset or DEFAULT_CHARSET)
    if args.text is not None:
        got = reader.read(renderer(args.text).pixel_values)
        want = args.text if args.layout == "mono" else "".join(args.text.split())
        print(got)
        print(f"character accuracy: {100 * character_accuracy(got, want):.1f}%")
        return 0
    from PIL import Image

    if not os.path.isfile(args.image):
        raise FileNotFoundError(f"image {args.image!r} does not exist")
    image = Image.open(args.image).convert("L")
    p = renderer.config.patch_size
    if image.height != p:
        # A strip written with --scale k: shrink it back, each k x k block to its pixel.
        if image.height % p or image.width % (image.height // p):
            raise ValueError(f"image {args.image!r} is {image.width} x {image.height} pixels: a strip is {p} pixels "
                             f"high (or a whole multiple, as pixlm render --scale writes it)")
        k = image.height // p
        image = image.resize((image.width // k, p), Image.BOX)
    print(reader.read(np.asarray(image)))
    return 0
