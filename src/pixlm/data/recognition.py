"""Training strips for the recognizer, rendered on the fly: pieces of a corpus's lines (and
random words, for characters a corpus lacks) in a mix of layouts, with the text each strip
holds; and the collator that pads them, degrades them as models' outputs are degraded (blur,
grey ink, noise, smeared patches) and encodes the text for CTC.
"""

from __future__ import annotations

import math
import random
import zlib
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..render import TextRenderer
from ..render.charsets import SCRIPT_LETTERS, encode_for_recognition, letters_by_script, normalize_text, recognition_vocabulary

DEFAULT_LAYOUTS = {"continuous": 0.55, "words": 0.2, "bigrams": 0.1, "mono": 0.15}
_PUNCTUATION = ".,;:!?'\"()-"


def parse_layout_mix(spec: str | dict[str, float]) -> dict[str, float]:
    """`continuous:0.6,words:0.4` (or a dict) as layout -> share, the shares summing to 1."""
    if isinstance(spec, dict):
        mix = dict(spec)
    else:
        mix = {}
        for part in str(spec).split(","):
            name, _, share = part.strip().partition(":")
            try:
                mix[name.strip()] = float(share) if share else 1.0
            except ValueError:
                raise ValueError(f"layouts: {part.strip()!r} is not LAYOUT or LAYOUT:SHARE") from None
    if not mix or any(not math.isfinite(v) or v < 0 for v in mix.values()) or sum(mix.values()) <= 0:
        raise ValueError(f"layouts must give each layout a non-negative share, some positive; got {spec!r}")
    total = sum(mix.values())
    return {k: v / total for k, v in mix.items() if v > 0}


def random_words(rng: random.Random, letters: dict[str, str] = SCRIPT_LETTERS, max_chars: int = 60) -> str:
    """Word-shaped random text: each word from one script's letters, sometimes capitalised,
    with digits and punctuation now and then."""
    words, length = [], 0
    target = rng.randint(3, max_chars)
    scripts = list(letters)
    while length < target:
        if rng.random() < 0.1:
            word = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 4)))
        else:
            pool = letters[rng.choice(scripts)]
            word = "".join(rng.choice(pool) for _ in range(rng.randint(1, 9)))
            if rng.random() < 0.2:
                word = word.capitalize()
        if rng.random() < 0.15:
            word += rng.choice(_PUNCTUATION)
        words.append(word)
        length += len(word) + 1
    return " ".join(words)


class RecognitionStrips(torch.utils.data.IterableDataset):
    """An endless stream of {"pixels": (H, W) uint8 gray up to the end patch, "text": what it
    reads as}. Each item is a piece of a random line of `texts` (10 to `max_chars` characters,
    whole words) or, with probability `random_text`, random words of the charset's letters (each
    word in one script); drawn in a layout of `layouts` (name -> share). Deterministic for a seed
    (per DataLoader worker)."""

    def __init__(self, texts: list[str], renderer: TextRenderer, layouts: dict[str, float] | None = None,
                 random_text: float = 0.15, max_chars: int = 100, seed: int = 0, charset: str | None = None):
        texts = [t for t in (normalize_text(t) for t in texts) if t]
        if not texts and random_text < 1:
            raise ValueError("the corpus holds no text to render")
        self.texts, self.renderer = texts, renderer
        self.layouts = parse_layout_mix(layouts or DEFAULT_LAYOUTS)
        self.random_text, self.max_chars, self.seed = random_text, max_chars, seed
        self.letters = letters_by_script(charset) if charset else SCRIPT_LETTERS
        self.patch_size = renderer.config.patch_size

    def piece(self, rng: random.Random) -> str:
        if not self.texts or rng.random() < self.random_text:
            return random_words(rng, self.letters, max_chars=self.max_chars)
        words = rng.choice(self.texts).split(" ")
        start = rng.randrange(len(words))
        budget = rng.randint(10, self.max_chars)
        out, length = [], 0
        for w in words[start:]:
            if out and length + len(w) + 1 > budget:
                break
            out.append(w)
            length += len(w) + 1
        return " ".join(out)

    def render(self, text: str, layout: str) -> dict | None:
        rendered = self.renderer(text, layout=layout)
        if rendered.truncated or rendered.num_text_patches == 0:
            return None
        pixels = np.asarray(rendered.pixel_values)[:, : rendered.num_text_patches * self.patch_size]
        if pixels.ndim == 3:
            pixels = pixels.mean(-1).astype(np.uint8)
        return {"pixels": pixels, "text": text}

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        worker = info.id if info is not None else 0
        rng = random.Random(zlib.crc32(f"{self.seed}/{worker}".encode()))
        names, weights = list(self.layouts), list(self.layouts.values())
        while True:
            item = self.render(self.piece(rng), rng.choices(names, weights)[0])
            if item is not None:
                yield item


