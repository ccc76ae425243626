"""Rendering speed: sentences per second on one core, every installed backend side by side.

    python benchmarks/render.py [--data ../shared/data] [--sentences 2000] [--repeats 3]

Workloads (from the `# text =` lines of UD en_ewt dev): English sentences (continuous layout),
the multi-script sample, ~2,500-character texts (far past the canvas), sentence pairs with
character spans, word lists (words layout) and bigrams. The skia backend is timed with its
word cache cold (a new renderer) and warm (second pass), and with the cache off.

PIXEL's own rendering procedure (`pixel_reference.py`: one Pango layout of the whole text,
clipped by a 16 x 8464 surface) is timed in the same run, through PyGObject (as PIXEL) and
through cffi, on the workloads PIXEL renders; ratios against it are taken round by round (a
pass of each, back to back), because this machine's speed drifts by more than the margins at
stake. The second table is the published mode: the pango backend as a published PIXEL folder
loads it (PIXEL's behaviour, one font: pixlm's first bundled, which the procedure uses too),
cold and warm, against the procedure, and against sign/pixel-renderer (the maintained renderer
package for PIXEL models; `pip install pixel-renderer` with the system's PyGObject and pycairo,
Debian/Ubuntu: `apt-get install python3-gi python3-gi-cairo gir1.2-pango-1.0`), which renders
single texts only, each on a canvas as wide as the text. PIXEL's figures from a reference run are
printed for scale. Finally, scaling with worker processes, and the renderer's own scaling
against a pure-Python loop in the same rounds.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import warnings
from pathlib import Path

from pixlm.render import SCRIPT_SAMPLES, TextRenderer, available_backends
from pixlm.render.config import PUBLISHED_BEHAVIOUR
from pixlm.render.fonts import bundled_fonts

# PIXEL's PangoCairoTextRenderer on one core of this machine (a reference run), sentences/s.
PIXEL_REFERENCE = {"english": 12000, "words": 3600, "pairs+spans": 1300, "long": 800}


def ud_sentences(data: Path, limit: int, split: str = "dev") -> list[str]:
    path = data / "ud" / "en_ewt" / f"{split}.conllu"
    if not path.is_file():
        raise SystemExit(f"{path} not found: pass --data or set PIXLM_DATA to the shared data folder")
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("# text = "):
                out.append(line[9:].rstrip("\n"))
                if len(out) == limit:
                    break
    return out


def long_texts(sentences: list[str], length: int = 2500, count: int = 200) -> list[str]:
    out, buf, k = [], "", 0
    while len(out) < count:
        buf += sentences[k % len(sentences)] + " "
        k += 1
        if len(buf) >= length:
            out.append(buf[:length])
            buf = ""
    return out


def workloads(sentences: list[str]) -> dict[str, tuple[list, dict]]:
    pairs = [(sentences[i], sentences[i + 1]) for i in range(0, len(sentences) - 1, 2)]
    samples = list(SCRIPT_SAMPLES.values()) * max(1, len(sentences) // (4 * len(SCRIPT_SAMPLES)))
    return {
        "english": (sentences, {}),
        "multi-script": (samples, {}),
        "long": (long_texts(sentences), {}),
        "pairs+spans": (pairs, {"char_spans": True}),
        "words": ([s.split() for s in sentences], {"layout": "words"}),
        "bigrams": (sentences, {"layout": "bigrams"}),
    }


def rate(renderer: TextRenderer, items: list, kwargs: dict) -> float:
    start = time.perf_counter()
    for item in items:
        if isinstance(item, tuple):
            renderer(item[0], item[1], **kwargs)
        else:
            renderer(item, **kwargs)
    return len(items) / (time.perf_counter() - start)


def best(fn, repeats: int) -> float:
    return max(fn() for _ in range(repeats))


BINDINGS = ("PyGObject", "cffi")


def pixel_procedures(name: str, renderer: TextRenderer | None = None) -> dict[str, object]:
    """PIXEL's procedure for a workload through each binding installed here (PyGObject, which
    PIXEL uses, and cffi, whose calls cost less), in the first font of `renderer` (a pango
    renderer); empty where PIXEL has no such call."""
    try:
        from pixel_reference import CffiProcedure, GIProcedure
    except ImportError:
        from benchmarks.pixel_reference import CffiProcedure, GIProcedure
    method = {"english": "render_text", "long": "render_text", "words": "render_words", "pairs+spans": "render_pair"}.get(name)
    calls = {}
    for kind in (GIProcedure, CffiProcedure) if method else ():
        try:
            procedure = getattr(kind(renderer=renderer), method)
        except (ImportError, OSError, ValueError):
            continue
        calls[kind.bindings] = (lambda pair, f=procedure: f(*pair)) if name == "pairs+spans" else procedure
    return calls


def published_pango(cache: bool = True) -> TextRenderer:
    """The pango backend as a published PIXEL renderer folder loads it (PIXEL's behaviour, one
    font), in pixlm's first bundled font."""
    options = {} if cache else {"cache_size": 0}
    return TextRenderer(backend="pango", fonts=[bundled_fonts()[0].path], **options, **PUBLISHED_BEHAVIOUR)


