"""PixelGPT / MonoGPT / DualGPT: a causal decoder over patches and tokens."""

from .configuration_pixelgpt import PRESETS, PixelGPTConfig
from .modeling_pixelgpt import PixelGPTForCausalLM, PixelGPTOutput

__all__ = ["PRESETS", "PixelGPTConfig", "PixelGPTForCausalLM", "PixelGPTOutput"]
