"""Behaviour of the renderer, run against every installed backend."""

import re
import warnings

import numpy as np
import pytest

from pixlm.render import SCRIPT_SAMPLES, TextRenderer

from conftest import BACKENDS, ink

P = 16


def ink_columns(pixels):
    return np.flatnonzero(ink(pixels).max(axis=0) > 40)


# -- geometry ----------------------------------------------------------------------------------
def test_geometry_and_end_patch(make_renderer):
    r = make_renderer()
    out = r("Hello world")
    assert out.pixel_values.shape == (16, 8464) and out.pixel_values.dtype == np.uint8
    end = out.end_patch
    assert end == out.num_text_patches >= 3
    patches = out.patches(P)
    assert (patches[end] == 0).all(), "end patch must be black"
    assert (patches[end + 1 :] == 255).all(), "everything after the end patch must be white"
    assert (patches[:end] < 128).any(axis=(1, 2)).sum() >= end - 1, "text patches hold ink"
    assert out.attention_mask.tolist() == [1] * (end + 1) + [0] * (529 - end - 1)
    # Text starts after the left pad: the first pad_left columns are blank.
    assert ink_columns(out.pixel_values)[0] >= r.config.pad_left - 1


def test_rgb_mode_has_three_channels_and_gray_text(make_renderer):
    out = make_renderer(rgb=True)("Hello")
    assert out.pixel_values.shape == (16, 8464, 3)
    text = out.pixel_values[:, : out.end_patch * P].astype(int)
    assert (np.abs(text[..., 0] - text[..., 1]) <= 2).all(), "black text stays gray in RGB"


def test_empty_string_is_a_blank_patch_and_the_end_patch(make_renderer):
    # PIXEL's rule: the end patch comes at the first boundary 2 px past 2 px of padding.
    out = make_renderer()("")
    assert out.num_text_patches == 1 and out.end_patch == 1
    patches = out.patches(P)
    assert (patches[0] == 255).all() and (patches[1] == 0).all() and (patches[2:] == 255).all()
    assert out.attention_mask.sum() == 2