def published_kwargs(kwargs: dict) -> dict:
    """What PIXEL's renderer computes for a workload: offsets, not pixlm's character spans."""
    out = dict(kwargs)
    if out.pop("char_spans", False):
        out["offset_mapping"] = True
    return out


def sign_renderer(name: str):
    """sign/pixel-renderer's `render_text` for single-text workloads, or None where it is not
    installed (it needs the system's PyGObject) or renders no such input."""
    if name not in ("english", "long", "multi-script"):
        return None
    try:
        import gi  # noqa: F401
    except ImportError:
        import sys

        sys.path.append("/usr/lib/python3/dist-packages")  # the system's python3-gi
    try:
        from pixel_renderer.renderer import render_text
    except (ImportError, OSError, ValueError, RuntimeError):
        return None
    return lambda text: render_text(text, block_size=16, font_size=13)


def against_pixel(renderer: TextRenderer, procedures: dict, items, kwargs, repeats: int) -> dict[str, float]:
    """Per binding: the procedure's rate, and (warm renderer / procedure) per round, a round
    being one pass of the renderer over the workload and one of each procedure, back to back,
    so that all see the machine in the same state: the median and quartiles over `repeats`
    (at least 5) rounds. Whole passes, not slices: interleaving the two in slices of a few
    milliseconds lets each evict the other's data from the CPU caches, which cost pixlm 10-30%
    on long texts (its cache of words is the larger working set)."""
    for procedure in procedures.values():
        procedure(items[0])
    ratios = {k: [] for k in procedures}
    spent = dict.fromkeys(procedures, 0.0)
    rounds = max(repeats, 5)
    for _ in range(rounds):
        ours = _timed(lambda: rate(renderer, items, kwargs))
        for k, procedure in procedures.items():
            theirs = _timed(lambda: [procedure(item) for item in items])
            ratios[k].append(theirs / ours)
            spent[k] += theirs
    out = {}
    for k in procedures:
        q1, median, q3 = statistics.quantiles(ratios[k], n=4)
        out[f"PIXEL procedure ({k})"] = rounds * len(items) / spent[k]
        out[f"vs {k}"] = (median, q1, q3)
    return out


def measure(backend: str, items, kwargs, repeats: int, name: str = "") -> dict[str, float]:
    res = {}
    if backend == "skia":
        def cold():
            return rate(TextRenderer(backend="skia"), items, kwargs)

        warm_r = TextRenderer(backend="skia")
        rate(warm_r, items, kwargs)
        res["skia (cold cache)"] = best(cold, repeats)
        res["skia (warm cache)"] = best(lambda: rate(warm_r, items, kwargs), repeats)
        res["skia (no cache)"] = best(lambda: rate(TextRenderer(backend="skia", cache_size=0), items, kwargs), repeats)
        procedures = pixel_procedures(name)
        if procedures:
            res.update(against_pixel(warm_r, procedures, items, kwargs, repeats))
    else:
        r = TextRenderer(backend=backend)
        rate(r, items[:20], kwargs)  # load fonts
        res[backend] = best(lambda: rate(r, items, kwargs), repeats)
    return res


def measure_published(name: str, items, kwargs, repeats: int) -> dict:
    """The pango backend in published mode, cold (a new renderer per pass), warm, and without
    its cache (every line one layout, as PIXEL draws it), against PIXEL's procedure in the same
    font, round by round, and against sign/pixel-renderer."""
    kwargs = published_kwargs(kwargs)
    warm = published_pango()
    rate(warm, items, kwargs)
    res = {
        "published (cold)": best(lambda: rate(published_pango(), items, kwargs), repeats),
        "published (warm)": best(lambda: rate(warm, items, kwargs), repeats),
        "published (no cache)": best(lambda: rate(published_pango(cache=False), items, kwargs), repeats),
    }
    procedures = pixel_procedures(name, warm)
    if procedures:
        res.update(against_pixel(warm, procedures, items, kwargs, repeats))
    sign = sign_renderer(name)
    if sign is not None:
        sign(items[0])
        res["sign/pixel-renderer"] = best(lambda: len(items) / _timed(lambda: [sign(t) for t in items]), repeats)
    return res


