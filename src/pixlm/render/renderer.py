"""`TextRenderer`: strings, pairs and word lists to strips of patches."""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

from .backends import make_backend
from .backends.base import Backend, Run
from .config import LAYOUTS, RendererConfig
from .fonts import FontChain
from .output import RenderedText
from .text import bidi_levels, check_text, graphemes, needs_bidi, sanitize, split_words

# First guess of the mean advance of a character, in em, when laying out only the part of a
# long text that fits: about right for Latin and Arabic, half of CJK's (which then shrinks once).
_GUESS_ADVANCE_EM = 0.45


@dataclass
class _Segment:
    """One text laid out in a run of whole patches, before it joins the strip."""

    ink: np.ndarray
    num_patches: int
    x0: np.ndarray  # per character of the segment's text, in segment pixels; NaN if not drawn
    x1: np.ndarray
    rtl: np.ndarray  # per character: drawn right to left
    num_drawn: int  # the logical prefix of the text that was drawn
    truncated: bool = False
    missing: int = 0
    word_starts: list[int] = field(default_factory=list)


class TextRenderer:
    """Renders text into strips of patches, as PIXEL's renderer does, for every script.

    >>> renderer = TextRenderer()                       # PIXEL geometry: 16 x 8464, 529 patches
    >>> out = renderer("Hello world")                   # a string
    >>> out = renderer("A question?", "The context.")   # a pair: a, separator, b, end
    >>> out = renderer(["Words", "on", "patches"], layout="words")
    >>> outs = renderer.render_batch(texts, num_workers=4)

    Inputs: a str; a list of str (words: each word is a word, whatever the layout); or, with
    `text_pair`, two of those. Returns a `RenderedText`.
    """

    def __init__(self, config: RendererConfig | None = None, **overrides: Any):
        if config is None:
            config = RendererConfig(**overrides)
        elif not isinstance(config, RendererConfig):
            raise TypeError(f"config must be a RendererConfig, got {type(config).__name__}")
        elif overrides:
            config = RendererConfig(**{**config.to_dict(), **overrides})
        self.config = config
        self._reset()

    # -- lifecycle --------------------------------------------------------------------------
    def _reset(self) -> None:
        self._pid = os.getpid()
        self._backend: Backend | None = None
        self._cache: dict[tuple[str, str], Run] = {}
        self._warned: set[str] = set()

    def __getstate__(self) -> dict:
        return {"config": self.config}

    def __setstate__(self, state: dict) -> None:
        self.config = state["config"]
        self._reset()

    @property
    def backend(self) -> Backend:
        """The drawing backend, built on first use and again in each new process."""
        if self._backend is None or self._pid != os.getpid():
            self._reset()
            self._backend = make_backend(self.config, FontChain(self.config.fonts))
        return self._backend

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike, **overrides: Any) -> "TextRenderer":
        """Load the renderer saved next to a model (`text_renderer_config.json`)."""
        return cls(RendererConfig.from_pretrained(path), **overrides)

    def save_pretrained(self, directory: str | os.PathLike) -> str:
        return self.config.save_pretrained(directory)

    # -- public API -------------------------------------------------------------------------
    def __call__(self, text, text_pair=None, **kwargs) -> RenderedText:
        return self.render(text, text_pair, **kwargs)

    def render(
        self,
        text: str | Sequence[str],
        text_pair: str | Sequence[str] | None = None,
        *,
        layout: str | None = None,
        char_spans: bool = False,
        max_patches_a: int | None = None,
        overflow: bool = False,
        stride: int = 0,
    ) -> RenderedText:
        """Render one text, or a pair, into a strip.

        Args:
            text: a string, or a list of words.
            text_pair: the second text of a pair (rendered after a black separator patch).
            layout: `continuous`, `words`, `bigrams` or `mono`; the config's by default.
            char_spans: also compute the character span of each patch (for QA).
            max_patches_a: at most this many patches for the first text of a pair.
            overflow: return further windows of a text that does not fit, in `.overflow`
                (for a pair, windows of the second text, each with the first text repeated).
            stride: patches of overlap between consecutive overflow windows.
        """
        layout = self._check_layout(layout)
        seg_a = self._prepare(text, "text")
        seg_b = None if text_pair is None else self._prepare(text_pair, "text_pair")
        cfg = self.config
        reserved = 1 if seg_b is None else 2  # end patch, and separator for pairs
        capacity = cfg.max_patches - reserved
        if max_patches_a is not None:
            if isinstance(max_patches_a, bool) or not isinstance(max_patches_a, int) or max_patches_a < 0:
                raise ValueError(f"max_patches_a must be a non-negative integer, got {max_patches_a!r}")
            if seg_b is None:
                raise ValueError("max_patches_a applies to pairs only; pass text_pair too")
        if not isinstance(stride, int) or stride < 0:
            raise ValueError(f"stride must be a non-negative integer of patches, got {stride!r}")
        if overflow and stride >= capacity // 2:
            raise ValueError(f"stride ({stride}) must be less than half the text capacity ({capacity} patches)")

        budget_a = capacity if max_patches_a is None else min(max_patches_a, capacity)
        a = self._segment(seg_a, layout, budget_a)
        if seg_b is None:
            result = self._assemble([(seg_a, a, 0)], char_spans)
            if overflow:
                result.overflow = self._windows(seg_a, layout, capacity, stride, a, char_spans, pair=None)
            return result
        b = self._segment(seg_b, layout, capacity - a.num_patches)
        result = self._assemble([(seg_a, a, 0), (seg_b, b, 0)], char_spans)
        if overflow:
            result.overflow = self._windows(seg_b, layout, capacity - a.num_patches, stride, b, char_spans, pair=(seg_a, a))
        return result

    def render_batch(
        self,
        items: Iterable,
        *,
        num_workers: int = 0,
        chunksize: int = 64,
        progress: bool = False,
        **kwargs: Any,
    ) -> list[RenderedText]:
        """Render many texts. An item is a str, a list of words, or a (text, text_pair) tuple.

        With `num_workers > 0` the work is spread over that many processes (spawned, so it is
        safe beside threads of torch or a DataLoader). Keyword arguments go to `render`.
        """
        items = list(items)
        from tqdm.auto import tqdm

        with tqdm(total=len(items), desc="rendering", unit="text", disable=not progress) as bar:
            out = []
            for rendered in self.iter_render(items, num_workers=num_workers, chunksize=chunksize, **kwargs):
                out.append(rendered)
                bar.update(1)
        return out

    def iter_render(self, items: Iterable, *, num_workers: int = 0, chunksize: int = 64, **kwargs: Any):
        """Like `render_batch`, but a generator: results come in input order as they are ready,
        and `items` is read lazily, so a corpus of any size streams through."""
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"num_workers must be a non-negative integer, got {num_workers!r}")
        if not isinstance(chunksize, int) or chunksize < 1:
            raise ValueError(f"chunksize must be a positive integer, got {chunksize!r}")
        if num_workers == 0:
            for item in items:
                yield self._render_item(item, kwargs)
            return
        import itertools
        import multiprocessing as mp

        it = iter(items)
        chunks = iter(lambda: list(itertools.islice(it, chunksize)), [])
        ctx = mp.get_context("spawn")
        with ctx.Pool(num_workers, initializer=_init_worker, initargs=(self.config,)) as pool:
            for rendered in pool.imap(_render_chunk, ((c, kwargs) for c in chunks)):
                yield from rendered

    def _render_item(self, item, kwargs) -> RenderedText:
        if isinstance(item, tuple):
            if len(item) != 2:
                raise ValueError(f"a pair must be a (text, text_pair) tuple of 2, got {len(item)} items")
            return self.render(item[0], item[1], **kwargs)
        return self.render(item, **kwargs)

    # -- input checks -----------------------------------------------------------------------
    def _check_layout(self, layout: str | None) -> str:
        layout = self.config.layout if layout is None else layout
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}; got {layout!r}")
        return layout

    def _prepare(self, value, argument: str) -> "_Text":
        """Check and clean one text: a str, or a list of words (joined by spaces)."""
        if value is None:
            raise TypeError(f"{argument} must be a str or a list of str, got None")
        if isinstance(value, str):
            clean, replaced = sanitize(value)
            return _Text(clean, split_words(clean), replaced)
        if isinstance(value, (list, tuple)):
            words = []
            for k, w in enumerate(value):
                check_text(w, f"{argument}[{k}]")
                words.append(w)
            clean, replaced = sanitize(" ".join(words))
            spans, pos = [], 0
            for w in words:
                spans.append((pos, pos + len(w)))
                pos += len(w) + 1
            return _Text(clean, [s for s in spans if s[1] > s[0]], replaced)
        raise TypeError(f"{argument} must be a str or a list of str, got {type(value).__name__}")

    # -- caching ----------------------------------------------------------------------------
    def _run(self, piece: str, kind: str = "") -> Run:
        key = (kind, piece)
        run = self._cache.get(key)
        if run is None:
            run = self.backend.render_run(piece)
            if self.config.cache_size:
                if len(self._cache) >= self.config.cache_size:
                    self._cache.pop(next(iter(self._cache)))
                self._cache[key] = run
        return run

    # -- layouts ----------------------------------------------------------------------------
    def _segment(self, t: "_Text", layout: str, budget: int) -> _Segment:
        p = self.config.patch_size
        if layout == "continuous":
            if needs_bidi(t.text) or not self.backend.caches_words:
                return self._continuous_shaped(t, budget)
            return self._continuous_words(t, budget)
        if layout == "words":
            return self._words(t, budget)
        cell = p if layout == "bigrams" else self.config.mono_cell_width
        per_cell = 2 if layout == "bigrams" else 1
        return self._cells(t, budget, cell, per_cell, word_aligned=layout == "bigrams")

    def _new_segment(self, t: "_Text", budget: int) -> _Segment:
        shape = (self.config.patch_size, budget * self.config.patch_size) + ((4,) if self.config.rgb else ())
        n = len(t.text)
        nan = np.full(n, np.nan, np.float32)
        return _Segment(np.zeros(shape, np.uint8), 0, nan, nan.copy(), np.zeros(n, bool), 0)

    def _paste(self, seg: _Segment, run: Run, x: float, chars: int | None = None, limit: float | None = None) -> None:
        """Copy a run's ink into the segment with its pen at x, cut at `limit` pixels."""
        ink = run.ink
        left = int(round(x)) - run.origin
        right = left + ink.shape[1]
        end = seg.ink.shape[1] if limit is None else min(seg.ink.shape[1], int(math.ceil(limit)))
        a, b = max(left, 0), min(right, end)
        if b <= a:
            return
        np.maximum(seg.ink[:, a:b], ink[:, a - left : b - left], out=seg.ink[:, a:b])

    def _place_chars(self, seg: _Segment, run: Run, start: int, x: float, count: int) -> None:
        pen = int(round(x))
        seg.x0[start : start + count] = run.char_x0[:count] + pen
        seg.x1[start : start + count] = run.char_x1[:count] + pen

    def _continuous_words(self, t: "_Text", budget: int) -> _Segment:
        """Left-to-right text, word by word from the cache: a repeated word costs a copy."""
        seg = self._new_segment(t, budget)
        cap = budget * self.config.patch_size
        pad = self.config.pad_left
        text = t.text
        pen = 0.0
        pos = 0
        pieces = []
        for s, e in t.words:
            if s > pos:
                pieces.append((pos, s, False))
            pieces.append((s, e, True))
            pos = e
        if pos < len(text):
            pieces.append((pos, len(text), False))
        drawn = 0
        for s, e, is_word in pieces:
            run = self._run(text[s:e])
            x = pad + pen
            seg.missing += run.missing
            if x + run.advance > cap:
                fit = int(np.searchsorted(run.char_x1, cap - round(x), side="right"))
                # Keep whole clusters: stop before a character that shares its cluster with one cut.
                while 0 < fit < e - s and run.char_x0[fit] < run.char_x1[fit - 1] - 1e-3:
                    fit -= 1
                if fit:
                    self._paste(seg, run, x, limit=round(x) + float(run.char_x1[fit - 1]))
                    self._place_chars(seg, run, s, x, fit)
                    if is_word:
                        seg.word_starts.append(int((round(x) + run.char_x0[0]) // self.config.patch_size))
                drawn = s + fit
                seg.truncated = True
                break
            self._paste(seg, run, x)
            self._place_chars(seg, run, s, x, e - s)
            if is_word:
                seg.word_starts.append(int((round(x) + max(run.char_x0[0], 0)) // self.config.patch_size))
            pen += run.advance
            drawn = e
        seg.num_drawn = drawn
        used = pad + pen if not seg.truncated else cap
        seg.num_patches = 0 if not text else min(budget, int(math.ceil(used / self.config.patch_size)))
        return seg

    def _continuous_shaped(self, t: "_Text", budget: int) -> _Segment:
        """Bidirectional text, shaped as a whole; only about what fits is laid out."""
        seg = self._new_segment(t, budget)
        p, pad = self.config.patch_size, self.config.pad_left
        cap = budget * p - pad
        text = t.text
        k = min(len(text), int(cap / (_GUESS_ADVANCE_EM * self.config.font_px)) + 8)
        run = self.backend.render_run(text[:k])
        while k < len(text) and run.advance <= cap:
            k = min(len(text), k + k // 2)
            run = self.backend.render_run(text[:k])
        while run.advance > cap and k > 0:
            # Shrink the logical prefix until it fits (bidi reorders, so re-shape each time).
            over = run.advance - cap
            step = max(1, int(over / max(run.advance / k, 1e-3)))
            k = max(0, k - step)
            run = self.backend.render_run(text[:k])
            seg.truncated = True
        self._paste(seg, run, pad)
        self._place_chars(seg, run, 0, pad, k)
        seg.missing = run.missing
        seg.num_drawn = k
        levels = bidi_levels(text[:k])
        seg.rtl[:k] = np.asarray(levels, int) % 2 == 1 if k else False
        for s, e in t.words:
            if s >= k:
                break
            edge = seg.x1[s] - 1e-3 if seg.rtl[s] else seg.x0[s]
            seg.word_starts.append(int(max(edge, 0) // p))
        seg.num_patches = 0 if not text else min(budget, int(math.ceil((pad + run.advance) / p)))
        return seg

    def _words(self, t: "_Text", budget: int) -> _Segment:
        """Each word starts on a new patch."""
        seg = self._new_segment(t, budget)
        p, pad = self.config.patch_size, self.config.pad_left
        cap = budget * p
        patch = 0
        drawn = 0
        for s, e in t.words:
            run = self._run(t.text[s:e])
            seg.missing += run.missing
            x = patch * p + pad
            if x + run.advance > cap:
                seg.truncated = True
                fit = int(np.searchsorted(run.char_x1, cap - x, side="right")) if x < cap else 0
                if fit:
                    self._paste(seg, run, x, limit=x + float(run.char_x1[fit - 1]))
                    self._place_chars(seg, run, s, x, fit)
                    seg.word_starts.append(patch)
                    patch = budget
                drawn = s + fit
                break
            self._paste(seg, run, x, limit=cap)
            self._place_chars(seg, run, s, x, e - s)
            seg.word_starts.append(patch)
            patch += max(1, int(math.ceil((pad + run.advance) / p)))
            drawn = e
        else:
            drawn = len(t.text)
        seg.num_drawn = drawn
        seg.num_patches = min(patch, budget)
        return seg

    def _cells(self, t: "_Text", budget: int, cell: int, per_cell: int, word_aligned: bool) -> _Segment:
        """Fixed cells of `per_cell` graphemes, each drawn centred in its own cell.

        `bigrams`: two graphemes per patch, each word on a new patch. `mono`: one grapheme per
        cell of `mono_cell_width` pixels, spaces included. Equal cells give equal pixels.
        """
        seg = self._new_segment(t, budget)
        p = self.config.patch_size
        cap = budget * p
        text = t.text
        units: list[tuple[int, int, bool]] = []  # (start, end, starts a word)
        if word_aligned:
            for s, e in t.words:
                pos, first = s, True
                gs = graphemes(text[s:e])
                for g in range(0, len(gs), per_cell):
                    n = sum(len(x) for x in gs[g : g + per_cell])
                    units.append((pos, pos + n, first))
                    pos, first = pos + n, False
        else:
            word_start = {s for s, _ in t.words}
            pos = 0
            for g in graphemes(text):
                units.append((pos, pos + len(g), pos in word_start))
                pos += len(g)
        slot = 0  # cell index
        drawn = 0
        for s, e, first in units:
            if word_aligned and first and slot % (p // cell):
                slot += (p // cell) - slot % (p // cell)
            x = slot * cell
            if x + cell > cap:
                seg.truncated = True
                break
            run = self._cell_run(text[s:e], cell)
            seg.missing += run.missing
            if first:
                seg.word_starts.append(x // p)
            self._paste(seg, run, x)
            seg.x0[s:e] = x
            seg.x1[s:e] = x + cell
            slot += 1
            drawn = e
        else:
            drawn = len(text)
        seg.num_drawn = drawn
        seg.num_patches = min(budget, int(math.ceil(slot * cell / p)))
        return seg

    def _cell_run(self, piece: str, cell: int) -> Run:
        """A piece drawn centred in a cell, squeezed horizontally if it is wider (cached)."""
        key = ("cell%d" % cell, piece)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        run = self.backend.render_run(piece)
        ink = run.ink[:, run.origin : run.origin + max(1, int(math.ceil(run.advance)))]
        if piece.isspace():
            ink = np.zeros_like(ink[:, :1])
        w = ink.shape[1]
        room = cell - 1
        if w > room:
            cols = np.linspace(0, w - 1, room)
            lo = np.floor(cols).astype(int)
            hi = np.minimum(lo + 1, w - 1)
            frac = (cols - lo).reshape((1, -1) + (1,) * (ink.ndim - 2))
            ink = (ink[:, lo] * (1 - frac) + ink[:, hi] * frac).round().astype(np.uint8)
            w = room
        out = np.zeros((ink.shape[0], cell) + ink.shape[2:], np.uint8)
        left = (cell - w) // 2
        out[:, left : left + w] = ink
        z = np.zeros(len(piece), np.float32)
        result = Run(out, 0, float(cell), z, z + cell, run.missing)
        if self.config.cache_size:
            if len(self._cache) >= self.config.cache_size:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = result
        return result

    # -- assembling the strip ---------------------------------------------------------------
    def _assemble(self, parts: list[tuple["_Text", _Segment, int]], want_spans: bool) -> RenderedText:
        cfg = self.config
        p, n = cfg.patch_size, cfg.max_patches
        ink_shape = (p, n * p) + ((4,) if cfg.rgb else ())
        ink = np.zeros(ink_shape, np.uint8)
        patch = 0
        seps: list[int] = []
        word_starts: list[int] = []
        offsets = []
        for k, (_, seg, _) in enumerate(parts):
            w = seg.num_patches * p
            ink[:, patch * p : patch * p + w] = seg.ink[:, :w]
            offsets.append(patch)
            word_starts += [patch + ws for ws in seg.word_starts]
            patch += seg.num_patches
            if k < len(parts) - 1:
                seps.append(patch)
                patch += 1
        end = patch
        pixels = self._to_pixels(ink)
        for q in seps + [end]:
            pixels[:, q * p : (q + 1) * p] = 0
        mask = np.zeros(n, np.int8)
        mask[: end + 1] = 1
        result = RenderedText(
            pixel_values=pixels,
            num_text_patches=end,
            attention_mask=mask,
            end_patch=end,
            word_starts=np.asarray(word_starts, np.int32),
            sep_patches=seps,
            truncated=any(seg.truncated for _, seg, _ in parts),
            missing_glyphs=sum(seg.missing for _, seg, _ in parts),
            replaced_chars=sum(t.replaced for t, _, _ in parts),
            segment_chars=[(base, base + seg.num_drawn) for _, seg, base in parts],
        )
        if want_spans:
            result.char_spans, result.patch_segment = self._char_spans(parts, offsets)
        self._warn_once(result)
        return result

    def _to_pixels(self, ink: np.ndarray) -> np.ndarray:
        if not self.config.rgb:
            return 255 - ink
        alpha = ink[..., 3:4].astype(np.int16)
        return (ink[..., :3].astype(np.int16) + 255 - alpha).clip(0, 255).astype(np.uint8)

    def _char_spans(self, parts, offsets) -> tuple[np.ndarray, np.ndarray]:
        """Each patch's [start, end) of characters whose centre lies in it."""
        p, n = self.config.patch_size, self.config.max_patches
        spans = np.full((n, 2), -1, np.int32)
        owner = np.full(n, -1, np.int8)
        for k, ((_, seg, base), off) in enumerate(zip(parts, offsets)):
            drawn = np.flatnonzero(~np.isnan(seg.x0))
            if not len(drawn):
                continue
            centre = (seg.x0[drawn] + seg.x1[drawn]) / 2
            patch = (centre // p).astype(np.int64).clip(0, max(seg.num_patches - 1, 0)) + off
            lo = np.full(n, np.iinfo(np.int32).max, np.int64)
            hi = np.full(n, -1, np.int64)
            np.minimum.at(lo, patch, drawn + base)
            np.maximum.at(hi, patch, drawn + base + 1)
            has = hi >= 0
            spans[has, 0] = lo[has]
            spans[has, 1] = hi[has]
            owner[off : off + seg.num_patches] = k
        return spans, owner

    def _warn_once(self, result: RenderedText) -> None:
        if result.truncated and "truncated" not in self._warned:
            self._warned.add("truncated")
            warnings.warn(
                f"text longer than the canvas ({self.config.max_patches} patches) was truncated; "
                "pass overflow=True for windows over the rest, or raise max_patches",
                stacklevel=3,
            )
        if result.missing_glyphs and "missing" not in self._warned:
            self._warned.add("missing")
            warnings.warn(
                f"{result.missing_glyphs} character(s) have no glyph in any font of the chain and were drawn "
                "as boxes; add a font that covers them with fonts=[...] (counted in missing_glyphs)",
                stacklevel=3,
            )

    # -- overflow windows -------------------------------------------------------------------
    def _windows(self, t: "_Text", layout: str, budget: int, stride: int, first: _Segment, want_spans: bool, pair):
        """Further windows over a text that did not fit, each overlapping the last by `stride` patches."""
        p = self.config.patch_size
        windows: list[RenderedText] = []
        start, seg = 0, first
        while seg.truncated and start + seg.num_drawn < len(t.text):
            drawn = np.flatnonzero(~np.isnan(seg.x0[: seg.num_drawn]))
            keep_from = seg.num_patches * p - stride * p
            later = drawn[seg.x0[drawn] >= keep_from] if stride else np.array([], int)
            nxt = int(later[0]) if len(later) else seg.num_drawn
            nxt = _word_start_at_or_before(t, start + nxt, start)
            if nxt <= start:
                nxt = start + max(seg.num_drawn, 1)
            start = nxt
            sub = t.slice(start)
            seg = self._segment(sub, layout, budget)
            parts = [] if pair is None else [(pair[0], pair[1], 0)]
            parts.append((sub, seg, start))
            windows.append(self._assemble(parts, want_spans))
        return windows


@dataclass
class _Text:
    """A cleaned text and its words' [start, end) spans."""

    text: str
    words: list[tuple[int, int]]
    replaced: int = 0

    def slice(self, start: int) -> "_Text":
        words = [(s - start, e - start) for s, e in self.words if s >= start]
        return _Text(self.text[start:], words, 0)


def _word_start_at_or_before(t: _Text, index: int, floor: int) -> int:
    """Move `index` back to the start of the word holding it, but not to `floor` or before."""
    for s, e in t.words:
        if s <= index < e:
            return s if s > floor else index
    return index


# -- worker processes -----------------------------------------------------------------------
_WORKER_RENDERER: TextRenderer | None = None


def _init_worker(config: RendererConfig) -> None:
    global _WORKER_RENDERER
    _WORKER_RENDERER = TextRenderer(config)


def _render_chunk(job) -> list[RenderedText]:
    items, kwargs = job
    assert _WORKER_RENDERER is not None
    return [_WORKER_RENDERER._render_item(item, kwargs) for item in items]
