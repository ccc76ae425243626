"""PixelGPT's data and training: mixtures, the collator, the BPE tokenizer, pretraining end to
end, reading patches back, and the commands."""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from pixlm.data.mixture import MIXTURES, PixelGPTCollator, parse_mixture
from pixlm.data.tokenization import load_tokenizer, train_bpe_tokenizer
from pixlm.evaluation.metrics import character_accuracy, edit_distance
from pixlm.render import TextRenderer
from pixlm.render.reading import PatchReader
from pixlm.training import PretrainConfig, pretrain

SENTENCES = [f"Line {k} says that pixels and tokens both carry text number {k}." for k in range(100)]
TINY_GPT = {"hidden_size": 64, "num_attention_heads": 2, "num_key_value_heads": 1, "intermediate_size": 128,
            "num_hidden_layers": 1, "num_channels": 1, "max_patches": 64, "max_tokens": 64}


@pytest.fixture(scope="module")
def tokenizer():
    return train_bpe_tokenizer(SENTENCES, vocab_size=400)


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(SENTENCES) + "\n", encoding="utf-8")
    return str(path)


def test_mixtures_parse_and_bad_ones_are_named():
    assert parse_mixture("pixels=0.5,text=0.25,paired=0.25") == {"pixels": 0.5, "text": 0.25, "paired": 0.25}
    assert parse_mixture("MonoGPT") == {"pixels": 0.5, "text": 0.5}
    assert parse_mixture({"pixels": 1}) == MIXTURES["pixelgpt"]
    assert parse_mixture("pixels=0.5,text=0.5,paired=0") == {"pixels": 0.5, "text": 0.5}  # zero shares drop out
    with pytest.raises(ValueError, match=r"must sum to 1; \{'pixels': 0.5, 'text': 0.25\} sums to 0.75"):
        parse_mixture("pixels=0.5,text=0.25")
    with pytest.raises(ValueError, match="kinds must be among pixels, text, paired"):
        parse_mixture("pixels=0.5,images=0.5")
    with pytest.raises(ValueError, match="'text' is not KIND=SHARE"):
        parse_mixture("pixels=1,text")
    with pytest.raises(ValueError, match="non-negative"):
        parse_mixture("pixels=1.5,text=-0.5")


def test_collator_draws_kinds_by_their_shares_and_deterministically(tokenizer):
    renderer = TextRenderer(max_patches=64)
    collate = PixelGPTCollator(renderer, tokenizer, num_channels=1, mixture="dualgpt", seed=3)
    batches = [[SENTENCES[k % 100], f"extra {k}"] for k in range(600)]
    kinds = [collate.kind_for(b) for b in batches]
    shares = {k: kinds.count(k) / len(kinds) for k in ("pixels", "text", "paired")}
    assert shares["pixels"] == pytest.approx(0.5, abs=0.06)
    assert shares["text"] == pytest.approx(0.25, abs=0.06) and shares["paired"] == pytest.approx(0.25, abs=0.06)
    assert kinds == [collate.kind_for(b) for b in batches]  # a resumed run draws the same kinds
    paired = collate.pixels(batches[0]) | collate.tokens(batches[0], with_bos=False)
    text = collate.tokens(batches[0], with_bos=True)
    assert paired["pixel_values"].shape[:3] == (2, 1, 16) and paired["patch_attention_mask"].shape[0] == 2
    eos, bos = tokenizer.eos_token_id, tokenizer.bos_token_id
    for i in range(2):
        n = int(paired["attention_mask"][i].sum())
        assert paired["input_ids"][i, n - 1] == eos and paired["input_ids"][i, 0] != bos
        assert text["input_ids"][i, 0] == bos
        assert tokenizer.decode(text["input_ids"][i, 1 : n]) == batches[0][i]


