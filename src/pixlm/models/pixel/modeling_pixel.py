"""PIXEL (Rust et al. 2022, "Language Modelling with Pixels"): a ViT-MAE over rendered text.

The encoder sees the visible patches of a strip (plus a CLS token); a light decoder puts mask
tokens where patches were hidden and predicts their pixels; the loss is the mean squared error
on masked patches that hold text. Three things set it apart from image MAE:

- padding patches never enter attention (`attention_mask`, in encoder and decoder);
- a batch may be cut to its longest text ("dynamic length"): positions are absolute, so each
  example's outputs are those of the full 529-patch run;
- masking can follow a given patch mask (PIXEL's span masking), topped up with random patches
  to exactly the mask ratio.

Module and parameter names are those of transformers' ViT-MAE, so its weights load as they are;
checkpoints in the older layout of the published PIXEL models load through `LEGACY_KEY_MAPPING`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init
from transformers.activations import ACT2FN
from transformers.modeling_outputs import QuestionAnsweringModelOutput, SequenceClassifierOutput, TokenClassifierOutput
from transformers.utils import ModelOutput

from ..heads import Biaffine, SequencePoolingHead, check_labels, sequence_classification_loss, spread_word_means, word_means
from ..loading import load_checked
from ..patches import check_pixel_values, patch_stats, patchify, per_patch_pixel_loss, unpatchify
from .configuration_pixel import PixelConfig

# Older (transformers 4 / published PIXEL) parameter names -> ours, applied in this order.
LEGACY_KEY_MAPPING = {
    r"\.encoder\.layer\.": ".layers.",
    r"\.attention\.attention\.query\.": ".attention.q_proj.",
    r"\.attention\.attention\.key\.": ".attention.k_proj.",
    r"\.attention\.attention\.value\.": ".attention.v_proj.",
    r"\.attention\.output\.dense\.": ".attention.o_proj.",
    r"\.intermediate\.dense\.": ".mlp.fc1.",
    r"\.output\.dense\.": ".mlp.fc2.",
}


def sincos_position_table(num_positions: int, dim: int, layout: str = "2d") -> torch.Tensor:
    """Fixed sin-cos position embeddings, (num_positions + 1, dim), row 0 (CLS) all zeros.

    `2d`: position k sits at row k // w, column k % w of a grid w = ceil(sqrt(n)) wide (23 x 23
    for PIXEL's 529), with ViT-MAE's layout [sin(col) | cos(col) | sin(row) | cos(row)].
    `1d`: [sin(k w_i) | cos(k w_i)] over dim / 2 frequencies.
    """
    k = torch.arange(num_positions, dtype=torch.float64)
    if layout == "1d":
        omega = 1.0 / 10000 ** (torch.arange(dim // 2, dtype=torch.float64) / (dim // 2))
        angles = k[:, None] * omega[None]
        table = torch.cat([angles.sin(), angles.cos()], dim=1)
    else:
        width = math.isqrt(num_positions - 1) + 1 if num_positions > 1 else 1
        omega = 1.0 / 10000 ** (torch.arange(dim // 4, dtype=torch.float64) / (dim // 4))
        row, col = (k // width)[:, None] * omega[None], (k % width)[:, None] * omega[None]
        table = torch.cat([col.sin(), col.cos(), row.sin(), row.cos()], dim=1)
    return torch.cat([torch.zeros(1, dim, dtype=torch.float64), table]).float()


def mask_patches(
    sequence: torch.Tensor,
    attention_mask: torch.Tensor,
    mask_ratio: float,
    patch_mask: torch.Tensor | None = None,
    noise: torch.Tensor | None = None,
):
    """Hide `L - int(L * (1 - mask_ratio))` patches of each row; the encoder keeps the rest.

    The patches with the largest noise are hidden. With `patch_mask` (1 = hide, e.g. PIXEL's
    span mask) the noise is patch_mask + U[0, 0.01): the given patches go first and random ones
    top the mask up to the ratio. Without it, the text patch of largest noise gets noise 100, so
    at least one text patch is hidden (the loss, taken on hidden text patches, exists); as in
    PIXEL, this applies to a given `noise` too.

    Returns the kept sequence, its attention mask, the mask (B, L; 1 = hidden) and the indices
    that restore the original order.
    """
    b, length, dim = sequence.shape
    len_keep = int(length * (1 - mask_ratio))
    if noise is None:
        noise = torch.rand(b, length, device=sequence.device)
        if patch_mask is not None:
            noise = patch_mask.to(noise.dtype) + noise / 100
    elif patch_mask is not None:
        noise = noise + patch_mask.to(noise.dtype)
    if patch_mask is None:
        noise = noise.clone()
        text_max = torch.argmax(noise * attention_mask, dim=1)
        noise[torch.arange(b, device=noise.device), text_max] = 100.0
    ids_shuffle = torch.argsort(noise, dim=1)
    ids_restore = torch.argsort(ids_shuffle, dim=1)
    ids_keep = ids_shuffle[:, :len_keep]
    kept = torch.gather(sequence, 1, ids_keep.unsqueeze(-1).expand(-1, -1, dim))
    kept_attention = torch.gather(attention_mask, 1, ids_keep)
    mask = torch.ones(b, length, device=sequence.device)
    mask[:, :len_keep] = 0
    mask = torch.gather(mask, 1, ids_restore)
    return kept, kept_attention, mask, ids_restore


class PixelPatchEmbeddings(nn.Module):
    """A p x p convolution with stride p: one vector per patch."""

    def __init__(self, config: PixelConfig):
        super().__init__()
        self.patch_size = config.patch_size
        self.num_channels = config.num_channels
        self.projection = nn.Conv2d(config.num_channels, config.hidden_size, config.patch_size, config.patch_size)

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        check_pixel_values(pixel_values, self.num_channels, self.patch_size)
        return self.projection(pixel_values).flatten(2).transpose(1, 2)


class PixelEmbeddings(nn.Module):
    """Patch embeddings plus fixed sin-cos positions, and a CLS token."""

    def __init__(self, config: PixelConfig):
        super().__init__()
        self.config = config
        self.patch_embeddings = PixelPatchEmbeddings(config)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, config.hidden_size))
        self.position_embeddings = nn.Parameter(
            torch.zeros(1, config.max_patches + 1, config.hidden_size), requires_grad=False
        )

    def initialize_weights(self) -> None:
        if getattr(self.patch_embeddings.projection.weight, "_is_hf_initialized", False):
            return  # loaded from a checkpoint
        table = sincos_position_table(self.config.max_patches, self.config.hidden_size, self.config.position_embedding)
        init.copy_(self.position_embeddings, table.unsqueeze(0))
        w = self.patch_embeddings.projection.weight
        init.xavier_uniform_(w.view(w.shape[0], -1))  # like a linear layer, as ViT-MAE does
        init.normal_(self.cls_token, std=self.config.initializer_range)

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        embeddings = self.patch_embeddings(pixel_values)
        length = embeddings.shape[1]
        if length > self.config.max_patches:
            raise ValueError(f"input has {length} patches; this model takes at most {self.config.max_patches}")
        return embeddings + self.position_embeddings[:, 1 : length + 1]

    def cls(self, batch_size: int) -> torch.Tensor:
        return (self.cls_token + self.position_embeddings[:, :1]).expand(batch_size, -1, -1)


class PixelAttention(nn.Module):
    """Multi-head self-attention over the unpadded patches (PyTorch's fused SDPA)."""

    def __init__(self, hidden_size: int, num_heads: int, dropout: float, qkv_bias: bool):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = hidden_size // num_heads
        self.dropout = dropout
        self.q_proj = nn.Linear(hidden_size, hidden_size, bias=qkv_bias)
        self.k_proj = nn.Linear(hidden_size, hidden_size, bias=qkv_bias)
        self.v_proj = nn.Linear(hidden_size, hidden_size, bias=qkv_bias)
        self.o_proj = nn.Linear(hidden_size, hidden_size)

    def forward(self, x: torch.Tensor, key_mask: torch.Tensor | None) -> torch.Tensor:
        b, n, d = x.shape
        shape = (b, n, self.num_heads, self.head_dim)
        q, k, v = (proj(x).view(shape).transpose(1, 2) for proj in (self.q_proj, self.k_proj, self.v_proj))
        # key_mask: (B, 1, 1, n) booleans, True where a key may be attended, or a float bias
        # broadcastable to (B, heads, n, n), -inf where a key may not be attended.
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=key_mask, dropout_p=self.dropout if self.training else 0.0)
        return self.o_proj(out.transpose(1, 2).reshape(b, n, d))


