"""`TextRenderer`: strings, pairs and word lists to strips of patches."""

from __future__ import annotations

import itertools
import multiprocessing as mp
import os
import warnings
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Iterable, Sequence

import numpy as np
from tqdm.auto import tqdm

from .backends import Backend, make_backend
from .config import RendererConfig
from .layouts import Layout, Text, layout_class
from .output import RenderedText
from .text import check_text, sanitize


class TextRenderer:
    """Renders text into strips of patches, as PIXEL's renderer does, for every script.

    >>> renderer = TextRenderer()                       # PIXEL geometry: 16 x 8464, 529 patches
    >>> out = renderer("Hello world")                   # a string
    >>> out = renderer("A question?", "The context.")   # a pair: a, separator, b, end
    >>> out = renderer(["Words", "on", "patches"], layout="words")
    >>> outs = renderer.render_batch(texts, num_workers=4)

    Inputs: a str; a list of str (words: each word is a word, whatever the layout); or, with
    `text_pair`, two of those. Returns a `RenderedText`. Layouts are registered classes
    (`pixlm.render.layouts`); backends lay lines out and draw them (`pixlm.render.backends`).
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
        self._layouts: dict[str, Layout] = {}
        self._cells: dict = {}
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
            self._backend = make_backend(self.config)
        return self._backend

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike, **overrides: Any) -> "TextRenderer":
        """Load the renderer saved next to a model (`text_renderer_config.json`): pixlm's own, or
        a published one (PIXEL's, PIXEL-M4's with `layout="bigrams"`), which then renders as its
        own code does."""
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
        offset_mapping: bool = False,
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
            offset_mapping: also give PIXEL's (first, last) character of each patch of a pair
                (`RenderedText.offset_mapping`), as PIXEL's question answering uses it.
        """
        layout_obj = self._layout(layout)
        a = self._prepare(text, "text")
        b = None if text_pair is None else self._prepare(text_pair, "text_pair")
        capacity = self.config.max_patches - (1 if b is None else 2)
        if max_patches_a is not None:
            if isinstance(max_patches_a, bool) or not isinstance(max_patches_a, int) or max_patches_a < 0:
                raise ValueError(f"max_patches_a must be a non-negative integer, got {max_patches_a!r}")
            if b is None:
                raise ValueError("max_patches_a applies to pairs only; pass text_pair too")
        if isinstance(stride, bool) or not isinstance(stride, int) or stride < 0:
            raise ValueError(f"stride must be a non-negative integer of patches, got {stride!r}")
        if overflow and stride >= capacity // 2:
            raise ValueError(f"stride ({stride}) must be less than half the text capacity ({capacity} patches)")
        return layout_obj.render(a, b, char_spans=char_spans, max_patches_a=max_patches_a, overflow=overflow,
                                 stride=stride, offset_mapping=offset_mapping)

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
        safe beside threads of torch or a DataLoader; call it from under
        `if __name__ == "__main__":` in a script). Keyword arguments go to `render`.
        """
        if isinstance(items, (str, bytes)):
            raise TypeError("render_batch takes an iterable of texts (a list of str, word lists or pairs), "
                            "not one str; use renderer(text) for a single text")
        items = list(items)

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
        if isinstance(chunksize, bool) or not isinstance(chunksize, int) or chunksize < 1:
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

    # -- input ------------------------------------------------------------------------------
    def _layout(self, name: str | None) -> Layout:
        name = self.config.layout if name is None else name
        layout = self._layouts.get(name)
        if layout is None or self._pid != os.getpid():
            self.backend  # noqa: B018  (built, or built again in a new process, before the layout holds it)
            layout = self._layouts[name] = layout_class(name)(self)
        return layout

    def _prepare(self, value, argument: str) -> Text:
        """Check and clean one text: a str, or a list of words (joined by spaces)."""
        if value is None:
            raise TypeError(f"{argument} must be a str or a list of str, got None")
        if isinstance(value, str):
            clean, replaced = self._clean(value)
            return Text(clean, None, replaced)
        if isinstance(value, (list, tuple)):
            for k, w in enumerate(value):
                if not isinstance(w, str):
                    check_text(w, f"{argument}[{k}]")
            clean, replaced = self._clean(" ".join(value), words=True)
            if clean is not None and replaced == 0 and clean == " ".join(value):
                return Text(clean, list(value), 0)
            words, pos = [], 0  # cleaning keeps lengths: cut the cleaned text where the words were
            for w in value:
                words.append(clean[pos : pos + len(w)])
                pos += len(w) + 1
            return Text(clean, words, replaced)
        raise TypeError(f"{argument} must be a str or a list of str, got {type(value).__name__}")

    def _clean(self, text: str, words: bool = False) -> tuple[str, int]:
        """pixlm replaces control characters by spaces; PIXEL gives them to Pango as they are,
        except that a text's "\n" becomes a space. Lone surrogates cannot be drawn: U+FFFD."""
        if self.config.control_characters == "replace":
            return sanitize(text)
        replaced = 0
        if not text.isascii() and any("\ud800" <= c <= "\udfff" for c in text):
            replaced = sum("\ud800" <= c <= "\udfff" for c in text)
            text = "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)
        return (text if words else text.replace("\n", " ")), replaced

    # -- what layouts share -----------------------------------------------------------------
    def cell_image(self, text: str, cell: int) -> tuple[np.ndarray, int]:
        """`text` drawn centred in a cell `cell` pixels wide, squeezed if it is wider: paper
        (p, cell[, 3]) and its missing glyphs (cached)."""
        key = (cell, text)
        cached = self._cells.get(key)
        if cached is not None:
            return cached
        backend = self.backend
        line = backend.line(text)
        margin = self.config.patch_size
        canvas = backend.canvas()
        line.draw(canvas, margin)
        paper = backend.pixels(canvas)[:, margin : margin + max(1, line.width)]
        if text.isspace():
            paper = paper[:, :0]
        w = paper.shape[1]
        room = cell - 1
        if w > room:
            cols = np.linspace(0, w - 1, room)
            lo = np.floor(cols).astype(int)
            hi = np.minimum(lo + 1, w - 1)
            frac = (cols - lo).reshape((1, -1) + (1,) * (paper.ndim - 2))
            paper = (paper[:, lo] * (1 - frac) + paper[:, hi] * frac).round().astype(np.uint8)
            w = room
        boxed = np.full((paper.shape[0], cell) + paper.shape[2:], 255, np.uint8)
        left = (cell - w) // 2
        boxed[:, left : left + w] = paper
        self._cells[key] = (boxed, line.missing)
        return boxed, line.missing

    def _report(self, result: RenderedText, truncation: bool = True) -> None:
        """Warn, once per renderer, of truncated text and of characters no font could draw."""
        if truncation and result.truncated and "truncated" not in self._warned:
            self._warned.add("truncated")
            warnings.warn(
                f"text longer than the canvas ({self.config.max_patches} patches) was truncated; "
                "pass overflow=True for windows over the rest, or raise max_patches",
                stacklevel=5,
            )
        if result.missing_glyphs and "missing" not in self._warned:
            self._warned.add("missing")
            warnings.warn(
                f"{result.missing_glyphs} character(s) have no glyph in any font of the chain and were drawn "
                "as boxes; add a font that covers them with fonts=[...] (counted in missing_glyphs)",
                stacklevel=5,
            )


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

        if getattr(mp.current_process(), "_inheriting", False):
            # This process is itself a spawned worker re-running an unguarded script.
            raise RuntimeError(_MAIN_GUARD_HELP)
        self._workers = num_workers
        self._pool = ProcessPoolExecutor(num_workers, mp_context=mp.get_context("spawn"), initializer=_init_worker,
                                         initargs=(renderer.config,))
        cfg = renderer.config
        self._shape = (cfg.patch_size, cfg.width) + ((3,) if cfg.rgb else ())

    def imap(self, items: Iterable, *, chunksize: int = 64, **kwargs: Any):
        """Render items (read lazily) in order; keyword arguments go to `TextRenderer.render`."""
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
