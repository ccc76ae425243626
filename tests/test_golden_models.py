"""Published checkpoints compute in pixlm what their official code computes (../shared/golden:
tiny PIXEL and PixelGPT checkpoints in the official layouts, with the outputs the official code
gave for recorded inputs)."""

import shutil

import numpy as np
import pytest
import torch

from golden import golden_dir

ROOT = golden_dir()
pytestmark = pytest.mark.skipif(ROOT is None, reason="golden reference data not found: set PIXLM_GOLDEN or place it at ../shared/golden")
TOL = dict(rtol=1e-5, atol=1e-5)


@pytest.fixture(scope="module")
def pixel_io():
    return np.load(ROOT / "pixel-model" / "golden_io.npz")


def _pixels(strips: np.ndarray) -> torch.Tensor:
    """As PIXEL's scripts feed a strip: gray / 255, copied to three channels."""
    return torch.from_numpy(strips).float().div(255).unsqueeze(1).repeat(1, 3, 1, 1)


def _close(ours, theirs, what: str):
    torch.testing.assert_close(torch.as_tensor(ours).float(), torch.from_numpy(np.asarray(theirs)).float(), **TOL,
                               msg=lambda m: f"{what}: {m}")


def _folder(name: str, weights: str, tmp_path) -> str:
    """The official folder holding only one of its weight files."""
    target = tmp_path / f"{name}-{weights}"
    shutil.copytree(ROOT / "pixel-model" / name, target)
    (target / ("pytorch_model.bin" if weights == "safetensors" else "model.safetensors")).unlink()
    return str(target)


@pytest.mark.parametrize("weights", ["safetensors", "bin"])
def test_pixel_pretraining_with_span_and_random_masks(pixel_io, weights, tmp_path):
    from pixlm.models.pixel import PixelForPreTraining

    z = pixel_io
    model = PixelForPreTraining.from_pretrained(_folder("pretrain", weights, tmp_path)).eval()
    x, mask = _pixels(z["pretrain.input.strips_uint8"]), torch.from_numpy(z["pretrain.input.attention_mask"])
    span = torch.from_numpy(z["pretrain.input.patch_mask"])
    with torch.no_grad():
        # PIXEL's span masking: noise = patch_mask + rand / 100 with the recorded rand.
        out = model(x, mask, patch_mask=span, noise=torch.from_numpy(z["pretrain.span.noise_rand"]) / 100)
        enc = model.vit(x, mask, patch_mask=span, noise=torch.from_numpy(z["pretrain.span.noise_rand"]) / 100)
    for name, ours in [("loss", out.loss), ("logits", out.logits), ("mask", out.mask), ("ids_restore", out.ids_restore),
                       ("encoder_last_hidden_state", enc.last_hidden_state)]:
        _close(ours, z[f"pretrain.span.{name}"], f"span {name}")
    with torch.no_grad():  # random masking: the recorded rand, the largest text patch's noise set to 100
        out = model(x, mask, noise=torch.from_numpy(z["pretrain.random.noise_rand"]))
        enc = model.vit(x, mask, noise=torch.from_numpy(z["pretrain.random.noise_rand"]), mask_ratio=0.25)
    for name, ours in [("loss", out.loss), ("logits_first64", out.logits[:, :64]), ("mask", out.mask),
                       ("ids_restore", out.ids_restore), ("encoder_last_hidden_state", enc.last_hidden_state)]:
        _close(ours, z[f"pretrain.random.{name}"], f"random {name}")