class PixelMLP(nn.Module):
    def __init__(self, hidden_size: int, intermediate_size: int, act: str):
        super().__init__()
        self.fc1 = nn.Linear(hidden_size, intermediate_size)
        self.fc2 = nn.Linear(intermediate_size, hidden_size)
        self.act = ACT2FN[act]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class PixelLayer(nn.Module):
    """Pre-LayerNorm transformer block."""

    def __init__(self, config: PixelConfig, hidden_size: int, num_heads: int, intermediate_size: int):
        super().__init__()
        self.layernorm_before = nn.LayerNorm(hidden_size, eps=config.layer_norm_eps)
        self.attention = PixelAttention(hidden_size, num_heads, config.attention_probs_dropout_prob, config.qkv_bias)
        self.layernorm_after = nn.LayerNorm(hidden_size, eps=config.layer_norm_eps)
        self.mlp = PixelMLP(hidden_size, intermediate_size, config.hidden_act)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, x: torch.Tensor, key_mask: torch.Tensor | None) -> torch.Tensor:
        x = x + self.dropout(self.attention(self.layernorm_before(x), key_mask))
        return x + self.dropout(self.mlp(self.layernorm_after(x)))


def local_attention_bias(length: int, num_heads: int, dtype: torch.dtype = torch.float32, device=None) -> torch.Tensor:
    """(1, heads, length, length): minus each head's slope (1/2, 1/4, ...: ALiBi's geometric
    slopes as it sets them for 8 heads) times the distance |i - j| between positions i and j."""
    position = torch.arange(length, device=device, dtype=dtype)
    distance = (position[:, None] - position[None, :]).abs()
    slopes = 2.0 ** -torch.arange(1, num_heads + 1, device=device, dtype=dtype)
    return (-slopes[:, None, None] * distance).unsqueeze(0)