def scaling(warm_items: list[str], cold_items: list[str], workers: list[int], repeats: int) -> list[tuple]:
    """Per worker count: warm (a corpus each process has seen once, so its word cache is full)
    and cold (sentences no process has seen: shaping and drawing every new word)."""
    out = []
    for n in workers:
        r = TextRenderer()
        if n == 0:
            cold = len(cold_items) / _timed(lambda: r.render_batch(cold_items))
            r.render_batch(warm_items)
            warm = best(lambda: len(warm_items) / _timed(lambda: r.render_batch(warm_items)), repeats)
        else:
            with r.pool(n) as pool:
                list(pool.imap(warm_items[:64 * n], chunksize=16))  # start-up not counted
                cold = len(cold_items) / _timed(lambda: list(pool.imap(cold_items, chunksize=64)))
                list(pool.imap(warm_items, chunksize=256))
                warm = best(lambda: len(warm_items) / _timed(lambda: list(pool.imap(warm_items, chunksize=256))), repeats)
        out.append((n, cold, warm))
    return out


def dataloader_scaling(cold_items: list[str], warm_items: list[str], workers: list[int], repeats: int) -> list[tuple]:
    """The training path: a torch DataLoader whose workers render in PixelPretrainingCollator
    (batches come back through shared memory, so the main process does little). Cold: texts
    no worker has seen; warm: later epochs over texts each worker has rendered once."""
    import torch
    from torch.utils.data import DataLoader

    from pixlm.data.collators import PixelPretrainingCollator

    torch.set_num_threads(1)
    out = []
    for n in workers:
        if n == 0:
            continue
        col = PixelPretrainingCollator(TextRenderer(), num_channels=1, seed=0)

        def make(items: list[str]) -> DataLoader:
            return DataLoader([{"text": t} for t in items], batch_size=64, num_workers=n, collate_fn=col,
                              persistent_workers=True, prefetch_factor=4)

        cold_loader = iter(make(cold_items))
        for _ in range(2 * n):  # the workers are up and running
            next(cold_loader)
        start = time.perf_counter()
        cold = sum(b["attention_mask"].shape[0] for b in cold_loader) / (time.perf_counter() - start)
        warm_loader = make(warm_items)
        for _ in warm_loader:  # first epoch: each worker's cache fills
            pass
        warm, cores = max((_epoch_rate(warm_loader) for _ in range(repeats)), key=lambda r: r[0])
        out.append((n, cold, warm, cores))
    return out


def _epoch_rate(loader) -> tuple[float, float | None]:
    """Texts per second over an epoch, and how many cores the workers kept busy meanwhile."""
    before = _worker_seconds(loader)
    start = time.perf_counter()
    count = sum(b["attention_mask"].shape[0] for b in loader)
    wall = time.perf_counter() - start
    after = _worker_seconds(loader)
    return count / wall, (after - before) / wall if before is not None and after is not None else None


def _worker_seconds(loader) -> float | None:
    """CPU seconds used so far by a persistent loader's worker processes (from Linux's /proc;
    None elsewhere, or before the workers start)."""
    try:
        pids = [w.pid for w in loader._iterator._workers]
        ticks = 0
        for pid in pids:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")
    except (AttributeError, OSError, ValueError):
        return None