def _head_outputs(name: str, folder: str, z) -> dict:
    from pixlm.models import pixel

    x, mask = _pixels(z["heads.input.strips_uint8"]), torch.from_numpy(z["heads.input.attention_mask"])
    cls = {"seqcls_mean": pixel.PixelForSequenceClassification, "seqcls_cls": pixel.PixelForSequenceClassification,
           "tokcls": pixel.PixelForTokenClassification, "qa": pixel.PixelForQuestionAnswering,
           "parsing": pixel.PixelForBiaffineParsing}[name]
    # PIXEL's pooling is a loading argument (its scripts' --pooling_mode), not in config.json.
    model = cls.from_pretrained(folder, **({"pooling": "cls"} if name == "seqcls_cls" else {})).eval()
    with torch.no_grad():
        if name.startswith("seqcls"):
            out = model(x, mask, labels=torch.from_numpy(z["heads.input.sequence_labels"]))
            got = {"logits": out.logits, "loss": out.loss, "predictions": out.logits.argmax(-1)}
            if name == "seqcls_cls":
                got["vit_pooler_output"] = model.vit(x, mask).pooler_output
        elif name == "tokcls":
            out = model(x, mask, labels=torch.from_numpy(z["heads.input.token_labels"]))
            got = {"logits": out.logits, "loss": out.loss, "predictions": out.logits.argmax(-1)}
        elif name == "qa":
            out = model(x, mask, start_positions=torch.from_numpy(z["heads.input.start_positions"]),
                        end_positions=torch.from_numpy(z["heads.input.end_positions"]))
            got = {"start_logits": out.start_logits, "end_logits": out.end_logits, "loss": out.loss,
                   "predicted_start": out.start_logits.argmax(-1), "predicted_end": out.end_logits.argmax(-1)}
        else:
            rows = torch.from_numpy(z["parsing.input.strip_rows"])
            x, mask = x[rows], mask[rows]
            out = model(x, mask, word_starts=torch.from_numpy(z["parsing.input.word_starts"]),
                        arc_labels=torch.from_numpy(z["parsing.input.arc_labels"]),
                        rel_labels=torch.from_numpy(z["parsing.input.rel_labels"]))
            got = {"arc_logits": out.arc_logits, "rel_logits_first32": out.rel_logits[:, :32, :33], "loss": out.loss,
                   "arc_predictions": out.arc_logits.argmax(-1), "vit_pooler_output": model.vit(x, mask).pooler_output}
            assert list(out.rel_logits.shape) == z["parsing.rel_logits_shape"].tolist()
        got["encoder_last_hidden_state"] = model.vit(x, mask).last_hidden_state
    return got, model


@pytest.mark.parametrize("weights", ["safetensors", "bin"])
@pytest.mark.parametrize("name", ["seqcls_mean", "seqcls_cls", "tokcls", "qa", "parsing"])
def test_pixel_finetuned_heads(pixel_io, name, weights, tmp_path):
    got, model = _head_outputs(name, _folder(name, weights, tmp_path), pixel_io)
    for key, ours in got.items():
        _close(ours, pixel_io[f"{name}.{key}"], f"{name} {key}")
    # Saved by pixlm and loaded again (its own names and config), the same outputs.
    model.save_pretrained(tmp_path / "resaved")
    again, _ = _head_outputs(name, str(tmp_path / "resaved"), pixel_io)
    for key in got:
        torch.testing.assert_close(again[key], got[key])


def test_published_checkpoints_load_every_weight_and_never_unpickle_code(tmp_path, monkeypatch):
    from pixlm.models import pixel

    loaded = []
    real_load = torch.load

    def checked_load(*args, **kwargs):
        assert kwargs.get("weights_only", False), "a checkpoint must be read with weights_only=True"
        loaded.append(args[0])
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", checked_load)
    for name, cls in [("pretrain", pixel.PixelForPreTraining), ("tokcls", pixel.PixelForTokenClassification),
                      ("seqcls_mean", pixel.PixelForSequenceClassification), ("parsing", pixel.PixelForBiaffineParsing),
                      ("qa", pixel.PixelForQuestionAnswering)]:
        model, info = cls.from_pretrained(_folder(name, "bin", tmp_path), output_loading_info=True)
        assert not info["missing_keys"], (name, info["missing_keys"])
        assert not info["mismatched_keys"], (name, info["mismatched_keys"])
    assert loaded, "the .bin files were read"


@pytest.fixture(scope="module")
def gpt_io():
    return np.load(ROOT / "pixelgpt-model" / "golden_io.npz")