def _key_mask(attention_mask: torch.Tensor | None) -> torch.Tensor | None:
    """(B, n) 0/1 -> (B, 1, 1, n) booleans for SDPA; None when nothing is padded."""
    if attention_mask is None or bool(attention_mask.all()):
        return None
    return attention_mask.bool()[:, None, None, :]


@dataclass
class PixelModelOutput(ModelOutput):
    """Encoder outputs. With masking, `last_hidden_state` covers CLS and the kept patches only."""

    last_hidden_state: torch.Tensor | None = None
    pooler_output: torch.Tensor | None = None  # tanh(dense(CLS)), with a pooling layer
    mask: torch.Tensor | None = None
    ids_restore: torch.Tensor | None = None
    attention_mask: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None


@dataclass
class PixelForPreTrainingOutput(ModelOutput):
    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    mask: torch.Tensor | None = None
    ids_restore: torch.Tensor | None = None
    attention_mask: torch.Tensor | None = None
    character_loss: torch.Tensor | None = None  # with character_labels: the character head's cross-entropy


class PixelPreTrainedModel(PreTrainedModel):
    config_class = PixelConfig
    config: PixelConfig
    base_model_prefix = "vit"
    main_input_name = "pixel_values"
    supports_gradient_checkpointing = False
    _no_split_modules = ["PixelEmbeddings", "PixelLayer", "PixelDecoder"]

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        super()._init_weights(module)
        if isinstance(module, PixelEmbeddings):
            module.initialize_weights()
        elif isinstance(module, PixelDecoder):
            module.initialize_weights()

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, *args, **kwargs):
        """Load a checkpoint: ours, transformers' ViT-MAE, or a published PIXEL model (older key
        names are renamed); a checkpoint whose shapes do not fit the config is refused with the
        first mismatching key named. What the checkpoint lacks or has to spare (a pretraining
        decoder, a new head) is reported in one line."""
        # The legacy patterns match only legacy names, so they are safe on any checkpoint (and a
        # Hub id cannot be looked into before it is downloaded).
        if kwargs.get("key_mapping") is None:
            kwargs["key_mapping"] = dict(LEGACY_KEY_MAPPING)
        want_info = kwargs.get("output_loading_info", False)
        model, info = load_checked(cls, super().from_pretrained, pretrained_model_name_or_path, *args, **kwargs)
        # transformers would undo the renaming on save_pretrained: save in today's names instead.
        model._weight_conversions = None
        if isinstance(model, PixelForSequenceClassification) and "pooling" not in kwargs \
                and any(k.startswith("vit.pooler.") for k in info["unexpected_keys"]):
            raise ValueError(
                f"checkpoint {pretrained_model_name_or_path} holds ViT's CLS pooler (vit.pooler.dense): it was "
                "finetuned with CLS pooling, which PIXEL does not save in config.json; load it with "
                "from_pretrained(..., pooling='cls') (pixlm finetune/evaluate: --pooling cls)"
            )
        return (model, info) if want_info else model


