"""Show what a PIXEL model reconstructs of masked text (PNG).

Render TEXT, hide patches (PIXEL's span masking, or the spans you give), and write a PNG:
original, mask, prediction, and the prediction pasted into the original. With a recognizer for
the model's renderer (pixlm's ships with it; --recognizer DIR for another), each hidden span
is also read: what the model drew there, as text, next to what was there.
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
    p.add_argument("--recognizer", metavar="DIR", help="read the reconstructed spans with this recognizer (default: "
                                                      "pixlm's, when it was trained on the model's renderer)")
    p.add_argument("-o", "--output", type=png_path, default="reconstruction.png", metavar="PNG",
                   help="where to write (default reconstruction.png)")


def run(args) -> int:
    from ..models.pixel import PixelForPreTraining
    from ..models.recognizer.reading import recognizer_for
    from ..render import RendererConfig, TextRenderer
    from ..viz import reconstruction, reconstruction_image, save_png

    if not args.text.strip():
        raise ValueError("TEXT is empty: give some text to render, mask and reconstruct")
    model = load_folder(PixelForPreTraining, args.model, needs="decoder.", what="pretraining decoder")
    renderer = TextRenderer(RendererConfig.for_model(args.model, max_patches=model.config.max_patches))
    result = reconstruction(model, renderer, args.text, spans=_parse_spans(args.spans), seed=args.seed)
    image = reconstruction_image(result.original, result.predicted, result.mask, result.num_patches, result.patch_size,
                                 args.wrap)
    print(f"{save_png(image, args.output)}: masked-patch loss {result.loss:.4f}")
    recognizer = recognizer_for(renderer.config, args.recognizer)
    if recognizer is None:
        print("(no recognizer for this model's renderer: the spans are not read; see pixlm read train)")
        return 0
    for line in _read_spans(result, renderer, args.text, recognizer):
        print(line)
    return 0


def _read_spans(result, renderer, text: str, recognizer) -> list[str]:
    """One line per hidden span: its patches, the text drawn there, and what the model's
    reconstruction of it reads as (with the recognizer's mean confidence)."""
    from ..models.recognizer.reading import read

    drawn = renderer(text, char_spans=True)
    text_patches = result.num_patches - 1
    reading = read(result.pasted(), recognizer, num_patches=text_patches)
    lines = []
    for s, e in result.hidden_spans():
        e = min(e, text_patches)
        if s >= e:
            continue
        ranges = [(int(a), int(b)) for a, b in drawn.char_spans[s:e] if b > a]
        truth = text[min(a for a, _ in ranges): max(b for _, b in ranges)] if ranges else ""
        got = [(c, p) for c, p, k in zip(reading.text, reading.confidence, reading.patches) if s <= k < e]
        confidence = sum(p for _, p in got) / len(got) if got else 0.0
        lines.append(f"patches {s}:{e}  was {truth!r}  reads {''.join(c for c, _ in got)!r}  (confidence {confidence:.2f})")
    return lines


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
