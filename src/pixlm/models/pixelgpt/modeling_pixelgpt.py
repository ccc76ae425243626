"""PixelGPT (Chai et al. 2024): one causal decoder for rendered text and for plain text.

The decoder stack is transformers' `LlamaModel` (RMSNorm, SwiGLU, rotary positions, grouped-
query attention, key-value cache), fed `inputs_embeds`: patches come in through a 16 x 16
convolution and a LayerNorm, tokens through the model's embedding table. A pixel head predicts
the next patch (mean squared error on per-patch normalised pixels, over text patches and the
end patch), a token head the next token (cross-entropy). A forward pass takes one kind of batch:
pixels, text, or a rendered text followed by its own tokens (both losses).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from transformers import LlamaModel, PreTrainedModel
from transformers.utils import ModelOutput

from ..pixel.modeling_pixel import _patch_stats, patchify
from .configuration_pixelgpt import PixelGPTConfig


@dataclass
class PixelGPTOutput(ModelOutput):
    loss: torch.Tensor | None = None
    pixel_loss: torch.Tensor | None = None
    text_loss: torch.Tensor | None = None
    pixel_logits: torch.Tensor | None = None  # (B, L, p*p*C): prediction of the patch after each position
    logits: torch.Tensor | None = None  # (B, T, vocab): prediction of the token after each position
    past_key_values: object | None = None
    hidden_states: torch.Tensor | None = None


class PixelGPTPreTrainedModel(PreTrainedModel):
    config_class = PixelGPTConfig
    config: PixelGPTConfig
    base_model_prefix = "model"
    main_input_name = "pixel_values"
    _no_split_modules = ["LlamaDecoderLayer"]


class PixelGPTForCausalLM(PixelGPTPreTrainedModel):
    def __init__(self, config: PixelGPTConfig):
        super().__init__(config)
        p, c, d = config.patch_size, config.num_channels, config.hidden_size
        self.patch_embed = nn.Conv2d(c, d, kernel_size=p, stride=p)
        self.patch_norm = nn.LayerNorm(d)
        self.model = LlamaModel(config.llama_config())
        self.pixel_head = nn.Linear(d, p * p * c)
        self.lm_head = nn.Linear(d, config.vocab_size, bias=False)
        self.post_init()

    def embed_patches(self, pixel_values: torch.Tensor) -> torch.Tensor:
        if pixel_values.shape[1] != self.config.num_channels:
            raise ValueError(f"pixel_values has {pixel_values.shape[1]} channels but the model expects {self.config.num_channels}")
        return self.patch_norm(self.patch_embed(pixel_values).flatten(2).transpose(1, 2))

    def forward(
        self,
        pixel_values: torch.Tensor | None = None,
        patch_attention_mask: torch.Tensor | None = None,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        past_key_values=None,
        use_cache: bool = False,
        compute_loss: bool = True,
        **kwargs,
    ) -> PixelGPTOutput:
        """pixels: `pixel_values` (B, C, p, L*p) and `patch_attention_mask` (B, L: text and end
        patch 1); text: `input_ids` and `attention_mask` (B, T); paired: all four, the tokens
        following the patches of the same text."""
        if pixel_values is None and input_ids is None:
            raise ValueError("give pixel_values (pixels), input_ids (text), or both (paired)")
        parts, masks = [], []
        n_patches = 0
        if pixel_values is not None:
            patches = self.embed_patches(pixel_values)
            n_patches = patches.shape[1]
            parts.append(patches)
            masks.append(patch_attention_mask if patch_attention_mask is not None else patches.new_ones(patches.shape[:2]))
        if input_ids is not None:
            parts.append(self.model.embed_tokens(input_ids))
            masks.append(attention_mask if attention_mask is not None else torch.ones_like(input_ids))
        embeds = torch.cat(parts, dim=1)
        mask = torch.cat([m.to(embeds.dtype) for m in masks], dim=1)
        out = self.model(inputs_embeds=embeds, attention_mask=mask, past_key_values=past_key_values, use_cache=use_cache)
        hidden = out.last_hidden_state
        pixel_logits = self.pixel_head(hidden[:, :n_patches]) if n_patches else None
        logits = self.lm_head(hidden[:, max(n_patches - 1, 0):]) if input_ids is not None else None
        pixel_loss = text_loss = loss = None
        if compute_loss:
            if n_patches > 1:
                pixel_loss = self.next_patch_loss(pixel_logits, pixel_values, masks[0])
            if input_ids is not None:
                text_loss = self.next_token_loss(logits, input_ids, masks[-1], from_patches=n_patches > 0)
            terms = [w * l for w, l in ((self.config.pixel_loss_weight, pixel_loss), (self.config.text_loss_weight, text_loss))
                     if l is not None]
            loss = sum(terms) if terms else None
        return PixelGPTOutput(loss=loss, pixel_loss=pixel_loss, text_loss=text_loss, pixel_logits=pixel_logits,
                              logits=logits, past_key_values=out.past_key_values, hidden_states=hidden)

    def next_patch_loss(self, pixel_logits, pixel_values, patch_mask) -> torch.Tensor:
        """MSE of patch t+1 predicted at patch t, over targets that are text or the end patch."""
        target = patchify(pixel_values, self.config.patch_size)[:, 1:]
        if self.config.norm_pix_loss:
            mean, std = _patch_stats(target)
            target = (target - mean) / std
        per_patch = ((pixel_logits[:, :-1] - target) ** 2).mean(-1)
        weight = patch_mask[:, 1:].to(per_patch.dtype)
        return (per_patch * weight).sum() / weight.sum().clamp_min(1.0)

    @staticmethod
    def next_token_loss(logits, input_ids, attention_mask, from_patches: bool) -> torch.Tensor:
        """Cross-entropy of token t+1 predicted at t. In a paired batch the logits start at the
        last patch, which predicts the first token."""
        if from_patches:
            pred, target, valid = logits[:, :-1], input_ids, attention_mask
        else:
            pred, target, valid = logits[:, :-1], input_ids[:, 1:], attention_mask[:, 1:]
        target = target.masked_fill(valid == 0, -100)
        return F.cross_entropy(pred.reshape(-1, pred.shape[-1]), target.reshape(-1), ignore_index=-100)
