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

from ..heads import Biaffine, Pooler, sequence_classification_loss, span_means
from ..patches import patch_stats, patchify, unpatchify
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
    top the mask up to the ratio. Without either, at least one text patch is always hidden (so
    the loss, taken on hidden text patches, exists).

    Returns the kept sequence, its attention mask, the mask (B, L; 1 = hidden) and the indices
    that restore the original order.
    """
    b, length, dim = sequence.shape
    len_keep = int(length * (1 - mask_ratio))
    if noise is None:
        noise = torch.rand(b, length, device=sequence.device)
        if patch_mask is not None:
            noise = patch_mask.to(noise.dtype) + noise / 100
        else:
            text_max = torch.argmax(noise * attention_mask, dim=1)
            noise[torch.arange(b, device=noise.device), text_max] = 100.0
    elif patch_mask is not None:
        noise = noise + patch_mask.to(noise.dtype)
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
        if pixel_values.shape[1] != self.num_channels:
            raise ValueError(
                f"pixel_values has {pixel_values.shape[1]} channels but the model expects {self.num_channels}; "
                "render in RGB for 3 channels (or repeat grayscale), grayscale for 1"
            )
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
        # key_mask: (B, 1, 1, n) booleans, True where a key may be attended.
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


def _key_mask(attention_mask: torch.Tensor | None) -> torch.Tensor | None:
    """(B, n) 0/1 -> (B, 1, 1, n) booleans for SDPA; None when nothing is padded."""
    if attention_mask is None or bool(attention_mask.all()):
        return None
    return attention_mask.bool()[:, None, None, :]


@dataclass
class PixelModelOutput(ModelOutput):
    """Encoder outputs. With masking, `last_hidden_state` covers CLS and the kept patches only."""

    last_hidden_state: torch.Tensor | None = None
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
        first mismatching key named."""
        # The legacy patterns match only legacy names, so they are safe on any checkpoint (and a
        # Hub id cannot be looked into before it is downloaded).
        if kwargs.get("key_mapping") is None:
            kwargs["key_mapping"] = dict(LEGACY_KEY_MAPPING)
        want_info = kwargs.pop("output_loading_info", False)
        allow_mismatch = kwargs.pop("ignore_mismatched_sizes", False)
        model, info = super().from_pretrained(
            pretrained_model_name_or_path, *args, output_loading_info=True, ignore_mismatched_sizes=True, **kwargs
        )
        # transformers would undo the renaming on save_pretrained: save in today's names instead.
        model._weight_conversions = None
        if info["mismatched_keys"] and not allow_mismatch:
            order = {k: i for i, k in enumerate(model.state_dict())}
            key, theirs, ours = min(info["mismatched_keys"], key=lambda m: order.get(m[0], len(order)))
            raise ValueError(
                f"checkpoint {pretrained_model_name_or_path} does not fit this model's config: first mismatching "
                f"key {key} has shape {tuple(theirs)} in the checkpoint but {tuple(ours)} in the model "
                f"({len(info['mismatched_keys'])} mismatching keys); load it with its own config.json"
            )
        return (model, info) if want_info else model


