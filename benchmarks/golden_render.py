"""How close each backend comes to the official renderers, set by set.

    python benchmarks/golden_render.py [--golden ../shared/golden] [--backends skia pango]

Renders every input of every golden set (../shared/golden: PIXEL's and PIXEL-M4's renderers,
run unchanged; see its README) through the published renderer folder it came from, and
compares strip by strip: geometry (text patches, separators, word starts, offsets; strips the
official code drew with system fallback fonts are left out, as in the tests), pixel-identical
strips, the mean absolute difference per strip over its text and end patches (0-255 scale),
and the share of identical 16x16 patches.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from pixlm.render import available_backends  # noqa: E402

from golden import RENDER_FOLDERS, compare_set, golden_dir, render_sets, renderer_for  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--golden", type=Path, default=None,
                    help="the golden folder (default $PIXLM_GOLDEN or ../shared/golden)")
    ap.add_argument("--backends", nargs="+", default=available_backends(), help="backends to compare (default: all installed)")
    args = ap.parse_args()
    if args.golden is not None:
        os.environ["PIXLM_GOLDEN"] = str(args.golden)
    root = golden_dir()
    if root is None:
        raise SystemExit("golden folder not found: pass --golden or set PIXLM_GOLDEN")
    print("| backend | renderer | set | strips | geometry identical | pixels identical | mean abs diff / strip | identical patches |")
    print("|---|---|---|---|---|---|---|---|")
    for backend in args.backends:
        totals = [0, 0, 0, 0.0, 0, 0]
        for folder in RENDER_FOLDERS:
            if not (root / folder).is_dir():
                continue
            renderer = renderer_for(root, folder, backend)
            for name in render_sets(root, folder):
                result = compare_set(root, folder, name, renderer)
                strips = [s for s in result.strips if not s.missing_glyphs]
                if not strips:
                    continue
                row = [len(strips), sum(not s.geometry for s in strips), sum(s.pixels_equal for s in strips),
                       sum(s.mean_abs_diff for s in strips), sum(s.identical_patches for s in strips),
                       sum(s.patches for s in strips)]
                totals = [a + b for a, b in zip(totals, row)]
                print(f"| {backend} | {folder} | {name} | {row[0]} | {row[1]} | {row[2]} | {row[3] / row[0]:.3f} "
                      f"| {100 * row[4] / row[5]:.1f}% |")
        if totals[0]:
            print(f"| **{backend}** | all | all | {totals[0]} | {totals[1]} | {totals[2]} | {totals[3] / totals[0]:.3f} "
                  f"| {100 * totals[4] / totals[5]:.1f}% |")


if __name__ == "__main__":
    main()
