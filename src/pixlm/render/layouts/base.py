"""What every layout shares: the prepared input, the strip being drawn, and the registry.

A layout places a backend's lines on a strip by one published system's rules and says what it
did (patch counts, word starts, separators, character spans). Adding a layout is adding a
module with a `Layout` subclass decorated with `@register_layout`.
"""

from __future__ import annotations

import math
import string
import unicodedata
import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..output import RenderedText
from ..text import split_words

LAYOUT_REGISTRY: dict[str, type["Layout"]] = {}


def register_layout(cls: type["Layout"]) -> type["Layout"]:
    """Class decorator: make a layout available by its `name`."""
    LAYOUT_REGISTRY[cls.name] = cls
    return cls


# Texts of more characters than this are laid out in part (only what can show, and some more).
HUGE_TEXT = 50_000

@dataclass
class Text:
    """One input of a render call, checked and cleaned.

    `text` is the string drawn (for a word list, the words joined by spaces); `words` the
    word list when one was given; `spans` each word's [start, end) in `text` (words as given,
    or as whitespace splits a string). `replaced` counts characters replaced while cleaning.
    """

    text: str
    words: list[str] | None = None
    replaced: int = 0
    _spans: list[tuple[int, int]] | None = None

    @property
    def spans(self) -> list[tuple[int, int]]:
        if self._spans is None:
            if self.words is not None:
                spans, pos = [], 0
                for w in self.words:
                    spans.append((pos, pos + len(w)))
                    pos += len(w) + 1
                self._spans = spans
            else:
                self._spans = split_words(self.text)
        return self._spans


