"""`TextRenderer`: strings, pairs and word lists to strips of patches."""

from __future__ import annotations

import math
import os
import warnings
from bisect import bisect_right
from collections import abc
from dataclasses import dataclass, field
from itertools import repeat
from operator import attrgetter
from typing import Any, Iterable, Sequence

import numpy as np

from .backends import make_backend
from .atlas import ADVANCE, AT, CHARS, LEAD, LEFT, MISSING, WIDTH, PieceAtlas
from .backends.base import Backend, Run
from .config import LAYOUTS, RendererConfig
from .fonts import FontChain
from .output import RenderedText
from .text import bidi_levels, check_text, end_of_word, graphemes, needs_bidi, piece_keys, sanitize, spaced_words, split_words

# First guess of the mean advance of a character, in em, when laying out only the part of a
# long text that fits: about right for Latin and Arabic, half of CJK's (which then shrinks once).
_GUESS_ADVANCE_EM = 0.45
# The piece count from which pasting checks overlaps for all pieces at once.
_BULK_MIN = 24
# Texts of this many characters or more words than this take the path for long texts.
_LONG_CHARS, _LONG_WORDS = 512, 48
_SLOT, _MISSING, _CHARS = attrgetter("slot"), attrgetter("missing"), attrgetter("chars")


def _run_heads(values: np.ndarray) -> np.ndarray:
    """Indices where a run of equal values starts (`values` not empty)."""
    change = np.empty(len(values), bool)
    change[0] = True
    np.not_equal(values[1:], values[:-1], out=change[1:])
    return np.flatnonzero(change)


# Compared by identity (`None in pieces` must not call a field-wise __eq__); slots keep the
# attributes read for hundreds of pieces per long text in the object itself.
@dataclass(eq=False, slots=True)
class _Piece:
    """A drawn piece of text as it is pasted: over white, cut to its inked columns."""

    paper: np.ndarray  # (p, w) or (p, w, 3) uint8; w may be 0 (a space)
    left: int  # column of paper[:, 0], relative to the pen position where the piece starts
    advance: float
    char_x0: np.ndarray  # each character's extent along the pen, from the piece's start
    char_x1: np.ndarray
    missing: int = 0

    # Index of the first character that is not whitespace (a piece may start with the
    # whitespace before its word), and where that character starts: the word's start.
    first: int = 0
    # Its slot in the renderer's PieceAtlas; -1 while it is not there.
    slot: int = -1
    width: int = field(init=False)
    chars: int = field(init=False)  # characters drawn: those of the text it was drawn from
    lead: int = field(init=False)
    numbers: tuple = field(init=False)
    centre: np.ndarray = field(init=False)  # each character's centre along the pen

    def __post_init__(self) -> None:
        self.width = self.paper.shape[1]
        self.centre = ((self.char_x0 + self.char_x1) / 2).astype(np.float32)
        n = self.chars = len(self.char_x0)
        self.lead = max(int(self.char_x0[self.first]), 0) if self.first < n else 0
        self.numbers = (self.advance, self.missing, self.lead, self.width, self.left, n)


def _piece_from_run(run: Run, rgb: bool, text: str = "") -> _Piece:
    ink = run.ink
    coverage = ink if ink.ndim == 2 else ink[..., 3]
    cols = np.flatnonzero(coverage.any(axis=0))
    if len(cols):
        a, b = int(cols[0]), int(cols[-1]) + 1
        ink, left = ink[:, a:b], a - run.origin
    else:
        ink, left = ink[:, :0], 0
    if rgb:
        paper = (ink[..., :3].astype(np.int16) + 255 - ink[..., 3:].astype(np.int16)).clip(0, 255).astype(np.uint8)
    else:
        paper = 255 - ink
    first = len(text) - len(text.lstrip())
    return _Piece(np.ascontiguousarray(paper), left, run.advance, run.char_x0, run.char_x1, run.missing, first)


class _AtlasPieces(abc.Sequence):
    """Pieces named by their atlas slots, each looked up when it is used."""

    __slots__ = ("slots", "table")

    def __init__(self, slots: np.ndarray, table: list[_Piece]):
        self.slots, self.table = slots, table

    def __len__(self) -> int:
        return len(self.slots)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return _AtlasPieces(self.slots[index], self.table)
        return self.table[self.slots[index]]

    def __iter__(self):
        return map(self.table.__getitem__, self.slots.tolist())


