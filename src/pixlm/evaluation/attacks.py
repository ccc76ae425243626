"""Zeroé-style orthographic attacks (Eger & Benz 2020), as PIXEL was tested with.

`severity` is the share of words attacked: round(severity x words) positions are drawn with
the seed, so the same seed gives the same text. Words an attack cannot change (too short, no
vowel, no entry in a table) are left as they are. Every attack but `segmentation` keeps the
number of words, so word-level labels (POS, NER) stay aligned.

Tables (for keyboard, natural, visual, homoglyph) are read from a folder holding `en.key`,
`en.natural`, `visual_repres.txt` and `unicode_confusables.txt`: the `noise_dir` argument, else
`$PIXLM_DATA/noise`.
"""

from __future__ import annotations

import functools
import os
import random
from typing import Callable

import numpy as np

from ..data.readers import read_conllu, write_conllu
from ..files import read_lines, written_whole

ATTACKS = (
    "full-swap", "inner-swap", "intrude", "disemvowel", "truncate",
    "keyboard", "natural", "visual", "homoglyph", "segmentation",
)
WORD_PRESERVING = tuple(a for a in ATTACKS if a != "segmentation")
_VOWELS = set("aeiouAEIOU")
_INTRUDERS = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


def noise_dir(path: str | os.PathLike | None = None) -> str:
    """The folder of noise tables: `path`, else $PIXLM_DATA/noise."""
    if path is None:
        root = os.environ.get("PIXLM_DATA")
        if not root:
            raise FileNotFoundError(
                "this attack needs the noise tables: pass noise_dir (--noise-dir) or set PIXLM_DATA to the "
                "shared data folder that holds noise/"
            )
        path = os.path.join(root, "noise")
    path = os.fspath(path)
    if not os.path.isdir(path):
        raise FileNotFoundError(f"noise table folder {path!r} does not exist")
    return path


@functools.lru_cache(maxsize=4)
def keyboard_neighbours(folder: str) -> dict[str, str]:
    """en.key: a key, then its neighbours, per line."""
    out = {}
    with open(os.path.join(folder, "en.key"), encoding="utf-8") as f:
        for line in f:
            keys = line.split()
            if len(keys) > 1:
                out[keys[0]] = "".join(keys[1:])
    return out


@functools.lru_cache(maxsize=4)
def natural_typos(folder: str) -> dict[str, list[str]]:
    """en.natural: a word, then misspellings people made of it (a word may have several lines)."""
    out: dict[str, list[str]] = {}
    with open(os.path.join(folder, "en.natural"), encoding="utf-8") as f:
        for line in f:
            words = line.split()
            if len(words) > 1:
                out.setdefault(words[0], []).extend(words[1:])
    return out


@functools.lru_cache(maxsize=4)
def visual_neighbours(folder: str, k: int = 10) -> dict[str, list[str]]:
    """For each letter and digit, the k characters nearest to it in visual_repres.txt's
    256-dimensional embeddings (Euclidean), itself and its other case left out."""
    chars, vectors = [], []
    with open(os.path.join(folder, "visual_repres.txt"), encoding="utf-8") as f:
        next(f)  # count and dimension
        for line in f:
            parts = line.rstrip("\n").split(" ")
            if len(parts) < 257 or len(parts[0]) != 1:
                continue
            chars.append(parts[0])
            vectors.append([float(x) for x in parts[1:257]])
    v = np.asarray(vectors)
    out = {}
    for i, ch in enumerate(chars):
        if not ch.isalnum():
            continue
        order = np.argsort(((v - v[i]) ** 2).sum(1))
        near = [chars[j] for j in order if chars[j] not in (ch, ch.swapcase()) and not chars[j].isspace()]
        out[ch] = near[:k]
    return out


