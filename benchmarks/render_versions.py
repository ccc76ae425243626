"""This checkout's renderer against the renderer of an earlier commit, in one process.

    python benchmarks/render_versions.py --against 625ce24 [--workloads long pairs+spans] [--passes 9]

`src/pixlm/render` of the commit is extracted (with `git archive`) into a temporary folder and
imported beside this checkout's; both render each workload in turn, a pass each, back to back
(warm caches), so that a speed-up is measured on the machine in one state. Prints, per
workload, the median speed ratio (this checkout / the commit) over the rounds with its
quartiles, and each version's rate. Workloads are those of `benchmarks/render.py`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from render import rate, ud_sentences, workloads  # noqa: E402

from pixlm.render import TextRenderer  # noqa: E402

_REPO = Path(__file__).resolve().parents[1]


def renderer_of(commit: str, folder: str):
    """`TextRenderer` of `src/pixlm/render` at `commit`, imported as package `pixlm_<commit>`."""
    name = f"pixlm_{commit}".replace("-", "_").replace(".", "_")
    archive = subprocess.run(["git", "-C", str(_REPO), "archive", commit, "src/pixlm/render"],
                             check=True, capture_output=True).stdout
    archive_path = os.path.join(folder, "render.tar")
    with open(archive_path, "wb") as f:
        f.write(archive)
    with tarfile.open(archive_path) as tar:
        tar.extractall(folder, filter="data")
    package = Path(folder) / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    os.rename(Path(folder) / "src" / "pixlm" / "render", package / "render")
    sys.path.insert(0, folder)
    return importlib.import_module(f"{name}.render").TextRenderer


def compare(old: TextRenderer, new: TextRenderer, items: list, kwargs: dict, passes: int) -> dict[str, float]:
    """Median and quartiles over `passes` rounds of (old's time / new's time), a round being a
    pass of each over the workload, back to back (whole passes: in slices of a few
    milliseconds each would evict the other's data from the CPU caches)."""
    rate(old, items, kwargs)
    rate(new, items, kwargs)
    ratios, spent_old, spent_new = [], 0.0, 0.0
    for _ in range(passes):
        a = len(items) / rate(old, items, kwargs)
        b = len(items) / rate(new, items, kwargs)
        ratios.append(a / b)
        spent_old, spent_new = spent_old + a, spent_new + b
    q1, median, q3 = statistics.quantiles(ratios, n=4)
    done = len(items) * passes
    return {"median": median, "q1": q1, "q3": q3, "old": done / spent_old, "new": done / spent_new}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--against", required=True, help="the commit (hash, tag or branch) whose renderer is the reference")
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("PIXLM_DATA", _REPO.parent / "shared" / "data")),
                    help="the shared data folder (default $PIXLM_DATA or ../shared/data)")
    ap.add_argument("--workloads", nargs="+", default=["english", "long", "pairs+spans", "words"], metavar="NAME",
                    help="workloads of benchmarks/render.py (default: english long pairs+spans words)")
    ap.add_argument("--passes", type=int, default=9, help="rounds, a pass of each version over the workload (default 9)")
    ap.add_argument("--core", type=int, default=None, help="pin to this core (default the last)")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1] if args.core is None else args.core})
    all_workloads = workloads(ud_sentences(args.data, 2000))
    unknown = [w for w in args.workloads if w not in all_workloads]
    if unknown:
        raise SystemExit(f"--workloads: unknown {unknown}; choose from {', '.join(all_workloads)}")
    with tempfile.TemporaryDirectory() as folder:
        Old = renderer_of(args.against, folder)
        print(f"this checkout against {args.against}, {args.passes} rounds of a pass each, warm caches\n")
        print("| workload | speed-up, median (quartiles) | commit /s | this checkout /s |")
        print("|---|---|---|---|")
        for name in args.workloads:
            items, kwargs = all_workloads[name]
            r = compare(Old(), TextRenderer(), items, kwargs, args.passes)
            print(f"| {name} | {r['median']:.2f}x ({r['q1']:.2f}-{r['q3']:.2f}) | {r['old']:,.0f} | {r['new']:,.0f} |")


if __name__ == "__main__":
    main()
