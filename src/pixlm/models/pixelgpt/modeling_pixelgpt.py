"""PixelGPT (Chai et al. 2024): one causal decoder for rendered text and for plain text.

The decoder stack is transformers' `LlamaModel` (RMSNorm, SwiGLU, rotary positions, grouped-
query attention, key-value cache), fed `inputs_embeds`: patches come in through a 16 x 16
convolution and a LayerNorm, tokens through the model's embedding table. A pixel head predicts
the next patch, a token head the next token (cross-entropy). A forward pass takes one kind of
batch: pixels, text, or a rendered text followed by its own tokens (both losses).

In a paired batch the patches are padded to the batch's longest rendering and the tokens
follow; each example's tokens take the positions right after its own end patch, and its first
token is predicted from that end patch, so padding changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from transformers import LlamaModel, PreTrainedModel
from transformers.modeling_outputs import CausalLMOutputWithPast, SequenceClassifierOutput

from ..compat import CACHE_ARG, CACHE_FIELD, cache_of, pick_cache
from ..heads import sequence_classification_loss
from ..patches import patch_stats, patchify, unpatchify
from .configuration_pixelgpt import PixelGPTConfig


@dataclass
class PixelGPTOutput(CausalLMOutputWithPast):
    """transformers' causal-LM output (`loss`, `logits` over tokens, the key-value cache,
    `hidden_states`) with the pixel head's prediction and the two losses apart."""

    pixel_loss: torch.Tensor | None = None
    text_loss: torch.Tensor | None = None
    pixel_logits: torch.Tensor | None = None  # (B, L, p*p*C): prediction of the patch after each position


@dataclass
class _Decoded:
    hidden: torch.Tensor  # (B, L + T, D)
    mask: torch.Tensor  # (B, L + T): 1 where a patch or token is attended
    num_patches: int  # L, the patch positions (padded)
    patch_lengths: torch.Tensor | None  # (B,) each example's patches up to its end patch
    past_key_values: object | None


class PixelGPTPreTrainedModel(PreTrainedModel):
    """Shared body: patch embedding, token embedding and the Llama decoder stack. Heads on top
    keep these module names, so a classifier loads a pretrained causal LM's body as it is."""

    config_class = PixelGPTConfig
    config: PixelGPTConfig
    base_model_prefix = "model"
    main_input_name = "pixel_values"
    _no_split_modules = ["LlamaDecoderLayer"]

    def _build_body(self, config: PixelGPTConfig) -> None:
        p, c, d = config.patch_size, config.num_channels, config.hidden_size
        self.patch_embed = nn.Conv2d(c, d, kernel_size=p, stride=p)
        self.patch_norm = nn.LayerNorm(d)
        self.model = LlamaModel(config.llama_config())

    def embed_patches(self, pixel_values: torch.Tensor) -> torch.Tensor:
        if pixel_values.ndim != 4 or pixel_values.shape[1] != self.config.num_channels:
            raise ValueError(
                f"pixel_values must be (batch, {self.config.num_channels}, {self.config.patch_size}, width); "
                f"got {tuple(pixel_values.shape)}"
            )
        return self.patch_norm(self.patch_embed(pixel_values).flatten(2).transpose(1, 2))

    def _decode(self, pixel_values, patch_attention_mask, input_ids, attention_mask, past_key_values=None,
                use_cache: bool = False) -> _Decoded:
        if pixel_values is None and input_ids is None:
            raise ValueError("give pixel_values (pixels), input_ids (text), or both (paired)")
        parts, masks = [], []
        num_patches, lengths, position_ids = 0, None, None
        if pixel_values is not None:
            patches = self.embed_patches(pixel_values)
            num_patches = patches.shape[1]
            if patch_attention_mask is None:
                patch_attention_mask = patches.new_ones(patches.shape[:2])
            parts.append(patches)
            masks.append(patch_attention_mask)
            lengths = patch_attention_mask.sum(1).long()
        if input_ids is not None:
            if input_ids.shape[1] == 0:
                raise ValueError("input_ids has no tokens: a text or paired batch needs at least one token per example")
            parts.append(self.model.embed_tokens(input_ids))
            masks.append(attention_mask if attention_mask is not None else torch.ones_like(input_ids))
            if pixel_values is not None:
                tokens = torch.arange(input_ids.shape[1], device=input_ids.device)
                patches_pos = torch.arange(num_patches, device=input_ids.device).expand(len(lengths), -1)
                position_ids = torch.cat([patches_pos, lengths[:, None] + tokens], dim=1)
        embeds = torch.cat(parts, dim=1)
        mask = torch.cat([m.to(embeds.dtype) for m in masks], dim=1)
        # No padding (always so in generation): no mask, which also lets the cache grow freely.
        out = self.model(inputs_embeds=embeds, attention_mask=None if bool(mask.all()) else mask,
                         position_ids=position_ids, use_cache=use_cache, **{CACHE_ARG: past_key_values})
        return _Decoded(out.last_hidden_state, mask, num_patches, lengths, cache_of(out))


