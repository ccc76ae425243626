"""Reading ../shared/golden: the outputs of the official PIXEL, PIXEL-M4 and PixelGPT code, and
pixlm's renderings of the same inputs, strip by strip. Used by the golden tests and by
`benchmarks/golden_render.py` (which reports how close skia's pixels come to Pango's)."""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


def golden_dir() -> Path | None:
    """$PIXLM_GOLDEN, else ../shared/golden beside the checkout."""
    env = os.environ.get("PIXLM_GOLDEN")
    path = Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared" / "golden"
    return path if path.is_dir() else None


RENDER_FOLDERS = ("pixel-render", "pixel-render-font2", "pixel-m4-render")


def render_sets(root: Path, folder: str) -> list[str]:
    return sorted(json.loads((root / folder / "index.json").read_text()))


@dataclass
class StripComparison:
    """One official strip against pixlm's."""

    item: int
    window: int
    pixels_equal: bool
    geometry: dict  # field -> (official, pixlm) where they differ
    mean_abs_diff: float  # over the official strip's text patches and end patch
    identical_patches: int
    patches: int
    missing_glyphs: bool


@dataclass
class SetComparison:
    folder: str
    name: str
    strips: list[StripComparison] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def renderer_for(root: Path, folder: str, backend: str):
    from pixlm.render import TextRenderer

    kwargs = {"layout": "bigrams"} if folder == "pixel-m4-render" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return TextRenderer.from_pretrained(root / folder / "renderer", backend=backend, **kwargs)


def _render(renderer, kind: str, item, bigrams: bool):
    if kind == "text":
        return [renderer(item)]
    if kind == "pair":
        return [renderer(item[0], item[1])]
    if kind == "words":
        return [renderer(list(item), layout="bigrams" if bigrams else "words")]
    out = renderer(item[0].strip(), item[1].strip(), stride=160, overflow=True, offset_mapping=True)
    return [out, *out.overflow]


def compare_set(root: Path, folder: str, name: str, renderer) -> SetComparison:
    """Render every input of a golden set as the official call did, and compare each strip:
    pixels, and every geometric field in the official units (pixel offsets for PIXEL's
    separators, the end patch appended to word starts)."""
    meta = json.loads((root / folder / f"{name}.json").read_text())
    arrays = np.load(root / folder / f"{name}.npz")
    bigrams = folder == "pixel-m4-render"
    p = 16
    result = SetComparison(folder, name)
    failed = {e["item"] for e in meta.get("errors", [])}
    row = 0
    for i, item in enumerate(meta["items"]):
        count = int(arrays["num_windows_per_item"][i])
        if i in failed:
            row += count
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outs = _render(renderer, meta["kind"], item, bigrams)
        if len(outs) != count:
            result.errors.append(f"item {i}: {len(outs)} strips, official {count}")
        for w, out in enumerate(outs[:count]):
            official = meta["strips"][row + w]
            gold = arrays["pixel_values"][row + w]
            geometry = {}
            n = int(arrays["num_text_patches"][row + w])
            if out.num_text_patches != n:
                geometry["num_text_patches"] = (n, out.num_text_patches)
            ours_sep = list(out.sep_patches) + [out.end_patch] if bigrams else [s * p for s in out.sep_patches] + [out.end_patch * p]
            theirs_sep = official["sep_patches"]
            if w > 0 and not bigrams:  # PIXEL lists the first window's end again in later windows
                theirs_sep = [theirs_sep[0], theirs_sep[-1]]
            if ours_sep != theirs_sep:
                geometry["sep_patches"] = (theirs_sep, ours_sep)
            if official["word_starts"] is not None:
                ours_ws = list(map(int, out.word_starts)) + [official["word_starts"][-1]]
                if ours_ws != official["word_starts"] or (not bigrams and official["word_starts"][-1] != out.num_text_patches):
                    geometry["word_starts"] = (official["word_starts"], list(map(int, out.word_starts)))
            if official["offset_mapping"] is not None:
                ours_om = None if out.offset_mapping is None else out.offset_mapping.tolist()
                if ours_om != official["offset_mapping"]:
                    geometry["offset_mapping"] = ("official", "differs")
            cut = (n + 1) * p
            diff = np.abs(out.pixel_values[:, :cut].astype(np.int16) - gold[:, :cut].astype(np.int16))
            same = (diff.reshape(p, -1, p).max(axis=(0, 2)) == 0)
            result.strips.append(StripComparison(
                i, w, bool(np.array_equal(out.pixel_values, gold)), geometry, float(diff.mean()), int(same.sum()),
                len(same), bool(out.missing_glyphs)))
        row += count
    return result
