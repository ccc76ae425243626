"""Character accuracy of reading back what a PixelGPT model generates.

    python scripts/pixelgpt_read_eval.py MODEL_DIR CORPUS.txt [--texts 50] [--prompt-patches 8] [--new-patches 8]

For held-out texts rendered with the model's `mono` (or `bigrams`) renderer: the first
`prompt-patches` patches are the prompt, the model generates `new-patches` more, and the patch
reader turns them into text, scored against the characters the true continuation holds. The
reader is also scored on the true continuation's own patches (should be ~100%).
"""

import argparse
import json

import numpy as np


def main() -> None:
    from pixlm.data.collators import strips_to_batch
    from pixlm.evaluation.metrics import character_accuracy
    from pixlm.models.pixelgpt import PixelGPTForCausalLM
    from pixlm.render import TextRenderer
    from pixlm.render.reading import PatchReader
    from pixlm.viz.generation import to_uint8_strip

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("corpus", help="a text file, one text per line; held out from training; the first texts long enough are used")
    ap.add_argument("--texts", type=int, default=50)
    ap.add_argument("--prompt-patches", type=int, default=8)
    ap.add_argument("--new-patches", type=int, default=8)
    args = ap.parse_args()
    model = PixelGPTForCausalLM.from_pretrained(args.model).eval()
    renderer = TextRenderer.from_pretrained(args.model)
    reader = PatchReader(renderer)
    p, n, k = renderer.config.patch_size, args.prompt_patches, args.new_patches
    lines = [t.strip() for t in open(args.corpus, encoding="utf-8") if t.strip()]
    texts = [t for t in lines if renderer(t).num_patches - 1 >= n + k][: args.texts]
    generated, clean, examples = [], [], []
    for text in texts:
        r = renderer(text)
        truth = r.pixel_values[:, n * p : (n + k) * p]
        want = reader.read(truth, num_patches=k)
        px, _ = strips_to_batch([r.pixel_values], [n], p, model.config.num_channels, n)
        new = to_uint8_strip(model.generate_patches(px, k)[0])
        got = reader.read(new if new.shape[2] > 1 else new[..., 0], num_patches=k)
        generated.append(character_accuracy(got, want))
        start = n * p // reader.cell
        clean.append(character_accuracy(want, text[start:].rstrip()[: len(want)]))
        if len(examples) < 5:
            examples.append({"prompt": text[:start], "true": want, "generated": got})
    print(json.dumps({"texts": len(texts), "reader_on_true_patches": float(np.mean(clean)),
                      "reader_on_generated_patches": float(np.mean(generated)), "examples": examples}, indent=1))


if __name__ == "__main__":
    main()