class PixelModel(PixelPreTrainedModel):
    """The PIXEL encoder. Without masking (the default) it encodes every patch; padding
    patches (attention_mask 0) are neither attended to nor affect the others."""

    def __init__(self, config: PixelConfig):
        super().__init__(config)
        self.embeddings = PixelEmbeddings(config)
        self.layers = nn.ModuleList(
            PixelLayer(config, config.hidden_size, config.num_attention_heads, config.intermediate_size)
            for _ in range(config.num_hidden_layers)
        )
        self.layernorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
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
        return PixelModelOutput(
            last_hidden_state=self.layernorm(hidden),
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
        self.decoder_norm = nn.LayerNorm(d, eps=config.layer_norm_eps)
        self.decoder_pred = nn.Linear(d, config.patch_size**2 * config.num_channels)

    def initialize_weights(self) -> None:
        table = sincos_position_table(self.config.max_patches, self.config.decoder_hidden_size, self.config.position_embedding)
        init.copy_(self.decoder_pos_embed, table.unsqueeze(0))
        init.normal_(self.mask_token, std=self.config.initializer_range)

    def forward(self, latent: torch.Tensor, ids_restore: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
        x = self.decoder_embed(latent)
        b, length = ids_restore.shape
        tokens = torch.cat([x[:, 1:], self.mask_token.expand(b, length + 1 - x.shape[1], -1)], dim=1)
        tokens = torch.gather(tokens, 1, ids_restore.unsqueeze(-1).expand(-1, -1, x.shape[2]))
        x = torch.cat([x[:, :1], tokens], dim=1) + self.decoder_pos_embed[:, : length + 1]
        key_mask = None
        if attention_mask is not None:
            key_mask = _key_mask(torch.cat([attention_mask.new_ones(b, 1), attention_mask], dim=1))
        for layer in self.decoder_layers:
            x = layer(x, key_mask)
        return self.decoder_pred(self.decoder_norm(x))[:, 1:]


class PixelForPreTraining(PixelPreTrainedModel):
    """PIXEL with its decoder: masked patch reconstruction."""

    def __init__(self, config: PixelConfig):
        super().__init__(config)
        self.vit = PixelModel(config)
        self.decoder = PixelDecoder(config)
        self.post_init()

    def forward(
        self,
        pixel_values: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        patch_mask: torch.Tensor | None = None,
        noise: torch.Tensor | None = None,
        mask_ratio: float | None = None,
        **kwargs,
    ) -> PixelForPreTrainingOutput:
        """Hide `mask_ratio` (default: the config's) of the patches, following `patch_mask` if
        given, and reconstruct them.

        The loss is the mean over hidden patches that hold text (attention_mask 1) of the mean
        squared error of their pixels, normalised per patch when `norm_pix_loss` is set.
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
        logits = self.decoder(out.last_hidden_state, out.ids_restore, full_attention if attention_mask is not None else None)
        loss = self.masked_patch_loss(logits, pixel_values, out.mask, full_attention)
        return PixelForPreTrainingOutput(
            loss=loss, logits=logits, mask=out.mask, ids_restore=out.ids_restore, attention_mask=full_attention
        )

    def masked_patch_loss(self, logits: torch.Tensor, pixel_values: torch.Tensor, mask: torch.Tensor,
                          attention_mask: torch.Tensor) -> torch.Tensor:
        """Mean squared error of predicted patches against `pixel_values` (normalised per patch
        when `norm_pix_loss` is set), over the hidden patches (`mask` 1) that hold text."""
        target = patchify(pixel_values, self.config.patch_size)
        if self.config.norm_pix_loss:
            mean, std = patch_stats(target)
            target = (target - mean) / std
        per_patch = ((logits - target) ** 2).mean(dim=-1)
        weight = mask * attention_mask
        return (per_patch * weight).sum() / weight.sum().clamp_min(1.0)

    def reconstruct(self, logits: torch.Tensor, pixel_values: torch.Tensor) -> torch.Tensor:
        """Predicted pixels (B, C, p, L*p) in [0, 1], undoing the per-patch normalisation with
        the statistics of the true patches (as PIXEL's figures do)."""
        if self.config.norm_pix_loss:
            mean, std = patch_stats(patchify(pixel_values, self.config.patch_size))
            logits = logits * std + mean
        return unpatchify(logits, self.config.patch_size, self.config.num_channels).clamp(0, 1)


def _classifier_dropout(config: PixelConfig) -> float:
    return config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob


class PixelForSequenceClassification(PixelPreTrainedModel):
    """PIXEL encoder, a pooled vector per text (or pair), and a linear classifier; with
    `num_labels == 1` a regression (STS-B)."""

    def __init__(self, config: PixelConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.vit = PixelModel(config)
        self.pooler = Pooler(config.hidden_size, config.pooling, config.pma_heads)
        self.dropout = nn.Dropout(_classifier_dropout(config))
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, pixel_values: torch.Tensor, attention_mask: torch.Tensor | None = None,
                labels: torch.Tensor | None = None, **kwargs) -> SequenceClassifierOutput:
        out = self.vit(pixel_values, attention_mask=attention_mask)
        patches_mask = out.attention_mask[:, 1:]
        logits = self.classifier(self.dropout(self.pooler(out.last_hidden_state, patches_mask)))
        loss = sequence_classification_loss(logits, labels, self.num_labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class PixelForTokenClassification(PixelPreTrainedModel):
    """A label per patch; train with labels on each word's first patch and -100 elsewhere
    (words rendered with the `words` or `bigrams` layout start on their own patch)."""

    def __init__(self, config: PixelConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.vit = PixelModel(config)
        self.dropout = nn.Dropout(_classifier_dropout(config))
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, pixel_values: torch.Tensor, attention_mask: torch.Tensor | None = None,
                labels: torch.Tensor | None = None, **kwargs) -> TokenClassifierOutput:
        out = self.vit(pixel_values, attention_mask=attention_mask)
        logits = self.classifier(self.dropout(out.last_hidden_state[:, 1:]))
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.reshape(-1, self.num_labels), labels.reshape(-1), ignore_index=-100)
        return TokenClassifierOutput(loss=loss, logits=logits)


@dataclass
class PixelParsingOutput(ModelOutput):
    loss: torch.Tensor | None = None
    arc_logits: torch.Tensor | None = None  # (B, W, 1 + max_patches): word i taking node j as head (0 = root)
    rel_predictions: torch.Tensor | None = None  # (B, W, 1 + max_patches): best relation for each such arc
    num_words: torch.Tensor | None = None  # (B,) words that were drawn


class PixelForBiaffineParsing(PixelPreTrainedModel):
    """Dependency parsing as in PIXEL: a word is the mean of its patches, the root is the CLS
    state, biaffine scorers give arcs and relations (decode with `evaluation.trees.decode_tree`
    so that the output is always a tree)."""

    def __init__(self, config: PixelConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.vit = PixelModel(config)
        self.dropout = nn.Dropout(_classifier_dropout(config))
        self.biaffine_arcs = Biaffine(config.hidden_size, 1, bias_x=True, bias_y=False)
        self.biaffine_rels = Biaffine(config.hidden_size, config.num_labels, bias_x=True, bias_y=True)
        self.post_init()

    def forward(self, pixel_values: torch.Tensor, attention_mask: torch.Tensor | None = None,
                word_spans: torch.Tensor | None = None, heads: torch.Tensor | None = None,
                rels: torch.Tensor | None = None, **kwargs) -> PixelParsingOutput:
        """word_spans (B, W, 2): each word's [first, last + 1) patches, -1 for padding; heads and
        rels (B, W): gold head (0 = root) and relation id, -100 where there is none."""
        if word_spans is None:
            raise ValueError("word_spans is required: the [start, end) patches of each word")
        states = self.vit(pixel_values, attention_mask=attention_mask).last_hidden_state
        words = span_means(states[:, 1:], word_spans)
        nodes = torch.cat([states[:, :1], words], dim=1)
        word_mask = word_spans[..., 0] >= 0
        node_mask = torch.cat([word_mask.new_ones(word_mask.shape[0], 1), word_mask], dim=1)
        words_d, nodes_d = self.dropout(words), self.dropout(nodes)
        arcs = self.biaffine_arcs(words_d, nodes_d).masked_fill(~node_mask[:, None, :], torch.finfo(states.dtype).min)
        rel_scores = self.biaffine_rels(words_d, nodes_d)
        loss = None
        if heads is not None and rels is not None:
            gold = (heads != -100) & word_mask
            arc_loss = F.cross_entropy(arcs[gold], heads[gold])
            at_gold = rel_scores[gold].gather(1, heads[gold].view(-1, 1, 1).expand(-1, 1, self.num_labels)).squeeze(1)
            loss = arc_loss + F.cross_entropy(at_gold, rels[gold])
        # Scores of nodes are padded to a fixed width (every patch could start a word), so that
        # batches with different numbers of words concatenate in evaluation.
        width = self.config.max_patches + 1 - arcs.shape[-1]
        return PixelParsingOutput(loss=loss, arc_logits=F.pad(arcs, (0, width), value=torch.finfo(arcs.dtype).min),
                                  rel_predictions=F.pad(rel_scores.argmax(-1), (0, width)), num_words=word_mask.sum(1))


class PixelForQuestionAnswering(PixelPreTrainedModel):
    """Extractive QA: a start and an end score for CLS (position 0: no answer) and every patch
    of a question | context pair. `start_positions`/`end_positions` index that sequence."""

    def __init__(self, config: PixelConfig):
        super().__init__(config)
        self.vit = PixelModel(config)
        self.qa_outputs = nn.Linear(config.hidden_size, 2)
        self.post_init()

    def forward(self, pixel_values: torch.Tensor, attention_mask: torch.Tensor | None = None,
                start_positions: torch.Tensor | None = None, end_positions: torch.Tensor | None = None,
                **kwargs) -> QuestionAnsweringModelOutput:
        out = self.vit(pixel_values, attention_mask=attention_mask)
        start, end = self.qa_outputs(out.last_hidden_state).unbind(-1)
        padding = out.attention_mask == 0
        start = start.masked_fill(padding, torch.finfo(start.dtype).min)
        end = end.masked_fill(padding, torch.finfo(end.dtype).min)
        loss = None
        if start_positions is not None and end_positions is not None:
            loss = (F.cross_entropy(start, start_positions) + F.cross_entropy(end, end_positions)) / 2
        return QuestionAnsweringModelOutput(loss=loss, start_logits=start, end_logits=end)