@functools.lru_cache(maxsize=4)
def homoglyphs(folder: str) -> dict[str, list[str]]:
    """unicode_confusables.txt (TR39 summary): each prototype character and the single
    characters confusable with it."""
    out: dict[str, list[str]] = {}
    proto = None
    with open(os.path.join(folder, "unicode_confusables.txt"), encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            if len(fields) < 3 or line.startswith("#"):
                continue
            code = fields[2].split()
            if len(code) != 1:
                continue
            ch = chr(int(code[0], 16))
            if line.startswith("←"):
                if proto is not None:
                    out.setdefault(proto, []).append(ch)
            else:
                proto = ch
    return out


def _shuffle(chars: list[str], rng: random.Random) -> list[str]:
    shuffled = chars[:]
    for _ in range(10):  # a shuffle that changes something, if one exists
        rng.shuffle(shuffled)
        if shuffled != chars:
            break
    return shuffled


def _word_attack(name: str, rng: random.Random, folder: Callable[[], str]) -> Callable[[str], str]:
    def full_swap(w):
        return "".join(_shuffle(list(w), rng)) if len(w) > 1 else w

    def inner_swap(w):
        return w[0] + "".join(_shuffle(list(w[1:-1]), rng)) + w[-1] if len(w) > 3 else w

    def intrude(w):
        if len(w) < 2:
            return w
        out = [w[0]]
        for ch in w[1:]:
            if rng.random() < 0.5 or len(out) == 1:
                out.append(rng.choice(_INTRUDERS))
            out.append(ch)
        return "".join(out)

    def disemvowel(w):
        stripped = "".join(c for c in w if c not in _VOWELS)
        return stripped if stripped else w

    def truncate(w):
        return w[:-1] if len(w) > 1 else w

    def keyboard(w):
        table = keyboard_neighbours(folder())
        spots = [i for i, c in enumerate(w) if c.lower() in table]
        if not spots:
            return w
        i = rng.choice(spots)
        new = rng.choice(table[w[i].lower()])
        return w[:i] + (new.upper() if w[i].isupper() else new) + w[i + 1 :]

    def natural(w):
        options = natural_typos(folder()).get(w) or natural_typos(folder()).get(w.lower())
        return rng.choice(options) if options else w

    def replace_chars(table):
        def attack(w):
            spots = [i for i, c in enumerate(w) if table.get(c)]
            if not spots:
                return w
            chosen = set(rng.sample(spots, max(1, len(spots) // 2)))
            return "".join(rng.choice(table[c]) if i in chosen else c for i, c in enumerate(w))

        return attack

    attacks = {
        "full-swap": full_swap, "inner-swap": inner_swap, "intrude": intrude, "disemvowel": disemvowel,
        "truncate": truncate, "keyboard": keyboard, "natural": natural,
        "visual": lambda w: replace_chars(visual_neighbours(folder()))(w),
        "homoglyph": lambda w: replace_chars(homoglyphs(folder()))(w),
    }
    return attacks[name]


def attack_words(
    words: list[str], attack: str, severity: float, seed: int = 0, noise_dir_path: str | None = None
) -> list[str]:
    """Attack `severity` of the words. `segmentation` joins an attacked word to the next one
    (the list gets shorter); all others keep one output word per input word."""
    if attack not in ATTACKS:
        raise ValueError(f"unknown attack {attack!r}; attacks: {', '.join(ATTACKS)}")
    if not isinstance(severity, (int, float)) or not 0 <= severity <= 1:
        raise ValueError(f"severity must be a share of words in [0, 1], got {severity!r}")
    if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
        raise TypeError("words must be a list of str")
    rng = random.Random(f"{seed}:{attack}:{len(words)}:{' '.join(words)}")
    chosen = set(rng.sample(range(len(words)), round(severity * len(words)))) if words else set()
    if attack == "segmentation":
        out: list[str] = []
        glue = False
        for i, w in enumerate(words):
            if glue:
                out[-1] += w
            else:
                out.append(w)
            glue = i in chosen and i + 1 < len(words)
        return out
    change = _word_attack(attack, rng, lambda: noise_dir(noise_dir_path))
    return [change(w) if i in chosen else w for i, w in enumerate(words)]


def attack_text(text: str, attack: str, severity: float, seed: int = 0, noise_dir_path: str | None = None) -> str:
    """Attack a text's whitespace-separated words; words are joined by single spaces."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return " ".join(attack_words(text.split(), attack, severity, seed, noise_dir_path))


def _sentence_text(lines: list[str], forms: list[str]) -> str:
    """A CoNLL-U sentence's text from its (attacked) word forms, spaced as its MISC column says
    (`SpaceAfter=No`); a multiword token reads as its words joined."""
    out: list[str] = []
    word, skip_to = 0, 0
    for line in lines:
        if line.startswith("#") or not line.strip():
            continue
        cols = line.split("\t")
        if "." in cols[0]:
            continue  # an empty node: not in the text
        if "-" in cols[0]:
            first, last = (int(x) for x in cols[0].split("-"))
            out.append("".join(forms[word : word + last - first + 1]))
            skip_to = last
        else:
            number = int(cols[0])
            word += 1
            if number <= skip_to:
                continue
            out.append(forms[word - 1])
        if "SpaceAfter=No" not in (cols[9] if len(cols) > 9 else "").split("|"):
            out.append(" ")
    return "".join(out).rstrip(" ")


def attack_file(path: str, out_path: str, attack: str, severity: float, seed: int = 0,
                noise_dir_path: str | None = None, fmt: str | None = None) -> int:
    """Attack a file: `lines` (one text per line) or `conllu` (the FORM of each word, so the
    annotations stay aligned; `# text` becomes the attacked words). Returns the lines or
    sentences written."""
    fmt = fmt or ("conllu" if str(path).endswith(".conllu") else "lines")
    if fmt == "conllu":
        if attack == "segmentation":
            raise ValueError("segmentation changes the number of words: it cannot keep CoNLL-U annotations aligned")
        sentences = read_conllu(path)
        for k, s in enumerate(sentences):
            forms = attack_words(s.words, attack, severity, seed + k, noise_dir_path)
            word = 0
            for j, line in enumerate(s.lines):
                cols = line.split("\t")
                if line.startswith("#") or len(cols) < 2 or "." in cols[0]:
                    continue
                if "-" in cols[0]:  # a multiword token reads as its (attacked) words joined
                    first, last = (int(x) for x in cols[0].split("-"))
                    cols[1] = "".join(forms[word : word + last - first + 1])
                else:
                    cols[1] = forms[word]
                    word += 1
                s.lines[j] = "\t".join(cols)
            text = _sentence_text(s.lines, forms)
            s.lines = [("# text = " + text) if line.startswith("# text = ") else line for line in s.lines]
        with written_whole(out_path, inputs=(path,)) as tmp:
            write_conllu(sentences, tmp)
        return len(sentences)
    if fmt != "lines":
        raise ValueError(f"format must be lines or conllu, got {fmt!r}")
    lines = read_lines(path, "input file")
    with written_whole(out_path, inputs=(path,)) as tmp, open(tmp, "w", encoding="utf-8") as dst:
        for k, line in enumerate(lines):
            dst.write(attack_text(line, attack, severity, seed + k, noise_dir_path) + "\n")
    return len(lines)
