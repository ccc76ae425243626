"""This checkout's renderer against the renderer of an earlier commit, in one process.

    python benchmarks/render_versions.py --against 625ce24 [--workloads long pairs+spans] [--passes 9]
    python benchmarks/render_versions.py --against 625ce24 --same-output

`src/pixlm/render` of the commit is extracted (with `git archive`) into a temporary folder and
imported beside this checkout's; both render each workload in turn, a pass each, back to back
(warm caches), so that a speed-up is measured on the machine in one state. Prints, per
workload, the median speed ratio (this checkout / the commit) over the rounds with its
quartiles, and each version's rate. Workloads are those of `benchmarks/render.py`.

`--same-output` checks instead that both versions render the same: every field of the result
(pixels, patch counts, word starts, character spans, overflow windows, ...) for sentences,
sentences with odd whitespace, long texts (some with doubled spaces or non-ASCII words), pairs
with character spans, overflow windows of long texts alone and in pairs, and word lists, with
the default cache and with a 40-word cache that evicts all the time, twice over (cold, warm).
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

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from render import long_texts, rate, ud_sentences, workloads  # noqa: E402

from pixlm.render import TextRenderer  # noqa: E402

_REPO = Path(__file__).resolve().parents[1]


_LEAVES = ("files.py", "options.py", "registry.py", "_lazy.py")  # layer 0 (tests/test_layers.py)


def renderer_of(commit: str, folder: str):
    """`TextRenderer` of `src/pixlm/render` at `commit` (with the leaf modules every layer may
    import, those the commit has), imported as package `pixlm_<commit>`."""
    name = f"pixlm_{commit}".replace("-", "_").replace(".", "_")
    listed = subprocess.run(["git", "-C", str(_REPO), "ls-tree", "--name-only", commit, "src/pixlm/"],
                            check=True, capture_output=True, text=True).stdout.split()
    paths = ["src/pixlm/render"] + [p for p in listed if Path(p).name in _LEAVES]
    archive = subprocess.run(["git", "-C", str(_REPO), "archive", commit, *paths],
                             check=True, capture_output=True).stdout
    archive_path = os.path.join(folder, "render.tar")
    with open(archive_path, "wb") as f:
        f.write(archive)
    with tarfile.open(archive_path) as tar:
        tar.extractall(folder, filter="data")
    package = Path(folder) / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    for path in paths:
        os.rename(Path(folder) / path, package / Path(path).name)
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


def output_cases(sentences: list[str]) -> list[tuple[tuple, dict]]:
    """(arguments, keyword arguments) of the renders that `--same-output` compares."""
    longs = long_texts(sentences, count=40)
    odd = ([" " + t + " " for t in sentences[:50]] + ["  ".join(t.split()) for t in sentences[50:80]]
           + [t.replace(" ", "\t", 3) for t in sentences[80:100]])
    odd_longs = ([t.replace(" ", "  ", 5) for t in longs[:10]] + ["   " + t for t in longs[10:15]]
                 + [t[:600] + " café naïve " + t[600:] for t in longs[15:20]] + [" " + t + "  " for t in longs[20:25]])
    spans = {"char_spans": True}
    cases = [((t,), spans) for t in sentences[:600] + odd + longs + odd_longs]
    cases += [((sentences[i], sentences[i + 1]), spans) for i in range(0, 200, 2)]
    cases += [((sentences[0], t), {"char_spans": True, "overflow": True, "stride": 8}) for t in longs[:10]]
    cases += [((t,), {"char_spans": True, "overflow": True, "stride": 4}) for t in longs[:10]]
    cases += [((t.split(),), {"layout": "words"}) for t in odd_longs]
    return cases


def first_difference(a, b, where: str = "") -> str | None:
    """Where two results differ (a field, or a field of an overflow window), or None."""
    fields_a, fields_b = a.__getstate__(), b.__getstate__()  # every field, lazy ones worked out
    for name in fields_a:
        x, y = fields_a[name], fields_b.get(name)
        if name == "overflow":
            if len(x) != len(y):
                return f"{where}overflow: {len(x)} windows against {len(y)}"
            for k, (wa, wb) in enumerate(zip(x, y)):
                found = first_difference(wa, wb, f"{where}overflow[{k}].")
                if found:
                    return found
        elif isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            if x is None or y is None or x.shape != y.shape or not np.array_equal(x, y):
                return f"{where}{name}"
        elif x != y:
            return f"{where}{name}: {x!r} against {y!r}"
    return None


def same_output(Old, sentences: list[str]) -> list[str]:
    """The renders on which this checkout's renderer and `Old` differ (empty: none)."""
    cases = output_cases(sentences)
    differences = []
    for overrides in ({}, {"cache_size": 40}):
        old, new = Old(**overrides), TextRenderer(**overrides)
        for _ in range(2):  # cold, then warm
            for args, kwargs in cases:
                found = first_difference(old.render(*args, **kwargs), new.render(*args, **kwargs))
                if found:
                    differences.append(f"{overrides or 'default cache'}: {str(args)[:60]}... {kwargs}: {found}")
    return differences


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--against", required=True, help="the commit (hash, tag or branch) whose renderer is the reference")
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("PIXLM_DATA", _REPO.parent / "shared" / "data")),
                    help="the shared data folder (default $PIXLM_DATA or ../shared/data)")
    ap.add_argument("--workloads", nargs="+", default=["english", "long", "pairs+spans", "words"], metavar="NAME",
                    help="workloads of benchmarks/render.py (default: english long pairs+spans words)")
    ap.add_argument("--passes", type=int, default=9, help="rounds, a pass of each version over the workload (default 9)")
    ap.add_argument("--core", type=int, default=None, help="pin to this core (default the last)")
    ap.add_argument("--same-output", action="store_true",
                    help="check that both versions render the same (every field, many kinds of input) instead of timing them")
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
        if args.same_output:
            differences = same_output(Old, ud_sentences(args.data, 600))
            print(f"{len(output_cases(ud_sentences(args.data, 600))) * 4} renders compared with {args.against}: "
                  + ("identical" if not differences else f"{len(differences)} differ, the first:\n" + "\n".join(differences[:10])))
            raise SystemExit(1 if differences else 0)
        print(f"this checkout against {args.against}, {args.passes} rounds of a pass each, warm caches\n")
        print("| workload | speed-up, median (quartiles) | commit /s | this checkout /s |")
        print("|---|---|---|---|")
        for name in args.workloads:
            items, kwargs = all_workloads[name]
            r = compare(Old(), TextRenderer(), items, kwargs, args.passes)
            print(f"| {name} | {r['median']:.2f}x ({r['q1']:.2f}-{r['q3']:.2f}) | {r['old']:,.0f} | {r['new']:,.0f} |")


if __name__ == "__main__":
    main()