class PixelPooler(nn.Module):
    """ViT's pooler: a dense layer and tanh on the CLS state (PIXEL's root for parsing, and its
    `cls` pooling)."""

    def __init__(self, config: PixelConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.activation = nn.Tanh()

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        return self.activation(self.dense(states[:, 0]))


class PixelModel(PixelPreTrainedModel):
    """The PIXEL encoder. Without masking (the default) it encodes every patch; padding
    patches (attention_mask 0) are neither attended to nor affect the others. With
    `add_pooling_layer`, also ViT's pooler on CLS (`pooler_output`)."""

    def __init__(self, config: PixelConfig, add_pooling_layer: bool = False):
        super().__init__(config)
        self.embeddings = PixelEmbeddings(config)
        self.layers = nn.ModuleList(
            PixelLayer(config, config.hidden_size, config.num_attention_heads, config.intermediate_size)
            for _ in range(config.num_hidden_layers)
        )
        self.layernorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.pooler = PixelPooler(config) if add_pooling_layer else None
        self.post_init()

    def forward(
        self,
        pixel_values: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        patch_mask: torch.Tensor | None = None,
        noise: torch.Tensor | None = None,
        mask_ratio: float | None = None,
        output_hidden_states: bool = False,
        **kwargs,
    ) -> PixelModelOutput:
        """
        Args:
            pixel_values: (B, C, p, L*p) in [0, 1]; L may be shorter than `max_patches`.
            attention_mask: (B, L), 1 for text patches and the end patch, 0 for padding.
            patch_mask: (B, L), patches to hide first (span masking); implies masking.
            noise: (B, L), decides which patches are hidden (tests and reproducibility).
            mask_ratio: share of patches to hide; default 0 unless patch_mask or noise is given,
                then the config's.
        """
        embeddings = self.embeddings(pixel_values)
        b, length, _ = embeddings.shape
        if attention_mask is None:
            attention_mask = torch.ones(b, length, device=embeddings.device)
        for name, per_patch in (("attention_mask", attention_mask), ("patch_mask", patch_mask), ("noise", noise)):
            if per_patch is not None and tuple(per_patch.shape) != (b, length):
                raise ValueError(f"{name} must be (batch, patches) = ({b}, {length}) for these pixel_values, got shape "
                                 f"{tuple(per_patch.shape)}")
        attention_mask = attention_mask.to(embeddings.dtype)
        if mask_ratio is None:
            mask_ratio = self.config.mask_ratio if (patch_mask is not None or noise is not None) else 0.0
        mask = ids_restore = None
        if mask_ratio > 0:
            embeddings, attention_mask, mask, ids_restore = mask_patches(
                embeddings, attention_mask, mask_ratio, patch_mask, noise
            )
        hidden = torch.cat([self.embeddings.cls(b), embeddings], dim=1)
        attention_mask = torch.cat([attention_mask.new_ones(b, 1), attention_mask], dim=1)
        key_mask = _key_mask(attention_mask)
        states = [hidden] if output_hidden_states else None
        for layer in self.layers:
            hidden = layer(hidden, key_mask)
            if states is not None:
                states.append(hidden)
        hidden = self.layernorm(hidden)
        return PixelModelOutput(
            last_hidden_state=hidden,
            pooler_output=self.pooler(hidden) if self.pooler is not None else None,
            mask=mask,
            ids_restore=ids_restore,
            attention_mask=attention_mask,
            hidden_states=tuple(states) if states is not None else None,
        )


class PixelDecoder(nn.Module):
    """MAE decoder: mask tokens where patches were hidden, fixed positions, a few layers, and a
    linear layer to each patch's p*p*C pixel values."""

    def __init__(self, config: PixelConfig):
        super().__init__()
        self.config = config
        d = config.decoder_hidden_size
        self.decoder_embed = nn.Linear(config.hidden_size, d)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, d))
        self.decoder_pos_embed = nn.Parameter(torch.zeros(1, config.max_patches + 1, d), requires_grad=False)
        self.decoder_layers = nn.ModuleList(
            PixelLayer(config, d, config.decoder_num_attention_heads, config.decoder_intermediate_size)
            for _ in range(config.decoder_num_hidden_layers)
        )
        self.decoder_norm = nn.LayerNorm(d, eps=config.decoder_layer_norm_eps)
        self.decoder_pred = nn.Linear(d, config.patch_size**2 * config.num_channels)

    def initialize_weights(self) -> None:
        table = sincos_position_table(self.config.max_patches, self.config.decoder_hidden_size, self.config.position_embedding)
        init.copy_(self.decoder_pos_embed, table.unsqueeze(0))
        init.normal_(self.mask_token, std=self.config.initializer_range)

    def forward(self, latent: torch.Tensor, ids_restore: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
        """Each patch's predicted pixels (B, L, p*p*C)."""
        return self.decoder_pred(self.states(latent, ids_restore, attention_mask))

    def states(self, latent: torch.Tensor, ids_restore: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
        """The decoder's final (normalised) state of each patch (B, L, decoder_hidden_size)."""
        x = self.decoder_embed(latent)
        b, length = ids_restore.shape
        tokens = torch.cat([x[:, 1:], self.mask_token.expand(b, length + 1 - x.shape[1], -1)], dim=1)
        tokens = torch.gather(tokens, 1, ids_restore.unsqueeze(-1).expand(-1, -1, x.shape[2]))
        x = torch.cat([x[:, :1], tokens], dim=1) + self.decoder_pos_embed[:, : length + 1]
        key_mask = None
        if attention_mask is not None:
            key_mask = _key_mask(torch.cat([attention_mask.new_ones(b, 1), attention_mask], dim=1))
        if self.config.decoder_position_bias == "local":
            bias = local_attention_bias(x.shape[1], self.config.decoder_num_attention_heads, x.dtype, x.device)
            key_mask = bias if key_mask is None else bias.masked_fill(~key_mask, float("-inf"))
        for layer in self.decoder_layers:
            x = layer(x, key_mask)
        return self.decoder_norm(x)[:, 1:]


class PixelForPreTraining(PixelPreTrainedModel):
    """PIXEL with its decoder: masked patch reconstruction (and, with the config's
    `character_loss_weight`, pixlm's character head on hidden or visible patches)."""

    def __init__(self, config: PixelConfig):
        super().__init__(config)
        self.vit = PixelModel(config)
        self.decoder = PixelDecoder(config)
        self.character_head = None
        if config.character_loss_weight > 0:
            width = config.hidden_size if config.character_patches == "visible" else config.decoder_hidden_size
            self.character_head = nn.Linear(width, config.character_slots * config.character_vocab_size)
        self.post_init()

    def forward(
        self,
        pixel_values: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        patch_mask: torch.Tensor | None = None,
        noise: torch.Tensor | None = None,
        mask_ratio: float | None = None,
        character_labels: torch.Tensor | None = None,
        **kwargs,
    ) -> PixelForPreTrainingOutput:
        """Hide `mask_ratio` (default: the config's) of the patches, following `patch_mask` if
        given, and reconstruct them.

        The loss is the mean over hidden patches that hold text (attention_mask 1) of the mean
        squared error of their pixels, normalised per patch when `norm_pix_loss` is set (with
        `binary_pix_loss`, the binary cross-entropy of their ink). Given
        `character_labels` (B, L, character_slots) and a character head, the weighted character
        cross-entropy is added, over the hidden text patches or the visible ones (the config's
        `character_patches`; -100: no label).
        """
        b, length = pixel_values.shape[0], pixel_values.shape[-1] // self.config.patch_size
        full_attention = attention_mask
        if full_attention is None:
            full_attention = torch.ones(b, length, device=pixel_values.device)
        full_attention = full_attention.to(pixel_values.dtype)
        out = self.vit(
            pixel_values, attention_mask=full_attention, patch_mask=patch_mask, noise=noise,
            mask_ratio=self.config.mask_ratio if mask_ratio is None else mask_ratio,
        )
        states = self.decoder.states(out.last_hidden_state, out.ids_restore, full_attention if attention_mask is not None else None)
        logits = self.decoder.decoder_pred(states)
        loss = self.masked_patch_loss(logits, pixel_values, out.mask, full_attention)
        character_loss = None
        if character_labels is not None:
            if self.character_head is None:
                raise ValueError("character_labels given, but this model has no character head "
                                 "(its config's character_loss_weight is 0)")
            if self.config.character_patches == "visible":
                seen = self.unshuffle(out.last_hidden_state[:, 1:], out.ids_restore)
                character_loss = self.character_loss(seen, character_labels, (1 - out.mask) * full_attention)
            else:
                character_loss = self.character_loss(states, character_labels, out.mask * full_attention)
            loss = loss + self.config.character_loss_weight * character_loss
        return PixelForPreTrainingOutput(
            loss=loss, logits=logits, mask=out.mask, ids_restore=out.ids_restore, attention_mask=full_attention,
            character_loss=character_loss,
        )

    @staticmethod
    def unshuffle(kept: torch.Tensor, ids_restore: torch.Tensor) -> torch.Tensor:
        """The encoder's states of the kept patches (B, K, H) back in strip order (B, L, H),
        zeros where patches were hidden."""
        b, length = ids_restore.shape
        padded = torch.cat([kept, kept.new_zeros(b, length - kept.shape[1], kept.shape[2])], dim=1)
        return torch.gather(padded, 1, ids_restore.unsqueeze(-1).expand(-1, -1, kept.shape[2]))

    def character_loss(self, states: torch.Tensor, labels: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of the character head's predictions from `states` (B, L, width) against
        `labels` (B, L, slots), over the patches where `weight` is 1 and labels are not -100."""
        if labels.shape[:2] != states.shape[:2] or labels.shape[2] != self.config.character_slots:
            raise ValueError(f"character_labels must be (batch, patches, {self.config.character_slots}) = "
                             f"{(*states.shape[:2], self.config.character_slots)}, got {tuple(labels.shape)}")
        chosen = (weight > 0) & (labels != -100).any(-1)  # only these patches' logits are computed
        logits = self.character_head(states[chosen]).view(-1, self.config.character_vocab_size)
        if logits.shape[0] == 0:
            return self.character_head.weight.sum() * 0.0  # nothing to predict here, but a graph for DDP
        return F.cross_entropy(logits, labels[chosen].reshape(-1), ignore_index=-100)

    def masked_patch_loss(self, logits: torch.Tensor, pixel_values: torch.Tensor, mask: torch.Tensor,
                          attention_mask: torch.Tensor) -> torch.Tensor:
        """The mean over the hidden patches (`mask` 1) that hold text of each patch's loss against
        `pixel_values`, for the config's `pixel_target` (see `per_patch_loss`)."""
        weight = mask * attention_mask
        return (self.per_patch_loss(logits, pixel_values) * weight).sum() / weight.sum().clamp_min(1.0)

    def per_patch_loss(self, logits: torch.Tensor, pixel_values: torch.Tensor) -> torch.Tensor:
        """(B, L): each patch's loss, as `masked_patch_loss` averages it: the mean squared error
        against its pixels, normalised per patch (PIXEL's `norm_pix_loss`) or raw, or with
        `binary_pix_loss` the binary cross-entropy against its ink."""
        return per_patch_pixel_loss(logits, patchify(pixel_values, self.config.patch_size), self.config.pixel_target)

    def reconstruct(self, logits: torch.Tensor, pixel_values: torch.Tensor) -> torch.Tensor:
        """Predicted pixels (B, C, p, L*p) in [0, 1], undoing the per-patch normalisation with
        the statistics of the true patches (as PIXEL's figures do); for binary targets each
        pixel is as dark as the predicted probability of ink."""
        if self.config.pixel_target == "binary":
            logits = 1.0 - torch.sigmoid(logits)
        elif self.config.norm_pix_loss:
            mean, std = patch_stats(patchify(pixel_values, self.config.patch_size))
            logits = logits * std + mean
        return unpatchify(logits, self.config.patch_size, self.config.num_channels).clamp(0, 1)


def _classifier_dropout(config: PixelConfig) -> float:
    return config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob


class PixelForSequenceClassification(PixelPreTrainedModel):
    """PIXEL encoder, PIXEL's pooling head and a linear classifier; with `num_labels == 1` a
    regression (STS-B). Pooling by `config.pooling` (see `PixelConfig`): `mean` (PIXEL's
    default) and `max` after a linear layer, GELU and LayerNorm, `cls` through ViT's tanh
    pooler on CLS, `pma` by attention."""

    def __init__(self, config: PixelConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.vit = PixelModel(config, add_pooling_layer=config.pooling == "cls")
        self.pooler = SequencePoolingHead(config.hidden_size, config.pooling, config.pooling_layer_norm,
                                          _classifier_dropout(config), config.pma_heads)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, pixel_values: torch.Tensor, attention_mask: torch.Tensor | None = None,
                labels: torch.Tensor | None = None, **kwargs) -> SequenceClassifierOutput:
        out = self.vit(pixel_values, attention_mask=attention_mask)
        if out.pooler_output is not None:
            pooled = self.pooler(out.pooler_output, None)
        else:
            pooled = self.pooler(out.last_hidden_state[:, 1:], out.attention_mask[:, 1:])
        logits = self.classifier(pooled)
        loss = sequence_classification_loss(logits, labels, self.num_labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class PixelForTokenClassification(PixelPreTrainedModel):
    """A label per patch; train with labels on each word's first patch and -100 elsewhere
    (words rendered with the `words` or `bigrams` layout start on their own patch). With
    `config.word_pooling` "mean" (PIXEL: "first"), each word's patches are averaged before the
    classifier, which needs `word_starts` as the parser takes them."""

    def __init__(self, config: PixelConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.vit = PixelModel(config)
        self.dropout = nn.Dropout(_classifier_dropout(config))
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, pixel_values: torch.Tensor, attention_mask: torch.Tensor | None = None,
                labels: torch.Tensor | None = None, word_starts: torch.Tensor | None = None,
                **kwargs) -> TokenClassifierOutput:
        out = self.vit(pixel_values, attention_mask=attention_mask)
        states = out.last_hidden_state[:, 1:]
        if self.config.word_pooling == "mean":
            if word_starts is None:
                raise ValueError("word_pooling 'mean' needs word_starts: each word's first patch, then the patch after "
                                 "the last word (PixelTokenClassificationCollator gives them)")
            states = spread_word_means(states, word_starts)
        logits = self.classifier(self.dropout(states))
        loss = None
        if labels is not None:
            check_labels(labels, self.num_labels)
            loss = F.cross_entropy(logits.reshape(-1, self.num_labels), labels.reshape(-1), ignore_index=-100)
        return TokenClassifierOutput(loss=loss, logits=logits)


@dataclass
class PixelParsingOutput(ModelOutput):
    loss: torch.Tensor | None = None
    arc_logits: torch.Tensor | None = None  # (B, L, L + 1): word i taking node j as head (0 = root)
    rel_logits: torch.Tensor | None = None  # (B, L, L + 1, relations): each relation of each such arc
    num_words: torch.Tensor | None = None  # (B,) words of each example (rows past them are padding)


class PixelForBiaffineParsing(PixelPreTrainedModel):
    """Dependency parsing as in PIXEL: a word is the mean of its patches, the root is ViT's
    pooler output (tanh(dense(CLS))), biaffine scorers give arcs and relations. Inputs and
    outputs are PIXEL's: `word_starts` (B, K) each word's first patch then the patch after the
    last word, padded with -100; `arc_labels`/`rel_labels` (B, L) each word's head (0 = root) and
    relation, -100 past the words. Scores cover every row and column, padding included (decode
    with `evaluation.trees.decode_tree`, which keeps to the real words)."""

    _keys_to_ignore_on_load_unexpected = [r"^classifier\."]  # PIXEL's ViT parent's unused classifier

    def __init__(self, config: PixelConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.vit = PixelModel(config, add_pooling_layer=True)
        self.dropout = nn.Dropout(_classifier_dropout(config))
        self.biaffine_arcs = Biaffine(config.hidden_size, 1, bias_x=True, bias_y=False)
        self.biaffine_rels = Biaffine(config.hidden_size, config.num_labels, bias_x=True, bias_y=True)
        self.post_init()

    def forward(self, pixel_values: torch.Tensor, attention_mask: torch.Tensor | None = None,
                word_starts: torch.Tensor | None = None, arc_labels: torch.Tensor | None = None,
                rel_labels: torch.Tensor | None = None, **kwargs) -> PixelParsingOutput:
        if word_starts is None:
            raise ValueError("word_starts is required: each word's first patch, then the patch after the last word")
        out = self.vit(pixel_values, attention_mask=attention_mask)
        words, num_words = word_means(self.dropout(out.last_hidden_state[:, 1:]), word_starts)
        nodes = torch.cat([out.pooler_output.unsqueeze(1), words], dim=1)
        arcs = self.biaffine_arcs(words, nodes)
        rels = self.biaffine_rels(words, nodes)
        loss = None
        if arc_labels is not None and rel_labels is not None:
            gold = arc_labels != -100
            heads = arc_labels[gold]
            loss = F.cross_entropy(arcs[gold], heads)
            loss = loss + F.cross_entropy(rels[gold][torch.arange(len(heads), device=heads.device), heads], rel_labels[gold])
        return PixelParsingOutput(loss=loss, arc_logits=arcs, rel_logits=rels, num_words=num_words)


class PixelForQuestionAnswering(PixelPreTrainedModel):
    """Extractive QA as PIXEL does it: a start and an end score for every patch of a question |
    context strip and, last, for CLS (no answer). `start_positions`/`end_positions` index that
    sequence (patch k is k; no answer is the sequence length, PIXEL's `max_seq_length`)."""

    _keys_to_ignore_on_load_unexpected = [r"^classifier\.", r"^vit\.pooler\."]

    def __init__(self, config: PixelConfig):
        super().__init__(config)
        self.vit = PixelModel(config)
        self.qa_outputs = nn.Linear(config.hidden_size, 2)
        self.post_init()

    def forward(self, pixel_values: torch.Tensor, attention_mask: torch.Tensor | None = None,
                start_positions: torch.Tensor | None = None, end_positions: torch.Tensor | None = None,
                **kwargs) -> QuestionAnsweringModelOutput:
        states = self.vit(pixel_values, attention_mask=attention_mask).last_hidden_state
        sequence = torch.cat([states[:, 1:], states[:, :1]], dim=1)
        start, end = (x.squeeze(-1).contiguous() for x in self.qa_outputs(sequence).split(1, dim=-1))
        loss = None
        if start_positions is not None and end_positions is not None:
            ignored = start.shape[1]  # positions past the sequence are left out, as in PIXEL
            loss = (F.cross_entropy(start, start_positions.clamp(0, ignored), ignore_index=ignored)
                    + F.cross_entropy(end, end_positions.clamp(0, ignored), ignore_index=ignored)) / 2
        return QuestionAnsweringModelOutput(loss=loss, start_logits=start, end_logits=end)
