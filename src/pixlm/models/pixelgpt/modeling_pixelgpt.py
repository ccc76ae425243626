"""PixelGPT (Chai et al. 2024): one causal decoder for rendered text and for plain text.

`PixelGPTModel` is transformers' `LlamaModel` (RMSNorm, SwiGLU, rotary positions, grouped-
query attention, key-value cache) with a patch embedding beside its token embedding: patches
come in through a 16 x 16 convolution and a LayerNorm. A pixel head predicts the next patch, a
token head the next token (cross-entropy). A forward pass takes one kind of batch: pixels,
text, or a rendered text followed by its own tokens (both losses).

Module names are the released checkpoints' (ErniePixel: `model.embed_patches.patch_embeddings`,
`lm_pixel_head`, `lm_token_head`, `score`), so baidu/PixelGPT, MonoGPT and DualGPT load as they
are; checkpoints of earlier pixlm versions load through `LEGACY_KEY_MAPPING`.

In a paired batch the patches are padded to the batch's longest rendering and the tokens
follow; each example's tokens take the positions right after its own end patch, and its first
token is predicted from that end patch, so padding changes nothing. (The released code's paired
forward cannot run as released, and would place tokens after the padding.)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from transformers import GenerationMixin, LlamaModel, PreTrainedModel
from transformers.modeling_outputs import BaseModelOutputWithPast, CausalLMOutputWithPast, SequenceClassifierOutput

from ..compat import CACHE_ARG, CACHE_FIELD, cache_of, pick_cache
from ..heads import sequence_classification_loss
from ..loading import load_checked
from ..patches import check_pixel_values, patch_stats, patchify, per_patch_pixel_loss, unpatchify
from .configuration_pixelgpt import ErniePixelConfig, PixelGPTConfig

# Names of pixlm's earlier PixelGPT checkpoints -> today's (the released checkpoints').
LEGACY_KEY_MAPPING = {
    r"^patch_embed\.": "model.embed_patches.patch_embeddings.projection.",
    r"^patch_norm\.": "model.embed_patches.patch_embeddings.norm.",
    r"^pixel_head\.": "lm_pixel_head.",
    r"^lm_head\.": "lm_token_head.",
}


@dataclass
class PixelGPTOutput(CausalLMOutputWithPast):
    """transformers' causal-LM output (`loss`, `logits` over tokens, the key-value cache) with
    the pixel head's prediction and the two losses apart; `last_hidden_state` is the decoder's
    output (after its final norm)."""

    pixel_loss: torch.Tensor | None = None
    text_loss: torch.Tensor | None = None
    pixel_logits: torch.Tensor | None = None  # (B, L, p*p*C): prediction of the patch after each position
    last_hidden_state: torch.Tensor | None = None


class PatchEmbeddings(nn.Module):
    """A p x p convolution with stride p, then a LayerNorm: one vector per patch."""

    def __init__(self, config: PixelGPTConfig):
        super().__init__()
        p, c, d = config.patch_size, config.num_channels, config.hidden_size
        self.num_channels, self.patch_size = c, p
        self.projection = nn.Conv2d(c, d, kernel_size=p, stride=p)
        self.norm = nn.LayerNorm(d)

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        check_pixel_values(pixel_values, self.num_channels, self.patch_size)
        return self.norm(self.projection(pixel_values).flatten(2).transpose(1, 2))


class PixelEmbedding(nn.Module):
    def __init__(self, config: PixelGPTConfig):
        super().__init__()
        self.patch_embeddings = PatchEmbeddings(config)

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.patch_embeddings(pixel_values)


class PixelGPTPreTrainedModel(PreTrainedModel):
    config_class = PixelGPTConfig
    config: PixelGPTConfig
    base_model_prefix = "model"
    main_input_name = "pixel_values"
    supports_gradient_checkpointing = True
    _no_split_modules = ["LlamaDecoderLayer"]
    _supports_sdpa = True

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        super()._init_weights(module)
        if isinstance(module, PatchEmbeddings) and not getattr(module.projection.weight, "_is_hf_initialized", False):
            w = module.projection.weight
            nn.init.xavier_uniform_(w.view(w.shape[0], -1))  # like a linear layer, as the released code does

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, *args, **kwargs):
        """Load pixlm's checkpoints, the released ones (ErniePixel) or pixlm's earlier ones;
        what the checkpoint lacks or has to spare is said in one line, shapes that do not fit
        are refused."""
        if kwargs.get("key_mapping") is None:
            kwargs["key_mapping"] = dict(LEGACY_KEY_MAPPING)
        want_info = kwargs.get("output_loading_info", False)
        model, info = load_checked(cls, super().from_pretrained, pretrained_model_name_or_path, *args, **kwargs)
        model._weight_conversions = None  # save in today's names
        return (model, info) if want_info else model


@dataclass
class PixelGPTModelOutput(BaseModelOutputWithPast):
    mask: torch.Tensor | None = None  # (B, L + T): 1 where a patch or token is attended
    num_patches: int | None = None  # L, the patch positions (padded)
    patch_lengths: torch.Tensor | None = None  # (B,) each example's patches up to its end patch


class PixelGPTModel(LlamaModel):
    """transformers' Llama decoder stack with a patch embedding: pixels, tokens, or both (a
    rendered text, then its tokens)."""

    config_class = PixelGPTConfig

    def __init__(self, config: PixelGPTConfig):
        super().__init__(config)
        self.embed_patches = PixelEmbedding(config)
        self.post_init()

    def forward(
        self,
        pixel_values: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        input_ids: torch.Tensor | None = None,
        token_attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        past_key_values=None,
        use_cache: bool = False,
        cache=None,
        **kwargs,
    ) -> PixelGPTModelOutput:
        """pixels: `pixel_values` (B, C, p, L*p) with `attention_mask` (B, L); text: `input_ids`
        with `attention_mask` (B, T); paired: `pixel_values`, `attention_mask` over the
        patches, `input_ids` and `token_attention_mask`.

        Paired inputs, against the released code: both concatenate the patch embeddings (padded
        to the batch's L) and the token embeddings, with the patch mask then the token mask.
        The released `ErniePixelModel` numbers positions 0..L+T-1 straight through, so an
        example's tokens start at position L whatever its own length; pixlm places each
        example's tokens right after its own end patch, so a text's tokens sit at the same
        positions in any batch. The released causal-LM paired forward cannot run (it never
        passes the patch mask on), so no released result depends on the difference; pass
        `position_ids` for the released numbering."""
        if pixel_values is None and input_ids is None:
            raise ValueError("give pixel_values (pixels), input_ids (text), or both (paired)")
        if pixel_values is None:
            embeds = self.embed_tokens(input_ids)
            mask = attention_mask if attention_mask is not None else torch.ones_like(input_ids)
            num_patches, lengths = 0, None
        else:
            embeds = self.embed_patches(pixel_values)
            num_patches = embeds.shape[1]
            mask = attention_mask if attention_mask is not None else embeds.new_ones(embeds.shape[:2])
            lengths = mask.sum(1).long()
            if input_ids is not None:
                if input_ids.shape[1] == 0:
                    raise ValueError("input_ids has no tokens: a paired batch needs at least one token per example")
                tokens = token_attention_mask if token_attention_mask is not None else torch.ones_like(input_ids)
                embeds = torch.cat([embeds, self.embed_tokens(input_ids)], dim=1)
                mask = torch.cat([mask.to(embeds.dtype), tokens.to(embeds.dtype)], dim=1)
                if position_ids is None:  # each example's tokens right after its own end patch
                    steps = torch.arange(input_ids.shape[1], device=input_ids.device)
                    patches = torch.arange(num_patches, device=input_ids.device).expand(len(lengths), -1)
                    position_ids = torch.cat([patches, lengths[:, None] + steps], dim=1)
        mask = mask.to(embeds.dtype)
        # No padding (always so in generation): no mask, which also lets the cache grow freely.
        out = super().forward(inputs_embeds=embeds, attention_mask=None if bool(mask.all()) else mask,
                              position_ids=position_ids, use_cache=use_cache,
                              **{CACHE_ARG: pick_cache(past_key_values, cache)}, **kwargs)
        return PixelGPTModelOutput(last_hidden_state=out.last_hidden_state, mask=mask, num_patches=num_patches,
                                   patch_lengths=lengths, **{CACHE_FIELD: cache_of(out)})


class PixelGPTForCausalLM(PixelGPTPreTrainedModel, GenerationMixin):
    """The causal decoder with a pixel head (next patch) and a token head (next token).
    `generate()` continues token ids as any transformers causal LM; `generate_patches()`
    continues a rendered text patch by patch."""

    _tied_weights_keys: dict = {}
    main_input_name = "input_ids"  # what generate() continues

    def __init__(self, config: PixelGPTConfig):
        super().__init__(config)
        self.model = PixelGPTModel(config)
        p, c, d = config.patch_size, config.num_channels, config.hidden_size
        self.lm_pixel_head = nn.Linear(d, p * p * c, bias=False)
        self.lm_token_head = nn.Linear(d, config.vocab_size, bias=False)
        self.post_init()

    def get_input_embeddings(self):
        return self.model.embed_tokens

    def estimate_tokens(self, inputs: dict) -> int:
        """Positions in a batch, patches and tokens (what the Trainer counts FLOPs by)."""
        total = 0
        if inputs.get("pixel_values") is not None:
            pv = inputs["pixel_values"]
            total += pv.shape[0] * (pv.shape[-1] // self.config.patch_size)
        if inputs.get("input_ids") is not None:
            total += inputs["input_ids"].numel()
        return total

    def get_output_embeddings(self):
        return self.lm_token_head

    def forward(
        self,
        pixel_values: torch.Tensor | None = None,
        patch_attention_mask: torch.Tensor | None = None,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        past_key_values=None,
        use_cache: bool = False,
        compute_loss: bool = True,
        cache=None,
        **kwargs,
    ) -> PixelGPTOutput:
        """pixels: `pixel_values` (B, C, p, L*p) and `patch_attention_mask` (B, L: text and end
        patch 1; `attention_mask` is taken for it when pixels come alone, as the released
        model is called); text: `input_ids`, `attention_mask` (B, T) and optional `labels`
        (-100 where not scored; by default the attended tokens); paired: all of them, the
        tokens following the patches of the same text. The key-value cache comes as `cache`
        or `past_key_values` (transformers' name before 5.24)."""
        if pixel_values is not None and input_ids is None and patch_attention_mask is None:
            patch_attention_mask, attention_mask = attention_mask, None
        if pixel_values is None:
            d = self.model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                           past_key_values=past_key_values, cache=cache, use_cache=use_cache, **_decoder_kwargs(kwargs))
        else:
            d = self.model(pixel_values=pixel_values, attention_mask=patch_attention_mask, input_ids=input_ids,
                           token_attention_mask=attention_mask, position_ids=position_ids,
                           past_key_values=past_key_values, cache=cache, use_cache=use_cache, **_decoder_kwargs(kwargs))
        n, hidden = d.num_patches or 0, d.last_hidden_state
        pixel_logits = self.lm_pixel_head(hidden[:, :n]) if n else None
        logits = None
        if input_ids is not None:
            states = hidden[:, n:]
            if n:  # each example's end patch predicts its first token
                last_patch = hidden[torch.arange(len(states)), d.patch_lengths - 1]
                states = torch.cat([last_patch[:, None], states], dim=1)
            logits = self.lm_token_head(states)
        pixel_loss = text_loss = loss = None
        if compute_loss:
            if n > 1:
                pixel_loss = self.next_patch_loss(pixel_logits, pixel_values, d.mask[:, :n])
            # Tokens are scored when labels are given, or in training (not while generating with a cache).
            if input_ids is not None and (labels is not None or not use_cache):
                text_loss = self.next_token_loss(logits, input_ids, d.mask[:, n:], from_patches=n > 0, labels=labels)
            terms = [w * part for w, part in ((self.config.pixel_loss_weight, pixel_loss),
                                              (self.config.text_loss_weight, text_loss)) if part is not None]
            loss = sum(terms) if terms else None
        return PixelGPTOutput(loss=loss, pixel_loss=pixel_loss, text_loss=text_loss, pixel_logits=pixel_logits,
                              logits=logits, last_hidden_state=hidden, **{CACHE_FIELD: cache_of(d)})

    def next_patch_loss(self, pixel_logits, pixel_values, patch_mask) -> torch.Tensor:
        """Loss of patch t+1 predicted at t, over targets that are text or the end patch, for the
        configured `pixel_target`."""
        target = patchify(pixel_values, self.config.patch_size)[:, 1:]
        per_patch = per_patch_pixel_loss(pixel_logits[:, :-1], target, self.config.pixel_target)
        weight = patch_mask[:, 1:].to(per_patch.dtype)
        return (per_patch * weight).sum() / weight.sum().clamp_min(1.0)

    @staticmethod
    def next_token_loss(logits, input_ids, attention_mask, from_patches: bool, labels=None) -> torch.Tensor:
        """Cross-entropy of token t+1 predicted at t (against `labels` where given, else the
        attended `input_ids`). In a paired batch the logits start at the end patch, which
        predicts the first token."""
        target = labels if labels is not None else input_ids.masked_fill(attention_mask == 0, -100)
        if from_patches:
            pred = logits[:, :-1]
        else:
            pred, target = logits[:, :-1], target[:, 1:]
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


def _decoder_kwargs(kwargs: dict) -> dict:
    """What generation passes on to the decoder (the cache's positions)."""
    return {k: v for k, v in kwargs.items() if k in ("cache_position",)}


class PixelGPTForSequenceClassification(PixelGPTPreTrainedModel):
    """The decoder's state at the last attended position (the end patch of a rendered text, the
    last token of a text or of a paired input) and a linear classifier without bias (`score`,
    as released); `num_labels == 1` is regression."""

    def __init__(self, config: PixelGPTConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.model = PixelGPTModel(config)
        self.score = nn.Linear(config.hidden_size, config.num_labels, bias=False)
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
            d = self.model(pixel_values=pixel_values, attention_mask=attention_mask, input_ids=input_ids,
                           token_attention_mask=token_attention_mask)
        else:
            d = self.model(input_ids=input_ids, attention_mask=attention_mask)
        positions = torch.arange(d.mask.shape[1], device=d.mask.device)
        last = (d.mask * positions).argmax(1)
        logits = self.score(d.last_hidden_state[torch.arange(len(last)), last])
        loss = sequence_classification_loss(logits, labels, self.num_labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class ErniePixelForCausalLM(PixelGPTForCausalLM):
    """`PixelGPTForCausalLM` for a released checkpoint's `model_type` ("ernie-pixel"), so that
    `AutoModelForCausalLM` opens it."""

    config_class = ErniePixelConfig


class ErniePixelForSequenceClassification(PixelGPTForSequenceClassification):
    config_class = ErniePixelConfig
