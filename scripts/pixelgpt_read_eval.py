"""Character accuracy of reading back what a PixelGPT model generates.

    python scripts/pixelgpt_read_eval.py MODEL_DIR CORPUS.txt [--texts 50] [--prompt-patches 8] [--new-patches 8]
        [--recognizer DIR] [--output FILE]

For held-out texts rendered with the model's renderer: the first `prompt-patches` patches are
the prompt, the model generates `new-patches` more, and they are read as text: by the exact
patch reader for `mono` and `bigrams`, by a recognizer for any other layout (pixlm's, when the
model's renderer draws as the one it was trained on, or --recognizer DIR). The reading of the
generated patches is scored against the reading of the true continuation's patches; the reader
itself is scored on those true patches against the text they hold (should be ~100%).
"""

import argparse
import json
import os

import numpy as np


def main() -> None:
    from pixlm.data.processor import strips_to_batch
    from pixlm.evaluation.metrics import character_accuracy
    from pixlm.models.pixelgpt import PixelGPTForCausalLM
    from pixlm.models.recognizer.reading import read, recognizer_for
    from pixlm.render import TextRenderer
    from pixlm.render.reading import PatchReader
    from pixlm.viz.generation import to_uint8_strip

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("corpus", help="a text file, one text per line; held out from training; the first texts long enough are used")
    ap.add_argument("--texts", type=int, default=50)
    ap.add_argument("--prompt-patches", type=int, default=8)
    ap.add_argument("--new-patches", type=int, default=8)
    ap.add_argument("--recognizer", help="a recognizer folder, for layouts other than mono and bigrams")
    ap.add_argument("--output", help="also write the scores (JSON) to this file")
    args = ap.parse_args()
    model = PixelGPTForCausalLM.from_pretrained(args.model).eval()
    renderer = TextRenderer.from_pretrained(args.model)
    p, n, k = renderer.config.patch_size, args.prompt_patches, args.new_patches
    if renderer.config.layout in ("mono", "bigrams"):
        patch_reader = PatchReader(renderer)

        def read_patches(pixels):
            return patch_reader.read(pixels, num_patches=k)

        def drawn(text):  # the characters from the first generated patch on
            return text[n * p // patch_reader.cell:]
    else:
        recognizer = recognizer_for(renderer.config, args.recognizer)
        if recognizer is None:
            raise SystemExit("no recognizer for this model's renderer: give --recognizer DIR (pixlm read train)")

        def read_patches(pixels):
            return read(pixels, recognizer, num_patches=k).text

        def drawn(text):  # what the true continuation holds: the characters drawn in its patches
            spans = renderer(text, char_spans=True).char_spans[n : n + k]
            starts = [int(a) for a, b in spans if b > a]
            return text[min(starts):] if starts else ""
    lines = [t.strip() for t in open(args.corpus, encoding="utf-8") if t.strip()]
    texts = [t for t in lines if renderer(t).num_patches - 1 >= n + k][: args.texts]
    generated, clean, examples = [], [], []
    for text in texts:
        r = renderer(text)
        truth = r.pixel_values[:, n * p : (n + k) * p]
        want = read_patches(truth)
        px, _ = strips_to_batch([r.pixel_values], [n], p, model.config.num_channels, n)
        new = to_uint8_strip(model.generate_patches(px, k)[0])
        got = read_patches(new if new.shape[2] > 1 else new[..., 0])
        generated.append(character_accuracy(got, want))
        rest = drawn(text)
        clean.append(character_accuracy(want, rest.rstrip()[: len(want)]))
        if len(examples) < 5:
            examples.append({"prompt": text[: len(text) - len(rest)], "true": want, "generated": got})
    scores = json.dumps({"texts": len(texts), "reader_on_true_patches": float(np.mean(clean)),
                         "reader_on_generated_patches": float(np.mean(generated)), "examples": examples}, indent=1)
    print(scores)
    if args.output:
        with open(args.output + ".tmp", "w", encoding="utf-8") as f:
            f.write(scores + "\n")
        os.replace(args.output + ".tmp", args.output)


if __name__ == "__main__":
    main()
