"""`PixelGPTConfig`: the causal decoder of Chai et al. 2024 (PixelGPT, MonoGPT, DualGPT).

It carries every field of transformers' `LlamaConfig` (the decoder stack is transformers'
Llama) and the pixel side's. It also reads the released checkpoints' `config.json`
(ErniePixel, `model_type` "ernie-pixel": baidu/PixelGPT, baidu/MonoGPT, baidu/DualGPT).
"""

from __future__ import annotations

from transformers import LlamaConfig, PretrainedConfig

from ..patches import PIXEL_TARGETS
from ..presets import config_from_preset
from ..validation import check_config_fields

PRESETS: dict[str, dict] = {
    "tiny": dict(hidden_size=192, num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2,
                 intermediate_size=512, max_patches=256),
    "small": dict(hidden_size=512, num_hidden_layers=8, num_attention_heads=8, num_key_value_heads=4,
                  intermediate_size=1408, max_patches=512),
    # The paper's 350M model as released (baidu/PixelGPT): 1024 positions, 529 patches of a
    # 16 x 8464 strip (PIXEL's renderer), RMSNorm eps 1e-5.
    "350m": dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, num_key_value_heads=8,
                 intermediate_size=2816, max_patches=529, max_position_embeddings=1024, rms_norm_eps=1e-5),
}


# The released checkpoints' model_type.
ERNIE_PIXEL = "ernie-pixel"


class PixelGPTConfig(PretrainedConfig):
    """A LLaMA-style decoder (RMSNorm, SwiGLU, rotary positions, grouped-query attention) over
    rendered patches and/or text tokens, with a pixel head and a token head.

    `pixel_target` is what the pixel head learns: `normalized` (per-patch normalised pixels,
    mean squared error, as in the paper), `raw` (pixels in [0, 1], mean squared error) or
    `binary` (ink or not per pixel, binary cross-entropy, as PIXAR does); the last two give
    generations that can be drawn as they are. Positions run over patches and tokens together,
    up to `max_position_embeddings` (by default `max_patches + max_tokens`).
    """

    model_type = "pixelgpt"
    presets, family = PRESETS, "PixelGPT"  # the named sizes (from_preset, load_model); the name in messages
    accepted_model_types = ("pixelgpt", "ernie-pixel")  # pixlm's, and the released baidu/PixelGPT checkpoints'

    def __init__(
        self,
        hidden_size: int = 1024,
        num_hidden_layers: int = 24,
        num_attention_heads: int = 16,
        num_key_value_heads: int = 8,
        intermediate_size: int = 2816,
        rms_norm_eps: float = 1e-5,
        rope_theta: float = 10000.0,
        vocab_size: int = 32000,
        patch_size: int = 16,
        num_channels: int = 3,
        max_patches: int = 1024,
        max_tokens: int = 1024,
        max_position_embeddings: int | None = None,
        pixel_loss_weight: float = 1.0,
        text_loss_weight: float = 1.0,
        pixel_target: str = "normalized",
        initializer_range: float = 0.02,
        image_size=None,
        pad_token_id: int | None = 0,
        bos_token_id: int | None = 1,
        eos_token_id: int | None = 2,
        **kwargs,
    ):
        # Fields of the released config that are the defaults of this one (or unused here).
        for unused in ("hidden_act", "attention_bias", "attention_dropout", "mlp_bias", "pretraining_tp",
                       "rope_scaling", "use_cache", "norm_pix_loss", "tie_word_embeddings", "head_dim",
                       "rope_parameters"):
            kwargs.pop(unused, None)  # the released config's values are this decoder's
        super().__init__(pad_token_id=pad_token_id, bos_token_id=bos_token_id, eos_token_id=eos_token_id, **kwargs)
        if image_size is not None:  # the released config names the strip's size instead
            height, width = (image_size, image_size) if isinstance(image_size, int) else image_size
            if height != patch_size:
                raise ValueError(f"image_size {list(image_size)} must be one patch ({patch_size}) high")
            max_patches = width // patch_size
        if pixel_target not in PIXEL_TARGETS:
            raise ValueError(f"pixel_target must be one of {', '.join(PIXEL_TARGETS)}; got {pixel_target!r}")
        if hidden_size % num_attention_heads or num_attention_heads % num_key_value_heads:
            raise ValueError(
                f"hidden_size ({hidden_size}) must divide by num_attention_heads ({num_attention_heads}), "
                f"and that by num_key_value_heads ({num_key_value_heads})"
            )
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.num_key_value_heads = num_key_value_heads
        self.intermediate_size = intermediate_size
        self.rms_norm_eps = rms_norm_eps
        self.rope_theta = rope_theta
        self.vocab_size = vocab_size
        self.patch_size = patch_size
        self.num_channels = num_channels
        self.max_patches = max_patches
        self.max_tokens = max_tokens
        self.max_position_embeddings = max_position_embeddings or max_patches + max_tokens
        self.pixel_loss_weight = pixel_loss_weight
        self.text_loss_weight = text_loss_weight
        self.pixel_target = pixel_target
        self.initializer_range = initializer_range
        self.image_size = [patch_size, patch_size * max_patches]
        # What transformers' Llama reads of its config.
        self.hidden_act = "silu"
        self.head_dim = hidden_size // num_attention_heads
        self.attention_bias = False
        self.attention_dropout = 0.0
        self.mlp_bias = False
        self.pretraining_tp = 1
        self.rope_parameters = {"rope_theta": rope_theta, "rope_type": "default"}
        self.use_cache = True
        check_config_fields(self, sizes=("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                                         "patch_size", "num_channels", "max_patches",
                                         "vocab_size", "max_tokens"),
                            probabilities=("attention_dropout",))

    def to_dict(self) -> dict:
        out = super().to_dict()
        out.pop("rope_parameters", None)  # rebuilt from rope_theta
        return out

    def llama_config(self):
        """transformers' `LlamaConfig` of the same decoder stack (to compare against Llama)."""
        return LlamaConfig(
            hidden_size=self.hidden_size, num_hidden_layers=self.num_hidden_layers,
            num_attention_heads=self.num_attention_heads, num_key_value_heads=self.num_key_value_heads,
            intermediate_size=self.intermediate_size, rms_norm_eps=self.rms_norm_eps,
            rope_parameters=dict(self.rope_parameters), vocab_size=self.vocab_size,
            max_position_embeddings=self.max_position_embeddings, hidden_act="silu",
            initializer_range=self.initializer_range, attention_bias=False, mlp_bias=False,
        )

    @classmethod
    def get_config_dict(cls, pretrained_model_name_or_path, **kwargs):
        config_dict, kwargs = super().get_config_dict(pretrained_model_name_or_path, **kwargs)
        if config_dict.get("model_type") == ERNIE_PIXEL:
            config_dict["model_type"] = cls.model_type  # the released layout is this one
        return config_dict, kwargs

    @classmethod
    def from_preset(cls, name: str, **overrides) -> "PixelGPTConfig":
        return config_from_preset(cls, cls.presets, cls.family, name, overrides)


class ErniePixelConfig(PixelGPTConfig):
    """The released checkpoints' config (`model_type` "ernie-pixel"), read as `PixelGPTConfig`:
    registered with `AutoConfig` so that the Auto classes open baidu/PixelGPT as they are."""

    model_type = ERNIE_PIXEL

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
