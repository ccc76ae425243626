"""PIXEL against transformers' ViT-MAE, dynamic length, checkpoints."""

import json
import shutil

import pytest
import torch
from transformers import ViTMAEConfig, ViTMAEForPreTraining, ViTMAEModel

from pixlm.models.pixel import (
    PixelConfig,
    PixelForPreTraining,
    PixelModel,
    local_attention_bias,
    mask_patches,
    patchify,
    sincos_position_table,
    unpatchify,
)

NO_DROPOUT = dict(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)


def tiny(**kw):
    return PixelConfig.from_preset("tiny", num_hidden_layers=2, **{**NO_DROPOUT, **kw})


def vitmae_config(cfg: PixelConfig) -> ViTMAEConfig:
    side = int(cfg.max_patches ** 0.5)
    return ViTMAEConfig(
        hidden_size=cfg.hidden_size, num_hidden_layers=cfg.num_hidden_layers, num_attention_heads=cfg.num_attention_heads,
        intermediate_size=cfg.intermediate_size, image_size=side * cfg.patch_size, patch_size=cfg.patch_size,
        num_channels=cfg.num_channels, qkv_bias=True, decoder_hidden_size=cfg.decoder_hidden_size,
        decoder_num_hidden_layers=cfg.decoder_num_hidden_layers, decoder_num_attention_heads=cfg.decoder_num_attention_heads,
        decoder_intermediate_size=cfg.decoder_intermediate_size, mask_ratio=cfg.mask_ratio, norm_pix_loss=True,
        layer_norm_eps=cfg.layer_norm_eps, **NO_DROPOUT,
    )


def strip_to_square(strip: torch.Tensor, side: int) -> torch.Tensor:
    """The strip's patches laid out as a side x side image, patch k at row k // side, column k % side:
    the grid PIXEL's 2D positions describe."""
    b, c, p, _ = strip.shape
    return strip.reshape(b, c, p, side, side, p).permute(0, 1, 3, 2, 4, 5).reshape(b, c, side * p, side * p)


