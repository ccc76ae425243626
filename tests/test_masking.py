"""PIXEL's span masking on cases worked out by hand, and the pretraining collator."""

import numpy as np
import pytest
import torch

from pixlm.data import PixelPretrainingCollator, SpanMaskingGenerator, check_renderer_fits, num_masked
from pixlm.render import RendererConfig, TextRenderer

ONLY_3 = (0.0, 0.0, 1.0, 1.0, 1.0, 1.0)  # cumulative weights: every span is 3 long
ONLY_2 = (0.0, 1.0, 1.0, 1.0, 1.0, 1.0)


def runs(mask):
    """(start, length) of each run of ones."""
    out, k = [], 0
    while k < len(mask):
        if mask[k]:
            j = k
            while j < len(mask) and mask[j]:
                j += 1
            out.append((k, j - k))
            k = j
        else:
            k += 1
    return out


def test_num_masked_is_what_the_model_hides():
    assert num_masked(529, 0.25) == 529 - 396 == 133
    assert num_masked(10, 0.25) == 3 and num_masked(12, 0.25) == 3


def test_first_span_lies_in_the_text():
    # 12 patches at 0.25: 3 to mask, one span of 3, and the text is 3 patches long: only [0, 3) fits.
    for seed in range(20):
        mask = SpanMaskingGenerator(0.25, span_weights=ONLY_3, seed=seed)(12, 3)
        assert mask.tolist() == [1, 1, 1] + [0] * 9


def test_spans_keep_their_length_apart():
    # 8 patches at 0.5: 4 to mask as spans of 2 kept at least 2 apart. Worked by hand: a first
    # span at s admits a second at t only if t <= s - 4 or t >= s + 4 (t <= 6), so the outcomes
    # are {0,4} {0,5} {0,6} {1,5} {1,6} {2,6}, or the first span at 3 alone (nothing else fits,
    # the mask stays short and the model tops it up).
    allowed = {(0, 4), (0, 5), (0, 6), (1, 5), (1, 6), (2, 6), (3,)}
    seen = set()
    for seed in range(300):
        mask = SpanMaskingGenerator(0.5, span_weights=ONLY_2, seed=seed)(8, 8)
        r = runs(mask)
        assert all(n == 2 for _, n in r)
        starts = tuple(s for s, _ in r)
        assert starts in allowed, starts
        seen.add(starts)
    assert seen == allowed


def test_span_lengths_follow_pixels_weights():
    gen = SpanMaskingGenerator(0.25, seed=0)
    lengths = np.array([gen._span() for _ in range(20000)])
    freq = np.bincount(lengths, minlength=7)[1:] / len(lengths)
    np.testing.assert_allclose(freq, [0.2, 0.2, 0.2, 0.2, 0.1, 0.1], atol=0.015)


def test_span_lengths_are_drawn_as_numpys_choice_draws_them():
    # The lengths are drawn without rng.choice (which costs far more per call) but must follow
    # the same random stream, so that a seed gives the masks it gave before.
    gen = SpanMaskingGenerator(0.25, seed=7)
    reference = np.random.default_rng(7)
    for _ in range(2000):
        assert gen._span() == int(reference.choice(6, p=gen.probabilities)) + 1


def test_greedy_masking_stops_short_when_nothing_fits():
    # 4 patches at 0.5 (2 to mask) with spans of 3 only: the first span masks 3 > 2 allowed: none fits.
    mask = SpanMaskingGenerator(0.5, span_weights=ONLY_3, seed=0)(4, 4)
    assert mask.sum() == 0


def test_bad_weights_are_refused():
    with pytest.raises(ValueError, match="non-decreasing cumulative weights"):
        SpanMaskingGenerator(0.25, span_weights=(0.5, 0.2, 1, 1, 1, 1))