def process_scaling(items: list[str], processes: int, rounds: int, times: int = 8) -> list[tuple[float, float]]:
    """Per round: how much more rendering `processes` processes get through than one, and the
    same for a pure-Python loop (what the machine allows any Python work), timed back to back.

    Each process renders `items` `times` over with its own warm renderer (about as long as one
    pure-Python loop) and returns only a count, so this is the renderer's own scaling (no
    transfer of strips; the DataLoader table has that)."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as one, ctx.Pool(processes) as many:
        for pool, n in ((one, 1), (many, processes)):
            pool.map(_render_count, [(items, 1)] * n, chunksize=1)  # start-up and a warm cache
            pool.map(_render_count, [(items, 1)] * n, chunksize=1)
        out = []
        job = (items, times)
        for _ in range(rounds):
            render_1 = 1 / _timed(lambda: one.map(_render_count, [job], chunksize=1))
            render_n = processes / _timed(lambda: many.map(_render_count, [job] * processes, chunksize=1))
            spin_1 = 1 / _timed(lambda: one.map(_spin, [0], chunksize=1))
            spin_n = processes / _timed(lambda: many.map(_spin, range(processes), chunksize=1))
            out.append((render_n / render_1, spin_n / spin_1))
    return out


_WORKER_RENDERER = None


def _render_count(job: tuple[list[str], int]) -> int:
    global _WORKER_RENDERER
    items, times = job
    if _WORKER_RENDERER is None:
        warnings.simplefilter("ignore")
        _WORKER_RENDERER = TextRenderer()
    for _ in range(times):
        for item in items:
            _WORKER_RENDERER(item)
    return len(items) * times


def cpu_ceiling(processes: int, repeats: int) -> float:
    """How much faster `processes` processes spinning a pure-Python loop get through their work
    than one (both timed in pools of spawned processes): what this machine's cores allow any
    Python workload at best."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    rates = {}
    for n in (1, processes):
        with ctx.Pool(n) as pool:
            pool.map(_spin, range(n))  # start-up not counted
            rates[n] = best(lambda: n / _timed(lambda: pool.map(_spin, range(n))), max(repeats, 5))
    return rates[processes] / rates[1]