def test_pretraining_matches_vitmae_with_the_same_weights_and_noise():
    torch.manual_seed(0)
    cfg = tiny(decoder_layer_norm_eps=1e-12)  # ViT-MAE's decoder norm takes layer_norm_eps; PIXEL's 1e-5
    ours = PixelForPreTraining(cfg).eval()
    ref = ViTMAEForPreTraining(vitmae_config(cfg)).eval()
    ours.load_state_dict(ref.state_dict(), strict=True)
    strip = torch.rand(2, 3, 16, 529 * 16)
    noise = torch.rand(2, 529)
    with torch.no_grad():
        a, b = ours(strip, noise=noise), ref(strip_to_square(strip, 23), noise=noise)
    assert torch.equal(a.mask, b.mask)
    torch.testing.assert_close(a.logits, b.logits, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(a.loss, b.loss, rtol=1e-5, atol=1e-6)


def test_raw_and_binary_pixel_targets():
    """Raw targets are ViT-MAE's with norm_pix_loss off; binary ones (PIXAR's) are the binary
    cross-entropy of each hidden pixel's ink, worked out here from the logits."""
    torch.manual_seed(0)
    strip, noise = torch.rand(2, 3, 16, 529 * 16), torch.rand(2, 529)
    cfg = tiny(decoder_layer_norm_eps=1e-12, norm_pix_loss=False)
    assert cfg.pixel_target == "raw"
    ours = PixelForPreTraining(cfg).eval()
    ref = ViTMAEForPreTraining(ViTMAEConfig(**{**vitmae_config(cfg).to_dict(), "norm_pix_loss": False})).eval()
    ours.load_state_dict(ref.state_dict(), strict=True)
    with torch.no_grad():
        torch.testing.assert_close(ours(strip, noise=noise).loss, ref(strip_to_square(strip, 23), noise=noise).loss,
                                   rtol=1e-5, atol=1e-6)
    binary = PixelForPreTraining(tiny(binary_pix_loss=True)).eval()
    assert binary.config.pixel_target == "binary" and PixelConfig.from_dict(binary.config.to_dict()).binary_pix_loss
    with torch.no_grad():
        out = binary(strip, noise=noise)
    ink, p = (patchify(strip, 16) < 0.5).float(), torch.sigmoid(out.logits)
    by_hand = -(ink * p.log() + (1 - ink) * (1 - p).log()).mean(-1)
    torch.testing.assert_close(out.loss, (by_hand * out.mask).sum() / out.mask.sum(), rtol=1e-5, atol=1e-6)
    # Reconstructions are as dark as the predicted probability of ink.
    torch.testing.assert_close(binary.reconstruct(out.logits, strip), unpatchify(1 - p, 16, 3))
    with pytest.raises(ValueError, match="binary_pix_loss must be true or false, got 'yes'"):
        tiny(binary_pix_loss="yes")
    # PixelGPT's name for the choice sets the same fields, and is not saved twice.
    named = tiny(pixel_target="binary")
    assert (named.binary_pix_loss, named.norm_pix_loss) == (True, False) and "pixel_target" not in named.to_dict()
    assert tiny(pixel_target="raw").pixel_target == "raw" and tiny(norm_pix_loss=False, pixel_target="normalized").norm_pix_loss
    with pytest.raises(ValueError, match="pixel_target must be one of normalized, raw, binary; got 'ink'"):
        tiny(pixel_target="ink")


def test_encoder_matches_vitmae_model():
    torch.manual_seed(1)
    cfg = tiny()
    ours = PixelModel(cfg).eval()
    ref = ViTMAEModel(vitmae_config(cfg)).eval()
    ours.load_state_dict(ref.state_dict(), strict=True)
    strip = torch.rand(2, 3, 16, 529 * 16)
    noise = torch.rand(2, 529)
    with torch.no_grad():
        a = ours(strip, noise=noise, mask_ratio=cfg.mask_ratio)
        b = ref(strip_to_square(strip, 23), noise=noise)
    torch.testing.assert_close(a.last_hidden_state, b.last_hidden_state, rtol=1e-5, atol=1e-5)


def test_position_table_is_vitmaes():
    from transformers.models.vit_mae.modeling_vit_mae import build_2d_sinusoidal_position_embedding

    ref = build_2d_sinusoidal_position_embedding(23, 23, 64, cls_token=True)
    ref = torch.cat([ref[..., 32:], ref[..., :32]], dim=-1)  # ViT-MAE's (column, row) layout
    assert torch.equal(sincos_position_table(529, 64), ref.float())
    # 1d, dim 8: frequencies 1/10000^(i/4) = 1, 0.1, 0.01, 0.001; row 3 is position 2 (row 0 is CLS).
    omega = torch.tensor([1.0, 0.1, 0.01, 0.001])
    expected = torch.cat([torch.sin(2 * omega), torch.cos(2 * omega)])
    torch.testing.assert_close(sincos_position_table(10, 8, "1d")[3], expected, rtol=0, atol=1e-6)


def test_patchify_round_trip_and_layout():
    x = torch.rand(2, 3, 16, 5 * 16)
    patches = patchify(x, 16)
    assert patches.shape == (2, 5, 768)
    assert torch.equal(unpatchify(patches, 16, 3), x)
    # Patch 2, pixel (row 1, column 3), channel 2 sits at ((1 * 16) + 3) * 3 + 2.
    assert patches[0, 2, (16 + 3) * 3 + 2] == x[0, 2, 1, 2 * 16 + 3]


def _batch(lengths, total):
    torch.manual_seed(2)
    px = torch.ones(len(lengths), 3, 16, total * 16)
    mask = torch.zeros(len(lengths), total)
    for i, n in enumerate(lengths):
        px[i, :, :, : n * 16] = torch.rand(3, 16, n * 16)
        mask[i, :n] = 1
    return px, mask


def test_dynamic_length_encoder_outputs_equal_the_full_length_run():
    model = PixelModel(tiny()).eval()
    px, mask = _batch([7, 12], 529)
    with torch.no_grad():
        full = model(px, attention_mask=mask).last_hidden_state
        cut = model(px[..., : 12 * 16], attention_mask=mask[:, :12]).last_hidden_state
    for i, n in enumerate([7, 12]):
        torch.testing.assert_close(cut[i, : n + 1], full[i, : n + 1], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("bias", ["none", "local"])
def test_dynamic_length_pretraining_loss_equals_the_full_length_run(bias):
    model = PixelForPreTraining(tiny(decoder_position_bias=bias)).eval()
    lengths, cut_len = [7, 12], 12
    px, mask = _batch(lengths, 529)
    # Hide the same text patches in both runs: in the cut batch the hidden count (3 of 12) is
    # exactly the chosen text patches (noise 3); the full run hides them and then padding (noise 2).
    hide = [[1, 4, 6], [0, 5, 11]]
    noise_full = torch.rand(2, 529) * 0.5
    noise_full[:, cut_len:] = 2.0
    for i, h in enumerate(hide):
        noise_full[i, h] = 3.0
        noise_full[i, lengths[i]:cut_len] = 2.5  # padding inside the cut batch, hidden in both
    noise_cut = noise_full[:, :cut_len]
    with torch.no_grad():
        full = model(px, attention_mask=mask, noise=noise_full)
        cut = model(px[..., : cut_len * 16], attention_mask=mask[:, :cut_len], noise=noise_cut)
    assert torch.equal(full.mask[:, :cut_len] * mask[:, :cut_len], cut.mask * mask[:, :cut_len])
    torch.testing.assert_close(cut.loss, full.loss, rtol=1e-5, atol=1e-6)
    for i, n in enumerate(lengths):
        torch.testing.assert_close(cut.logits[i, :n], full.logits[i, :n], rtol=1e-4, atol=1e-5)


def test_local_decoder_bias_by_hand_and_in_the_decoder():
    """ALiBi's penalty on both sides, slopes 1/2 and 1/4 for two heads, and a decoder with it
    attends as softmax(q k / sqrt(d) + bias) does; the encoder is left as PIXEL's."""
    bias = local_attention_bias(3, 2)
    assert torch.equal(bias, torch.tensor([[[[0.0, -0.5, -1.0], [-0.5, 0.0, -0.5], [-1.0, -0.5, 0.0]],
                                            [[0.0, -0.25, -0.5], [-0.25, 0.0, -0.25], [-0.5, -0.25, 0.0]]]]))
    torch.manual_seed(0)
    plain = PixelForPreTraining(tiny()).eval()
    local = PixelForPreTraining(tiny(decoder_position_bias="local")).eval()
    local.load_state_dict(plain.state_dict())
    px, noise = torch.rand(2, 3, 16, 20 * 16), torch.rand(2, 20)
    with torch.no_grad():
        a, b = plain(px, noise=noise), local(px, noise=noise)
        encoder = plain.vit(px, noise=noise, mask_ratio=0.25)
        x = local.decoder.decoder_embed(encoder.last_hidden_state)
        tokens = torch.cat([x[:, 1:], local.decoder.mask_token.expand(2, 21 - x.shape[1], -1)], dim=1)
        x = torch.cat([x[:, :1], torch.gather(tokens, 1, encoder.ids_restore.unsqueeze(-1).expand(-1, -1, x.shape[2]))], dim=1)
        x = x + local.decoder.decoder_pos_embed[:, :21]
        heads = local.config.decoder_num_attention_heads
        for layer in local.decoder.decoder_layers:
            att, h = layer.attention, layer.layernorm_before(x)
            q, k, v = (proj(h).view(2, 21, heads, -1).transpose(1, 2) for proj in (att.q_proj, att.k_proj, att.v_proj))
            weights = torch.softmax(q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5 + local_attention_bias(21, heads), dim=-1)
            x = x + att.o_proj((weights @ v).transpose(1, 2).reshape(2, 21, -1))
            x = x + layer.mlp(layer.layernorm_after(x))
        by_hand = local.decoder.decoder_pred(local.decoder.decoder_norm(x))[:, 1:]
    assert torch.equal(a.mask, b.mask)
    torch.testing.assert_close(b.logits, by_hand, rtol=1e-4, atol=1e-5)
    assert not torch.allclose(a.logits, b.logits, atol=1e-3)
    with pytest.raises(ValueError, match="decoder_position_bias must be one of none, local, got 'alibi'"):
        tiny(decoder_position_bias="alibi")


def test_masking_tops_a_span_mask_up_to_exactly_the_ratio():
    seq = torch.rand(3, 10, 4)
    patch_mask = torch.zeros(3, 10)
    patch_mask[:, [2, 3]] = 1
    kept, kept_attention, mask, restore = mask_patches(seq, torch.ones(3, 10), 0.25, patch_mask=patch_mask)
    # 10 patches at 0.25: int(10 * 0.75) = 7 kept, 3 hidden: the 2 given and 1 random.
    assert kept.shape == (3, 7, 4) and (mask.sum(1) == 3).all()
    assert (mask[:, [2, 3]] == 1).all()
    for i in range(3):  # the kept rows are the unmasked patches (in the order of their noise)
        visible = seq[i][mask[i] == 0]
        assert torch.equal(kept[i][kept[i][:, 0].argsort()], visible[visible[:, 0].argsort()])


def test_random_masking_always_hides_a_text_patch():
    torch.manual_seed(3)
    attention = torch.zeros(64, 40)
    attention[:, :2] = 1  # two text patches among padding
    _, _, mask, _ = mask_patches(torch.rand(64, 40, 4), attention, 0.25)
    assert ((mask * attention).sum(1) >= 1).all()


def test_save_and_load_safetensors(tmp_path):
    model = PixelForPreTraining(tiny()).eval()
    model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").exists()
    loaded = PixelForPreTraining.from_pretrained(tmp_path).eval()
    px, mask = _batch([5], 8)
    noise = torch.rand(1, 8)
    with torch.no_grad():
        assert torch.equal(model(px, mask, noise=noise).logits, loaded(px, mask, noise=noise).logits)


def _legacy_name(key: str) -> str:
    """Our parameter name as the published PIXEL checkpoints spell it."""
    key = key.replace(".layers.", ".encoder.layer.")
    for ours, old in [("attention.q_proj", "attention.attention.query"), ("attention.k_proj", "attention.attention.key"),
                      ("attention.v_proj", "attention.attention.value"), ("attention.o_proj", "attention.output.dense"),
                      ("mlp.fc1", "intermediate.dense"), ("mlp.fc2", "output.dense")]:
        key = key.replace(ours, old)
    return key


@pytest.mark.parametrize("fmt", ["safetensors", "bin"])
def test_loads_a_checkpoint_in_the_published_pixel_layout(tmp_path, fmt):
    from safetensors.torch import save_file

    from pixlm.render import TextRenderer

    cfg = tiny(max_patches=64)
    source = PixelForPreTraining(cfg)
    state = {_legacy_name(k): v.contiguous() for k, v in source.state_dict().items()}
    assert "vit.encoder.layer.0.attention.attention.query.weight" in state
    assert "decoder.decoder_layers.0.output.dense.weight" in state
    if fmt == "safetensors":
        save_file(state, str(tmp_path / "model.safetensors"), metadata={"format": "pt"})
    else:
        torch.save(state, tmp_path / "pytorch_model.bin")
    config = {k: v for k, v in cfg.to_dict().items() if k not in ("max_patches", "position_embedding", "max_span_length", "span_weights")}
    config.update(architectures=["PIXELForPreTraining"], image_size=[16, 64 * 16], model_type="pixel")
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "text_renderer_config.json").write_text(json.dumps(
        {"dpi": 120, "font_size": 8, "pixels_per_patch": 16, "max_seq_length": 64, "font_file": "GoNotoCurrent.ttf"}))
    from pixlm.render.fonts import bundled_fonts

    shutil.copy(bundled_fonts()[0].path, tmp_path / "GoNotoCurrent.ttf")  # a published folder holds its font
    loaded = PixelForPreTraining.from_pretrained(tmp_path)
    assert loaded.config.max_patches == 64
    for k, v in source.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v), k
    # Saved again, it is in today's names, and loads back the same.
    from safetensors import safe_open

    loaded.save_pretrained(tmp_path / "resaved")
    with safe_open(str(tmp_path / "resaved" / "model.safetensors"), "pt") as f:
        assert set(f.keys()) == set(source.state_dict())
    again = PixelForPreTraining.from_pretrained(tmp_path / "resaved")
    assert all(torch.equal(again.state_dict()[k], v) for k, v in source.state_dict().items())
    assert TextRenderer.from_pretrained(tmp_path).config.max_patches == 64