@pytest.mark.parametrize("loader", ["class", "auto"])
def test_pixelgpt_causal_lm_pixels_text_and_greedy_generation(gpt_io, loader, tmp_path):
    from transformers import AutoModelForCausalLM

    from pixlm.models.pixelgpt import PixelGPTForCausalLM

    z = gpt_io
    folder = ROOT / "pixelgpt-model" / "causal_lm"
    model = (PixelGPTForCausalLM if loader == "class" else AutoModelForCausalLM).from_pretrained(folder).eval()
    assert isinstance(model, PixelGPTForCausalLM)
    x, mask = _pixels(z["input.strips_uint8"]), torch.from_numpy(z["input.patch_attention_mask"])
    ids, text_mask, labels = (torch.from_numpy(z[k]) for k in ("input.input_ids", "input.text_attention_mask", "input.labels"))
    with torch.no_grad():
        pixels = model(pixel_values=x, attention_mask=mask)  # called as the released model is
        hidden = model.model(pixel_values=x, attention_mask=mask).last_hidden_state
        text = model(input_ids=ids, attention_mask=text_mask, labels=labels)
    _close(pixels.pixel_logits, z["pixel.logits_pixel"], "pixel logits")
    _close(pixels.loss, z["pixel.loss"], "pixel loss")
    _close(hidden, z["pixel.last_hidden_state"], "last hidden state")
    _close(text.logits, z["text.logits_token"], "token logits")
    _close(text.loss, z["text.loss"], "text loss")
    out = model.generate(torch.from_numpy(z["generate.prompt_ids"]), max_new_tokens=10, do_sample=False, pad_token_id=0)
    assert out.tolist() == z["generate.output_ids"].tolist(), "greedy continuation, token for token"
    # Saved by pixlm and loaded again: the same outputs.
    model.save_pretrained(tmp_path / "resaved")
    again = PixelGPTForCausalLM.from_pretrained(tmp_path / "resaved").eval()
    with torch.no_grad():
        torch.testing.assert_close(again(pixel_values=x, attention_mask=mask).pixel_logits, pixels.pixel_logits)


def test_pixelgpt_classifier_on_pixels_and_on_text(gpt_io):
    from transformers import AutoModelForSequenceClassification

    from pixlm.models.pixelgpt import PixelGPTForSequenceClassification

    z = gpt_io
    folder = ROOT / "pixelgpt-model" / "seqcls"
    for model in (PixelGPTForSequenceClassification.from_pretrained(folder),
                  AutoModelForSequenceClassification.from_pretrained(folder)):
        model.eval()
        x, mask = _pixels(z["input.strips_uint8"]), torch.from_numpy(z["input.patch_attention_mask"])
        with torch.no_grad():
            pixels = model(pixel_values=x, attention_mask=mask, labels=torch.from_numpy(z["seqcls.input.labels"]))
            text = model(input_ids=torch.from_numpy(z["input.input_ids"]), attention_mask=torch.from_numpy(z["input.text_attention_mask"]))
        _close(pixels.logits, z["seqcls.pixel.logits"], "pixel logits")
        _close(pixels.loss, z["seqcls.pixel.loss"], "pixel loss")
        _close(text.logits, z["seqcls.text.logits"], "text logits")


def test_the_350m_preset_is_the_released_configuration():
    from pixlm.models.pixelgpt import PixelGPTConfig

    released = PixelGPTConfig.from_pretrained(ROOT / "pixelgpt-model" / "causal_lm")
    big = PixelGPTConfig.from_preset("350m")
    # The tiny golden model shares the released layout; the preset adds the released sizes.
    for key in ("rms_norm_eps", "rope_theta", "patch_size", "num_channels", "max_patches", "max_position_embeddings",
                "pad_token_id", "bos_token_id", "eos_token_id"):
        assert getattr(big, key) == getattr(released, key), key
    assert (big.hidden_size, big.num_hidden_layers, big.num_attention_heads, big.num_key_value_heads,
            big.intermediate_size) == (1024, 24, 16, 8, 2816)


def test_pixlm_generate_continues_a_released_checkpoint_token_for_token(gpt_io, capsys):
    from pixlm.cli import main

    prompt = ",".join(map(str, gpt_io["generate.prompt_ids"][0].tolist()))
    folder = ROOT / "pixelgpt-model" / "causal_lm"
    assert main(["generate", "--model", str(folder), "--token-ids", prompt, "--max-new-tokens", "10"]) == 0
    printed = capsys.readouterr().out.strip().splitlines()[-1]
    assert printed == ",".join(map(str, gpt_io["generate.output_ids"][0].tolist()))