@dataclass
class Degradation:
    """How often and how much the collator degrades a training strip."""

    shift: int = 3  # up to this many white columns added on the left
    blur: float = 0.5  # probability of a Gaussian blur, sigma uniform in [0.3, max_sigma]
    max_sigma: float = 1.1
    grey: float = 0.4  # probability of grey ink: darkness scaled by U[0.45, 1]
    noise: float = 0.3  # probability of Gaussian noise, std uniform in [0, 0.08]
    smear: float = 0.3  # probability that some patches look like a model's reconstruction
    none: float = 0.25  # probability that a strip is left clean


def _gaussian_kernel(sigma: float) -> torch.Tensor:
    radius = max(1, int(math.ceil(2.5 * sigma)))
    x = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def blur(ink: torch.Tensor, sigma: float) -> torch.Tensor:
    """A Gaussian blur of a (H, W) darkness map (separable; edges padded with the border value)."""
    k = _gaussian_kernel(sigma)
    r = k.numel() // 2
    x = F.pad(ink[None, None], (r, r, 0, 0), mode="replicate")
    x = F.conv2d(x, k.view(1, 1, 1, -1))
    x = F.pad(x, (0, 0, r, r), mode="replicate")
    return F.conv2d(x, k.view(1, 1, -1, 1))[0, 0]


class RecognitionCollator:
    """Pads strips to the batch's widest with white, degrades them when `degradation` is given,
    and encodes their text: {"pixel_values": (B, H, W) float in [0, 1], "widths": (B,),
    "labels": (B, S) class ids padded with -100}."""

    def __init__(self, charset: str, degradation: Degradation | None = None, patch_size: int = 16, seed: int = 0):
        self.charset, self.degradation, self.patch_size, self.seed = charset, degradation, patch_size, seed
        self.index = {c: i for i, c in enumerate(recognition_vocabulary(charset)) if c}

    def degrade(self, ink: torch.Tensor, rng: random.Random) -> torch.Tensor:
        d = self.degradation
        if rng.random() < d.none:
            return ink
        if rng.random() < d.smear:  # patches a model filled in: blurred and washed out
            n = ink.shape[1] // self.patch_size
            for _ in range(rng.randint(1, max(1, n // 4))):
                a = rng.randrange(n) * self.patch_size
                b = min(ink.shape[1], a + rng.randint(1, 3) * self.patch_size)
                ink[:, a:b] = blur(ink[:, a:b], rng.uniform(0.6, 1.4)) * rng.uniform(0.5, 0.9) + rng.uniform(0, 0.1)
        if rng.random() < d.blur:
            ink = blur(ink, rng.uniform(0.3, d.max_sigma))
        if rng.random() < d.grey:
            ink = ink * rng.uniform(0.45, 1.0)
        if rng.random() < d.noise:
            ink = ink + torch.randn(ink.shape, generator=torch.Generator().manual_seed(rng.randrange(2**31))) * rng.uniform(0, 0.08)
        return ink.clamp(0, 1)

    def __call__(self, items: list[dict]) -> dict[str, torch.Tensor]:
        rng = random.Random(zlib.crc32(f"{self.seed}/{items[0]['text']}".encode()))
        inks = []
        for item in items:
            ink = 1.0 - torch.from_numpy(np.asarray(item["pixels"], dtype=np.float32)) / 255.0
            if self.degradation is not None:
                shift = rng.randint(0, self.degradation.shift)
                ink = self.degrade(F.pad(ink, (shift, 0)), rng)
            inks.append(ink)
        height = inks[0].shape[0]
        width = max(i.shape[1] for i in inks)
        ink = torch.zeros(len(inks), height, width)
        for b, i in enumerate(inks):
            ink[b, :, : i.shape[1]] = i
        codes = [encode_for_recognition(item["text"], self.charset, self.index) for item in items]
        labels = torch.full((len(items), max(1, max(len(c) for c in codes))), -100, dtype=torch.long)
        for b, c in enumerate(codes):
            labels[b, : len(c)] = torch.tensor(c, dtype=torch.long)
        return {"pixel_values": 1.0 - ink, "widths": torch.tensor([i.shape[1] for i in inks]), "labels": labels}