def test_checkpoint_that_does_not_fit_names_the_key(tmp_path):
    PixelForPreTraining(tiny()).save_pretrained(tmp_path)
    with pytest.raises(ValueError) as e:
        PixelForPreTraining.from_pretrained(tmp_path, hidden_size=96, num_attention_heads=3, intermediate_size=384)
    # The first parameter of the model whose shape differs: the CLS token.
    assert "does not fit this model's config: first mismatching key vit.embeddings.cls_token" in str(e.value)
    assert "(1, 1, 192) in the checkpoint but (1, 1, 96)" in str(e.value)


def test_config_reads_pixel_image_size_and_rejects_bad_values():
    assert PixelConfig(image_size=[16, 8464]).max_patches == 529
    with pytest.raises(ValueError, match="position_embedding must be"):
        PixelConfig(position_embedding="3d")
    with pytest.raises(ValueError, match="unknown PIXEL preset 'huge'; presets: tiny, small, base"):
        PixelConfig.from_preset("huge")
    with pytest.raises(ValueError, match=r"must be \(batch, 1 channels, 16, patches x 16\); got shape \(1, 3, 16, 32\)"):
        PixelModel(tiny(num_channels=1))(torch.rand(1, 3, 16, 32))


@pytest.mark.parametrize("bad, message", [
    (torch.full((1, 1, 16, 32), 255.0), r"must be in \[0, 1\].*0-255 pixels are divided by 255.*PixelProcessor"),
    (torch.zeros(1, 1, 16, 32, dtype=torch.uint8), r"floats in \[0, 1\], got dtype torch.uint8.*PixelProcessor"),
    (torch.rand(1, 2048, 16, 32), r"got shape \(1, 2048, 16, 32\).*PixelProcessor"),
])
def test_pixel_models_refuse_what_is_not_a_strip(bad, message):
    from pixlm.models.pixelgpt import PixelGPTConfig, PixelGPTModel

    with pytest.raises(ValueError, match=message):
        PixelModel(tiny(num_channels=1))(bad)
    gpt = PixelGPTModel(PixelGPTConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
                                       intermediate_size=64, num_channels=1, max_patches=8))
    with pytest.raises(ValueError, match=message):
        gpt(pixel_values=bad)


