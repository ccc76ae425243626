"""PixelGPT: the decoder against transformers' Llama, the losses on hand-made logits, the cache."""

import pytest
import torch
from transformers import LlamaModel

from pixlm.models.patches import patchify
from pixlm.models.pixelgpt import PixelGPTConfig, PixelGPTForCausalLM, PixelGPTForSequenceClassification


def tiny(**kw):
    torch.manual_seed(0)
    return PixelGPTForCausalLM(PixelGPTConfig.from_preset("tiny", vocab_size=50, num_channels=1, num_hidden_layers=2, **kw)).eval()


def test_decoder_matches_llama_with_the_same_weights_and_inputs_embeds():
    model = tiny()
    ref = LlamaModel(model.config.llama_config()).eval()
    ref.load_state_dict({k: v for k, v in model.model.state_dict().items() if not k.startswith("embed_patches.")})
    px = torch.rand(2, 1, 16, 12 * 16)
    mask = torch.ones(2, 12)
    mask[1, 9:] = 0  # padding after the second text's end patch
    with torch.no_grad():
        ours = model(pixel_values=px, patch_attention_mask=mask, compute_loss=False).last_hidden_state
        theirs = ref(inputs_embeds=model.model.embed_patches(px), attention_mask=mask).last_hidden_state
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
        a = model(pixel_values=px, compute_loss=False).last_hidden_state
        b = model(pixel_values=changed, compute_loss=False).last_hidden_state
        torch.testing.assert_close(a[:, :6], b[:, :6])
        first = model(pixel_values=px[..., : 7 * 16], use_cache=True, compute_loss=False)
        step = model(pixel_values=px[..., 7 * 16 :], past_key_values=first.past_key_values,
                     patch_attention_mask=torch.ones(1, 8), use_cache=True, compute_loss=False)
    torch.testing.assert_close(step.last_hidden_state[:, -1], a[:, -1], rtol=1e-4, atol=1e-5)


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
    with pytest.raises(ValueError, match=r"pixel_values must be \(batch, 1 channels, 16, patches x 16\); got shape \(1, 3, 16, 32\)"):
        model(pixel_values=torch.rand(1, 3, 16, 32))
    with pytest.raises(ValueError, match="must divide by num_attention_heads"):
        PixelGPTConfig(hidden_size=100, num_attention_heads=3)
    with pytest.raises(ValueError, match="unknown PixelGPT preset 'huge'"):
        PixelGPTConfig.from_preset("huge")
    with pytest.raises(ValueError, match="pixel_target must be one of normalized, raw, binary; got 'gray'"):
        PixelGPTConfig(pixel_target="gray")
    with pytest.raises(ValueError, match="input_ids has no tokens"):
        model(pixel_values=torch.rand(1, 1, 16, 32), input_ids=torch.zeros(1, 0, dtype=torch.long))
    with pytest.raises(ValueError, match=r"exceeds the model's max_patches \(256\)"):
        model.generate_patches(torch.rand(1, 1, 16, 250 * 16), 10)


def test_paired_padding_changes_nothing_for_the_shorter_text():
    """Tokens follow each example's own end patch: the same example alone or padded in a batch
    gets the same token logits and the same text loss."""
    model = tiny()
    ids = torch.randint(0, 50, (1, 4))
    short = torch.rand(1, 1, 16, 3 * 16)
    with torch.no_grad():
        alone = model(pixel_values=short, input_ids=ids)
        padded = torch.cat([short, torch.ones(1, 1, 16, 3 * 16)], dim=-1)
        batch = model(pixel_values=torch.cat([padded, torch.rand(1, 1, 16, 6 * 16)]),
                      patch_attention_mask=torch.tensor([[1.0, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1]]),
                      input_ids=torch.cat([ids, ids]))
    torch.testing.assert_close(batch.logits[0], alone.logits[0], rtol=1e-4, atol=1e-5)


def test_raw_and_binary_pixel_targets_by_hand():
    px = torch.zeros(1, 1, 16, 3 * 16)
    px[..., 16:32] = 1.0  # patch 1 white, patches 0 and 2 black
    mask = torch.ones(1, 3)
    raw = tiny(pixel_target="raw")
    logits = torch.zeros(1, 3, 256)
    logits[0, 0] = 0.5  # predicts patch 1 (all 1) as 0.5: squared error 0.25; patch 2 (all 0) exactly
    assert raw.next_patch_loss(logits, px, mask).item() == pytest.approx(0.125)
    binary = tiny(pixel_target="binary")
    logits = torch.zeros(1, 3, 256)
    logits[0, 0] = -20.0  # patch 1 holds no ink: a very negative logit is right
    logits[0, 1] = 0.0  # patch 2 is all ink: a zero logit costs log 2 per pixel
    assert binary.next_patch_loss(logits, px, mask).item() == pytest.approx(0.5 * torch.log(torch.tensor(2.0)).item(), rel=1e-4)
    assert torch.equal(binary.logits_to_patch(torch.tensor([[3.0, -3.0]]), None), torch.tensor([[0.0, 1.0]]))


def test_generation_with_the_cache_equals_generation_without():
    for target in ("normalized", "raw", "binary"):
        model = tiny(pixel_target=target)
        prompt = torch.rand(1, 1, 16, 5 * 16)
        cached = model.generate_patches(prompt, 4, use_cache=True)
        full = model.generate_patches(prompt, 4, use_cache=False)
        assert cached.shape == (1, 1, 16, 4 * 16)
        assert cached.min() >= 0 and cached.max() <= 1
        torch.testing.assert_close(cached, full, rtol=1e-4, atol=1e-4)


def test_classifier_loads_the_causal_lm_body_and_pools_the_last_attended_position(tmp_path):
    lm = tiny()
    lm.save_pretrained(tmp_path)
    clf = PixelGPTForSequenceClassification.from_pretrained(tmp_path, num_labels=3).eval()
    torch.testing.assert_close(clf.model.layers[0].mlp.up_proj.weight, lm.model.layers[0].mlp.up_proj.weight)
    patches = lambda m: m.model.embed_patches.patch_embeddings.projection.weight  # noqa: E731
    torch.testing.assert_close(patches(clf), patches(lm))
    px = torch.rand(2, 1, 16, 6 * 16)
    mask = torch.tensor([[1.0, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]])
    with torch.no_grad():
        batch = clf(pixel_values=px, attention_mask=mask, labels=torch.tensor([0, 2]))
        alone = clf(pixel_values=px[:1, ..., : 4 * 16])
        last = clf.score(lm(pixel_values=px[1:], compute_loss=False).last_hidden_state[0, -1])
    torch.testing.assert_close(batch.logits[0], alone.logits[0], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(batch.logits[1], last, rtol=1e-4, atol=1e-5)
    assert batch.loss.item() == pytest.approx(torch.nn.functional.cross_entropy(batch.logits, torch.tensor([0, 2])).item(), rel=1e-5)
