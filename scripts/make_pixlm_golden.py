"""Write pixlm's own golden outputs (tests/data/pixlm-golden): renderings of fixed inputs in
every layout, and tiny PIXEL and PixelGPT models with their outputs on fixed inputs.

    python scripts/make_pixlm_golden.py

`tests/test_pixlm_golden.py` compares the current code against these files, so that a change
to rendering or to a model's computation shows up as a failing test. Rewrite them only for a
change meant to alter outputs, and say so in the commit message.
"""

from __future__ import annotations

import json
import shutil
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "pixlm-golden"
PATCHES = 64  # strips are stored to this many patches: every input fits

# (name, call arguments, keyword arguments) rendered by every backend installed.
RENDER_INPUTS = [
    ("sentence", ("The quick brown fox jumps over the lazy dog; 0123456789 #*!",), {}),
    ("accents", ("Zürich, naïve café, Ærøskøbing, Tiếng Việt.",), {}),
    ("words", (["Words", "each", "start", "a", "patch."],), {"layout": "words"}),
    ("pair", ("Is it raining?", "No, the sun is out."), {}),
    ("bigrams", ("bigrams of characters",), {"layout": "bigrams"}),
    ("mono", ("mono cells",), {"layout": "mono"}),
    ("arabic", ("مرحبا بالعالم",), {}),
    ("empty", ("",), {}),
]
FIELDS = ("num_text_patches", "sep_patches", "word_starts", "truncated", "missing_glyphs")


def renders(backend: str) -> tuple[dict, dict]:
    from pixlm.render import TextRenderer

    renderer = TextRenderer(backend=backend, max_patches=PATCHES)
    arrays, meta = {}, {}
    for name, args, kwargs in RENDER_INPUTS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = renderer(*args, **kwargs)
        arrays[f"{backend}.{name}"] = out.pixel_values
        meta[f"{backend}.{name}"] = {k: np.asarray(getattr(out, k)).tolist() for k in FIELDS}
    return arrays, meta


def strips() -> torch.Tensor:
    """Two strips of the skia renderer, as a collator feeds a model (B, 1, 16, 32 * 16)."""
    from pixlm.render import TextRenderer

    r = TextRenderer(backend="skia", max_patches=32)
    x = [torch.from_numpy(r(t).pixel_values).float().div(255) for t in ("A tiny golden input.", "Second one")]
    return torch.stack(x).unsqueeze(1)


def pixel_model(folder: Path) -> dict:
    from pixlm.models.pixel import PixelConfig, PixelForPreTraining, PixelForSequenceClassification

    torch.manual_seed(0)
    config = PixelConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                         decoder_hidden_size=16, decoder_num_hidden_layers=1, decoder_num_attention_heads=2,
                         decoder_intermediate_size=32, num_channels=1, max_patches=32, num_labels=3)
    pretraining = PixelForPreTraining(config).eval()
    pretraining.save_pretrained(folder / "pixel-pretraining")
    torch.manual_seed(1)
    classifier = PixelForSequenceClassification(config).eval()
    classifier.save_pretrained(folder / "pixel-seqcls")
    x = strips()
    mask = torch.ones(2, 32, dtype=torch.long)
    noise = torch.rand(2, 32, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        pre = pretraining(pixel_values=x, attention_mask=mask, noise=noise)
        cls = classifier(pixel_values=x, attention_mask=mask)
    return {"pixel.input": x.numpy(), "pixel.noise": noise.numpy(), "pixel.pretraining.loss": pre.loss.numpy(),
            "pixel.pretraining.logits": pre.logits.numpy(), "pixel.seqcls.logits": cls.logits.numpy()}


def pixelgpt_model(folder: Path) -> dict:
    from pixlm.models.pixelgpt import PixelGPTConfig, PixelGPTForCausalLM

    torch.manual_seed(0)
    config = PixelGPTConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1,
                            intermediate_size=64, max_patches=32, num_channels=1, vocab_size=64)
    model = PixelGPTForCausalLM(config).eval()
    model.save_pretrained(folder / "pixelgpt")
    x = strips()
    ids = torch.tensor([[1, 5, 9, 13, 2], [1, 7, 3, 2, 0]])
    ids_mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 1, 0]])
    with torch.no_grad():
        pixels = model(pixel_values=x, attention_mask=torch.ones(2, 32, dtype=torch.long))
        text = model(input_ids=ids, attention_mask=ids_mask)
        generated = model.generate(ids[:1, :3], max_new_tokens=6, do_sample=False, pad_token_id=0)
    return {"pixelgpt.input_ids": ids.numpy(), "pixelgpt.input_mask": ids_mask.numpy(),
            "pixelgpt.pixel_logits": pixels.pixel_logits.numpy(), "pixelgpt.pixel_loss": pixels.loss.numpy(),
            "pixelgpt.token_logits": text.logits.numpy(), "pixelgpt.generated": generated.numpy()}


def drawing_libraries() -> dict[str, str]:
    """The versions of what draws the glyphs, by backend: pixels may change with them."""
    out = {}
    try:
        import skia

        out["skia"] = skia.__version__
    except ImportError:
        pass
    try:
        import pangocffi

        out["pango"] = pangocffi.ffi.string(pangocffi.pango.pango_version_string()).decode()
    except (ImportError, OSError):
        pass
    return out


def main() -> None:
    import argparse

    argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 2)[2]).parse_args()
    from pixlm.render import available_backends

    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    arrays, meta = {}, {}
    for backend in available_backends():
        a, m = renders(backend)
        arrays.update(a)
        meta.update(m)
    np.savez_compressed(OUT / "render.npz", **arrays)
    models = {**pixel_model(OUT), **pixelgpt_model(OUT)}
    np.savez_compressed(OUT / "models.npz", **models)
    versions = {"python": sys.version.split()[0], "torch": torch.__version__, **drawing_libraries()}
    for module in ("transformers", "uharfbuzz", "numpy"):
        versions[module] = __import__(module).__version__
    (OUT / "render.json").write_text(json.dumps({"inputs": [[n, list(a), k] for n, a, k in RENDER_INPUTS],
                                                  "fields": meta, "made_with": versions}, indent=1, ensure_ascii=False) + "\n")
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"{OUT}: {len(arrays)} strips, {len(models)} model arrays, {total / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