def _spin(_: int) -> int:
    x = 0
    for i in range(10_000_000):
        x += i
    return x


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def print_published_table(sentences: list[str], args) -> None:
    print("\npublished mode (pango backend, PIXEL's behaviour, one font), sentences per second, one core;")
    print("pairs as PIXEL renders them, with offsets instead of character spans\n")
    print("| workload | cold | warm | no cache | PIXEL procedure (PyGObject) | warm / procedure, same rounds "
          "| cold / procedure | sign/pixel-renderer | warm / sign/pixel-renderer |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, (items, kwargs) in workloads(sentences).items():
        if (args.workloads and name not in args.workloads) or name == "bigrams":
            continue
        row = measure_published(name, items, kwargs, args.repeats)
        procedure = row.get("PIXEL procedure (PyGObject)")
        ratio = row.get("vs PyGObject")
        sign = row.get("sign/pixel-renderer")
        cells = [f"{row['published (cold)']:,.0f}", f"{row['published (warm)']:,.0f}", f"{row['published (no cache)']:,.0f}",
                 f"{procedure:,.0f}" if procedure else "-",
                 f"{ratio[0]:.2f}x ({ratio[1]:.2f}-{ratio[2]:.2f})" if ratio else "-",
                 f"{row['published (cold)'] / procedure:.2f}x" if procedure else "-",
                 f"{sign:,.0f}" if sign else "-",
                 f"{row['published (warm)'] / sign:.2f}x" if sign else "-"]
        print(f"| {name} | " + " | ".join(cells) + " |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    shared = Path(__file__).resolve().parents[2] / "shared" / "data"
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("PIXLM_DATA", shared)),
                    help="the shared data folder (default $PIXLM_DATA or ../shared/data)")
    ap.add_argument("--sentences", type=int, default=2000, help="English sentences to time (default 2000)")
    ap.add_argument("--repeats", type=int, default=3, help="best of this many runs (default 3)")
    ap.add_argument("--workers", type=int, nargs="*", default=[0, 1, 2],
                    help="worker counts for the scaling tables (none: skip them)")
    ap.add_argument("--core", type=int, default=None,
                    help="core for the per-core table (default the last: core 0 serves most interrupts)")
    ap.add_argument("--workloads", nargs="+", default=None, metavar="NAME",
                    help="only these rows of the per-core table (english, multi-script, long, pairs+spans, words, bigrams)")
    args = ap.parse_args()
    warnings.simplefilter("ignore")

    sentences = ud_sentences(args.data, args.sentences)
    mean_chars = sum(map(len, sentences)) / len(sentences)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; python {platform.python_version()}")
    print(f"{len(sentences)} en_ewt dev sentences, {mean_chars:.1f} characters on average")
    if hasattr(os, "sched_setaffinity"):  # one core for the per-core table
        core = sorted(os.sched_getaffinity(0))[-1] if args.core is None else args.core
        os.sched_setaffinity(0, {core})
        print(f"per-core table pinned to core {core}")

    backends = available_backends()
    table: dict[str, dict[str, float]] = {}
    for name, (items, kwargs) in workloads(sentences).items():
        if args.workloads and name not in args.workloads:
            continue
        row = {}
        for b in backends:
            row.update(measure(b, items, kwargs, args.repeats, name))
        table[name] = row
    procedure_columns = [f"PIXEL procedure ({k})" for k in BINDINGS]
    columns = [c for c in ("skia (cold cache)", "skia (warm cache)", "skia (no cache)", *backends, *procedure_columns)
               if c != "skia" and any(c in row for row in table.values())]
    bindings = [k for k in BINDINGS if any(f"vs {k}" in row for row in table.values())]
    header = ("| workload | " + " | ".join(columns) + " | PIXEL (reference run) | skia warm / pango | " +
              " | ".join(f"skia warm / procedure ({k}), same rounds" for k in bindings) + " | skia warm / PIXEL (reference run) |")
    print("\nsentences per second, one core\n")
    print(header)
    print("|" + "---|" * (len(columns) + 4 + len(bindings)))
    for name, row in table.items():
        warm = row.get("skia (warm cache)")
        ref = row.get("pango")
        pixel = PIXEL_REFERENCE.get(name)
        cells = [f"{row[c]:,.0f}" if c in row else "-" for c in columns]
        vs_pango = f"{warm / ref:.1f}x" if warm and ref else "-"
        vs_procedure = " | ".join(
            f"{row[f'vs {k}'][0]:.1f}x ({row[f'vs {k}'][1]:.1f}-{row[f'vs {k}'][2]:.1f})" if f"vs {k}" in row else "-"
            for k in bindings)
        vs_pixel = f"{warm / pixel:.1f}x" if warm and pixel else "-"
        pixel_cell = f"{pixel:,}" if pixel else "-"
        print(f"| {name} | " + " | ".join(cells) + f" | {pixel_cell} | {vs_pango} | {vs_procedure} | {vs_pixel} |")

    if "pango" in backends:
        print_published_table(sentences, args)

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
    if not args.workers:
        return
    print("\nrender_batch with worker processes (0 = in this process): cold = en_ewt train sentences no")
    print("process has seen; warm = the dev sentences x4, each process's cache already full\n")
    print("| workers | cold sentences/s | cold vs 1 worker | warm sentences/s |")
    print("|---|---|---|---|")
    cold_items = ud_sentences(args.data, 6000, "train")
    res = scaling(sentences * 4, cold_items, args.workers, args.repeats)
    one = {n: c for n, c, _ in res}.get(1)
    for n, cold, warm in res:
        ratio = f"{cold / one:.2f}x" if one else "-"
        print(f"| {n} | {cold:,.0f} | {ratio} | {warm:,.0f} |")

    print("\nDataLoader workers rendering in PixelPretrainingCollator (batches of 64; cold = en_ewt train")
    print("sentences no worker has seen, warm = later epochs over 4,000 of them; cores: CPU time of the")
    print("workers, with their result queues' feeder threads, over the warm epoch's wall time)\n")
    print("| workers | cold texts/s | cold vs 1 worker | warm texts/s | warm vs 1 worker | warm: cores the workers used |")
    print("|---|---|---|---|---|---|")
    res = dataloader_scaling(cold_items, cold_items[:4000], args.workers, args.repeats)
    one = {n: (c, w) for n, c, w, _ in res}.get(1)
    for n, cold, warm, cores in res:
        vs = (f"{cold / one[0]:.2f}x", f"{warm / one[1]:.2f}x") if one else ("-", "-")
        used = "-" if cores is None else f"{cores:.2f}"
        print(f"| {n} | {cold:,.0f} | {vs[0]} | {warm:,.0f} | {vs[1]} | {used} |")
    top = max(args.workers)
    if top > 1:
        print(f"\nceiling: {top} processes spinning a pure-Python loop get through {cpu_ceiling(top, args.repeats):.2f}x the work of one")
        print(f"\nThe renderer's own scaling: {top} processes each rendering the {len(sentences)} sentences 8 times (warm) against")
        print(f"one, and {top} processes spinning a pure-Python loop against one, back to back in each round\n")
        print(f"| round | rendering, {top} vs 1 | pure Python, {top} vs 1 | rendering / pure Python |")
        print("|---|---|---|---|")
        rounds = process_scaling(sentences, top, max(args.repeats, 5))
        for k, (render, spin) in enumerate(rounds, 1):
            print(f"| {k} | {render:.2f}x | {spin:.2f}x | {render / spin:.2f} |")
        ratios = [r / s for r, s in rounds]
        print(f"| median | {statistics.median(r for r, _ in rounds):.2f}x | {statistics.median(s for _, s in rounds):.2f}x "
              f"| {statistics.median(ratios):.2f} |")


if __name__ == "__main__":
    main()
