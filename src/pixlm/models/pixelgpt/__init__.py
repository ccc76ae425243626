"""PixelGPT / MonoGPT / DualGPT: a causal decoder over patches and tokens."""

from .configuration_pixelgpt import PIXEL_TARGETS, PRESETS, PixelGPTConfig
from .modeling_pixelgpt import (
    PixelGPTForCausalLM, PixelGPTForSequenceClassification, PixelGPTOutput, PixelGPTPreTrainedModel,
)

__all__ = [
    "PIXEL_TARGETS", "PRESETS", "PixelGPTConfig", "PixelGPTForCausalLM", "PixelGPTForSequenceClassification",
    "PixelGPTOutput", "PixelGPTPreTrainedModel",
]