def test_auto_classes_open_every_family_after_import_pixlm(tmp_path):
    """In a fresh process: `import pixlm` (light: no torch), then transformers' Auto classes."""
    import subprocess
    import sys

    from pixlm.models.pixelbert import PixelBertConfig, PixelBertModel
    from pixlm.models.pixelgpt import PixelGPTConfig, PixelGPTForCausalLM

    PixelForPreTraining(tiny()).save_pretrained(tmp_path / "pixel")
    PixelGPTForCausalLM(PixelGPTConfig.from_preset("tiny", num_hidden_layers=1)).save_pretrained(tmp_path / "gpt")
    PixelBertModel(PixelBertConfig.from_preset("tiny")).save_pretrained(tmp_path / "bert")
    script = f"""
import sys
import pixlm
assert "torch" not in sys.modules, "import pixlm must stay light"
from transformers import AutoConfig, AutoModel, AutoModelForCausalLM, AutoModelForPreTraining
print(type(AutoModelForPreTraining.from_pretrained({str(tmp_path / 'pixel')!r})).__name__)
print(type(AutoModel.from_pretrained({str(tmp_path / 'pixel')!r})).__name__)
print(type(AutoModelForCausalLM.from_pretrained({str(tmp_path / 'gpt')!r})).__name__)
print(type(AutoConfig.from_pretrained({str(tmp_path / 'bert')!r})).__name__)
print(type(AutoModel.from_pretrained({str(tmp_path / 'bert')!r})).__name__)
"""
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.split() == ["PixelForPreTraining", "PixelModel", "PixelGPTForCausalLM", "PixelBertConfig",
                                  "PixelBertModel"]


def test_a_checkpoint_of_another_family_or_no_model_is_refused_by_name(tmp_path):
    """Loading would otherwise leave every weight out and give a model with random weights."""
    from pixlm.models.pixelgpt import PixelGPTConfig, PixelGPTForCausalLM

    gpt = tmp_path / "gpt"
    PixelGPTForCausalLM(PixelGPTConfig.from_preset("tiny", num_hidden_layers=1)).save_pretrained(gpt)
    with pytest.raises(ValueError, match=r"holds a 'pixelgpt' model, but PixelForPreTraining loads PIXEL models"):
        PixelForPreTraining.from_pretrained(gpt)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="has no config.json: it is not a model folder"):
        PixelForPreTraining.from_pretrained(empty)
