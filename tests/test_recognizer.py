"""The line recognizer: CTC decoding worked out by hand, the training strips and their labels,
reading any form of strip, `pixlm read train` end to end, and the recognizer that ships."""

import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from pixlm.data.recognition import Degradation, RecognitionCollator, RecognitionStrips, parse_layout_mix, random_words
from pixlm.evaluation.metrics import edit_distance
from pixlm.models.recognizer import BLANK, PixelRecognizer, RecognizerConfig, decode
from pixlm.models.recognizer.reading import default_recognizer_path, read
from pixlm.render import TextRenderer
from pixlm.render.charsets import DEFAULT_CHARSET, encode_for_recognition, normalize_text, recognition_vocabulary
from pixlm.render.reading import text_patch_count

SMALL = RecognizerConfig(charset="abc", hidden_size=16, num_layers=1)


def one_hot_logits(classes: list[int], vocab: int) -> torch.Tensor:
    logits = torch.full((1, len(classes), vocab), -10.0)
    for t, c in enumerate(classes):
        logits[0, t, c] = 10.0
    return logits


def test_greedy_ctc_merges_repeats_drops_blanks_and_tidies_spaces():
    a, b, c, space = 3, 4, 5, 2  # classes: blank, unknown, space, then the charset "abc"
    frames = [space, a, a, BLANK, a, b, b, space, space, BLANK, space, c, BLANK, space]
    (reading,) = decode(one_hot_logits(frames, SMALL.vocab_size), torch.tensor([len(frames)]), SMALL)
    # Runs: space (dropped: leads), a [1,2], a [4], b [5,6], space [7,8], space [10] (a second
    # space in a row: dropped), c [11], space [13] (trails: dropped).
    assert reading.text == "aab c"
    # Each character's column: the middle of its run of frames, times the stride of 2, plus 1.
    assert reading.columns == [int(1.5 * 2 + 1), 4 * 2 + 1, int(5.5 * 2 + 1), int(7.5 * 2 + 1), 11 * 2 + 1]
    assert reading.patches == [x // 16 for x in reading.columns]
    assert all(p > 0.99 for p in reading.confidence)
    # Frames past a strip's length are not read.
    (short,) = decode(one_hot_logits(frames, SMALL.vocab_size), torch.tensor([5]), SMALL)
    assert short.text == "aa"


def test_unread_ink_is_the_share_of_inked_columns_with_no_character_near():
    from pixlm.models.recognizer.reading import unread_ink

    strip = np.ones((16, 60), np.float32)
    strip[4:12, 0:10] = 0.0  # ink at columns 0-9 and 30-39
    strip[4:12, 30:40] = 0.0
    assert unread_ink(strip, [5], reach=5) == 0.5  # a character read at column 5 covers 0-10
    assert unread_ink(strip, [5, 35], reach=5) == 0.0
    assert unread_ink(np.ones((16, 20), np.float32), [], reach=5) == 0.0  # no ink: nothing unread
    reading = decode(one_hot_logits([3], SMALL.vocab_size), torch.tensor([1]), SMALL)[0]
    reading.unread_ink = 0.25
    assert reading.strip_confidence == pytest.approx(reading.mean_confidence * 0.75)


def test_ctc_loss_falls_as_the_model_learns_a_batch():
    torch.manual_seed(0)
    model = PixelRecognizer(RecognizerConfig(charset="abc", hidden_size=16, num_layers=1, dropout=0.0))
    pixels = torch.rand(2, 16, 40)
    labels = torch.tensor([[3, 4, -100], [5, 5, 3]])  # "ab", and "cca" (a doubled letter: a blank between)
    out = model(pixels, widths=torch.tensor([40, 30]), labels=labels)
    assert out.logits.shape == (2, 20, SMALL.vocab_size) and out.frame_lengths.tolist() == [20, 15]
    first = out.loss.item()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(200):
        optimizer.zero_grad()
        loss = model(pixels, widths=torch.tensor([40, 30]), labels=labels).loss
        loss.backward()
        optimizer.step()
    assert loss.item() < first / 100
    model.eval()
    out = model(pixels, widths=torch.tensor([40, 30]))
    assert [r.text for r in decode(out.logits, out.frame_lengths, SMALL)] == ["ab", "cca"]
    with pytest.raises(ValueError, match="H = 16"):
        model(torch.ones(1, 32, 40))
    with pytest.raises(TypeError, match="float tensor"):
        model(torch.ones(1, 16, 40, dtype=torch.uint8))


def test_vocabulary_and_encoding():
    assert recognition_vocabulary("xy") == ["", "\ufffd", " ", "x", "y"]
    assert encode_for_recognition("  y x\tz ", "xy") == [4, 2, 3, 2, 1]  # whitespace normalised, z unknown
    assert normalize_text("Ca\u0301fe\u0301  au\nlait") == "Cáfé au lait"
    assert len(set(DEFAULT_CHARSET)) == len(DEFAULT_CHARSET) and not any(c.isspace() for c in DEFAULT_CHARSET)
    for ch in "éøłđươệαωΩжЖёẹọṣɛɔŋ":
        assert ch in DEFAULT_CHARSET, ch
    with pytest.raises(ValueError, match="twice"):
        RecognizerConfig(charset="aa")
    with pytest.raises(ValueError, match="whitespace"):
        RecognizerConfig(charset="a b")
    with pytest.raises(ValueError, match="by an even number"):
        RecognizerConfig(window=11)  # frames of 2 columns could not centre on an 11-column window


def test_training_strips_hold_the_text_they_say():
    renderer = TextRenderer()
    strips = RecognitionStrips(["The cat sat on the mat, and the dog lay by the door."], renderer,
                               {"continuous": 1.0}, random_text=0.0, max_chars=30, seed=1)
    items = [item for item, _ in zip(strips, range(6))]
    for item in items:
        assert item["text"] and item["text"] in "The cat sat on the mat, and the dog lay by the door."
        again = renderer(item["text"])
        assert item["pixels"].shape == (16, again.num_text_patches * 16)
        assert np.array_equal(item["pixels"], np.asarray(again.pixel_values)[:, : again.num_text_patches * 16])
    assert [i["text"] for i in items] == [i["text"] for i, _ in zip(RecognitionStrips(
        ["The cat sat on the mat, and the dog lay by the door."], renderer, {"continuous": 1.0}, 0.0, 30, seed=1), range(6))]
    words = random_words(random.Random(0), max_chars=40)
    assert 3 <= len(words) < 40 + 11  # words are added until the length drawn (<= 40) is reached
    assert parse_layout_mix("continuous:3,mono:1") == {"continuous": 0.75, "mono": 0.25}
    with pytest.raises(ValueError, match="LAYOUT:SHARE"):
        parse_layout_mix("continuous:x")


def test_collator_pads_white_encodes_and_degrades_deterministically():
    items = [{"pixels": np.full((16, 32), 255, np.uint8), "text": "ab"}, {"pixels": np.zeros((16, 16), np.uint8), "text": "c d"}]
    clean = RecognitionCollator("abcd")(items)
    assert clean["pixel_values"].shape == (2, 16, 32) and clean["widths"].tolist() == [32, 16]
    assert torch.all(clean["pixel_values"][1, :, 16:] == 1.0), "padding is white"
    assert clean["labels"].tolist() == [[3, 4, -100], [5, 2, 6]]
    noisy = RecognitionCollator("abcd", Degradation(none=0.0, blur=1.0, shift=0), seed=3)
    a, b = noisy(items), noisy(items)
    assert torch.equal(a["pixel_values"], b["pixel_values"])
    assert not torch.equal(a["pixel_values"][1, :, :16], clean["pixel_values"][1, :, :16]), "blurred"


def test_read_takes_renderings_arrays_pngs_and_batches(tmp_path):
    model = PixelRecognizer(SMALL).eval()
    renderer = TextRenderer()
    rendered = renderer("abc cab")
    png = tmp_path / "s.png"
    full = np.asarray(rendered.pixel_values)[:, : (rendered.num_text_patches + 1) * 16]  # with its end patch
    Image.fromarray(np.kron(full, np.ones((2, 2), np.uint8))).save(png)  # as --scale 2 writes it
    as_tensor = torch.from_numpy(np.asarray(rendered.pixel_values, np.float32) / 255)[None].repeat(2, 3, 1, 1)
    readings = [read(rendered, model), read(str(png), model), *read(as_tensor, model)]
    # Every form reads the same text columns: the text patches up to the black end patch.
    assert len({r.text for r in readings}) == 1
    # The end patch is found in an array as in a PNG: the first mostly dark patch.
    strip = np.full((16, 64), 1.0, np.float32)
    strip[:, 32:48] = 0.1
    assert text_patch_count(strip, 16) == 2 and text_patch_count(np.ones((16, 64)), 16) == 4
    with pytest.raises(ValueError, match="16 pixels high"):
        read(np.zeros((20, 40), np.uint8), model)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read(str(tmp_path / "none.png"), model)


def test_read_train_trains_resumes_and_reads(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(f"line {i} of a small corpus to read" for i in range(40)))
    out = tmp_path / "reader"
    base = [sys.executable, "-m", "pixlm", "read", "train", "--corpus", str(corpus), "--output-dir", str(out),
            "--validation-size", "4", "--batch-size", "4", "--save-steps", "2", "--hidden-size", "16", "--num-layers", "1"]
    res = subprocess.run(base + ["--steps", "2"], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "character error rate" in res.stdout
    for name in ("model.safetensors", "config.json", "text_renderer_config.json", "all_results.json", "README.md"):
        assert (out / name).is_file(), name
    results = json.loads((out / "all_results.json").read_text())
    assert results["steps"] == 2 and set(results["validation"]) == {"continuous", "words", "bigrams", "mono"}
    res = subprocess.run(base + ["--steps", "4"], capture_output=True, text=True, timeout=600)
    results = json.loads((out / "all_results.json").read_text())
    assert res.returncode == 0 and results["steps"] == 4 and results["resumed_from"].endswith("checkpoint-2")
    png = tmp_path / "s.png"
    assert subprocess.run([sys.executable, "-m", "pixlm", "render", "line 3", "-o", str(png)]).returncode == 0
    res = subprocess.run([sys.executable, "-m", "pixlm", "read", str(png), "--recognizer", str(out), "--confidence"],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    res = subprocess.run([sys.executable, "-m", "pixlm", "read", "train", "--corpus", str(corpus)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 2 and "needs --output-dir" in res.stderr


shipped = pytest.mark.skipif(not (Path(default_recognizer_path()) / "model.safetensors").is_file(),
                             reason="the default recognizer is not in this checkout (scripts/train_default_recognizer.sh)")


@shipped
def test_the_shipped_recognizer_reads_every_layout_of_unseen_text():
    renderer = TextRenderer()
    texts = ["Pixels carry language without a vocabulary.", "Ngày mai tôi sẽ đi Hà Nội.", "Résumé: 3 naïve façades, 42%!"]
    for layout in ("continuous", "words", "mono"):
        got = [r.text for r in read([renderer(t, layout=layout) for t in texts])]
        errors = sum(edit_distance(g, t) for g, t in zip(got, texts))
        assert errors <= 2, (layout, got)
    # Up to num_patches patches only: the start of the text, no character past them.
    first = read(renderer(texts[0]), num_patches=2)
    assert first.text and texts[0].startswith(first.text[:-1]) and all(x < 32 for x in first.columns)


@shipped
def test_the_recognizer_and_the_template_reader_agree_on_clean_mono():
    from pixlm.render.reading import PatchReader

    renderer = TextRenderer(layout="mono")
    reader = PatchReader(renderer)
    for text in ["Read me back, please.", "The quick brown fox jumps over the lazy dog."]:
        rendered = renderer(text)
        assert read(rendered).text == reader.read(rendered.pixel_values) == text
