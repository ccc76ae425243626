"""pixlm's renderer against the official renderers' own outputs (../shared/golden, made by
running PIXEL's and PIXEL-M4's code unchanged): a published renderer folder loaded with
`TextRenderer.from_pretrained` must render what the official code rendered.

With the `pango` backend (PIXEL's): every array and field bit-identical. With `skia`: the same
geometry (text patches, separators, word starts, windows, offsets), pixels close. The one
allowed exception is a text with characters the font lacks (the `emoji` sets): the official
code fell back to boxes of Pango's own, which no other rasteriser draws alike.
"""

import pytest

from pixlm.render import available_backends

from golden import RENDER_FOLDERS, compare_set, golden_dir, render_sets, renderer_for

ROOT = golden_dir()
SETS = [(folder, name) for folder in RENDER_FOLDERS for name in (render_sets(ROOT, folder) if ROOT else [])]
_RENDERERS: dict = {}


def _renderer(folder: str, backend: str):
    if backend not in available_backends():
        pytest.skip(f"the {backend} backend is not installed here")
    key = (folder, backend)
    if key not in _RENDERERS:
        _RENDERERS[key] = renderer_for(ROOT, folder, backend)
    return _RENDERERS[key]


pytestmark = pytest.mark.skipif(ROOT is None, reason="golden reference data not found: set PIXLM_GOLDEN or place it at ../shared/golden")


@pytest.mark.parametrize("folder, name", SETS, ids=[f"{f}/{n}" for f, n in SETS])
def test_pango_renders_what_the_official_code_rendered(folder, name):
    result = compare_set(ROOT, folder, name, _renderer(folder, "pango"))
    assert not result.errors, result.errors
    checked = [s for s in result.strips if not s.missing_glyphs]
    assert checked or name in ("edge",), "nothing compared"
    for s in checked:
        assert not s.geometry, (s.item, s.window, s.geometry)
        assert s.pixels_equal, (s.item, s.window, f"mean abs diff {s.mean_abs_diff:.3f}")


@pytest.mark.parametrize("folder, name", SETS, ids=[f"{f}/{n}" for f, n in SETS])
def test_skia_has_the_official_geometry_and_close_pixels(folder, name):
    result = compare_set(ROOT, folder, name, _renderer(folder, "skia"))
    assert not result.errors, result.errors
    checked = [s for s in result.strips if not s.missing_glyphs]
    for s in checked:
        assert not s.geometry, (s.item, s.window, s.geometry)
        # Skia draws the same outlines at the same places with its own antialiasing: measured at
        # about 8 (of 255) per pixel of text, the end patch included (docs/benchmarks.md).
        assert s.mean_abs_diff < 15, (s.item, s.window, s.mean_abs_diff)


def test_the_golden_sets_cover_what_the_readme_promises():
    names = {folder: set(render_sets(ROOT, folder)) for folder in RENDER_FOLDERS}
    assert {"en_ewt", "qa_overflow", "rtl_pairs", "pos_en", "special_chars", "long_text"} <= names["pixel-render"]
    assert {"en_ewt", "mrpc_pairs", "pos_en"} <= names["pixel-m4-render"]