def _char_tokenizer(folder) -> str:
    """A character-level tokenizer within the tiny golden model's 100 ids (pad 0, bos 1, eos 2)."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    chars = sorted(set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ .,!?'"))
    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, **{c: i + 4 for i, c in enumerate(chars)}}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", bos_token="<s>", eos_token="</s>",
                            unk_token="<unk>").save_pretrained(folder)
    return str(folder)


@pytest.mark.parametrize("modality", ["pixels", "text", "pair"])
def test_pixlm_finetune_trains_a_released_pixelgpt_in_each_modality(modality, tmp_path):
    import json

    from transformers import AutoConfig

    from pixlm.cli import main
    from pixlm.training.finetuning import evaluate

    data = tmp_path / "train.jsonl"
    texts = ["A fine film.", "Dull and slow.", "Great fun!", "Not good.", "I loved it.", "Awful, really."] * 2
    data.write_text("".join(json.dumps({"text": t, "label": "pos" if k % 2 == 0 else "neg"}) + "\n"
                            for k, t in enumerate(texts)))
    out = tmp_path / "run"
    args = ["finetune", "--task", "classify", "--model", str(ROOT / "pixelgpt-model" / "causal_lm"), "--train", str(data),
            "--validation", str(data), "--output-dir", str(out), "--modality", modality, "--steps", "2",
            "--eval-steps", "1", "--batch-size", "4", "--max-patches", "48",
            "--renderer", str(ROOT / "pixel-render" / "renderer")]
    if modality != "pixels":
        args += ["--tokenizer", _char_tokenizer(tmp_path / "tokenizer")]
    assert main(args) == 0
    saved = AutoConfig.from_pretrained(out)
    assert saved.model_type == "ernie-pixel" and saved.modality == modality and saved.num_labels == 2
    assert json.loads((out / "all_results.json").read_text())["validation"]["accuracy"] >= 0.0
    card = (out / "README.md").read_text()
    assert "library_name: pixlm" in card and "pixlm finetune --task classify" in card and "| validation accuracy |" in card
    # Evaluated later from the folder alone, fed the same way.
    if modality != "pixels":
        assert (out / "tokenizer.json").is_file()
    scores = evaluate(str(out), "classify", str(data))
    assert scores["examples"] == len(texts) and 0.0 <= scores["accuracy"] <= 1.0


def test_pixlm_evaluate_scores_a_published_pixel_tagger(tmp_path, capsys):
    """The sanity check of PIXEL's README, run on the tiny official tagger: `pixlm evaluate`
    takes a published folder (PIXELForTokenClassification, model_type vit) as it is."""
    import json

    from pixlm.cli import main

    folder = ROOT / "pixel-model" / "tokcls"
    labels = json.loads((folder / "config.json").read_text())["id2label"]
    tags = [labels[k] for k in sorted(labels, key=int)]
    sentences = [["Words", "to", "tag", "here"], ["A", "second", "sentence"]]
    rows = []
    for n, words in enumerate(sentences):
        rows.append(f"# text = {' '.join(words)}")
        rows += [f"{i + 1}\t{w}\t_\t{tags[(i + n) % len(tags)]}\t_\t_\t{0 if i == 0 else 1}\t{'root' if i == 0 else 'dep'}\t_\t_"
                 for i, w in enumerate(words)]
        rows.append("")
    data = tmp_path / "dev.conllu"
    data.write_text("\n".join(rows) + "\n")
    assert main(["evaluate", "--model", str(folder), "--task", "pos", "--data", str(data), "--max-patches", "64",
                 "--output", str(tmp_path / "scores.json")]) == 0
    scores = json.loads((tmp_path / "scores.json").read_text())[0]
    assert scores["examples"] == 2 and 0.0 <= scores["accuracy"] <= 1.0
    # Several attacks or severities: one table and nothing else.
    capsys.readouterr()
    assert main(["evaluate", "--model", str(folder), "--task", "pos", "--data", str(data), "--max-patches", "64",
                 "--attack", "inner-swap", "--severity", "0.2", "0.5"]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    assert printed[0].startswith("| attack | severity |") and len(printed) == 5, printed
