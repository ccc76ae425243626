"""Synthetic scenes: coloured shapes on a background, with captions, VQA questions and
NLVR2-style statements, so that Pixel-BERT's whole pipeline can be seen learning on a CPU.

A scene has one to three shapes, each in its own quadrant (top left, top right, bottom left,
bottom right), each a circle, square or triangle, small or large, in one of five colours.
Everything is drawn from a seeded generator: the same seed gives the same scenes.

    scenes = make_scenes(1000, seed=0)
    scenes[0].image()           # a PIL image
    scenes[0].caption()         # 'a large red circle at the top left and a small blue square ...'
    scene_questions(scenes[0])  # [('what colour is the circle?', 'red'), ...]
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from PIL import Image, ImageDraw

COLOURS = {"red": (220, 40, 40), "green": (40, 170, 60), "blue": (40, 80, 220), "yellow": (235, 200, 30),
           "purple": (150, 60, 190)}
SHAPES = ("circle", "square", "triangle")
SIZES = ("small", "large")
QUADRANTS = ("top left", "top right", "bottom left", "bottom right")
BACKGROUNDS = ((245, 245, 245), (225, 225, 215), (210, 220, 230))
NUMBERS = {1: "one", 2: "two", 3: "three"}


@dataclass(frozen=True)
class Shape:
    kind: str
    colour: str
    size: str
    quadrant: str

    def phrase(self) -> str:
        return f"a {self.size} {self.colour} {self.kind} at the {self.quadrant}"


@dataclass(frozen=True)
class Scene:
    shapes: tuple[Shape, ...]
    background: tuple[int, int, int]
    jitter: tuple[tuple[int, int], ...]  # each shape's offset from its quadrant's centre, in 1/100 of the side
    size: int = 256

    def image(self):
        """The scene drawn as a PIL RGB image of `size` x `size` pixels."""
        s = self.size
        img = Image.new("RGB", (s, s), self.background)
        draw = ImageDraw.Draw(img)
        for shape, (dx, dy) in zip(self.shapes, self.jitter):
            q = QUADRANTS.index(shape.quadrant)
            cx = s * (0.25 + 0.5 * (q % 2) + dx / 100)
            cy = s * (0.25 + 0.5 * (q // 2) + dy / 100)
            r = s * (0.16 if shape.size == "large" else 0.08)
            box = (cx - r, cy - r, cx + r, cy + r)
            fill = COLOURS[shape.colour]
            if shape.kind == "circle":
                draw.ellipse(box, fill=fill)
            elif shape.kind == "square":
                draw.rectangle(box, fill=fill)
            else:
                draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=fill)
        return img

    def caption(self, order: list[int] | None = None) -> str:
        """All shapes described, in the given order (default: as placed)."""
        parts = [self.shapes[k].phrase() for k in (order or range(len(self.shapes)))]
        return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def random_scene(rng: random.Random, size: int = 256) -> Scene:
    n = rng.randint(1, 3)
    quadrants = rng.sample(QUADRANTS, n)
    shapes = tuple(Shape(rng.choice(SHAPES), rng.choice(list(COLOURS)), rng.choice(SIZES), q) for q in quadrants)
    jitter = tuple((rng.randint(-6, 6), rng.randint(-6, 6)) for _ in shapes)
    return Scene(shapes, rng.choice(BACKGROUNDS), jitter, size)


def make_scenes(count: int, seed: int = 0, size: int = 256) -> list[Scene]:
    """`count` scenes, reproducible from `seed`."""
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    rng = random.Random(seed)
    return [random_scene(rng, size) for _ in range(count)]


def scene_questions(scene: Scene, rng: random.Random | None = None) -> list[tuple[str, str]]:
    """Questions about a scene with one-word answers: counting, colour, shape, size, position
    and yes/no existence (one true and one false)."""
    rng = rng or random.Random(0)
    qa = [("how many shapes are there?", NUMBERS[len(scene.shapes)])]
    kinds = [s.kind for s in scene.shapes]
    for shape in scene.shapes:
        qa.append((f"what shape is at the {shape.quadrant}?", shape.kind))
        if kinds.count(shape.kind) == 1:
            qa.append((f"what colour is the {shape.kind}?", shape.colour))
            qa.append((f"what size is the {shape.kind}?", shape.size))
    empty = [q for q in QUADRANTS if q not in {s.quadrant for s in scene.shapes}]
    if empty:
        qa.append((f"what shape is at the {rng.choice(empty)}?", "nothing"))
    present = rng.choice(scene.shapes)
    qa.append((f"is there a {present.colour} {present.kind}?", "yes"))
    absent = [(c, k) for c in COLOURS for k in SHAPES if all((s.colour, s.kind) != (c, k) for s in scene.shapes)]
    c, k = rng.choice(absent)
    qa.append((f"is there a {c} {k}?", "no"))
    return qa


def pair_statement(left: Scene, right: Scene, rng: random.Random) -> tuple[str, bool]:
    """An NLVR2-style statement about a pair of scenes, and whether it is true."""
    kind = rng.randrange(4)
    if kind == 0:
        return "the left image has more shapes than the right image", len(left.shapes) > len(right.shapes)
    colour = rng.choice(list(COLOURS))
    if kind == 1:
        truth = any(s.colour == colour for s in left.shapes) and any(s.colour == colour for s in right.shapes)
        return f"both images contain a {colour} shape", truth
    shape = rng.choice(SHAPES)
    side, scene = rng.choice((("left", left), ("right", right)))
    if kind == 2:
        return f"there is a {shape} in the {side} image", any(s.kind == shape for s in scene.shapes)
    return f"the {side} image contains a {colour} {shape}", any((s.colour, s.kind) == (colour, shape) for s in scene.shapes)


def balanced_pairs(scenes: list[Scene], count: int, seed: int = 0) -> list[tuple[int, int, str, bool]]:
    """`count` (left index, right index, statement, label) with as many true as false."""
    rng = random.Random(seed)
    want = {True: (count + 1) // 2, False: count // 2}
    out = []
    while want[True] or want[False]:
        i, j = rng.randrange(len(scenes)), rng.randrange(len(scenes))
        text, label = pair_statement(scenes[i], scenes[j], rng)
        if want[label]:
            want[label] -= 1
            out.append((i, j, text, label))
    return out
