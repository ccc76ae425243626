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
from pixlm.models.recognizer import BLANK, PixelRecognizer, RecognizerConfig, decode, decode_best
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


def test_reading_scores_characters_only_where_needed_and_agrees_with_the_full_scores():
    """best_frames skips the characters on frames whose blank is over 1/2; its greedy reading
    is still exactly the argmax of forward's log-probabilities, which sum to one per frame."""
    torch.manual_seed(0)
    model = PixelRecognizer(RecognizerConfig(charset="abcdef", hidden_size=16, num_layers=1, head_size=8)).eval()
    with torch.no_grad():  # blanks near 1/2, so that both kinds of frame occur, and sharp character scores
        model.blank.weight.normal_(0, 2.0)
        model.head.weight.normal_(0, 3.0)
    pixels = torch.rand(3, 16, 64)
    widths = torch.tensor([64, 40, 10])
    out = model(pixels, widths=widths)
    assert torch.allclose(out.logits.exp().sum(-1), torch.ones(3, 32), atol=1e-5)
    best, best_p, lengths = model.best_frames(pixels, widths=widths)
    assert torch.equal(lengths, out.frame_lengths) and lengths.tolist() == [32, 20, 5]
    top_p, top = out.logits.exp().max(-1)
    inside = torch.arange(32) < lengths[:, None]
    assert torch.equal(best[inside], top[inside])
    assert torch.allclose(best_p[inside], top_p[inside], atol=1e-5)
    assert 0 < (best[inside] != BLANK).sum() < inside.sum(), "both kinds of frame were read"
    assert [r.text for r in decode_best(best, best_p, lengths, model.config)] == \
        [r.text for r in decode(out.logits, out.frame_lengths, model.config)]
    # The copy that reading uses, batch norms folded into the convolutions, reads the same.
    with torch.no_grad():
        for norm in [block.norm for block in model.blocks] + [model.norm]:
            norm.running_mean.normal_(0, 0.5), norm.running_var.uniform_(0.5, 2.0), norm.bias.normal_(0, 0.5)
    best, best_p, _ = model.best_frames(pixels, widths=widths)
    fused = model.for_reading()
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
    fused_best, fused_p, _ = fused.best_frames(pixels, widths=widths)
    assert torch.equal(fused_best, best) and torch.allclose(fused_p, best_p, atol=1e-5)


def test_look_alike_letters_take_the_script_of_their_word():
    from pixlm.render.charsets import resolve_homoglyphs

    greek_nu, cyrillic_o, cyrillic_en = "\u039d", "\u043e", "\u041d"
    assert resolve_homoglyphs(f"{greek_nu}ew" + " y" + cyrillic_o + "u") == "New you"  # Latin words
    assert resolve_homoglyphs("ΑΘΗΝΑ") == "ΑΘΗΝΑ"  # Θ makes the word Greek: its Α, Η, Ν stay Greek
    assert resolve_homoglyphs("AΘHNA") == "ΑΘΗΝΑ"  # ... and Latin look-alikes in it become Greek
    # A word of look-alikes only takes the line's script: Cyrillic here (д, м), else Latin.
    assert resolve_homoglyphs(f"{cyrillic_en}OC дом") == "НОС дом" and resolve_homoglyphs("НОС") == "HOC"
    assert resolve_homoglyphs("plain Latin, café!") == "plain Latin, café!"


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
        RecognizerConfig(window=11)  # steps of 4 columns could not centre on an 11-column window


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
        strips = [renderer(t, layout=layout) for t in texts]
        got = [r.text for r in read(strips)]
        errors = sum(edit_distance(g, t) for g, t in zip(got, texts))
        assert errors <= 2, (layout, got)
        # In either precision (bfloat16 keeps ~3 significant digits): the same text.
        assert [r.text for r in read(strips, precision="float32")] == [r.text for r in read(strips, precision="bfloat16")]
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