def test_collator_errors_name_what_is_missing(tokenizer):
    renderer = TextRenderer(max_patches=64)
    with pytest.raises(ValueError, match="has text or paired batches but no tokenizer"):
        PixelGPTCollator(renderer, None, mixture="monogpt")
    collate = PixelGPTCollator(renderer, tokenizer, mixture="pixels=0,text=0,paired=1")
    with pytest.raises(ValueError, match=r"a paired batch needs tokens for every text; texts \[1\] have none"):
        collate([{"text": "fine"}, {"text": ""}])


def test_bpe_tokenizer_round_trips_any_text_and_checks_the_vocabulary(tokenizer, tmp_path):
    for text in ("pixels and tokens", "Grüße, 東京! 🙂"):  # byte-level: nothing is unknown
        assert tokenizer.decode(tokenizer(text)["input_ids"]) == text
    assert len(tokenizer("pixels and tokens carry text")["input_ids"]) < len("pixels and tokens carry text")
    tokenizer.save_pretrained(tmp_path / "tok")
    assert len(load_tokenizer(str(tmp_path / "tok"))) == len(tokenizer)
    with pytest.raises(ValueError, match=f"has {len(tokenizer)} tokens but the model's vocab_size is 100"):
        load_tokenizer(str(tmp_path / "tok"), vocab_size=100)
    with pytest.raises(FileNotFoundError, match="pixlm tokenizer train"):
        load_tokenizer(str(tmp_path / "none"))
    with pytest.raises(ValueError, match="vocab_size must be an integer of at least 300"):
        train_bpe_tokenizer(["x"], vocab_size=10)


def gpt_config(corpus, out, **kw):
    base = dict(corpus=corpus, output_dir=str(out), model_type="pixelgpt", validation_size=8, max_steps=6,
                batch_size=4, eval_steps=3, save_steps=3, logging_steps=1, reconstruction_steps=0, learning_rate=3e-3,
                report_to=[], progress=False, model_overrides=dict(TINY_GPT), renderer_overrides={"max_patches": 64})
    base.update(kw)
    return PretrainConfig(**base)


def test_pretraining_mixtures_train_the_heads_their_batches_use(corpus, tokenizer, tmp_path):
    tokenizer.save_pretrained(tmp_path / "tok")
    dual = pretrain(gpt_config(corpus, tmp_path / "dual", mixture="dualgpt", tokenizer=str(tmp_path / "tok")))
    pixel = pretrain(gpt_config(corpus, tmp_path / "pixel", mixture="pixelgpt"))
    for res in (dual, pixel):
        assert res["steps"] == 6 and res["final_eval_loss"] < res["initial_eval_loss"]
        assert [os.path.basename(p) for p in res["reconstructions"]] == ["step-000000.png", "step-000006.png"]
        assert "generations" in res["reconstructions"][0]
    # The token head learns only from text and paired batches: untouched by pixels alone.
    from pixlm.models.pixelgpt import PixelGPTConfig, PixelGPTForCausalLM

    torch.manual_seed(42)
    fresh = PixelGPTForCausalLM(PixelGPTConfig.from_preset("tiny", **TINY_GPT))
    pixel_weights = load_file(tmp_path / "pixel" / "model.safetensors")
    dual_weights = load_file(tmp_path / "dual" / "model.safetensors")
    assert torch.equal(pixel_weights["lm_token_head.weight"], fresh.lm_token_head.weight.detach())
    assert dual_weights["lm_token_head.weight"].shape == (len(tokenizer), 64)
    assert os.path.isfile(tmp_path / "dual" / "tokenizer.json")  # saved beside the model
    # A checkpoint continued with a larger tokenizer than it was made for is refused.
    train_bpe_tokenizer(SENTENCES * 3 + ["zebra quokka yak " * 40], vocab_size=460).save_pretrained(tmp_path / "big")
    with pytest.raises(ValueError, match=r"tokenizer has \d+ tokens but the model's vocab_size is \d+"):
        pretrain(gpt_config(corpus, tmp_path / "again", model=str(tmp_path / "dual"), tokenizer=str(tmp_path / "big"),
                            model_overrides={}, mixture="monogpt"))