@dataclass(slots=True)
class _Segment:
    """One text laid out into whole patches of the strip, starting at column `start`."""

    start: int
    budget: int  # patches it may use
    num_patches: int = 0
    num_drawn: int = 0  # the logical prefix of the text that was drawn
    truncated: bool = False
    missing: int = 0
    word_starts: list[int] | np.ndarray = field(default_factory=list)
    # (first character, count, pen x within the segment, piece): where characters went.
    placements: list[tuple[int, int, int, _Piece]] = field(default_factory=list)
    # The same for many pieces at once from the start of the text, one after the other, kept
    # as they are until someone asks: (their xs, a list or an array; the pieces).
    bulk: tuple | None = None

    def char_centres(self, n: int) -> tuple[np.ndarray | None, np.ndarray]:
        """The indices of the drawn characters (None: characters 0..k-1, in order) and their
        centres in segment pixels."""
        if self.bulk is not None:  # the common case: pieces one after the other from the start
            xs, pieces = self.bulk
            counts = list(map(_CHARS, pieces))
            centres = [pc.centre for pc in pieces]
            extra_xs = []
            pos = sum(counts)
            for start, count, x, piece in self.placements:
                if start != pos:
                    break
                counts.append(count)
                centres.append(piece.centre[:count])
                extra_xs.append(x)
                pos += count
            else:
                if not counts:
                    return None, np.zeros(0, np.float32)
                xs = np.asarray(xs, np.float32)
                if extra_xs:
                    xs = np.concatenate([xs, np.asarray(extra_xs, np.float32)])
                return None, np.concatenate(centres) + np.repeat(xs, counts)
        x0, x1 = self.char_extents(n)
        drawn = np.flatnonzero(~np.isnan(x0))
        return drawn, (x0[drawn] + x1[drawn]) / 2

    def char_extents(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Each character's [x0, x1) in segment pixels; NaN for characters not drawn."""
        x0 = np.full(n, np.nan, np.float32)
        x1 = np.full(n, np.nan, np.float32)
        starts, counts, xs, pieces = [], [], [], []
        if self.bulk is not None:
            bulk_xs, bulk_pieces = self.bulk
            c = np.fromiter(map(_CHARS, bulk_pieces), np.int64, len(bulk_pieces))
            starts.append(np.cumsum(c) - c)
            counts.append(c)
            xs.append(np.asarray(bulk_xs, np.float32))
            pieces += bulk_pieces
        if self.placements:
            s, c, x, pc = zip(*self.placements)
            starts.append(np.asarray(s, np.int64))
            counts.append(np.asarray(c, np.int64))
            xs.append(np.asarray(x, np.float32))
            pieces += pc
        if not pieces:
            return x0, x1
        counts_a = np.concatenate(counts)
        total = int(counts_a.sum())
        if not total:
            return x0, x1
        # Target index of every placed character: its piece's first character plus its rank.
        first_in_run = np.cumsum(counts_a) - counts_a
        index = np.repeat(np.concatenate(starts) - first_in_run, counts_a) + np.arange(total)
        shift = np.repeat(np.concatenate(xs), counts_a)
        counts_l = counts_a.tolist()
        x0[index] = np.concatenate([pc.char_x0[:c] for pc, c in zip(pieces, counts_l)]) + shift
        x1[index] = np.concatenate([pc.char_x1[:c] for pc, c in zip(pieces, counts_l)]) + shift
        return x0, x1


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

    # Atlas slots of evicted pieces tolerated (beyond 3x the live ones) before it is packed again.
    _atlas_slack = 1 << 16

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
        self._cache: dict = {}
        self._atlas: PieceAtlas | None = None
        self._atlas_live = 0  # atlas slots of pieces still in the cache
        self._slots: dict[str, int] = {}  # text -> atlas slot, for cached text pieces
        self._spaced: dict[str, int] = {}  # the same for texts " " + word, by the word
        self._slot_pieces: list[_Piece] = []  # atlas slot -> piece
        self._warned: set[str] = set()
        self._patch_edges = (np.arange(self.config.max_patches + 1) * self.config.patch_size).astype(np.float32)
        # Mean advance per character of the last long text: how much of the next one to search.
        self._px_per_char = _GUESS_ADVANCE_EM * self.config.font_px

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
        strip = self._blank_strip()
        a = self._segment(strip, 0, seg_a, layout, budget_a)
        if seg_b is None:
            result = self._assemble(strip, [(seg_a, a, 0)], char_spans, overflow)
            if overflow:
                result.overflow = self._windows(seg_a, layout, capacity, stride, a, char_spans, pair=None)
            return result
        b = self._segment(strip, a.num_patches + 1, seg_b, layout, capacity - a.num_patches)
        result = self._assemble(strip, [(seg_a, a, 0), (seg_b, b, 0)], char_spans, overflow)
        if overflow:
            result.overflow = self._windows(seg_b, layout, b.budget, stride, b, char_spans, pair=seg_a)
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
        with RenderPool(self, num_workers) as pool:
            yield from pool.imap(items, chunksize=chunksize, **kwargs)

    def pool(self, num_workers: int) -> "RenderPool":
        """Worker processes that stay up between batches: `with renderer.pool(4) as p: p.imap(...)`."""
        return RenderPool(self, num_workers)

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
            return _Text(clean, None, replaced)  # its word spans are made if something asks
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
    def _piece(self, text: str) -> _Piece:
        """The drawn piece for `text`, from the cache when it was drawn before."""
        piece = self._cache.get(text)
        if piece is None:
            piece = _piece_from_run(self.backend.render_run(text), self.config.rgb, text)
            self._remember(text, piece)
        return piece

    def _remember(self, key, piece: _Piece) -> None:
        size = self.config.cache_size
        if not size:
            return
        if len(self._cache) >= size:
            gone_key = next(iter(self._cache))  # oldest first
            gone = self._cache.pop(gone_key)
            self._slots.pop(gone_key, None)
            if isinstance(gone_key, str) and gone_key.startswith(" "):
                self._spaced.pop(gone_key[1:], None)
            if gone.slot >= 0:
                self._atlas_live -= 1
                gone.slot = -1  # its slot may be reused; a text holding it takes the slow path
        self._cache[key] = piece
        self._add_to_atlas(piece)
        if isinstance(key, str):
            self._slots[key] = piece.slot
            if key.startswith(" "):
                self._spaced[key[1:]] = piece.slot

    def _add_to_atlas(self, piece: _Piece) -> None:
        atlas = self._atlas
        if atlas is None:
            atlas = self._atlas = PieceAtlas(self.config.patch_size, self.config.rgb, white=self.config.max_patches * self.config.patch_size)
        elif atlas.count > 4 * self._atlas_live + self._atlas_slack:  # mostly slots of evicted pieces
            live = [(key, pc) for key, pc in self._cache.items() if pc.slot >= 0]
            for (_, pc), slot in zip(live, atlas.compact([(pc.paper, pc.numbers) for _, pc in live])):
                pc.slot = slot
            self._slot_pieces = [pc for _, pc in live]
            self._slots = {key: pc.slot for key, pc in live if isinstance(key, str)}
            self._spaced = {key[1:]: slot for key, slot in self._slots.items() if key.startswith(" ")}
        piece.slot = atlas.add(piece.paper, piece.numbers)
        self._slot_pieces.append(piece)
        self._atlas_live += 1

    # -- drawing into the strip ---------------------------------------------------------------
    def _blank_strip(self) -> np.ndarray:
        cfg = self.config
        shape = (cfg.patch_size, cfg.max_patches * cfg.patch_size) + ((3,) if cfg.rgb else ())
        strip = np.empty(shape, np.uint8)
        strip.fill(255)  # np.full does the same in Python around it
        return strip

    def _paste(self, strip: np.ndarray, seg: _Segment, piece: _Piece, x: int, limit: float | None = None) -> None:
        """Darken the strip with a piece whose pen starts at segment column x; cut at `limit`."""
        width = piece.width
        if not width:
            return
        lo = seg.start + x + piece.left
        end = seg.budget * self.config.patch_size
        if limit is not None:
            end = min(end, int(math.ceil(limit)))
        a, b = max(lo, seg.start), min(lo + width, seg.start + end)
        if b > a:
            np.minimum(strip[:, a:b], piece.paper[:, a - lo : b - lo], out=strip[:, a:b])

    # -- layouts ----------------------------------------------------------------------------
    def _segment(self, strip: np.ndarray, patch: int, t: "_Text", layout: str, budget: int) -> _Segment:
        p = self.config.patch_size
        seg = _Segment(start=patch * p, budget=max(budget, 0))
        if layout == "continuous":
            if needs_bidi(t.text) or not self.backend.caches_words:
                self._continuous_shaped(strip, seg, t)
            else:
                self._continuous_words(strip, seg, t)
        elif layout == "words":
            self._words(strip, seg, t)
        elif layout == "bigrams":
            self._cells(strip, seg, t, cell=p, per_cell=2, word_aligned=True)
        else:
            self._cells(strip, seg, t, cell=self.config.mono_cell_width, per_cell=1, word_aligned=False)
        return seg

    def _fit_before_end(self, seg: _Segment, piece: _Piece, x: int) -> int:
        """How many leading characters of a piece at pen x end within the segment."""
        room = seg.budget * self.config.patch_size - x
        return self._fit(piece, room) if room > 0 else 0

    def _fit(self, piece: _Piece, room: float) -> int:
        """How many leading characters of a piece end within `room` pixels, whole clusters only."""
        fit = bisect_right(piece.char_x1, room)  # a few element reads: cheaper than a NumPy call
        n = len(piece.char_x0)
        while 0 < fit < n and piece.char_x0[fit] < piece.char_x1[fit - 1] - 1e-3:
            fit -= 1  # the next character shares a cluster (a ligature, a mark) with the last
        return fit

    def _continuous_words(self, strip: np.ndarray, seg: _Segment, t: "_Text") -> None:
        """Left-to-right text word by word, each word (with the whitespace before it) from the
        cache: a repeated word costs a copy."""
        text = t.text
        keys = piece_keys(text) if len(text) < _LONG_CHARS else None
        if keys is None or len(keys) > _LONG_WORDS:
            return self._continuous_many_words(strip, seg, t)
        p = self.config.patch_size
        cap = seg.budget * p
        start = seg.start
        right = start + cap
        get, make = self._cache.get, self._piece
        pen = float(self.config.pad_left)
        inked_to = start  # columns before this may hold ink already
        xs: list[int] = []
        placed: list[_Piece] = []
        piece = None
        for key in keys:
            piece = get(key) or make(key)
            if pen + piece.advance > cap:
                break
            x = int(pen + 0.5)
            width = piece.width
            if width:
                a = start + x + piece.left
                if a >= inked_to and a + width <= right:
                    strip[:, a : a + width] = piece.paper  # white there, so placing is darkening
                else:
                    self._paste(strip, seg, piece, x)
                inked_to = a + width
            xs.append(x)
            placed.append(piece)
            pen += piece.advance
        n = len(placed)
        seg.bulk = (xs, placed)
        seg.word_starts = [(x + pc.lead) // p for x, pc in zip(xs, placed)]
        seg.missing = sum(map(_MISSING, placed))
        self._end_segment(strip, seg, t, piece if n < len(keys) else None, sum(map(len, keys[:n])), pen)

    def _end_segment(self, strip: np.ndarray, seg: _Segment, t: "_Text", cut: _Piece | None, pos: int, pen: float,
                     fit: int | None = None) -> None:
        """Finish a text laid left to right up to character `pos`, pen `pen`: the piece that did
        not fit whole (`cut`) drawn as far as it fits (already drawn if its `fit` is given),
        else the whitespace after the last word; then the segment's patch count."""
        p = self.config.patch_size
        if cut is not None:
            seg.missing += cut.missing
            seg.num_drawn = self._paste_partial(strip, seg, cut, pos, int(pen + 0.5), fit)
            pen = seg.budget * p
        else:
            pen = self._trailing_space(seg, t, pos, pen)
            seg.num_drawn = len(t.text)
        seg.num_patches = min(seg.budget, int(math.ceil(pen / p))) if t.text else 0

    def _paste_partial(self, strip: np.ndarray, seg: _Segment, piece: _Piece, pos: int, x: int, fit: int | None = None) -> int:
        """Draw the characters of a piece at pen x that fit before the segment's end (unless
        their count `fit` is given: the caller drew them); return where they end."""
        seg.truncated = True
        drawn = fit is not None
        if not drawn:
            fit = self._fit_before_end(seg, piece, x)
        if fit:
            if not drawn:
                self._paste(strip, seg, piece, x, limit=x + float(piece.char_x1[fit - 1]))
            seg.placements.append((pos, fit, x, piece))
            if fit > piece.first:
                seg.word_starts.append((x + piece.lead) // self.config.patch_size)
        return pos + fit

    def _trailing_space(self, seg: _Segment, t: "_Text", pos: int, pen: float) -> float:
        """Whitespace after the last word moves the pen if it fits (it has no ink)."""
        if pos < len(t.text):
            piece = self._piece(t.text[pos:])
            if pen + piece.advance <= seg.budget * self.config.patch_size:
                seg.placements.append((pos, len(t.text) - pos, int(pen + 0.5), piece))
                pen += piece.advance
        return pen

    def _continuous_many_words(self, strip: np.ndarray, seg: _Segment, t: "_Text") -> None:
        """`_continuous_words` for long texts: pieces are found and looked up in windows of the
        text until the canvas is full (a long text costs what fits), and pens come from a
        cumulative sum."""
        p = self.config.patch_size
        cap = seg.budget * p
        pad = float(self.config.pad_left)
        pieces, numbers, drawn_to = self._pieces_filling(t.text, cap - pad)
        adv = numbers[:, ADVANCE]
        right = adv.cumsum()
        right += pad
        xs = (right - adv + 0.5).astype(np.int64)  # pens rounded (they are positive)
        n = int(right.searchsorted(cap, side="right"))  # pieces that fit whole
        cut = pieces[n] if n < len(pieces) else None
        fit = self._fit_before_end(seg, cut, int(xs[n])) if cut is not None else 0
        limit = float(xs[n]) + float(cut.char_x1[fit - 1]) if fit else None
        drawn = numbers[: n + 1 if fit else n].astype(np.int64)  # with the cut piece's visible columns
        if fit:
            drawn[n, WIDTH] = max(0, min(drawn[n, WIDTH], min(cap, math.ceil(limit)) - xs[n] - drawn[n, LEFT]))
        self._paste_many(strip, seg, pieces[: len(drawn)], xs[: len(drawn)], drawn, limit)
        numbers = drawn[:n]
        seg.missing = int(numbers[:, MISSING].sum())
        seg.bulk = (xs[:n], pieces[:n])
        starts = (xs[:n] + numbers[:, LEAD]) // p
        if cut is not None:  # it starts after the characters of the pieces before it
            self._end_segment(strip, seg, t, cut, int(numbers[:, CHARS].sum()), float(xs[n]), fit)
        else:
            self._end_segment(strip, seg, t, None, drawn_to, float(right[-1]) if n else pad)
        seg.word_starts = np.concatenate((starts, seg.word_starts)) if seg.word_starts else starts  # + a partial word's

    def _pieces_filling(self, text: str, room: float) -> tuple[Sequence[_Piece], np.ndarray, int]:
        """The leading pieces of a text (each word with the whitespace before it) until their
        advances pass `room` or the text ends: the pieces, their atlas rows, and where the last
        one ends. The text is searched in windows of about the characters that fit; while every
        piece is in the atlas, pieces are named by their slots alone."""
        slot_blocks: list[np.ndarray] = []
        pieces: list[_Piece] | None = None  # once some piece had to be drawn
        rows = []
        pos, used = 0, 0.0
        while pos < len(text) and used <= room:
            window = int((room - used) / self._px_per_char) + 16
            chunk = text[pos : end_of_word(text, pos + window)]
            slots = None if pieces is not None else self._atlas_slots(chunk)
            if slots is not None:
                if not len(slots):
                    break
                slot_blocks.append(slots)
                numbers = self._atlas.numbers.take(slots, axis=0)  # several times faster than [slots]
            else:
                if pieces is None:  # name the pieces so far while their slots still hold (drawing may move them)
                    pieces = [self._slot_pieces[s] for block in slot_blocks for s in block.tolist()]
                block = [self._cache.get(k) or self._piece(k) for k in piece_keys(chunk)]
                if not block:
                    break
                pieces += block
                numbers = self._numbers_of(block)
            used += float(numbers[:, ADVANCE].sum())
            pos += len(chunk.rstrip())  # to the end of its last word (`str.isspace` is what `\s` matches)
            rows.append(numbers)
        if pos and used:
            self._px_per_char = used / pos
        if pieces is None:
            slots = np.concatenate(slot_blocks) if len(slot_blocks) > 1 else slot_blocks[0] if slot_blocks else np.zeros(0, np.intp)
            pieces = _AtlasPieces(slots, self._slot_pieces)
        elif len(rows) > 1:  # drawing may have evicted or re-packed pieces of earlier windows
            return pieces, self._numbers_of(pieces), pos
        numbers = np.concatenate(rows) if len(rows) > 1 else rows[0] if rows else np.zeros((0, AT + 1))
        return pieces, numbers, pos

    def _atlas_slots(self, chunk: str) -> np.ndarray | None:
        """The atlas slots of the pieces of `chunk` (as `piece_keys` cuts it), or None if some
        piece is not in the atlas."""
        words = spaced_words(chunk)
        if words is not None:  # pieces " " + word found by the word; the text's first word is its own key
            slots = np.fromiter(map(self._spaced.get, words, repeat(-1)), np.intp, len(words))
            if words and words[0]:
                slots[0] = self._slots.get(words[0], -1)
            else:
                slots = slots[1:]
        else:
            keys = piece_keys(chunk)
            slots = np.fromiter(map(self._slots.get, keys, repeat(-1)), np.intp, len(keys))
        return slots if not len(slots) or slots.min() >= 0 else None

    def _numbers_of(self, pieces: list[_Piece]) -> np.ndarray:
        """The pieces' rows of the atlas table (advance, missing, lead, width, left, characters,
        at)."""
        slots = np.fromiter(map(_SLOT, pieces), np.int64, len(pieces))
        if len(slots) and slots.min() >= 0:
            return self._atlas.numbers.take(slots, axis=0)
        # Some piece is not in the atlas (no cache, or it was evicted while this text was laid out).
        return np.array([pc.numbers + (-1,) for pc in pieces], np.float64).reshape(len(pieces), AT + 1)

    def _paste_many(self, strip: np.ndarray, seg: _Segment, pieces: list[_Piece], xs: np.ndarray, numbers: np.ndarray,
                    limit: float | None = None) -> None:
        """Paste pieces at pens xs, `numbers[:, WIDTH]` columns of each (the last one cut at
        segment column `limit` if given): one gather from the atlas where they do not overlap
        (the strip is white there, so placing equals darkening), else darkening one by one."""
        widths, lefts, at = numbers[:, WIDTH], numbers[:, LEFT], numbers[:, AT]
        if len(widths) >= _BULK_MIN:
            lo = xs + lefts
            lo += seg.start
            inside = lo[0] >= seg.start and lo[-1] + widths[-1] <= seg.start + seg.budget * self.config.patch_size
            if inside and at.min() >= 0:
                if self._atlas.paste(strip, lo, at, widths):
                    return
            elif inside and (lo[1:] >= lo[:-1] + widths[:-1]).all():  # some piece left the atlas: copy each
                for k in np.flatnonzero(widths).tolist():
                    a, w = int(lo[k]), int(widths[k])
                    strip[:, a : a + w] = pieces[k].paper[:, :w]
                return
        last = len(widths) - 1
        for k in np.flatnonzero(widths).tolist():  # few pieces, or an overhang meets a neighbour: darken each
            self._paste(strip, seg, pieces[k], int(xs[k]), limit if k == last else None)

    def _continuous_shaped(self, strip: np.ndarray, seg: _Segment, t: "_Text") -> None:
        """Text shaped as a whole line (bidirectional text, or a backend that lays out lines);
        only about what fits is laid out, however long the text."""
        p, pad = self.config.patch_size, self.config.pad_left
        cap = seg.budget * p - pad
        text = t.text
        render = self.backend.render_run
        k = min(len(text), int(cap / (_GUESS_ADVANCE_EM * self.config.font_px)) + 8)
        run = render(text[:k])
        while k < len(text) and run.advance <= cap:
            k = min(len(text), k + k // 2)
            run = render(text[:k])
        limit = None
        if run.advance > cap and not needs_bidi(text[:k]):
            # Left to right, a prefix that fits draws exactly as the start of the whole line: clip.
            piece = _piece_from_run(run, self.config.rgb)
            k = self._fit(piece, cap)
            limit = pad + (float(piece.char_x1[k - 1]) if k else 0.0)
            seg.truncated = True
        while run.advance > cap and k > 0 and limit is None:
            # Shrink the logical prefix until it fits (bidi reorders, so re-shape each time).
            step = max(1, int((run.advance - cap) / max(run.advance / k, 1e-3)))
            k = max(0, k - step)
            run = render(text[:k])
            seg.truncated = True
        piece = _piece_from_run(run, self.config.rgb)
        self._paste(strip, seg, piece, pad, limit=limit)
        seg.placements.append((0, k, pad, piece))
        seg.missing = piece.missing
        seg.num_drawn = k
        if k:
            rtl = np.asarray(bidi_levels(text[:k])) % 2 == 1
            for s, _ in t.words:
                if s >= k:
                    break
                # A word starts where its first character starts: its right edge if right to left.
                edge = pad + (piece.char_x1[s] - 1e-3 if rtl[s] else piece.char_x0[s])
                seg.word_starts.append(int(max(edge, 0) // p))
        width = limit if limit is not None else pad + run.advance
        seg.num_patches = min(seg.budget, int(math.ceil(width / p))) if text else 0

    def _words(self, strip: np.ndarray, seg: _Segment, t: "_Text") -> None:
        """Each word starts on a new patch."""
        p, pad = self.config.patch_size, self.config.pad_left
        cap = seg.budget * p
        patch = 0
        pos = len(t.text)
        for s, e in t.words:
            piece = self._piece(t.text[s:e])
            seg.missing += piece.missing
            x = patch * p + pad
            if x + piece.advance > cap:
                seg.truncated = True
                fit = self._fit(piece, cap - x) if x < cap else 0
                if fit:
                    self._paste(strip, seg, piece, x, limit=x + float(piece.char_x1[fit - 1]))
                    seg.placements.append((s, fit, x, piece))
                    seg.word_starts.append(patch)
                    patch = seg.budget
                pos = s + fit
                break
            self._paste(strip, seg, piece, x)
            seg.placements.append((s, e - s, x, piece))
            seg.word_starts.append(patch)
            patch += max(1, int(math.ceil((pad + piece.advance) / p)))
        seg.num_drawn = pos
        seg.num_patches = min(patch, seg.budget)

    def _cells(self, strip: np.ndarray, seg: _Segment, t: "_Text", cell: int, per_cell: int, word_aligned: bool) -> None:
        """Fixed cells of `per_cell` graphemes, each drawn centred in its own cell.

        `bigrams`: two graphemes per patch, each word on a new patch. `mono`: one grapheme per
        cell of `mono_cell_width` pixels, spaces included. Equal cells give equal pixels.
        """
        p = self.config.patch_size
        cap = seg.budget * p
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
        per_patch = p // cell
        slot = 0
        drawn = len(text)
        for s, e, first in units:
            if word_aligned and first and slot % per_patch:
                slot += per_patch - slot % per_patch
            x = slot * cell
            if x + cell > cap:
                seg.truncated = True
                drawn = s
                break
            piece = self._cell_piece(text[s:e], cell)
            seg.missing += piece.missing
            if first:
                seg.word_starts.append(x // p)
            self._paste(strip, seg, piece, x)
            seg.placements.append((s, e - s, x, piece))
            slot += 1
        seg.num_drawn = drawn
        seg.num_patches = min(seg.budget, int(math.ceil(slot * cell / p)))

    def _cell_piece(self, text: str, cell: int) -> _Piece:
        """`text` drawn centred in a cell, squeezed horizontally if it is wider (cached)."""
        key = (cell, text)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        run = self.backend.render_run(text)
        ink = run.ink[:, run.origin : run.origin + max(1, int(math.ceil(run.advance)))]
        if text.isspace():
            ink = ink[:, :0]
        w = ink.shape[1]
        room = cell - 1
        if w > room:
            cols = np.linspace(0, w - 1, room)
            lo = np.floor(cols).astype(int)
            hi = np.minimum(lo + 1, w - 1)
            frac = (cols - lo).reshape((1, -1) + (1,) * (ink.ndim - 2))
            ink = (ink[:, lo] * (1 - frac) + ink[:, hi] * frac).round().astype(np.uint8)
            w = room
        boxed = np.zeros((ink.shape[0], cell) + ink.shape[2:], np.uint8)
        left = (cell - w) // 2
        boxed[:, left : left + w] = ink
        zeros = np.zeros(len(text), np.float32)
        piece = _piece_from_run(Run(boxed, 0, float(cell), zeros, zeros + cell, run.missing), self.config.rgb)
        self._remember(key, piece)
        return piece

    # -- assembling the strip ---------------------------------------------------------------
    def _assemble(self, strip: np.ndarray, parts: list[tuple["_Text", _Segment, int]], want_spans: bool,
                  windowed: bool = False) -> RenderedText:
        """The strip with its separator and end patches, and what a collator needs to know of it.
        `windowed`: the text continues in overflow windows, so its truncation is no news."""
        p, n = self.config.patch_size, self.config.max_patches
        segs = [seg for _, seg, _ in parts]
        seps = [seg.start // p + seg.num_patches for seg in segs[:-1]]
        last = segs[-1]
        end = last.start // p + last.num_patches
        for q in seps + [end]:
            strip[:, q * p : (q + 1) * p] = 0
        mask = np.zeros(n, np.int8)
        mask[: end + 1] = 1
        if len(segs) == 1 and not segs[0].start:
            word_starts = np.asarray(segs[0].word_starts, np.int32)
        else:
            word_starts = np.concatenate([np.asarray(seg.word_starts, np.int32) + seg.start // p for seg in segs])
        result = RenderedText(
            pixel_values=strip,
            num_text_patches=end,
            attention_mask=mask,
            end_patch=end,
            word_starts=word_starts,
            sep_patches=seps,
            truncated=any([seg.truncated for seg in segs]),
            missing_glyphs=sum([seg.missing for seg in segs]),
            replaced_chars=sum([t.replaced for t, _, _ in parts]),
            segment_chars=[(base, base + seg.num_drawn) for _, seg, base in parts],
        )
        if want_spans:
            result.char_spans, result.patch_segment = self._char_spans(parts)
        if (result.truncated and not windowed) or result.missing_glyphs:
            self._warn_once(result, truncation=not windowed)
        return result

    def _char_spans(self, parts) -> tuple[np.ndarray, np.ndarray]:
        """Each patch's [start, end) of characters whose centre lies in it."""
        p, n = self.config.patch_size, self.config.max_patches
        spans = np.full((n, 2), -1, np.int32)
        owner = np.full(n, -1, np.int8)
        for k, (t, seg, base) in enumerate(parts):
            first = seg.start // p
            owner[first : first + seg.num_patches] = k
            drawn, centre = seg.char_centres(len(t.text))
            if not len(centre):
                continue
            if drawn is None and (centre[1:] >= centre[:-1]).all():
                # Characters 0..k-1 left to right: patch q holds those from the first whose centre
                # reaches q * p to the first that reaches (q + 1) * p (the last patch takes the rest).
                count = max(seg.num_patches, 1)
                bounds = np.empty(count + 1, np.int64)
                bounds[0], bounds[-1] = 0, len(centre)
                bounds[1:-1] = np.searchsorted(centre, self._patch_edges[1:count])
                rows = spans[first : first + count]
                rows[:, 0], rows[:, 1] = bounds[:-1] + base, bounds[1:] + base
                rows[bounds[:-1] == bounds[1:]] = -1
                continue
            patch = (centre // p).astype(np.int64).clip(0, max(seg.num_patches - 1, 0)) + first
            if drawn is None:
                drawn = np.arange(len(centre))
            order = np.argsort(patch, kind="stable")  # already sorted for left-to-right text
            patch, chars = patch[order], drawn[order] + base
            heads = _run_heads(patch)
            spans[patch[heads], 0] = np.minimum.reduceat(chars, heads)
            spans[patch[heads], 1] = np.maximum.reduceat(chars, heads) + 1
        return spans, owner

    def _warn_once(self, result: RenderedText, truncation: bool = True) -> None:
        if truncation and result.truncated and "truncated" not in self._warned:
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
        """Further windows over a text that did not fit, each overlapping the last by `stride`
        patches; with a pair, the first text is drawn again in each window."""
        p = self.config.patch_size
        windows: list[RenderedText] = []
        start, seg, sub = 0, first, t
        while seg.truncated and start + seg.num_drawn < len(t.text):
            x0, _ = seg.char_extents(len(sub.text))
            drawn = np.flatnonzero(~np.isnan(x0[: seg.num_drawn]))
            later = drawn[x0[drawn] >= (seg.num_patches - stride) * p] if stride else drawn[:0]
            nxt = start + (int(later[0]) if len(later) else seg.num_drawn)
            nxt = _word_start_at_or_before(t, nxt, start)
            if nxt <= start:
                nxt = start + max(seg.num_drawn, 1)
            start = nxt
            sub = t.slice(start)
            strip = self._blank_strip()
            parts = []
            offset = 0
            if pair is not None:
                a = self._segment(strip, 0, pair, layout, self.config.max_patches - 2 - budget)
                parts.append((pair, a, 0))
                offset = a.num_patches + 1
            seg = self._segment(strip, offset, sub, layout, budget)
            parts.append((sub, seg, start))
            windows.append(self._assemble(strip, parts, want_spans, windowed=True))
        return windows


class _Text:
    """A cleaned text and its words' [start, end) spans; for a long text, the spans are made
    only if something asks for them."""

    __slots__ = ("text", "replaced", "_words")

    def __init__(self, text: str, words: list[tuple[int, int]] | None, replaced: int = 0):
        self.text, self.replaced = text, replaced
        self._words = words

    @property
    def words(self) -> list[tuple[int, int]]:
        if self._words is None:
            self._words = split_words(self.text)
        return self._words

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
_MAIN_GUARD_HELP = (
    "rendering worker processes could not start. They are spawned, so they import the script that "
    "created them: if that script calls render_batch(..., num_workers=N) (or renderer.pool) at its top "
    "level, put that code under `if __name__ == \"__main__\":`, or use num_workers=0"
)


class RenderPool:
    """Processes that render with copies of one renderer (spawned: safe beside torch threads).

    Start-up (a Python process, the fonts) is paid once; `imap` may be called many times. Items
    are read lazily and at most a few chunks per worker are in flight, so a corpus of any size
    streams through. A worker that dies (for instance because the calling script has no
    `if __name__ == "__main__":` guard and spawning re-runs it) stops the pool with an error
    saying so, instead of being replaced again and again.
    """

    def __init__(self, renderer: TextRenderer, num_workers: int):
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 1:
            raise ValueError(f"num_workers must be a positive integer, got {num_workers!r}")
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        if getattr(mp.current_process(), "_inheriting", False):
            # This process is itself a spawned worker re-running an unguarded script.
            raise RuntimeError(_MAIN_GUARD_HELP)
        self._workers = num_workers
        self._pool = ProcessPoolExecutor(num_workers, mp_context=mp.get_context("spawn"), initializer=_init_worker,
                                         initargs=(renderer.config,))
        self._shape = renderer._blank_strip().shape

    def imap(self, items: Iterable, *, chunksize: int = 64, **kwargs: Any):
        """Render items (read lazily) in order; keyword arguments go to `TextRenderer.render`."""
        import itertools
        from collections import deque
        from concurrent.futures.process import BrokenProcessPool

        it = iter(items)
        chunks = iter(lambda: list(itertools.islice(it, chunksize)), [])
        pending: deque = deque()
        try:
            for chunk in itertools.islice(chunks, 2 * self._workers):
                pending.append(self._pool.submit(_render_chunk, (chunk, kwargs)))
            while pending:
                rendered = pending.popleft().result()
                chunk = next(chunks, None)
                if chunk is not None:
                    pending.append(self._pool.submit(_render_chunk, (chunk, kwargs)))
                for r in rendered:
                    yield _uncrop(r, self._shape)
        except BrokenProcessPool as e:
            raise RuntimeError(_MAIN_GUARD_HELP) from e
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def __enter__(self) -> "RenderPool":
        return self

    def __exit__(self, *exc) -> None:
        self._pool.shutdown(wait=exc[0] is None, cancel_futures=exc[0] is not None)


_WORKER_RENDERER: TextRenderer | None = None


def _init_worker(config: RendererConfig) -> None:
    global _WORKER_RENDERER
    _WORKER_RENDERER = TextRenderer(config)


def _render_chunk(job) -> list[RenderedText]:
    items, kwargs = job
    assert _WORKER_RENDERER is not None
    p = _WORKER_RENDERER.config.patch_size
    return [_crop(_WORKER_RENDERER._render_item(item, kwargs), p) for item in items]


def _crop(r: RenderedText, p: int) -> RenderedText:
    """Keep only the strip up to the end patch: the rest is white, and need not cross a pipe."""
    r.pixel_values = r.pixel_values[:, : r.num_patches * p].copy()
    r.overflow = [_crop(w, p) for w in r.overflow]
    return r


def _uncrop(r: RenderedText, shape: tuple[int, ...]) -> RenderedText:
    full = np.full(shape, 255, np.uint8)
    full[:, : r.pixel_values.shape[1]] = r.pixel_values
    r.pixel_values = full
    r.overflow = [_uncrop(w, shape) for w in r.overflow]
    return r