@dataclass(slots=True)
class Segment:
    """What a layout drew of one text: where it starts (a patch), how many patches it fills,
    which characters it drew, where its words start."""

    start: int  # first patch
    num_patches: int = 0
    drawn: int = 0  # characters drawn, from the text's start
    truncated: bool = False
    missing: int = 0
    # The patch of each drawn word, or a function of the segment that works them out when asked.
    word_starts: list[int] | Callable[["Segment"], list[int]] = field(default_factory=list)
    # (first character, count, line, pen x): which characters a line drew where.
    placements: list[tuple[int, int, object, float]] = field(default_factory=list)
    base: int = 0  # index in the caller's text of this segment's first character (windows)

    def char_centres(self, n: int) -> tuple[np.ndarray | None, np.ndarray]:
        """The drawn characters (None: characters 0..k-1, in order) and their centres on the
        strip in pixels."""
        if len(self.placements) == 1 and self.placements[0][0] == 0:
            _, count, line, x = self.placements[0]
            centre = line.char_centres()[:count]
            if len(centre) == count and not np.isnan(centre).any():
                return None, centre + x
        x0, x1 = self.char_extents(n)
        drawn = np.flatnonzero(~np.isnan(x0[: self.drawn]))
        return drawn, (x0[drawn] + x1[drawn]) / 2

    def char_extents(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Each of the text's n characters' [x0, x1) on the strip in pixels; NaN where not drawn."""
        x0 = np.full(n, np.nan, np.float32)
        x1 = np.full(n, np.nan, np.float32)
        for first, count, line, x in self.placements:
            lx0, lx1 = line.char_extents()
            x0[first : first + count] = lx0[:count] + x
            x1[first : first + count] = lx1[:count] + x
        return x0, x1


class FixedExtents:
    """Character extents a layout worked out itself (cells, bigrams), as a placed line gives them."""

    def __init__(self, x0: np.ndarray, x1: np.ndarray):
        self._extents = (x0, x1)

    def char_extents(self) -> tuple[np.ndarray, np.ndarray]:
        return self._extents

    def char_centres(self) -> np.ndarray:
        return (self._extents[0] + self._extents[1]) / 2


class Layout(ABC):
    """A way of placing text on a strip of patches.

    Properties callers ask instead of comparing names: `word_aligned` (every word starts a
    patch, so a word's first patch can carry its label), `readable` (each patch holds known
    characters at known places, so it can be read back by matching templates); for readable
    layouts, `characters_per_cell` (how many characters a cell holds), `draws_spaces` (whether a
    space is a cell of its own) and `cell_width(config)`.
    """

    name: str = ""
    word_aligned: bool = False
    readable: bool = False
    characters_per_cell: int = 0
    draws_spaces: bool = True

    @classmethod
    def cell_width(cls, config) -> int:
        """The width in pixels of one cell (a patch, unless the layout has its own cells)."""
        return config.patch_size

    def __init__(self, renderer):
        self.renderer = renderer
        self.config = renderer.config
        self.backend = renderer.backend  # a layout lives in one process, as its renderer's backend
        self.p = renderer.config.patch_size
        self.cap = (renderer.config.max_patches - 1) * self.p  # where the end patch goes at the latest

    @abstractmethod
    def render(self, a: Text, b: Text | None, *, char_spans: bool = False, max_patches_a: int | None = None,
               overflow: bool = False, stride: int = 0, offset_mapping: bool = False) -> RenderedText:
        """Draw one text or a pair, with what the caller asked to know of it."""

    # -- shared helpers ---------------------------------------------------------------------
    def next_patch(self, x: float) -> int:
        """The first patch boundary at or after x, no further than the last patch (PIXEL's
        `_get_offset_to_next_patch`)."""
        return min(math.ceil(x / self.p) * self.p, self.cap)

    def finish(self, canvas, segments: list[Segment], separators: list[int], end: int, texts: list[Text],
               want_spans: bool, windowed: bool = False, pixels: np.ndarray | None = None) -> RenderedText:
        """The strip's pixels (from the backend's canvas, or given) with its black patches, and
        what a collator needs to know."""
        p, n = self.p, self.config.max_patches
        if pixels is None:
            pixels = self.backend.pixels(canvas)
        pixels[:, end * p : (end + 1) * p] = 0
        for q in separators:
            pixels[:, q * p : (q + 1) * p] = 0
        mask = np.zeros(n, np.int8)
        mask[: end + 1] = 1
        result = RenderedText(
            pixel_values=pixels,
            num_text_patches=end,
            attention_mask=mask,
            end_patch=end,
            word_starts=lambda: _all_word_starts(segments),
            sep_patches=list(separators),
            truncated=any(s.truncated for s in segments),
            missing_glyphs=sum(s.missing for s in segments),
            replaced_chars=sum(t.replaced for t in texts),
            segment_chars=[(s.base, s.base + s.drawn) for s in segments],
        )
        if want_spans:
            result.char_spans, result.patch_segment = self.char_spans(segments, texts)
        if result.truncated or result.missing_glyphs:
            self.renderer._report(result, truncation=not windowed)
        return result

    def char_spans(self, segments: list[Segment], texts: list[Text]) -> tuple[np.ndarray, np.ndarray]:
        """Each patch's [start, end) of the characters whose centre lies in it, and which
        segment each patch belongs to."""
        p, n = self.p, self.config.max_patches
        spans = np.full((n, 2), -1, np.int32)
        owner = np.full(n, -1, np.int8)
        for k, (seg, t) in enumerate(zip(segments, texts)):
            owner[seg.start : seg.start + seg.num_patches] = k
            drawn, centre = seg.char_centres(len(t.text))
            if not len(centre):
                continue
            count = max(seg.num_patches, 1)
            if drawn is None and (centre[1:] >= centre[:-1]).all():
                # Characters 0..k-1 left to right: patch q holds those from the first whose centre
                # reaches its left edge to the first that reaches the next (the last takes the rest).
                bounds = np.empty(count + 1, np.int64)
                bounds[0], bounds[-1] = 0, len(centre)
                bounds[1:-1] = np.searchsorted(centre, (np.arange(1, count) + seg.start) * p)
                rows = spans[seg.start : seg.start + count]
                rows[:, 0], rows[:, 1] = bounds[:-1] + seg.base, bounds[1:] + seg.base
                rows[bounds[:-1] == bounds[1:]] = -1
                continue
            if drawn is None:
                drawn = np.arange(len(centre))
            patch = (centre // p).astype(np.int64).clip(seg.start, max(seg.start + seg.num_patches - 1, seg.start))
            order = np.argsort(patch, kind="stable")
            patch, chars = patch[order], drawn[order] + seg.base
            change = np.empty(len(patch), bool)
            change[0] = True
            np.not_equal(patch[1:], patch[:-1], out=change[1:])
            heads = np.flatnonzero(change)
            spans[patch[heads], 0] = np.minimum.reduceat(chars, heads)
            spans[patch[heads], 1] = np.maximum.reduceat(chars, heads) + 1
        return spans, owner


def _all_word_starts(segments: list[Segment]) -> np.ndarray:
    parts = [s.word_starts(s) if callable(s.word_starts) else s.word_starts for s in segments]
    return np.asarray([w for part in parts for w in part], np.int32)


_NOT_VOTING = str.maketrans("", "", string.whitespace + string.punctuation + string.digits)


def is_rtl(text: str) -> bool:
    """PIXEL's test of a right-to-left text: a majority of its first, middle and last
    characters, after whitespace, ASCII punctuation and digits are removed, are strongly right
    to left (as `Pango.unichar_direction` says)."""
    text = text.translate(_NOT_VOTING)
    if not text:
        return False
    votes = sum(unicodedata.bidirectional(c) in ("R", "AL") for c in (text[0], text[-1], text[len(text) // 2]))
    return votes >= 2


def warn_truncated(max_patches: int) -> None:
    warnings.warn(
        f"text longer than the canvas ({max_patches} patches) was truncated; "
        "pass overflow=True for windows over the rest, or raise max_patches",
        stacklevel=5,
    )