def test_collator_cuts_to_the_longest_text_and_repeats_gray_channels():
    renderer = TextRenderer(max_patches=64)
    collate = PixelPretrainingCollator(renderer, num_channels=3, seed=0)
    texts = ["short", "a somewhat longer sentence of text"]
    batch = collate([{"text": t} for t in texts])
    longest = max(renderer(t).num_patches for t in texts)
    assert batch["pixel_values"].shape == (2, 3, 16, longest * 16)
    assert batch["attention_mask"].sum(1).tolist() == [renderer(t).num_patches for t in texts]
    assert batch["patch_mask"].shape == (2, longest)
    assert torch.equal(batch["pixel_values"][:, 0], batch["pixel_values"][:, 2])
    assert batch["pixel_values"].min() >= 0 and batch["pixel_values"].max() <= 1
    # Padding is white.
    n0 = renderer("short").num_patches
    assert (batch["pixel_values"][0, :, :, n0 * 16 :] == 1).all()


def test_collator_takes_pre_rendered_strips():
    renderer = TextRenderer(max_patches=32)
    r = renderer("pre-rendered")
    strip = r.pixel_values[:, : r.num_patches * 16]
    batch = PixelPretrainingCollator(None, num_channels=1, span_masking=False)(
        [{"pixel_values": strip, "num_patches": r.num_patches}])
    assert batch["pixel_values"].shape == (1, 1, 16, r.num_patches * 16)
    assert "patch_mask" not in batch


def test_renderer_that_does_not_fit_the_model_is_named():
    with pytest.raises(ValueError, match="renderer patch_size is 8 but the model's patch_size is 16"):
        check_renderer_fits(RendererConfig(patch_size=8), 16, 3, 529)
    with pytest.raises(ValueError, match="rgb=True.*num_channels=1"):
        check_renderer_fits(RendererConfig(rgb=True), 16, 1, 529)
    with pytest.raises(ValueError, match="max_patches is 529 but the model takes at most 64"):
        check_renderer_fits(RendererConfig(), 16, 3, 64)


def test_an_examples_mask_follows_from_the_seed_epoch_and_example_not_its_batch():
    """Masks per example: the same in any batch of the same length (so torchrun's per-process
    batches mask as one process's whole batch does), new in each epoch, different per seed."""
    renderer = TextRenderer(max_patches=24)
    long = [f"{k} a sentence long enough to fill every patch of a short strip, and more" for k in range(4)]
    assert len({renderer(t).num_patches for t in long}) == 1  # cut at max_patches: one batch length
    collate = PixelPretrainingCollator(renderer, num_channels=1, seed=3)
    alone = [collate([{"text": t}]) for t in long]
    together = collate([{"text": t} for t in reversed(long)])
    for k, batch in enumerate(alone):
        for key in ("patch_mask", "noise"):
            assert torch.equal(batch[key][0], together[key][3 - k])
    assert batch["patch_mask"].sum() > 0 and ((0 <= batch["noise"]) & (batch["noise"] < 1)).all()
    assert not torch.equal(alone[0]["patch_mask"], alone[1]["patch_mask"])
    collate.set_epoch(1)
    assert not torch.equal(collate([{"text": long[0]}])["noise"], alone[0]["noise"])
    other_seed = PixelPretrainingCollator(renderer, num_channels=1, seed=4)
    assert not torch.equal(other_seed([{"text": long[0]}])["noise"], alone[0]["noise"])


def test_pre_rendered_strips_are_masked_by_their_pixels():
    """Strips without text draw their masks from their pixels: two strips of the same length
    are masked differently, the same strip the same way."""
    renderer = TextRenderer(max_patches=24)
    strips = [renderer(t) for t in ("first strip of pixels here", "other strip of pixels here")]
    collate = PixelPretrainingCollator(None, num_channels=1, seed=0)
    examples = [{"pixel_values": r.pixel_values, "num_patches": r.num_patches} for r in strips]
    assert strips[0].num_patches == strips[1].num_patches
    a, b = collate(examples[:1]), collate(examples[1:])
    assert not torch.equal(a["noise"], b["noise"])
    assert torch.equal(collate(examples[:1])["noise"], a["noise"])
