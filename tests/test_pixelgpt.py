"""PixelGPT: the decoder against transformers' Llama, the losses on hand-made logits, the cache."""

import pytest
import torch
from transformers import LlamaModel

from pixlm.models.pixel import patchify
from pixlm.models.pixelgpt import PixelGPTConfig, PixelGPTForCausalLM


def tiny(**kw):
    torch.manual_seed(0)
    return PixelGPTForCausalLM(PixelGPTConfig.from_preset("tiny", vocab_size=50, num_channels=1, num_hidden_layers=2, **kw)).eval()


def test_decoder_matches_llama_with_the_same_weights_and_inputs_embeds():
    model = tiny()
    ref = LlamaModel(model.config.llama_config()).eval()
    ref.load_state_dict(model.model.state_dict())
    px = torch.rand(2, 1, 16, 12 * 16)
    mask = torch.ones(2, 12)
    mask[1, 9:] = 0  # padding after the second text's end patch
    with torch.no_grad():
        ours = model(pixel_values=px, patch_attention_mask=mask, compute_loss=False).hidden_states
        theirs = ref(inputs_embeds=model.embed_patches(px), attention_mask=mask).last_hidden_state
    torch.testing.assert_close(ours[0], theirs[0])
    torch.testing.assert_close(ours[1, :9], theirs[1, :9])


def test_next_patch_loss_is_zero_for_the_true_next_patch_and_ignores_padding():
    model = tiny()
    px = torch.rand(1, 1, 16, 5 * 16)
    mask = torch.tensor([[1.0, 1, 1, 0, 0]])  # 2 text patches + end patch, then padding
    target = patchify(px, 16)
    target = (target - target.mean(-1, keepdim=True)) / (target.var(-1, keepdim=True) + 1e-6) ** 0.5
    logits = torch.full((1, 5, 256), 7.0)
    logits[:, :2] = target[:, 1:3]  # positions 0 and 1 predict patches 1 and 2 exactly
    assert model.next_patch_loss(logits, px, mask).item() == pytest.approx(0.0, abs=1e-6)
    logits[:, 1] += 1.0  # now one of the two counted predictions is off by 1 per pixel
    assert model.next_patch_loss(logits, px, mask).item() == pytest.approx(0.5, abs=1e-5)


def test_next_token_loss_alignment_in_text_and_paired_batches():
    ids = torch.tensor([[3, 1, 4, 1]])
    mask = torch.ones_like(ids)
    big = 50.0
    # Text batch: position t predicts token t+1.
    text_logits = torch.zeros(1, 4, 10)
    for t in range(3):
        text_logits[0, t, ids[0, t + 1]] = big
    assert PixelGPTForCausalLM.next_token_loss(text_logits, ids, mask, from_patches=False).item() < 1e-6
    # Paired batch: the logits start at the last patch, which predicts the first token.
    paired_logits = torch.zeros(1, 5, 10)
    for t in range(4):
        paired_logits[0, t, ids[0, t]] = big
    assert PixelGPTForCausalLM.next_token_loss(paired_logits, ids, mask, from_patches=True).item() < 1e-6
    shifted = torch.zeros(1, 5, 10)  # one position late, as if the last patch predicted nothing
    for t in range(4):
        shifted[0, t + 1, ids[0, t]] = big
    assert PixelGPTForCausalLM.next_token_loss(shifted, ids, mask, from_patches=True).item() > 10


def test_decoding_is_causal_and_the_cache_matches_a_full_pass():
    model = tiny()
    px = torch.rand(1, 1, 16, 8 * 16)
    changed = px.clone()
    changed[..., 6 * 16 :] = 0.0  # change the last two patches
    with torch.no_grad():
        a = model(pixel_values=px, compute_loss=False).hidden_states
        b = model(pixel_values=changed, compute_loss=False).hidden_states
        torch.testing.assert_close(a[:, :6], b[:, :6])
        first = model(pixel_values=px[..., : 7 * 16], use_cache=True, compute_loss=False)
        step = model(pixel_values=px[..., 7 * 16 :], past_key_values=first.past_key_values,
                     patch_attention_mask=torch.ones(1, 8), use_cache=True, compute_loss=False)
    torch.testing.assert_close(step.hidden_states[:, -1], a[:, -1], rtol=1e-4, atol=1e-5)


def test_paired_batch_has_both_losses_and_weights(tmp_path):
    model = tiny(pixel_loss_weight=2.0)
    px, ids = torch.rand(2, 1, 16, 6 * 16), torch.randint(0, 50, (2, 5))
    out = model(pixel_values=px, input_ids=ids)
    assert out.pixel_logits.shape == (2, 6, 256) and out.logits.shape == (2, 6, 50)
    assert out.loss.item() == pytest.approx(2.0 * out.pixel_loss.item() + out.text_loss.item(), rel=1e-5)
    model.save_pretrained(tmp_path)
    again = PixelGPTForCausalLM.from_pretrained(tmp_path).eval()
    with torch.no_grad():
        assert torch.allclose(again(pixel_values=px, input_ids=ids).loss, model(pixel_values=px, input_ids=ids).loss)


def test_bad_inputs_are_named():
    model = tiny()
    with pytest.raises(ValueError, match="give pixel_values"):
        model()
    with pytest.raises(ValueError, match="3 channels but the model expects 1"):
        model(pixel_values=torch.rand(1, 3, 16, 32))
    with pytest.raises(ValueError, match="must divide by num_attention_heads"):
        PixelGPTConfig(hidden_size=100, num_attention_heads=3)
    with pytest.raises(ValueError, match="unknown PixelGPT preset 'huge'"):
        PixelGPTConfig.from_preset("huge")
