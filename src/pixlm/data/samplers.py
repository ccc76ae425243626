"""Samplers: training orders that keep examples about the same image together, so that a batch's
questions share their images and each image goes through the CNN once (see
`PixelBertVQACollator`)."""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence

import numpy as np
import torch


class ImageGroupedSampler(torch.utils.data.Sampler[int]):
    """Every example once per epoch; the examples of one image next to each other, images in a
    fresh random order each epoch (from `seed` and the epoch), examples within an image shuffled
    too. `images[i]` is anything hashable naming example i's image (a path, an id)."""

    def __init__(self, images: Sequence[Hashable], seed: int = 0):
        if len(images) == 0:
            raise ValueError("images must name the image of at least one example")
        groups: dict[Hashable, list[int]] = {}
        for i, key in enumerate(images):
            groups.setdefault(key, []).append(i)
        self.groups = [np.asarray(g) for g in groups.values()]
        self.seed, self.epoch = seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return sum(len(g) for g in self.groups)

    def __iter__(self) -> Iterator[int]:
        rng = np.random.default_rng([self.seed, self.epoch])
        for k in rng.permutation(len(self.groups)):
            yield from rng.permutation(self.groups[k]).tolist()