def test_end_patch_is_two_pixels_past_the_text(make_renderer):
    r = make_renderer()
    for text in ("a", "Hello world", "Patches fall anywhere", "x" * 30):
        width = r.backend.line(text).width
        assert r(text).num_text_patches == -(-(2 + width + 2) // P), text


def test_longer_text_takes_more_patches(make_renderer):
    r = make_renderer()
    assert r("a" * 40).num_text_patches > r("a" * 10).num_text_patches


# -- words and spans ---------------------------------------------------------------------------
def test_words_layout_follows_pixels_rule(make_renderer):
    # PIXEL: the first word 2 px in, each word but the last drawn with a space after it, the next
    # word at the following patch boundary; the end patch 2 px after the last word.
    r = make_renderer()
    words = ["Pixel", "models", "read", "text", "ÿ", "naïve"]
    out = r(words, layout="words")
    assert len(out.word_starts) == len(words)
    x, expected = 2, []
    for k, word in enumerate(words):
        expected.append(x // P)
        last = k == len(words) - 1
        x = -(-(x + (2 if last else 0) + r.backend.line(word if last else word + " ").width) // P) * P
    assert out.word_starts.tolist() == expected and out.num_text_patches == x // P
    # Each later word is drawn at its patch's left edge: as the word alone, 2 px further left.
    for k in range(1, len(words) - 1):
        start, alone = out.word_starts[k], r([words[k] + " ", "x"], layout="words")
        n = out.word_starts[k + 1] - start
        assert np.array_equal(out.pixel_values[:, start * P : (start + n) * P - 2],
                              alone.pixel_values[:, 2 : n * P]), words[k]


def test_word_starts_in_continuous_layout_are_where_each_word_first_adds_ink(make_renderer):
    r = make_renderer()
    text = "Patches fall anywhere in continuous rendering of English text"
    out = r(text)
    spans = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    assert len(out.word_starts) == len(spans)
    for (s, e), start in zip(spans, out.word_starts):
        before = ink(r(text[:s]).pixel_values)[:, : (r(text[:s]).end_patch) * P]
        through = ink(r(text[:e]).pixel_values)
        width = before.shape[1]
        changed = np.flatnonzero((np.abs(through[:, :width] - before) > 40).any(axis=0))
        first_new = changed[0] if len(changed) else width
        # The word starts at its first character's pen position, which may lie a side bearing
        # (at most 2 px) before its first ink, possibly across a patch boundary.
        ok = start == first_new // P or (start == first_new // P - 1 and first_new % P <= 2)
        assert ok, (text[s:e], first_new, start)


def test_char_spans_partition_the_text_and_match_prefix_widths(make_renderer):
    r = make_renderer()
    text = "Question answering needs character spans."
    out = r(text, char_spans=True)
    spans = out.char_spans[: out.num_text_patches]
    used = spans[spans[:, 0] >= 0]
    assert used[0, 0] == 0 and used[-1, 1] == len(text)
    assert (used[1:, 0] == used[:-1, 1]).all(), "spans follow each other with no gap or overlap"
    assert (out.char_spans[out.end_patch :] == -1).all()
    assert (out.patch_segment[: out.num_text_patches] == 0).all()
    pad = r.config.pad_left

    def advance(k):  # width of text[:k], measured by laying the prefix out alone
        return r.backend.line(text[:k]).width

    for patch, (s, e) in enumerate(out.char_spans[: out.num_text_patches]):
        for c in (s, e - 1) if s >= 0 else ():
            centre = pad + (advance(c) + advance(c + 1)) / 2
            assert patch * P - 1 <= centre <= (patch + 1) * P + 1, (patch, text[c])


def test_rtl_first_logical_character_is_at_the_right(make_renderer):
    r = make_renderer()
    text = "שלום עולם"
    full = ink(r(text).pixel_values)
    rest = ink(r(text[1:]).pixel_values)
    changed = np.flatnonzero((np.abs(full - rest) > 40).any(axis=0))
    rest_width = r.config.pad_left + r.backend.line(text[1:]).width
    # Dropping the first character changes only the right end: the rest keeps its place.
    assert changed.min() >= rest_width - 2
    out = r(text, char_spans=True)
    inked = [q for q in range(out.num_text_patches) if out.char_spans[q, 0] >= 0]
    assert out.char_spans[inked[-1], 0] == 0, "the rightmost patch with characters holds the first one"


def test_pair_layout_has_separator_and_end(make_renderer):
    r = make_renderer()
    a, b = "What is rendered?", "Text is rendered to pixels."
    out = r(a, b, char_spans=True)
    (sep,) = out.sep_patches
    assert sep == r(a).num_text_patches
    patches = out.patches(P)
    assert (patches[sep] == 0).all() and (patches[out.end_patch] == 0).all()
    assert out.end_patch == sep + 1 + r(b).num_text_patches
    # Text b is drawn exactly as alone, just moved right past the separator.
    alone = r(b)
    n = alone.num_text_patches
    assert np.array_equal(patches[sep + 1 : sep + 1 + n], alone.patches(P)[:n])
    assert set(out.patch_segment[:sep]) == {0} and out.patch_segment[sep] == -1
    assert set(out.patch_segment[sep + 1 : out.end_patch]) == {1}


def test_pair_budget_for_the_first_text(make_renderer):
    r = make_renderer()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = r("a rather long first text that needs many patches", "b", max_patches_a=4)
    assert out.sep_patches == [4] and out.truncated
    assert out.segment_chars[0][1] < len("a rather long first text that needs many patches")


def test_rtl_pairs_read_right_to_left_within_each_segment(make_renderer):
    r = make_renderer()
    out = r("שלום", "עולם", char_spans=True)
    sep = out.sep_patches[0]
    for segment, (lo, hi) in enumerate([(0, sep), (sep + 1, out.end_patch)]):
        inked = [q for q in range(lo, hi) if out.char_spans[q, 0] >= 0]
        assert out.char_spans[inked[-1], 0] == 0 and out.patch_segment[inked[-1]] == segment


def test_equal_bigrams_give_equal_patches(make_renderer):
    r = make_renderer()
    out = r("abab ab cdab", layout="bigrams")
    p = out.patches(P)
    # words: abab -> [ab][ab], ab -> [ab], cdab -> [cd][ab]
    assert out.word_starts.tolist() == [0, 2, 3]
    for k in (1, 2, 4):
        assert np.array_equal(p[0], p[k])
    assert not np.array_equal(p[0], p[3])
    assert (ink(p[0]) > 40).any()


def test_mono_layout_gives_one_cell_per_character(make_renderer):
    r = make_renderer()
    cell = r.config.mono_cell_width
    out = r("aXa a", layout="mono", char_spans=True)
    inked = ink(out.pixel_values)
    cells = [inked[:, k * cell : (k + 1) * cell] for k in range(5)]
    assert np.array_equal(cells[0], cells[2]) and np.array_equal(cells[0], cells[4])
    assert not (cells[3] > 40).any(), "a space is an empty cell"
    assert out.num_text_patches == 3  # 5 cells of 8 px


# -- long text ---------------------------------------------------------------------------------
def test_long_text_is_truncated_with_a_warning(backend):
    r = TextRenderer(backend=backend, max_patches=40)
    text = "word " * 200
    with pytest.warns(UserWarning, match="truncated"):
        out = r(text)
    assert out.truncated and out.end_patch <= 39
    assert 0 < out.segment_chars[0][1] < len(text)
    assert (out.patches(P)[out.end_patch] == 0).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r(text)  # the warning comes once per renderer


def test_overflow_windows_cover_the_text_with_overlap(backend):
    r = TextRenderer(backend=backend, max_patches=30)
    text = " ".join(f"w{k}" for k in range(120))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # windows over the rest were asked for: no truncation warning
        out = r(text, overflow=True, stride=3, char_spans=True)
    windows = [out] + out.overflow
    assert len(windows) >= 3
    ranges = [w.segment_chars[0] for w in windows]
    assert ranges[0][0] == 0 and ranges[-1][1] == len(text)
    for (s0, e0), (s1, e1) in zip(ranges, ranges[1:]):
        assert s0 < s1 < e0, "each window starts inside the last one (stride > 0)"
    # Character spans of a later window point into the original text.
    w = windows[1]
    s, e = w.char_spans[0]
    assert s == ranges[1][0] and text[s:e].strip()


def test_overflow_pair_repeats_the_question(backend):
    r = TextRenderer(backend=backend, max_patches=40)
    q, ctx = "Who?", " ".join(["context"] * 60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = r(q, ctx, overflow=True, stride=2)
    assert out.overflow
    for w in [out] + out.overflow:
        assert w.sep_patches == out.sep_patches
        assert np.array_equal(w.patches(P)[: w.sep_patches[0]], out.patches(P)[: out.sep_patches[0]])
    assert out.overflow[-1].segment_chars[1][1] == len(ctx)


# -- scripts -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(SCRIPT_SAMPLES))
def test_script_sample_has_no_missing_glyph(make_renderer, backend, name):
    out = make_renderer()(SCRIPT_SAMPLES[name])
    assert not out.truncated
    if backend == "pango" and name == "emoji" and not cairo_draws_colrv1():
        # Blank, and said so: counted as missing, with a warning naming the cause.
        with pytest.warns(UserWarning, match="older than 1.18 and cannot draw colour fonts"):
            fresh = TextRenderer(backend="pango")(SCRIPT_SAMPLES[name])
        assert fresh.missing_glyphs > 0
        return
    assert out.missing_glyphs == 0
    assert (ink(out.pixel_values[:, : out.end_patch * P]) > 100).sum() > 30 * len(SCRIPT_SAMPLES[name].split())


def cairo_draws_colrv1() -> bool:
    from pixlm.render.backends.pango_backend import cairo_draws_colrv1 as draws

    return draws()


def test_emoji_sequences_are_single_colour_glyphs():
    r = TextRenderer(rgb=True)
    family = r("👩\u200d👩\u200d👧\u200d👦").num_text_patches
    woman = r("👩").num_text_patches
    assert family == woman, "a ZWJ sequence is one glyph, as wide as one emoji"
    thumbs = r("👍🏽").pixel_values[:, :32].astype(int)
    assert (np.abs(thumbs[..., 0] - thumbs[..., 2]) > 30).any(), "emoji are in colour in RGB mode"


def test_shaping_applies_arabic_joining(make_renderer):
    r = make_renderer()
    joined = r.backend.line("بببب").width
    isolated = 4 * r.backend.line("ب").width
    assert joined < isolated - 2, "joined Arabic letters are narrower than isolated ones"


def test_user_font_heads_the_chain(tmp_path):
    import shutil

    from pixlm.render.fonts import bundled_fonts

    symbols = [f.path for f in bundled_fonts() if "Symbols" in f.path][0]
    shutil.copy(symbols, tmp_path / "mine.ttf")
    r = TextRenderer(fonts=[str(tmp_path)])
    assert r.backend.fonts.files[0].path == str(tmp_path / "mine.ttf")


# -- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call, message",
    [
        (lambda r: r(None), "text must be a str or a list of str, got None"),
        (lambda r: r(42), "text must be a str or a list of str, got int"),
        (lambda r: r(["ok", 3]), r"text\[1\] must be a str, got int"),
        (lambda r: r("a", 7), "text_pair must be a str or a list of str, got int"),
    ],
)
def test_wrong_types_name_the_argument(call, message):
    with pytest.raises(TypeError, match=message):
        call(TextRenderer())


def test_bad_options_are_named():
    r = TextRenderer()
    with pytest.raises(ValueError, match="layout must be one of continuous, words, bigrams, mono"):
        r("a", layout="zigzag")
    with pytest.raises(ValueError, match="max_patches_a applies to pairs only"):
        r("a", max_patches_a=3)
    with pytest.raises(ValueError, match="num_workers must be a non-negative integer"):
        r.render_batch(["a"], num_workers=-1)
    with pytest.raises(ValueError, match="a pair must be a"):
        r.render_batch([("a", "b", "c")])


def test_control_characters_and_surrogates_are_replaced_and_counted(make_renderer):
    r = make_renderer()
    out = r("ok\x00go\ud800!")
    assert out.replaced_chars == 2
    assert out.num_text_patches >= 2


def test_missing_glyphs_are_counted_and_reported():
    r = TextRenderer()
    with pytest.warns(UserWarning, match="no glyph in any font"):
        out = r("a\U0010fffdb\u0378")  # private use and unassigned code points
    assert out.missing_glyphs == 2


def test_long_text_path_draws_what_the_sentence_path_draws(make_renderer):
    # Past 48 words the renderer pastes with one scatter; a prefix of 20 words takes the
    # word-by-word path. Where both drew, the pixels must agree.
    r = make_renderer()
    words = [f"word{k % 7}{'y' * (k % 3)}" for k in range(80)]
    long_out, short_out = r(" ".join(words)), r(" ".join(words[:20]))
    upto = (short_out.end_patch - 1) * P
    assert np.array_equal(long_out.pixel_values[:, :upto], short_out.pixel_values[:, :upto])
    assert long_out.word_starts[:20].tolist() == short_out.word_starts.tolist()


def test_long_text_searched_in_small_windows_draws_the_same():
    # A long text is searched for its words in windows of about what fits; a window that is
    # far too small must only cost more windows. Leading, doubled and non-ASCII whitespace
    # (a tab becomes a space; U+00A0 and U+2003 separate words) must not shift anything.
    words = [f"w{k % 13}{'x' * (k % 4)}" for k in range(400)]
    seps = ["  ", " ", "\t", "\u00a0", " ", "\u2003 "]
    text = "  " + "".join(w + seps[k % len(seps)] for k, w in enumerate(words))
    default, tiny = TextRenderer(), TextRenderer()
    tiny.backend.pieces.px_per_char = 1e4  # windows of ~16 characters
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = default(text, char_spans=True), tiny(text, char_spans=True)
        short = default(text[:200], char_spans=True)
    assert a.truncated and b.truncated
    assert np.array_equal(a.pixel_values, b.pixel_values)
    assert a.word_starts.tolist() == b.word_starts.tolist()
    assert np.array_equal(a.char_spans, b.char_spans)
    assert a.segment_chars == b.segment_chars
    # Where the 200-character prefix (the word-by-word path) drew, the long path drew the same.
    upto = short.end_patch - 1
    assert np.array_equal(a.pixel_values[:, : upto * P], short.pixel_values[:, : upto * P])
    assert np.array_equal(a.char_spans[:upto], short.char_spans[:upto])
    assert a.word_starts[: len(short.word_starts) - 1].tolist() == short.word_starts[:-1].tolist()


def test_long_text_with_inkless_words_draws_what_no_cache_draws(monkeypatch):
    # A word of only a zero-width space has no ink: the bulk paste copies none of its columns,
    # and every other word must still land where drawing each piece on its own puts it.
    from pixlm.render.atlas import PieceAtlas

    words = [("\u200b" if k % 5 == 3 else f"ink{k % 9}") for k in range(300)]
    text = " ".join(words)
    bulk = []
    real_paste = PieceAtlas.paste
    monkeypatch.setattr(PieceAtlas, "paste", lambda self, *args: bulk.append(len(args[1])) or real_paste(self, *args))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cached, uncached = TextRenderer(), TextRenderer(cache_size=0)
        cached(text)  # warm: every piece in the atlas
        bulk.clear()
        a, b = cached(text), uncached(text)
    assert bulk == [300], "the warm render pastes its 300 pieces (240 with ink) in one gather"
    assert np.array_equal(a.pixel_values, b.pixel_values)
    assert a.word_starts.tolist() == b.word_starts.tolist()
    assert ink_columns(a.pixel_values).size > 1000


def test_long_texts_draw_each_word_with_exactly_the_whitespace_before_it():
    # A warm long text finds a word that follows one space by the word alone: the text's first
    # word (no space before it, a different piece), a leading space, a trailing one and doubled
    # spaces must each still get the piece of exactly their own characters.
    body = " ".join(f"ink{k % 7}" for k in range(300))
    texts = [body, " " + body, body[:1200] + " ", "ink3 " + body, "  " + body, body.replace(" ", "  ", 3)]
    cached, uncached = TextRenderer(), TextRenderer(cache_size=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for t in texts * 2:  # the second time round, every piece is in the atlas
            a, b = cached(t, char_spans=True), uncached(t, char_spans=True)
            assert np.array_equal(a.pixel_values, b.pixel_values), repr(t[:12])
            assert a.word_starts.tolist() == b.word_starts.tolist()
            assert np.array_equal(a.char_spans, b.char_spans)
            assert a.segment_chars == b.segment_chars


def test_long_texts_pasted_piece_by_piece_equal_the_bulk_paste(monkeypatch):
    # Where the atlas cannot paste in one gather (overlapping pieces), every piece is darkened
    # on its own, the one cut by the segment's end only as far as its characters fit.
    from pixlm.render.atlas import PieceAtlas

    body = " ".join(f"w{k % 11}{'jy' * (k % 3)}" for k in range(400))
    texts = [body, "x" + body[:700], body.replace(" ", "  ", 9)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bulk = TextRenderer()
        expected = [bulk(t, char_spans=True) for t in texts * 2][len(texts):]  # warm
        monkeypatch.setattr(PieceAtlas, "paste", lambda self, *args: False)
        single = TextRenderer()
        got = [single(t, char_spans=True) for t in texts * 2][len(texts):]
    assert [a.truncated for a in got] == [True, False, True]
    for a, b in zip(got, expected):
        assert np.array_equal(a.pixel_values, b.pixel_values)
        assert a.segment_chars == b.segment_chars and a.word_starts.tolist() == b.word_starts.tolist()


def test_atlas_paste_equals_copying_each_piece():
    from pixlm.render.atlas import AT, WIDTH, PieceAtlas

    rng = np.random.default_rng(0)
    # Grayscale of an even height (rows moved in pairs), of an odd height, and RGB (bytes).
    for height, rgb in ((P, False), (15, False), (P, True)):
        extra = (3,) if rgb else ()
        papers = [rng.integers(0, 256, (height, int(w)) + extra, dtype=np.uint8) for w in rng.integers(1, 30, 40)]
        atlas = PieceAtlas(height, rgb, white=1200, initial_columns=16)  # small, so it has to grow
        slots = [atlas.add(pp, (1.0, 0, 0, pp.shape[1], 0, 1, 0)) for pp in papers]
        at, widths = atlas.geometry[slots, AT].astype(int), atlas.geometry[slots, WIDTH].astype(int)
        lo = 5 + np.cumsum(widths + rng.integers(0, 4, len(papers))) - widths  # gaps of 0-3 columns

        def copied(chosen, where):
            out = np.full((height, 1200) + extra, 255, np.uint8)
            for pp, a in zip(chosen, where.tolist()):
                out[:, a : a + pp.shape[1]] = pp
            return out

        got = np.full((height, 1200) + extra, 255, np.uint8)
        assert atlas.paste(got, lo, at, widths)
        assert np.array_equal(got, copied(papers, lo))
        # Pieces that overlap are left to the caller, and nothing is pasted.
        untouched = np.full_like(got, 255)
        overlapping = lo.copy()
        overlapping[7:] -= 4
        assert not atlas.paste(untouched, overlapping, at, widths)
        assert (untouched == 255).all()
        # Compacting keeps the pieces it is given, in new slots.
        slots2 = atlas.compact([(pp, (1.0, 0, 0, pp.shape[1], 0, 1, 0)) for pp in papers[::2]])
        assert slots2 == list(range(len(papers[::2])))
        got2 = np.full_like(got, 255)
        assert atlas.paste(got2, lo[::2], atlas.geometry[slots2, AT].astype(int), widths[::2])
        assert np.array_equal(got2, copied(papers[::2], lo[::2]))


def test_long_texts_with_a_small_cache_draw_what_no_cache_draws():
    # A cache of 40 words evicts all the time (and compacts its atlas); pieces that left the
    # cache are pasted by copy. Every strip must equal the one drawn with no cache at all.
    from pixlm.render.atlas import PieceAtlas

    words = [f"w{k}{'y' * (k % 4)}" for k in range(300)]
    texts = [" ".join(words[(7 * i) % 200 :][:90]) for i in range(12)]
    small, none = TextRenderer(cache_size=40), TextRenderer(cache_size=0)
    compactions = 0
    real_compact = PieceAtlas.compact

    def counting(self, pieces):
        nonlocal compactions
        compactions += 1
        return real_compact(self, pieces)

    PieceAtlas.compact = counting
    try:
        small.backend.pieces.atlas_slack = 0  # pack the atlas as soon as it holds mostly evicted rows
        for k, t in enumerate(texts * 2):
            if k % 2:  # search in windows of ~16 characters: packing mid-text moves earlier windows' pieces
                small.backend.pieces.px_per_char = 1e4
            a, b = small(t), none(t)
            assert np.array_equal(a.pixel_values, b.pixel_values)
            assert a.word_starts.tolist() == b.word_starts.tolist()
    finally:
        PieceAtlas.compact = real_compact
    assert compactions > 0


_PANGO_PIECE_TEXTS = [
    "Room 2000 costs $20,000 (about 18% more) on 3/4/2021 #1 *",
    "The officer's affine office flew to Zürich; Œuvre, naïve café — “quoted” text…",
    "Tiếng Việt có dấu: người, được, những",
    "Ελληνικά και русский текст, mixed with English words",
    "   leading and trailing spaces   ",
    "x",
    "",
] + [SCRIPT_SAMPLES[name] for name in SCRIPT_SAMPLES]


def _pango_renderers():
    """Pairs of pango renderers, one drawing word by word from its cache, one laying out every
    line whole: pixlm's own chain, and PIXEL's published folders where the goldens are here."""
    if "pango" not in BACKENDS:
        pytest.skip("the pango backend is not installed")
    yield TextRenderer(backend="pango"), TextRenderer(backend="pango", cache_size=0)
    from golden import golden_dir

    root = golden_dir()
    for folder in ("pixel-render", "pixel-render-font2"):
        if root is not None and (root / folder / "renderer").is_dir():
            path = root / folder / "renderer"
            yield (TextRenderer.from_pretrained(path, backend="pango"),
                   TextRenderer.from_pretrained(path, backend="pango", cache_size=0))


def test_pango_word_pieces_draw_what_whole_layouts_draw():
    compared = 0
    for cached, whole in _pango_renderers():
        for text in _PANGO_PIECE_TEXTS:
            for args, kwargs in (((text,), {}), ((text.split(),), {"layout": "words"}),
                                 ((text, _PANGO_PIECE_TEXTS[1]), {"char_spans": True})):
                a, b = cached(*args, **kwargs), whole(*args, **kwargs)
                np.testing.assert_array_equal(a.pixel_values, b.pixel_values, err_msg=repr(text))
                assert a.num_text_patches == b.num_text_patches
                assert a.word_starts.tolist() == b.word_starts.tolist()
                compared += 1
        assert cached.backend.pieces is not None and len(cached.backend.pieces.cache) > 0  # pieces were used
    assert compared >= len(_PANGO_PIECE_TEXTS) * 3


def test_fit_end_is_fit_and_end_of(make_renderer):
    r = make_renderer()
    backend = r.backend
    texts = ["The officer's office affine ffi   spaced  words", "x", "", "   ", "ab " * 400, "Zürich naïve café " * 30]
    for text in texts:
        line = backend.line(text)
        for room in [0, 0.5, 3, 17.2, 40, 100.0, 333.3, 5000, 1e9]:
            k = line.fit(room)
            assert line.fit_end(room) == (k, line.end_of(k)), (text[:20], room)


def test_rendering_leaves_no_reference_cycles(make_renderer):
    # Cycles are freed only by the garbage collector, whose passes then cost every render.
    import gc

    r = make_renderer()
    calls = [(("Some words to render here.",), {}), ((["Some", "words"],), {"layout": "words"}),
             (("bigrams here",), {"layout": "bigrams"}), (("Question?", "Context text."), {"char_spans": True})]
    for args, kwargs in calls:
        r(*args, **kwargs).word_starts  # noqa: B018
    gc.collect()
    gc.disable()
    try:
        for args, kwargs in calls:
            r(*args, **kwargs).word_starts  # noqa: B018
        assert gc.collect() == 0
    finally:
        gc.enable()
