"""Text preparation before drawing: checking, cleaning, bidi levels, words and graphemes."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import regex
from bidi import algorithm as uba

# Characters of right-to-left scripts and the explicit bidi controls: text without any of
# these is laid out left to right in one pass, with no bidi analysis.
_RTL_OR_BIDI_CONTROL = re.compile(
    "[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff\u200f\u202a-\u202e\u2066-\u2069"
    "\U00010800-\U00010fff\U0001e800-\U0001efff]"
)
# C0 and C1 controls, and lone surrogates (which a Python str can hold).
_BAD_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_ASCII_CONTROLS = bytes(range(0x20)) + b"\x7f"
_WHITESPACE_CONTROLS = "\t\n\r\x0b\x0c"
_GRAPHEME = regex.compile(r"\X")


def check_text(value: object, argument: str) -> str:
    """Return `value` if it is a str, else raise TypeError naming `argument`."""
    if not isinstance(value, str):
        raise TypeError(f"{argument} must be a str, got {type(value).__name__}")
    return value


def sanitize(text: str) -> tuple[str, int]:
    """Replace control characters by spaces and lone surrogates by U+FFFD.

    Returns the cleaned text (same length, so character indices still refer to the input) and
    how many characters were replaced; tabs and line breaks become spaces without being counted.
    """
    if text.isascii():
        raw = text.encode("ascii")
        if len(raw.translate(None, _ASCII_CONTROLS)) == len(raw):  # several times faster than a search
            return text, 0
    elif _BAD_CHARS.search(text) is None:
        return text, 0
    replaced = 0

    def fix(match: re.Match) -> str:
        nonlocal replaced
        ch = match.group()
        if ch in _WHITESPACE_CONTROLS:
            return " "
        replaced += 1
        return "\ufffd" if "\ud800" <= ch <= "\udfff" else " "

    return _BAD_CHARS.sub(fix, text), replaced


def needs_bidi(text: str) -> bool:
    """True if the text holds right-to-left characters or bidi controls."""
    return not text.isascii() and _RTL_OR_BIDI_CONTROL.search(text) is not None


DIRECTIONS = ("auto", "rtl", "auto-rtl")


def bidi_levels(text: str, direction: str = "auto") -> list[int]:
    """Resolved embedding level of each character (Unicode Bidirectional Algorithm, rules P-I).

    The paragraph direction (`auto`) comes from the first strong character, so a Hebrew or
    Arabic text reads right to left on its own, and text with no strong character left to
    right; `auto-rtl` is the same but right to left without a strong character; `rtl` makes
    a right-to-left paragraph whatever it holds. Characters that rule X9 removes take their
    neighbour's level.
    """
    if direction == "auto" and not needs_bidi(text):
        return [0] * len(text)

    storage = uba.get_empty_storage()
    base = 1 if direction == "rtl" else paragraph_level(text, default=1 if direction == "auto-rtl" else 0)
    storage["base_level"] = base
    storage["base_dir"] = ("L", "R")[base]
    uba.get_embedding_levels(text, storage, False, False)
    uba.explicit_embed_and_overrides(storage, False)
    uba.resolve_weak_types(storage, False)
    uba.resolve_neutral_types(storage, False)
    uba.resolve_implicit_levels(storage, False)
    kept = iter(storage["chars"])
    levels: list[int] = []
    for ch in text:
        if unicodedata.bidirectional(ch) in uba.X9_REMOVED:
            levels.append(levels[-1] if levels else base)
        else:
            levels.append(next(kept)["level"])
    return levels


# Pango finds a paragraph's direction from its first character of a strong type, and counts
# the explicit embeddings and overrides among those (as FriBidi classes them).
_STRONG_LTR, _STRONG_RTL = {"L", "LRE", "LRO"}, {"R", "AL", "RLE", "RLO"}


def paragraph_level(text: str, default: int = 0) -> int:
    """0 (left to right) or 1 from the first strong character, as Pango's auto direction
    decides it; `default` when there is none."""
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in _STRONG_LTR:
            return 0
        if kind in _STRONG_RTL:
            return 1
    return default


def visual_order(levels: list[int]) -> list[int]:
    """Indices of items in display order given their embedding levels (rule L2)."""
    order = list(range(len(levels)))
    if not levels:
        return order
    highest = max(levels)
    lowest_odd = min((lv for lv in levels if lv % 2), default=highest + 1)
    for level in range(highest, lowest_odd - 1, -1):
        i = 0
        while i < len(order):
            if levels[order[i]] >= level:
                j = i
                while j < len(order) and levels[order[j]] >= level:
                    j += 1
                order[i:j] = reversed(order[i:j])
                i = j
            else:
                i += 1
    return order


_WORD = re.compile(r"\S+")


def split_words(text: str) -> list[tuple[int, int]]:
    """[start, end) of each whitespace-separated word."""
    if len(text) >= _VECTOR_MIN_CHARS:
        return list(zip(*(_ascii_word_bounds(text) if text.isascii() else _word_bounds(text))))
    if text.isascii() and " " in text and not _ASCII_SPACE_BUT_BLANK.search(text):
        # Only spaces separate words: split in C and add up the lengths.
        spans, pos = [], 0
        for word in text.split(" "):
            if word:
                spans.append((pos, pos + len(word)))
            pos += len(word) + 1
        return spans
    return [m.span() for m in _WORD.finditer(text)]


_PIECE = re.compile(r"\s*\S+")
_SPACE = re.compile(r"\s")


def piece_keys(text: str, start: int = 0, end: int | None = None) -> list[str]:
    """Each word of text[start:end] with the whitespace before it (the renderer caches one
    drawn piece per such key); whitespace after the last word is left out.

    The text must be sanitized (`sanitize`: no control characters), and `end` should fall at
    the end of a word (see `end_of_word`), or a word is cut in two.
    """
    end = len(text) if end is None else end
    chunk = text[start:end]
    if not _one_space_apart(chunk):
        return _PIECE.findall(text, start, end)
    # Split in C just before each space.
    found = chunk.replace(" ", "\0 ").split("\0")  # sanitized: no NUL, no other whitespace
    if not found[0]:
        del found[0]
    if found and found[-1] == " ":
        found.pop()
    return found


def spaced_words(chunk: str) -> list[str] | None:
    """The words of a sanitized chunk whose words are one space apart, as `chunk.split(" ")`
    cuts them but for a space at the end; None for other text. The chunk's `piece_keys` are
    then the first item, unless it is empty (the chunk starts with a space), and " " + each
    other one: a caller can look pieces up by the word without making those strings."""
    if not _one_space_apart(chunk):
        return None
    words = chunk.split(" ")
    if not words[-1]:
        words.pop()
    return words


def _one_space_apart(chunk: str) -> bool:
    # Sanitized ASCII has no whitespace but spaces (`sanitize` turns tabs and line breaks into
    # spaces), so without two spaces in a row its words are one space apart: the common case.
    return chunk.isascii() and "  " not in chunk


def end_of_word(text: str, index: int) -> int:
    """`index`, moved on to the end of the word it falls in (or left where whitespace is)."""
    if index >= len(text):
        return len(text)
    m = _SPACE.search(text, index)
    return m.start() if m else len(text)


_ASCII_SPACE_BUT_BLANK = re.compile("[\t\n\r\x0b\x0c]")
# From this length on, text is split with array operations (a 2,500-character text in a
# fifth of the time of a loop over its words).
_VECTOR_MIN_CHARS = 512
# Every character that `\s` matches in a str pattern (U+3000 is the last), and one more
# entry, False, for all code points above.
_BLANK = np.zeros(0x3002, bool)
_BLANK[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000]] = True
_ASCII_BLANK = _BLANK[:128]


def _ascii_word_bounds(text: str) -> tuple[list[int], list[int]]:
    return _bounds(~_ASCII_BLANK[np.frombuffer(text.encode("ascii"), np.uint8)])


def _word_bounds(text: str) -> tuple[list[int], list[int]]:
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32)
    return _bounds(~(_BLANK[np.minimum(codes, len(_BLANK) - 1)]))


def _bounds(inked: np.ndarray) -> tuple[list[int], list[int]]:
    padded = np.zeros(len(inked) + 2, bool)
    padded[1:-1] = inked
    edges = np.flatnonzero(padded[1:] != padded[:-1])  # a start, then its end, then the next start...
    return edges[0::2].tolist(), edges[1::2].tolist()


def graphemes(text: str) -> list[str]:
    """User-perceived characters: a base with its marks, an emoji ZWJ sequence, a flag."""
    return _GRAPHEME.findall(text)


# Texts shorter than this holding at most one word are one piece (a word of a word list).
_ONE_PIECE = 64


def is_one_piece(text: str) -> bool:
    """Whether a text is drawn as one piece, keyed by itself: a short text of at most one word
    (a word list's "word ")."""
    return len(text) < _ONE_PIECE and len(text.split(None, 1)) < 2
