"""Character sets by script, for the recognizer's vocabulary and for random training text.

`DEFAULT_CHARSET` is what the default recognizer reads: Latin with its diacritics (Western and
Central European, Vietnamese, the African Latin alphabets of MasakhaNER), Greek and Cyrillic,
common punctuation, and the combining marks that NFC leaves uncomposed (Yoruba's ẹ́).
"""

from __future__ import annotations

import unicodedata


def _block(first: int, last: int) -> str:
    """The assigned, printable characters of a code point range."""
    out = []
    for cp in range(first, last + 1):
        ch = chr(cp)
        if unicodedata.category(ch)[0] in "LNPSM" and unicodedata.category(ch) not in ("Cf",):
            out.append(ch)
    return "".join(out)


ASCII = "".join(chr(c) for c in range(0x21, 0x7F))
LATIN = (_block(0xA1, 0xFF).replace("\xad", "") + _block(0x100, 0x24F) + "ɛɔɖƒɣɩŋʋʊɲ" + _block(0x1E00, 0x1EFF))
GREEK = _block(0x386, 0x3CE).replace("\u0387", "")
CYRILLIC = _block(0x400, 0x45F)
PUNCTUATION = "–—‘’‚“”„†•…‰‹›€™№"
COMBINING = "\u0300\u0301\u0302\u0303\u0304\u0306\u0307\u0308\u030c\u0323\u0331"

DEFAULT_CHARSET = "".join(dict.fromkeys(ASCII + LATIN + GREEK + CYRILLIC + PUNCTUATION + COMBINING))
# Scripts whose letters random training words are drawn from, one script per word.
SCRIPT_LETTERS = {
    "latin": "".join(c for c in ASCII + LATIN if c.isalpha()),
    "greek": "".join(c for c in GREEK if c.isalpha()),
    "cyrillic": "".join(c for c in CYRILLIC if c.isalpha()),
}


def letters_by_script(charset: str) -> dict[str, str]:
    """`SCRIPT_LETTERS` restricted to `charset`, plus the charset's other letters (a script of the
    user's corpus, such as Han) as one more group."""
    groups = {name: "".join(c for c in letters if c in charset) for name, letters in SCRIPT_LETTERS.items()}
    known = set("".join(SCRIPT_LETTERS.values()))
    groups["other"] = "".join(c for c in charset if c.isalpha() and c not in known)
    return {name: letters for name, letters in groups.items() if letters}


def normalize_text(text: str) -> str:
    """What a recognizer should read for `text`: NFC, whitespace runs as one space, trimmed."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def recognition_vocabulary(charset: str) -> list[str]:
    """A recognizer's classes: CTC's blank (''), an unknown character (U+FFFD), a space, then
    `charset` in its order."""
    return ["", "\ufffd", " ", *charset]


def encode_for_recognition(text: str, charset: str, index: dict[str, int] | None = None) -> list[int]:
    """`text` (normalised as `normalize_text` does) as class ids of `recognition_vocabulary(charset)`;
    a character outside the charset is the unknown class."""
    index = index if index is not None else {c: i for i, c in enumerate(recognition_vocabulary(charset)) if c}
    return [index.get(c, 1) for c in normalize_text(text)]


# Letters drawn alike in Latin, Greek and Cyrillic (in pixlm's fonts the glyphs are identical):
# a strip cannot tell them apart, only the word around them can.
_GREEK_AS_LATIN = dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧο", "ABEZHIKMNOPTYXo"))
_CYRILLIC_AS_LATIN = dict(zip("АВЕКМНОРСТХаеорсухіјѕІЈЅ", "ABEKMHOPCTXaeopcyxijsIJS"))
_AS_LATIN = {**_GREEK_AS_LATIN, **_CYRILLIC_AS_LATIN}
_LATIN_AS = {"greek": {v: k for k, v in _GREEK_AS_LATIN.items()}, "cyrillic": {v: k for k, v in _CYRILLIC_AS_LATIN.items()}}
_SCRIPT_OF = {c: name for name, letters in SCRIPT_LETTERS.items() for c in letters}
_NOT_LATIN = frozenset(c for c, name in _SCRIPT_OF.items() if name != "latin") | frozenset(_AS_LATIN)


def _distinct_letters(text: str) -> dict[str, int]:
    """Per script, the letters of `text` that only that script draws so."""
    counts: dict[str, int] = {}
    for c in text:
        script = _SCRIPT_OF.get(c)
        if script and c not in _AS_LATIN and c not in _LATIN_AS["greek"] and c not in _LATIN_AS["cyrillic"]:
            counts[script] = counts.get(script, 0) + 1
    return counts


def resolve_homoglyphs(text: str) -> str:
    """Each word's look-alike letters in the script of its other letters ('Νew' -> 'New';
    'ΑΘΗΝΑ' stays Greek, for its Θ); a word of look-alikes only takes the script of the rest of
    the line, else Latin. Same length as `text`."""
    if _NOT_LATIN.isdisjoint(text):  # no Greek or Cyrillic letter: every word is Latin already
        return text
    line = _distinct_letters(text)
    default = max(line, key=line.get) if line else "latin"
    out = []
    for word in text.split(" "):
        counts = _distinct_letters(word)
        script = max(counts, key=counts.get) if counts else default
        latin = "".join(_AS_LATIN.get(c, c) for c in word)
        out.append(latin if script == "latin" else "".join(_LATIN_AS[script].get(c, c) for c in latin))
    return " ".join(out)
