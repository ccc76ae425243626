"""`PixelConfig`: PIXEL (Rust et al. 2022), a ViT-MAE over rendered text."""

from __future__ import annotations

import math

from transformers import PretrainedConfig

from ..patches import PIXEL_TARGETS
from ..presets import config_from_preset
from ..validation import check_config_fields

# Sizes for CPU work and for the paper's model. `base` is PIXEL as published.
# How a tagger reads a word: "first" patch (PIXEL's), or the "mean" of the word's patches.
WORD_POOLING_MODES = ("first", "mean")
DECODER_POSITION_BIASES = ("none", "local")

PRESETS: dict[str, dict] = {
    "tiny": dict(hidden_size=192, num_hidden_layers=4, num_attention_heads=3, intermediate_size=768,
                 decoder_hidden_size=128, decoder_num_hidden_layers=2, decoder_num_attention_heads=4,
                 decoder_intermediate_size=512),
    "small": dict(hidden_size=384, num_hidden_layers=12, num_attention_heads=6, intermediate_size=1536,
                  decoder_hidden_size=256, decoder_num_hidden_layers=4, decoder_num_attention_heads=8,
                  decoder_intermediate_size=1024),
    "base": dict(),
}


class PixelConfig(PretrainedConfig):
    """Configuration of a PIXEL encoder and its pretraining decoder. Defaults are pixel-base.

    Also reads the `config.json` of published PIXEL checkpoints (`image_size` [16, 8464] gives
    `max_patches` 529), whose finetuned heads PIXEL saved as `model_type` "vit". `position_embedding`
    is `2d` (PIXEL: the 529 positions take the fixed sin-cos table of a 23 x 23 grid, in row
    order) or `1d` (a sin-cos table over positions).

    Sequence classification pools as PIXEL's heads do: `pooling` is `mean` (PIXEL's default),
    `max`, `cls` (the tanh pooler on CLS) or `pma` (attention pooling with `pma_heads` heads,
    PIXEL's "pma<heads>"), after a LayerNorm when `pooling_layer_norm`. PIXEL chose the pooling
    when it built the model and did not save it: load its checkpoints with the pooling they
    were finetuned with, e.g. `from_pretrained(folder, pooling="cls")`.

    `character_loss_weight` > 0 adds pixlm's character head to pretraining (not in PIXEL): it
    predicts the first `character_slots` characters drawn in each text patch (hashed into
    `character_vocab_size` classes, 0 for "no further character"), a discrete target beside the
    pixels, which the renderer labels for free. `character_patches` says where: `hidden`, from
    the decoder's states of the hidden patches (filling in, as the pixels), or `visible`, from
    the encoder's states of the patches it sees (reading them). The loss is the pixel loss plus
    this weight times the character cross-entropy.

    `decoder_position_bias` `local` (not in PIXEL; PIXEL's is `none`) adds to each decoder head's
    attention logits a fixed penalty growing with the distance between two patches (ALiBi's, Press
    et al. 2022, on both sides; slopes 1/2, 1/4, ... by head), so that a hidden patch attends to its
    neighbours from the first step instead of learning where they are from the sin-cos positions.
    The encoder, and so finetuning, is unchanged.

    The masked-patch targets (`pixel_target`) are PIXEL's per-patch normalised pixels
    (`norm_pix_loss`, mean squared error), raw pixels (`norm_pix_loss` false), or, with
    `binary_pix_loss` (not in PIXEL), PIXAR's ink-or-not per pixel with binary cross-entropy;
    `pixel_target="binary"` (or `normalized`, `raw`) sets them as PixelGPT's config names it.
    """

    model_type = "pixel"
    presets, family = PRESETS, "PIXEL"  # the named sizes (from_preset, load_model); the name in messages
    accepted_model_types = ("pixel", "vit", "vit_mae")  # PIXEL saved its finetuned heads as ViT's; transformers' ViT-MAE

    def __init__(
        self,
        hidden_size: int = 768,
        num_hidden_layers: int = 12,
        num_attention_heads: int = 12,
        intermediate_size: int = 3072,
        hidden_act: str = "gelu",
        hidden_dropout_prob: float = 0.1,
        attention_probs_dropout_prob: float = 0.1,
        initializer_range: float = 0.02,
        layer_norm_eps: float = 1e-12,
        qkv_bias: bool = True,
        patch_size: int = 16,
        num_channels: int = 3,
        max_patches: int = 529,
        image_size=None,
        position_embedding: str = "2d",
        decoder_hidden_size: int = 512,
        decoder_num_hidden_layers: int = 8,
        decoder_num_attention_heads: int = 16,
        decoder_intermediate_size: int = 2048,
        mask_ratio: float = 0.25,
        norm_pix_loss: bool = True,
        binary_pix_loss: bool = False,
        max_span_length: int = 6,
        span_weights=(0.2, 0.4, 0.6, 0.8, 0.9, 1.0),
        pooling: str = "mean",
        pma_heads: int = 1,
        pooling_layer_norm: bool = True,
        classifier_dropout: float | None = None,
        word_pooling: str = "first",
        decoder_layer_norm_eps: float = 1e-5,
        character_loss_weight: float = 0.0,
        character_slots: int = 4,
        character_vocab_size: int = 1280,
        character_patches: str = "hidden",
        pixel_target: str | None = None,
        decoder_position_bias: str = "none",
        **kwargs,
    ):
        for unused in ("encoder_stride", "interpolate_pos_encoding"):  # written by PIXEL's ViT heads, unused
            kwargs.pop(unused, None)
        super().__init__(**kwargs)
        if isinstance(pooling, str) and pooling.startswith("pma") and pooling[3:].isdigit():
            pooling, pma_heads = "pma", int(pooling[3:])  # PIXEL's "pma<heads>"
        if image_size is not None:  # PIXEL's config names the strip's size instead
            height, width = (image_size, image_size) if isinstance(image_size, int) else image_size
            if height != patch_size:
                raise ValueError(f"image_size {list(image_size)} must be one patch ({patch_size}) high")
            max_patches = width // patch_size
        if position_embedding not in ("1d", "2d"):
            raise ValueError(f"position_embedding must be '1d' or '2d', got {position_embedding!r}")
        if hidden_size % num_attention_heads or decoder_hidden_size % decoder_num_attention_heads:
            raise ValueError("hidden sizes must be divisible by their numbers of attention heads")
        if not 0.0 <= mask_ratio < 1.0:
            raise ValueError(f"mask_ratio must be in [0, 1), got {mask_ratio}")
        if isinstance(character_loss_weight, bool) or not isinstance(character_loss_weight, (int, float)) \
                or not math.isfinite(character_loss_weight) or character_loss_weight < 0:
            raise ValueError(f"character_loss_weight must be a number >= 0 (0: no character head), got {character_loss_weight!r}")
        if not isinstance(binary_pix_loss, bool):
            raise ValueError(f"binary_pix_loss must be true or false, got {binary_pix_loss!r}")
        if word_pooling not in WORD_POOLING_MODES:
            raise ValueError(f"word_pooling must be one of {', '.join(WORD_POOLING_MODES)}, got {word_pooling!r}")
        if character_patches not in ("hidden", "visible"):
            raise ValueError(f"character_patches must be 'hidden' or 'visible', got {character_patches!r}")
        if decoder_position_bias not in DECODER_POSITION_BIASES:
            raise ValueError(f"decoder_position_bias must be one of {', '.join(DECODER_POSITION_BIASES)}, "
                             f"got {decoder_position_bias!r}")
        if position_embedding == "2d" and (hidden_size % 4 or decoder_hidden_size % 4):
            raise ValueError("2d sin-cos position embeddings need hidden sizes divisible by 4")
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.hidden_act = hidden_act
        self.hidden_dropout_prob = hidden_dropout_prob
        self.attention_probs_dropout_prob = attention_probs_dropout_prob
        self.initializer_range = initializer_range
        self.layer_norm_eps = layer_norm_eps
        self.qkv_bias = qkv_bias
        self.patch_size = patch_size
        self.num_channels = num_channels
        self.max_patches = max_patches
        self.image_size = [patch_size, patch_size * max_patches]
        self.position_embedding = position_embedding
        self.decoder_hidden_size = decoder_hidden_size
        self.decoder_num_hidden_layers = decoder_num_hidden_layers
        self.decoder_num_attention_heads = decoder_num_attention_heads
        self.decoder_intermediate_size = decoder_intermediate_size
        self.mask_ratio = mask_ratio
        self.norm_pix_loss = norm_pix_loss
        self.binary_pix_loss = binary_pix_loss
        if pixel_target is not None:
            self.pixel_target = pixel_target
        self.max_span_length = max_span_length
        self.span_weights = list(span_weights)
        # Finetuning heads: how a sequence is pooled, and the dropout before the classifier.
        self.pooling = pooling
        self.pma_heads = pma_heads
        self.pooling_layer_norm = pooling_layer_norm
        self.classifier_dropout = classifier_dropout
        # Tagging: a word's tag from its first patch (PIXEL) or from the mean of its patches.
        self.word_pooling = word_pooling
        # PIXEL's decoder ends in a LayerNorm of PyTorch's default eps, not layer_norm_eps.
        self.decoder_layer_norm_eps = decoder_layer_norm_eps
        # Pretraining's optional character head (off in PIXEL): the decoder also predicts, for each
        # hidden text patch, the first `character_slots` characters the renderer drew there.
        self.character_loss_weight = character_loss_weight
        self.character_slots = character_slots
        self.character_vocab_size = character_vocab_size
        self.character_patches = character_patches
        # pixlm's option (not in PIXEL): a fixed bias toward near patches in the decoder's attention.
        self.decoder_position_bias = decoder_position_bias
        check_config_fields(self, sizes=("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                                         "patch_size", "num_channels", "max_patches",
                                         "decoder_hidden_size", "decoder_num_hidden_layers", "decoder_num_attention_heads",
                                         "decoder_intermediate_size", "max_span_length",
                                         "character_slots", "character_vocab_size"),
                            probabilities=("hidden_dropout_prob", "attention_probs_dropout_prob"))

    @property
    def pixel_target(self) -> str:
        """What the decoder learns for a hidden patch: `binary` (ink or not, with `binary_pix_loss`),
        `normalized` (PIXEL's, with `norm_pix_loss`) or `raw` pixels."""
        if getattr(self, "binary_pix_loss", False):
            return "binary"
        return "normalized" if self.norm_pix_loss else "raw"

    @pixel_target.setter
    def pixel_target(self, target: str) -> None:
        if target not in PIXEL_TARGETS:
            raise ValueError(f"pixel_target must be one of {', '.join(PIXEL_TARGETS)}; got {target!r}")
        self.norm_pix_loss, self.binary_pix_loss = target == "normalized", target == "binary"

    @classmethod
    def from_dict(cls, config_dict: dict, **kwargs):
        # PIXEL's finetuned heads subclass ViTForImageClassification and save model_type "vit".
        if config_dict.get("model_type") == "vit" and any(
                a.startswith("PIXELFor") for a in config_dict.get("architectures") or []):
            config_dict = {**config_dict, "model_type": cls.model_type}
        return super().from_dict(config_dict, **kwargs)

    @classmethod
    def get_config_dict(cls, pretrained_model_name_or_path, **kwargs):
        config_dict, kwargs = super().get_config_dict(pretrained_model_name_or_path, **kwargs)
        if config_dict.get("model_type") == "vit" and any(
                a.startswith("PIXELFor") for a in config_dict.get("architectures") or []):
            config_dict["model_type"] = cls.model_type  # so that loading it does not warn of a type mismatch
        return config_dict, kwargs

    @classmethod
    def from_preset(cls, name: str, **overrides) -> "PixelConfig":
        """`tiny`, `small` or `base` (pixel-base), with any field overridden."""
        return config_from_preset(cls, cls.presets, cls.family, name, overrides)
