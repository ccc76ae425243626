"""Read rendered strips back as text, or train a recognizer to (pixlm read train).

Give PNG strips (as pixlm render writes them, --scale included), or --text to render and read
back as a check (prints the character accuracy). Strips in the mono and bigrams layouts are
read exactly by matching cells against the renderer's own glyphs; every other layout (PIXEL's
continuous, words) by a recognizer: the one that ships with pixlm for pixlm's default renderer,
or --recognizer DIR. With --confidence, each strip's characters are listed with their
confidence, pixel column and patch.

`pixlm read train --corpus FILE --output-dir DIR [--renderer DIR]` trains a recognizer for a
renderer on strips drawn on the fly from a corpus (resumable; the folder then goes to
--recognizer).
"""

from __future__ import annotations

import os

from ..render.layouts import LAYOUT_REGISTRY, readable_layouts
from ..training.config import RecognizerTrainConfig
from .flags import add_config_flags, config_from_args

# Imports inside functions: `pixlm --help` imports this module and stays fast (see pixlm.cli).

EPILOG = "\n".join([
    "Examples:",
    "  pixlm read strip.png",
    "  pixlm read --text 'Read me back'                 # continuous, by the recognizer",
    "  pixlm read --text 'Read me back' --layout mono   # exact template reading",
    "  pixlm read train --corpus train.conllu --output-dir runs/reader --steps 4500",
])


def add_arguments(p) -> None:
    p.add_argument("image", nargs="*", help="PNG strips to read (16 pixels high, or a whole multiple); or `train`")
    p.add_argument("--text", help="render this text and read it back, printing the character accuracy")
    p.add_argument("--layout", choices=list(LAYOUT_REGISTRY),
                   help="the strips' layout (default the renderer's); mono and bigrams are read by templates unless "
                        "--recognizer is given")
    p.add_argument("--renderer", metavar="PATH", help="a text_renderer_config.json, or a folder holding one (default: "
                                                      "the recognizer's, else pixlm's); read train: the renderer to read")
    p.add_argument("--recognizer", metavar="DIR", help="a recognizer folder (pixlm read train); default: pixlm's")
    p.add_argument("--template", action="store_true", help="read with the exact template reader (mono, bigrams)")
    p.add_argument("--charset", metavar="CHARS|default|corpus|FILE",
                   help="template reader: the characters to match (default printable ASCII); read train: default, "
                        "corpus (default plus the corpus's characters) or a file of characters")
    p.add_argument("--confidence", action="store_true", help="list each character with its confidence, column and patch")
    p.add_argument("--precision", choices=("auto", "float32", "bfloat16"), default="auto",
                   help="the recognizer's arithmetic: auto (default) is bfloat16 where the hardware computes in it "
                        "natively (a CPU with AMX, a recent GPU), about 1.3x faster, else float32")
    add_config_flags(p, RecognizerTrainConfig, skip=("renderer", "charset"), optional=True, group="pixlm read train")


def run(args) -> int:
    if args.image[:1] == ["train"]:
        return _train(args)
    if bool(args.image) == (args.text is not None):
        raise ValueError("give either an IMAGE to read or --text to render and read back")
    if args.text is not None and not args.text.strip():
        raise ValueError("--text is empty: give some text to render and read back")
    renderer = _renderer(args)
    layout = args.layout or renderer.config.layout
    template = args.template or (layout in readable_layouts() and not args.recognizer)
    if template:
        read = _template_reader(renderer, layout, args.charset)
    else:
        read = _recognizer_reader(args.recognizer, args.confidence, args.precision)
    if args.text is not None:
        from ..evaluation.metrics import character_accuracy
        from ..render.charsets import normalize_text

        got = read([renderer(args.text, layout=layout)])[0]
        # The template reader gives mono's text as drawn and bigrams' without spaces; the
        # recognizer the text with its whitespace normalised.
        want = (args.text if layout == "mono" else "".join(args.text.split())) if template else normalize_text(args.text)
        print(got)
        print(f"character accuracy: {100 * character_accuracy((got.splitlines() or [''])[0], want):.1f}%")
        return 0
    for text in read(args.image):
        print(text)
    return 0


def _renderer(args):
    from ..render import RendererConfig, TextRenderer

    source = args.renderer or (args.recognizer if args.recognizer and _has_renderer(args.recognizer) else None)
    return TextRenderer(RendererConfig.from_pretrained(source) if source else RendererConfig())


def _has_renderer(folder: str) -> bool:
    from ..render.config import CONFIG_NAME

    return os.path.isfile(os.path.join(folder, CONFIG_NAME))


def _template_reader(renderer, layout: str, charset: str | None):
    from ..render.images import read_strip_image
    from ..render.reading import DEFAULT_CHARSET, PatchReader

    reader = PatchReader(renderer, layout=layout, charset=charset or DEFAULT_CHARSET)
    p = renderer.config.patch_size

    def read(strips) -> list[str]:
        return [reader.read(s.pixel_values if hasattr(s, "pixel_values") else read_strip_image(s, p)) for s in strips]

    return read


def _recognizer_reader(folder: str | None, confidence: bool, precision: str):
    from ..models.recognizer.reading import read as recognize

    def read(strips) -> list[str]:
        out = []
        for reading in recognize(list(strips), recognizer=folder, precision=precision):
            if not confidence:
                out.append(reading.text)
                continue
            rows = [reading.text] + [f"  {c!r}\t{p:.3f}\tcolumn {x}\tpatch {k}" for c, p, x, k in
                                     zip(reading.text, reading.confidence, reading.columns, reading.patches)]
            rows.append(f"  strip confidence {reading.strip_confidence:.3f} (ink with nothing read: "
                        f"{100 * reading.unread_ink:.1f}% of inked columns)")
            out.append("\n".join(rows))
        return out

    return read


def _train(args) -> int:
    from ..training.recognizer import train_recognizer

    if len(args.image) > 1:
        raise ValueError(f"pixlm read train takes no images; got {' '.join(args.image[1:])}")
    missing = [flag for flag, dest in (("--corpus", "corpus"), ("--output-dir", "output_dir")) if not hasattr(args, dest)]
    if missing:
        raise ValueError(f"pixlm read train needs {' and '.join(missing)}")
    cfg = config_from_args(RecognizerTrainConfig, args, renderer=args.renderer, charset=args.charset or "default")
    results = train_recognizer(cfg)
    for layout, score in results["validation"].items():
        print(f"{layout}: character error rate {100 * score['cer']:.2f}% on {score['lines']} held-out lines")
    print(f"recognizer: {cfg.output_dir} (pixlm read IMAGE --recognizer {cfg.output_dir})")
    return 0