class PixelGPTForCausalLM(PixelGPTPreTrainedModel):
    """The causal decoder with a pixel head (next patch) and a token head (next token)."""

    def __init__(self, config: PixelGPTConfig):
        super().__init__(config)
        self._build_body(config)
        p, c, d = config.patch_size, config.num_channels, config.hidden_size
        self.pixel_head = nn.Linear(d, p * p * c)
        self.lm_head = nn.Linear(d, config.vocab_size, bias=False)
        self.post_init()

    def forward(
        self,
        pixel_values: torch.Tensor | None = None,
        patch_attention_mask: torch.Tensor | None = None,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        past_key_values=None,
        use_cache: bool = False,
        compute_loss: bool = True,
        cache=None,
        **kwargs,
    ) -> PixelGPTOutput:
        """pixels: `pixel_values` (B, C, p, L*p) and `patch_attention_mask` (B, L: text and end
        patch 1); text: `input_ids` and `attention_mask` (B, T); paired: all four, the tokens
        following the patches of the same text. The key-value cache comes as `cache` or
        `past_key_values` (transformers' name before 5.24)."""
        past = pick_cache(past_key_values, cache)
        d = self._decode(pixel_values, patch_attention_mask, input_ids, attention_mask, past, use_cache)
        n = d.num_patches
        pixel_logits = self.pixel_head(d.hidden[:, :n]) if n else None
        logits = None
        if input_ids is not None:
            states = d.hidden[:, n:]
            if n:  # each example's end patch predicts its first token
                last_patch = d.hidden[torch.arange(len(states)), d.patch_lengths - 1]
                states = torch.cat([last_patch[:, None], states], dim=1)
            logits = self.lm_head(states)
        pixel_loss = text_loss = loss = None
        if compute_loss:
            if n > 1:
                pixel_loss = self.next_patch_loss(pixel_logits, pixel_values, d.mask[:, :n])
            if input_ids is not None:
                text_loss = self.next_token_loss(logits, input_ids, d.mask[:, n:], from_patches=n > 0)
            terms = [w * l for w, l in ((self.config.pixel_loss_weight, pixel_loss), (self.config.text_loss_weight, text_loss))
                     if l is not None]
            loss = sum(terms) if terms else None
        return PixelGPTOutput(loss=loss, pixel_loss=pixel_loss, text_loss=text_loss, pixel_logits=pixel_logits,
                              logits=logits, hidden_states=d.hidden, **{CACHE_FIELD: d.past_key_values})

    def next_patch_loss(self, pixel_logits, pixel_values, patch_mask) -> torch.Tensor:
        """Loss of patch t+1 predicted at t, over targets that are text or the end patch, for the
        configured `pixel_target`."""
        target = patchify(pixel_values, self.config.patch_size)[:, 1:]
        pred = pixel_logits[:, :-1]
        kind = self.config.pixel_target
        if kind == "binary":
            per_patch = F.binary_cross_entropy_with_logits(pred, (target < 0.5).to(pred.dtype), reduction="none").mean(-1)
        else:
            if kind == "normalized":
                mean, std = patch_stats(target)
                target = (target - mean) / std
            per_patch = ((pred - target) ** 2).mean(-1)
        weight = patch_mask[:, 1:].to(per_patch.dtype)
        return (per_patch * weight).sum() / weight.sum().clamp_min(1.0)

    @staticmethod
    def next_token_loss(logits, input_ids, attention_mask, from_patches: bool) -> torch.Tensor:
        """Cross-entropy of token t+1 predicted at t. In a paired batch the logits start at the
        end patch, which predicts the first token."""
        if from_patches:
            pred, target, valid = logits[:, :-1], input_ids, attention_mask
        else:
            pred, target, valid = logits[:, :-1], input_ids[:, 1:], attention_mask[:, 1:]
        target = target.masked_fill(valid == 0, -100)
        return F.cross_entropy(pred.reshape(-1, pred.shape[-1]), target.reshape(-1), ignore_index=-100)

    def logits_to_patch(self, pixel_logits: torch.Tensor, previous: torch.Tensor) -> torch.Tensor:
        """Head outputs (B, p*p*C) -> patches in [0, 1] (B, p*p*C). Binary targets are ink
        (dark) where the logit is positive; normalised targets take the previous patch's mean
        and spread, the only statistics at hand when the next patch is unknown."""
        kind = self.config.pixel_target
        if kind == "binary":
            return (pixel_logits <= 0).to(pixel_logits.dtype)
        if kind == "normalized":
            mean, std = patch_stats(previous)
            pixel_logits = pixel_logits * std + mean
        return pixel_logits.clamp(0.0, 1.0)

    @torch.no_grad()
    def generate_patches(self, pixel_values: torch.Tensor, num_new_patches: int, use_cache: bool = True) -> torch.Tensor:
        """Continue rendered text: `pixel_values` (B, C, p, L*p), every patch of it attended
        (leave the end patch out), -> (B, C, p, num_new_patches*p) generated patches. With
        `use_cache` each step feeds one patch and reuses the keys and values of the earlier ones."""
        if num_new_patches < 1:
            raise ValueError(f"num_new_patches must be at least 1, got {num_new_patches}")
        p, c = self.config.patch_size, self.config.num_channels
        limit = self.config.max_patches
        if pixel_values.shape[-1] // p + num_new_patches > limit:
            raise ValueError(
                f"prompt ({pixel_values.shape[-1] // p} patches) plus num_new_patches ({num_new_patches}) exceeds the "
                f"model's max_patches ({limit})"
            )
        previous = patchify(pixel_values, p)[:, -1]
        sequence, past, new = pixel_values, None, []
        for _ in range(num_new_patches):
            step_input = new[-1] if (use_cache and new) else sequence
            out = self(pixel_values=step_input, cache=past, use_cache=use_cache, compute_loss=False)
            patch = self.logits_to_patch(out.pixel_logits[:, -1], previous)
            image = unpatchify(patch[:, None], p, c)
            new.append(image)
            previous = patch
            past = cache_of(out) if use_cache else None
            if not use_cache:
                sequence = torch.cat([sequence, image], dim=-1)
        return torch.cat(new, dim=-1)


class PixelGPTForSequenceClassification(PixelGPTPreTrainedModel):
    """The decoder's state at the last attended position (the end patch of a rendered text, or
    the last token of a paired input) and a linear classifier; `num_labels == 1` is regression."""

    def __init__(self, config: PixelGPTConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self._build_body(config)
        self.score = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(
        self,
        pixel_values: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        input_ids: torch.Tensor | None = None,
        token_attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        **kwargs,
    ) -> SequenceClassifierOutput:
        """`attention_mask` is the patch mask when pixels are given (as the classification
        collators produce it), otherwise the token mask; `token_attention_mask` masks the
        tokens of a paired input."""
        if pixel_values is not None:
            d = self._decode(pixel_values, attention_mask, input_ids, token_attention_mask)
        else:
            d = self._decode(None, None, input_ids, attention_mask)
        positions = torch.arange(d.mask.shape[1], device=d.mask.device)
        last = (d.mask * positions).argmax(1)
        logits = self.score(d.hidden[torch.arange(len(last)), last])
        loss = sequence_classification_loss(logits, labels, self.num_labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)