def reference_greedy_ctc(ids: list[int], ps: list[float], vocab: list[str]) -> tuple[str, list[float], list[float]]:
    """Greedy CTC decoding frame by frame, as written out by hand: (text, confidences, centre frames)."""
    chars = []  # [class, first frame, last frame]
    for t, c in enumerate(ids):
        if t and c == ids[t - 1]:
            chars[-1][2] = t
        else:
            chars.append([c, t, t])
    text, confs, centres = [], [], []
    for c, a, z in chars:
        if c == BLANK or (vocab[c] == " " and (not text or text[-1] == " ")):
            continue
        text.append(vocab[c])
        confs.append(sum(ps[a : z + 1]) / (z + 1 - a))
        centres.append((a + z) / 2)
    while text and text[-1] == " ":
        text.pop(), confs.pop(), centres.pop()
    return "".join(text), confs, centres


def test_batch_decoding_agrees_with_decoding_frame_by_frame():
    config = RecognizerConfig(charset="ab", resolve_homoglyphs=False)
    rng = np.random.default_rng(0)
    best = torch.from_numpy(rng.choice([BLANK, 2, 3, 4], p=[0.4, 0.2, 0.2, 0.2], size=(64, 30)))
    best_p = torch.from_numpy(rng.uniform(0.3, 1.0, size=(64, 30)))
    lengths = torch.from_numpy(rng.integers(0, 31, size=64))
    for b, reading in enumerate(decode_best(best, best_p, lengths, config)):
        n = int(lengths[b])
        text, confs, centres = reference_greedy_ctc(best[b, :n].tolist(), best_p[b, :n].tolist(), config.vocabulary)
        assert reading.text == text
        assert reading.confidence == pytest.approx(confs)
        assert reading.columns == [int(c * 2 + 1) for c in centres]
        assert reading.frame_confidence == pytest.approx(float(best_p[b, :n].mean()) if n else 1.0)


def test_reading_precision_and_the_kept_reading_copy():
    from pixlm.models.recognizer.reading import reading_copy, reading_dtype

    model = PixelRecognizer(SMALL).eval()
    assert reading_dtype(model, "float32") == torch.float32 and reading_dtype(model, "bfloat16") == torch.bfloat16
    assert reading_dtype(model, "auto") in (torch.float32, torch.bfloat16)
    with pytest.raises(ValueError, match="precision must be one of auto, float32, bfloat16, got 'fp8'"):
        reading_dtype(model, "fp8")
    first = reading_copy(model, torch.float32)
    assert first is not model and reading_copy(model, torch.float32) is first, "kept while the weights stay"
    assert reading_copy(model, torch.bfloat16).dtype == torch.bfloat16
    with torch.no_grad():
        model.head.bias.add_(1.0)  # an optimizer's step changes weights in place
    again = reading_copy(model, torch.float32)
    assert again is not first and torch.equal(again.head.bias, model.head.bias)


def test_denormals_are_flushed_while_reading_and_the_setting_restored():
    from pixlm.models.recognizer.modeling_recognizer import flushed_denormals

    def denormal_survives() -> bool:
        return (torch.tensor([1e-39]) * 1.0).item() != 0.0

    assert denormal_survives()
    with flushed_denormals():
        flushed = not denormal_survives()
    assert denormal_survives(), "restored"
    if torch.set_flush_denormal(True):  # where the CPU can flush (x86): flushed inside, still on after
        try:
            assert flushed
            with flushed_denormals():
                pass
            assert not denormal_survives(), "a flush the caller had set stays set"
        finally:
            torch.set_flush_denormal(False)


def test_a_recognizer_from_an_earlier_pixlm_is_refused_with_what_to_do(tmp_path):
    old = tmp_path / "old"
    PixelRecognizer(SMALL).save_pretrained(old)
    config = json.loads((old / "config.json").read_text())
    del config["frames_per_step"], config["head_size"]  # as recognizers were saved before steps of several frames
    (old / "config.json").write_text(json.dumps(config))
    strip = np.ones((16, 32), np.float32)
    with pytest.raises(ValueError, match=r"trained by an earlier pixlm.*train it again with `pixlm read train`"):
        read(strip, str(old))
    with pytest.raises(FileNotFoundError, match="has no config.json"):
        read(strip, str(tmp_path / "none"))
