"""`PixelGPTConfig`: the causal decoder of Chai et al. 2024 (PixelGPT, MonoGPT, DualGPT)."""

from __future__ import annotations

from transformers import LlamaConfig, PretrainedConfig

from ..presets import config_from_preset

PRESETS: dict[str, dict] = {
    "tiny": dict(hidden_size=192, num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2,
                 intermediate_size=512, max_patches=256),
    "small": dict(hidden_size=512, num_hidden_layers=8, num_attention_heads=8, num_key_value_heads=4,
                  intermediate_size=1408, max_patches=512),
    # The paper's 350M model: 1024 patches of a 16 x 16384 strip.
    "350m": dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, num_key_value_heads=8,
                 intermediate_size=2816, max_patches=1024),
}


PIXEL_TARGETS = ("normalized", "raw", "binary")


class PixelGPTConfig(PretrainedConfig):
    """A LLaMA-style decoder (RMSNorm, SwiGLU, rotary positions, grouped-query attention) over
    rendered patches and/or text tokens, with a pixel head and a token head.

    `pixel_target` is what the pixel head learns: `normalized` (per-patch normalised pixels,
    mean squared error, as in the paper), `raw` (pixels in [0, 1], mean squared error) or
    `binary` (ink or not per pixel, binary cross-entropy, as PIXAR does); the last two give
    generations that can be drawn as they are.
    """

    model_type = "pixelgpt"

    def __init__(
        self,
        hidden_size: int = 1024,
        num_hidden_layers: int = 24,
        num_attention_heads: int = 16,
        num_key_value_heads: int = 8,
        intermediate_size: int = 2816,
        rms_norm_eps: float = 1e-6,
        rope_theta: float = 10000.0,
        vocab_size: int = 32000,
        patch_size: int = 16,
        num_channels: int = 3,
        max_patches: int = 1024,
        max_tokens: int = 1024,
        pixel_loss_weight: float = 1.0,
        text_loss_weight: float = 1.0,
        pixel_target: str = "normalized",
        initializer_range: float = 0.02,
        **kwargs,
    ):
        super().__init__(**kwargs)
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
        self.pixel_loss_weight = pixel_loss_weight
        self.text_loss_weight = text_loss_weight
        self.pixel_target = pixel_target
        self.initializer_range = initializer_range

    @classmethod
    def from_preset(cls, name: str, **overrides) -> "PixelGPTConfig":
        return config_from_preset(cls, PRESETS, "PixelGPT", name, overrides)

    def llama_config(self) -> LlamaConfig:
        """The decoder stack's configuration, as transformers' Llama takes it."""
        return LlamaConfig(
            hidden_size=self.hidden_size, num_hidden_layers=self.num_hidden_layers,
            num_attention_heads=self.num_attention_heads, num_key_value_heads=self.num_key_value_heads,
            intermediate_size=self.intermediate_size, rms_norm_eps=self.rms_norm_eps,
            rope_parameters={"rope_theta": self.rope_theta, "rope_type": "default"}, vocab_size=self.vocab_size,
            max_position_embeddings=self.max_patches + self.max_tokens, hidden_act="silu",
            initializer_range=self.initializer_range, attention_bias=False, mlp_bias=False,
        )
