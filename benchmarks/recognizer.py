"""The recognizer: character error rate on text it never saw, speed against rendering, and
confidence against quality on degraded strips.

    python benchmarks/recognizer.py [--recognizer DIR] [--data ../shared/data] [--sentences 500]
        [--pixel-model DIR] [--tables 1,2,3] [--output CER.json]

Tables (one core: torch and the renderer on one thread):
1. CER (edit distance over reference characters) and exact lines on clean renderings of UD
   en_ewt test and vi_vtb test sentences (never trained on: the default recognizer trains on
   the train splits), in each layout; also with spaces ignored, since `bigrams` and `words`
   start every word at a patch boundary and a word that fills its last patch leaves no gap to
   see; on mono and bigrams the template reader's CER beside it (it reads bigrams without
   spaces). Read in the precision "auto" picks, and again in float32.
2. Reading speed in strips per second, batched, in float32 and bfloat16 (which precision
   "auto" picks here is marked), against rendering the same sentences in the same run (the
   ratio says whether reading could hold an evaluation back).
3. Degraded strips (Gaussian blur of growing sigma; with --pixel-model, a PIXEL model's
   reconstruction pasted into its masked patches, scored against the reading of the true
   strip): CER by bins of the reading's strip confidence (its characters' mean confidence,
   discounted by the share of inked columns where nothing was read), so that a low confidence
   can be trusted to flag a bad reading.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch

from pixlm.data.recognition import blur
from pixlm.evaluation.metrics import edit_distance
from pixlm.models.recognizer import PixelRecognizer
from pixlm.models.recognizer.reading import default_recognizer_path, read_strips, reading_dtype
from pixlm.render import RendererConfig, TextRenderer
from pixlm.render.charsets import normalize_text
from pixlm.render.reading import DEFAULT_CHARSET, PatchReader
from pixlm.training.recognizer import clean_strips

BINS = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 1.01)


def sentences(data: Path, treebank: str, split: str, limit: int) -> list[str]:
    path = data / "ud" / treebank / f"{split}.conllu"
    if not path.is_file():
        raise SystemExit(f"{path} not found: pass --data or set PIXLM_DATA to the shared data folder")
    out = [normalize_text(line.split("=", 1)[1]) for line in path.read_text(encoding="utf-8").splitlines()
           if line.startswith("# text =")]  # vi_vtb writes "# text =..."
    return [t for t in out if t][:limit]


def cer(got: list[str], refs: list[str]) -> float:
    return sum(edit_distance(g, r) for g, r in zip(got, refs)) / max(1, sum(len(r) for r in refs))


def clean_table(model, renderer, data: Path, limit: int) -> dict:
    """Prints table 1; returns its figures as {treebank: {layout: {name: value}}}."""
    print("\n## 1. Clean renderings of unseen sentences: character error rate (lower is better)\n")
    print(f"Read in {str(reading_dtype(model)).removeprefix('torch.')} (precision auto), and again in float32.\n")
    print("| sentences | layout | recognizer CER | CER, spaces ignored | exact lines | CER in float32 | template reader CER |")
    print("|---|---|---|---|---|---|---|")
    figures = {}
    for name, treebank in (("en_ewt test", "en_ewt"), ("vi_vtb test", "vi_vtb")):
        texts = sentences(data, treebank, "test", limit)
        for layout in ("continuous", "words", "bigrams", "mono"):
            strips, refs = clean_strips(renderer, texts, layout)
            got = [r.text for r in read_strips(model, strips)]
            in_float32 = [r.text for r in read_strips(model, strips, precision="float32")]
            template = "–"
            if layout in ("mono", "bigrams") and treebank == "en_ewt":
                reader = PatchReader(renderer, layout=layout, charset=DEFAULT_CHARSET)
                want = refs if layout == "mono" else ["".join(r.split()) for r in refs]
                template = f"{100 * cer([reader.read(np.round(s * 255).astype(np.uint8)) for s in strips], want):.2f}%"
            exact = sum(g == r for g, r in zip(got, refs)) / len(refs)
            spaceless = cer([g.replace(" ", "") for g in got], [r.replace(" ", "") for r in refs])
            print(f"| {name} ({len(refs)}) | {layout} | {100 * cer(got, refs):.2f}% | {100 * spaceless:.2f}% | "
                  f"{100 * exact:.1f}% | {100 * cer(in_float32, refs):.2f}% | {template} |")
            figures.setdefault(treebank, {})[layout] = {"cer": cer(got, refs), "cer_spaces_ignored": spaceless,
                                                        "exact_lines": exact, "cer_float32": cer(in_float32, refs),
                                                        "sentences": len(refs)}
    return figures


def speed_table(model, renderer, data: Path, limit: int, repeats: int = 3) -> None:
    print("\n## 2. Speed on one core (en_ewt test sentences, continuous layout)\n")
    texts = sentences(data, "en_ewt", "test", limit)
    render_s, strips = [], []
    for _ in range(repeats):
        fresh = TextRenderer(renderer.config)
        t = time.perf_counter()
        strips, _ = clean_strips(fresh, texts, "continuous")
        render_s.append(time.perf_counter() - t)
    render_rate = len(texts) / min(render_s)
    print("| work | strips per second | vs rendering |")
    print("|---|---|---|")
    print(f"| rendering (new renderer each pass: word cache cold) | {render_rate:.0f} | 1.00x |")
    auto = reading_dtype(model, "auto")
    for precision in ("float32", "bfloat16"):
        for batch_size in (16, 32, 64):
            read_s = []
            for _ in range(repeats):
                t = time.perf_counter()
                read_strips(model, strips, batch_size, precision)
                read_s.append(time.perf_counter() - t)
            rate = len(texts) / min(read_s)
            note = " (auto here)" if getattr(torch, precision) == auto else ""
            print(f"| reading, {precision}{note}, batches of {batch_size} | {rate:.0f} | {rate / render_rate:.2f}x |")
    width = np.mean([s.shape[1] for s in strips])
    print(f"\nMean strip width {width:.0f} pixels; best of {repeats} passes. bfloat16 is native here: "
          f"{torch.cpu._is_amx_tile_supported() if hasattr(torch.cpu, '_is_amx_tile_supported') else 'unknown'} (AMX).")


def confidence_table(model, renderer, data: Path, limit: int, pixel_model: str | None) -> None:
    print("\n## 3. Degraded strips: CER by the recognizer's confidence\n")
    texts = sentences(data, "en_ewt", "test", limit)
    strips, refs = clean_strips(renderer, texts, "continuous")
    rows = []  # (confidence, errors, characters) per strip
    for sigma in (0.0, 0.6, 1.0, 1.4, 1.8):
        degraded = [s if sigma == 0 else 1 - blur(torch.from_numpy(1 - s), sigma).numpy() for s in strips]
        for reading, ref in zip(read_strips(model, degraded), refs):
            rows.append((reading.strip_confidence, edit_distance(reading.text, ref), len(ref), f"blur {sigma}"))
    if pixel_model:
        rows += _reconstructions(model, renderer, pixel_model, texts)
    print("| strip confidence | strips | CER |")
    print("|---|---|---|")
    for low, high in zip(BINS, BINS[1:]):
        chosen = [r for r in rows if low <= r[0] < high]
        if chosen:
            print(f"| {low:.2f}-{min(high, 1):.2f} | {len(chosen)} | "
                  f"{100 * sum(r[1] for r in chosen) / max(1, sum(r[2] for r in chosen)):.2f}% |")
    print("\n| degradation | strips | mean strip confidence | CER |")
    print("|---|---|---|---|")
    for kind in dict.fromkeys(r[3] for r in rows):
        chosen = [r for r in rows if r[3] == kind]
        print(f"| {kind} | {len(chosen)} | {np.mean([r[0] for r in chosen]):.3f} | "
              f"{100 * sum(r[1] for r in chosen) / max(1, sum(r[2] for r in chosen)):.2f}% |")


def _reconstructions(model, renderer, pixel_model: str, texts: list[str]) -> list:
    """Rows for strips whose masked patches (PIXEL's span masking) a PIXEL model filled in: each
    strip with the model's patches pasted in is read and scored against the reading of the true
    strip (its text as drawn, cut where the model's strip ends)."""
    from pixlm.evaluation.diagnose import diagnose
    from pixlm.models.pixel import PixelForPreTraining
    from pixlm.viz import reconstruction

    pixel = PixelForPreTraining.from_pretrained(pixel_model).eval()
    pixel_renderer = TextRenderer.from_pretrained(pixel_model)
    rows = []
    for k, text in enumerate(texts[:200]):
        result = reconstruction(pixel, pixel_renderer, text, seed=k)
        n = result.num_patches - 1
        true, pasted = (read_strips(model, [_gray(x, n, result.patch_size)])[0] for x in (result.original, result.pasted()))
        rows.append((pasted.strip_confidence, edit_distance(pasted.text, true.text), len(true.text),
                     "PIXEL reconstruction pasted in"))
    result = diagnose(pixel, pixel_renderer, texts[:200], recognizer=model)
    print(f"(PIXEL model {pixel_model}: masked patches read with {100 * result.reading['reconstructed']:.1f}% character "
          f"accuracy, {100 * result.reading['white']:.1f}% when left white)")
    return rows


def _gray(strip: np.ndarray, patches: int, patch_size: int) -> np.ndarray:
    x = strip[:, : patches * patch_size].astype(np.float32) / 255
    return x.mean(-1) if x.ndim == 3 else x


def write_json(path: str, data: dict) -> None:
    """`data` into `path` as JSON, replacing the file whole (never half-written)."""
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
    os.replace(path + ".tmp", path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recognizer", default=default_recognizer_path())
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("PIXLM_DATA", "../shared/data")))
    parser.add_argument("--sentences", type=int, default=500)
    parser.add_argument("--pixel-model", help="a PIXEL pretraining folder whose reconstructions to read")
    parser.add_argument("--tables", default="1,2,3", help="which tables to print (default 1,2,3)")
    parser.add_argument("--output", metavar="FILE", help="also write table 1's figures to FILE as JSON (for scripts/figures.py)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = PixelRecognizer.from_pretrained(args.recognizer).eval()
    renderer = TextRenderer(RendererConfig.from_pretrained(args.recognizer))
    print(f"recognizer {args.recognizer}: {sum(p.numel() for p in model.parameters()):,} parameters, "
          f"{len(model.config.charset)} characters")
    tables = set(args.tables.split(","))
    if "1" in tables:
        figures = clean_table(model, renderer, args.data, args.sentences)
        if args.output:
            write_json(args.output, {"recognizer": args.recognizer, **figures})
    if "2" in tables:
        speed_table(model, renderer, args.data, args.sentences)
    if "3" in tables:
        confidence_table(model, renderer, args.data, min(args.sentences, 300), args.pixel_model)


if __name__ == "__main__":
    main()