def test_pretraining_settings_are_checked(corpus, tmp_path):
    with pytest.raises(ValueError, match="give a tokenizer folder"):
        pretrain(gpt_config(corpus, tmp_path / "x", mixture="monogpt"))
    with pytest.raises(ValueError, match="model_type must be one of pixel, pixelgpt; got 'bert'"):
        pretrain(gpt_config(corpus, tmp_path / "x", model_type="bert"))
    with pytest.raises(ValueError, match="sums to 0.9"):
        pretrain(gpt_config(corpus, tmp_path / "x", mixture="pixels=0.9"))


@pytest.mark.parametrize("layout", ["mono", "bigrams"])
def test_reader_reads_clean_renderings_back(layout):
    renderer = TextRenderer(layout=layout, max_patches=128)
    reader = PatchReader(renderer)
    texts = ["The quick brown fox jumps over the lazy dog.", "Pack my box with 5 dozen liquor jugs!", "a = b + c; (x)"]
    for text in texts:
        got = reader.read(renderer(text).pixel_values)
        assert got == (text if layout == "mono" else "".join(text.split()))
    # A strip cut short reads only its first cells.
    strip = renderer("abcdef").pixel_values
    assert reader.read(strip, num_patches=1) == "ab"  # one patch: two 8-pixel cells, or one bigram


def test_reader_rejects_unreadable_layouts_and_shapes():
    with pytest.raises(ValueError, match="layout must be one of bigrams, mono to read patches back; got 'continuous'"):
        PatchReader(TextRenderer(), layout="continuous")
    with pytest.raises(ValueError, match=r"pixels must be a \(16, W\)"):
        PatchReader(TextRenderer(layout="mono")).read(np.zeros((8, 32), np.uint8))


def test_character_accuracy_by_hand():
    assert edit_distance("kitten", "sitting") == 3  # two substitutions and one insertion
    assert edit_distance("", "abc") == 3 and edit_distance("abc", "abc") == 0
    assert character_accuracy("sitten", "sitting") == pytest.approx(1 - 2 / 7)
    assert character_accuracy("completely different", "abc") == 0.0  # floored at zero
    assert character_accuracy("", "") == 1.0


def pixlm(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "pixlm.cli", *args], capture_output=True, text=True, cwd=cwd)


def test_commands_tokenizer_generate_and_read(corpus, tmp_path):
    res = pixlm("tokenizer", "train", "--corpus", corpus, "--output-dir", str(tmp_path / "tok"), "--vocab-size", "400")
    assert res.returncode == 0 and "BPE tokenizer with 400 tokens" in res.stdout
    pretrain(gpt_config(corpus, tmp_path / "gpt", max_steps=2, eval_steps=2, save_steps=2,
                        renderer_overrides={"max_patches": 64, "layout": "mono"}))
    res = pixlm("generate", "Pixels and", "--model", str(tmp_path / "gpt"), "--patches", "5", "-o", str(tmp_path / "g.png"))
    assert res.returncode == 0, res.stderr
    assert "5 patches generated" in res.stdout and "read back:" in res.stdout
    from PIL import Image

    with Image.open(tmp_path / "g.png") as image:
        assert image.width > 16 * 5
    res = pixlm("read", "--text", "Read me back, please.", "--layout", "mono")
    assert res.returncode == 0 and res.stdout.splitlines() == ["Read me back, please.", "character accuracy: 100.0%"]
    res = pixlm("generate", "x", "--model", str(tmp_path / "nothing"))
    assert res.returncode == 2 and "model folder" in res.stderr and "does not exist" in res.stderr
    res = pixlm("read")
    assert res.returncode == 2 and "give either an IMAGE to read or --text" in res.stderr
    # A strip rendered at twice the size reads back too.
    png = tmp_path / "strip.png"
    assert pixlm("render", "Read me", "--layout", "mono", "--scale", "2", "-o", str(png)).returncode == 0
    res = pixlm("read", str(png), "--layout", "mono")
    assert res.returncode == 0 and res.stdout.strip() == "Read me", res.stdout + res.stderr
