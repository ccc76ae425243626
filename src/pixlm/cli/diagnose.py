"""Does a PIXEL model read its context? Held-out masked-patch loss, real input against blank.

Render held-out texts, hide the same spans twice, and score the model's reconstruction of them
seeing the real strip and seeing every patch blank. R = real / blank near 1 means the model
predicts from position alone; it falls as the model starts to read. Prints a table (overall and
by span length) and a verdict; --output writes them as JSON.
"""

from __future__ import annotations

import json
import os

from .flags import positive_int

# Imports inside functions: `pixlm --help` imports this module and stays fast (see pixlm.cli).


def add_arguments(p) -> None:
    p.add_argument("model", help="a PIXEL pretraining checkpoint folder (e.g. what pixlm quickstart or pretrain wrote)")
    p.add_argument("--texts", metavar="FILE",
                   help="held-out texts, one per line (default: the model folder's corpus-held-out.txt, if any)")
    p.add_argument("--count", type=positive_int, default=128, metavar="N", help="texts to use (default 128)")
    p.add_argument("--seed", type=int, default=0, help="seed of the span masks (default 0)")
    p.add_argument("--recognizer", metavar="DIR",
                   help="read the reconstructions of masked patches as text with this recognizer (default: pixlm's, "
                        "when the model's renderer draws as the one it was trained on; see pixlm read train)")
    p.add_argument("--output", metavar="JSON", help="also write the diagnosis as JSON")


def run(args) -> int:
    from ..evaluation.diagnose import diagnose
    from ..files import check_output_file, read_lines, written_whole
    from ..models.pixel import PixelForPreTraining
    from ..models.recognizer.reading import recognizer_for
    from ..render import TextRenderer
    from .common import load_folder

    if args.output:
        check_output_file(args.output, "--output")
    path = args.texts or os.path.join(args.model, "corpus-held-out.txt")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"held-out texts {path!r} do not exist; give them with --texts FILE (one text per line)")
    texts = [t for t in read_lines(path, "held-out texts") if t.strip()][: args.count]
    model = load_folder(PixelForPreTraining, args.model, needs="decoder.", what="pretraining decoder")
    renderer = TextRenderer.from_pretrained(args.model)
    recognizer = recognizer_for(renderer.config, args.recognizer)
    if recognizer is None:
        print("(no recognizer for this model's renderer: masked patches are not read as text; see pixlm read train)")
    result = diagnose(model, renderer, texts, seed=args.seed, recognizer=recognizer)
    print(f"held-out masked-patch loss over {result.texts} texts")
    print(result.table())
    print(f"verdict: {result.verdict}")
    if args.output:
        with written_whole(args.output) as tmp, open(tmp, "w", encoding="utf-8") as f:
            json.dump(result.to_dict(), f, indent=2)
    return 0
