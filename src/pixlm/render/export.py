"""Render a text file line by line to PNG files or to a `datasets` Arrow file."""

from __future__ import annotations

import os
from typing import Iterator

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from ..files import read_lines as read_text_lines
from .images import save_png, strip_image
from .renderer import TextRenderer
from .samples import SCRIPT_SAMPLES


def read_lines(path: str | os.PathLike, limit: int | None = None) -> list[str]:
    """Non-empty lines of a UTF-8 text file (line breaks stripped)."""
    path = os.fspath(path)
    lines = []
    for line in read_text_lines(path, "input file"):
        if line.strip():
            lines.append(line)
            if limit is not None and len(lines) >= limit:
                break
    if not lines:
        raise ValueError(f"input file {path!r} holds no non-empty line to render")
    return lines


def crop_to_content(pixels: np.ndarray, num_patches: int, patch_size: int) -> np.ndarray:
    """The strip up to and including the end patch."""
    return pixels[:, : num_patches * patch_size]


def lines_to_pngs(
    renderer: TextRenderer,
    lines: list[str],
    out_dir: str | os.PathLike,
    *,
    num_workers: int = 0,
    grid: bool = False,
    wrap: int | None = None,
    full: bool = False,
    progress: bool = True,
) -> list[str]:
    """One PNG per line, named by line number (`000001.png`); returns the paths."""
    os.makedirs(out_dir, exist_ok=True)
    width = len(str(len(lines)))
    paths = []
    results = renderer.iter_render(lines, num_workers=num_workers)
    for k, r in enumerate(tqdm(results, total=len(lines), desc="rendering", unit="line", disable=not progress)):
        img = strip_image(
            r.pixel_values, renderer.config.patch_size, grid=grid, wrap=wrap,
            num_patches=None if full else r.num_patches,
        )
        paths.append(save_png(img, os.path.join(out_dir, f"{k + 1:0{max(width, 6)}d}.png")))
    return paths


def lines_to_arrow(
    renderer: TextRenderer,
    lines: list[str],
    path: str | os.PathLike,
    *,
    num_workers: int = 0,
    progress: bool = True,
) -> int:
    """Write an Arrow file readable by `datasets.Dataset.from_file`; returns the row count.

    Columns: `text`; `pixel_values` (an Image: the strip up to its end patch, PNG-encoded,
    lossless); `num_patches` (text patches plus the end patch); `truncated`.
    """
    # Only this export needs datasets, which takes most of a second to import.
    import datasets
    from datasets.arrow_writer import ArrowWriter

    features = datasets.Features(
        {
            "text": datasets.Value("string"),
            "pixel_values": datasets.Image(),
            "num_patches": datasets.Value("int32"),
            "truncated": datasets.Value("bool"),
        }
    )
    path = os.fspath(path)
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    tmp = path + ".tmp"
    p = renderer.config.patch_size
    image = datasets.Image()
    rows = 0
    with ArrowWriter(features=features, path=tmp) as writer:
        results: Iterator = renderer.iter_render(lines, num_workers=num_workers)
        for text, r in tqdm(zip(lines, results), total=len(lines), desc="rendering", unit="line", disable=not progress):
            writer.write(
                {
                    "text": text,
                    "pixel_values": image.encode_example(crop_to_content(r.pixel_values, r.num_patches, p)),
                    "num_patches": r.num_patches,
                    "truncated": r.truncated,
                }
            )
            rows += 1
        writer.finalize()
    os.replace(tmp, path)
    return rows


def samples_to_pngs(renderer: TextRenderer, out_dir: str | os.PathLike, *, grid: bool = False, scale: int = 2) -> dict:
    """Render the built-in multi-script sample: one PNG per script and `samples.png` with all.

    Returns {script: {"path", "num_patches", "missing_glyphs"}}.
    """
    os.makedirs(out_dir, exist_ok=True)
    report, images = {}, []
    for name, text in SCRIPT_SAMPLES.items():
        r = renderer(text)
        img = strip_image(r.pixel_values, renderer.config.patch_size, grid=grid, num_patches=r.num_patches, scale=scale)
        path = save_png(img, os.path.join(out_dir, f"{name}.png"))
        report[name] = {"path": path, "num_patches": r.num_patches, "missing_glyphs": r.missing_glyphs}
        images.append(img)
    gap = 4 * scale
    sheet = Image.new("RGB", (max(i.width for i in images), sum(i.height + gap for i in images)), "white")
    y = 0
    for img in images:
        sheet.paste(img, (0, y))
        y += img.height + gap
    report["all"] = {"path": save_png(sheet, os.path.join(out_dir, "samples.png"))}
    return report
