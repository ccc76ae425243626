"""PixelGPT / MonoGPT / DualGPT: a causal decoder over patches and tokens."""

from .configuration_pixelgpt import ERNIE_PIXEL, PIXEL_TARGETS, PRESETS, ErniePixelConfig, PixelGPTConfig
from .modeling_pixelgpt import (
    LEGACY_KEY_MAPPING,
    ErniePixelForCausalLM,
    ErniePixelForSequenceClassification,
    PixelGPTForCausalLM,
    PixelGPTForSequenceClassification,
    PixelGPTModel,
    PixelGPTOutput,
    PixelGPTPreTrainedModel,
)

__all__ = [
    "ERNIE_PIXEL", "ErniePixelConfig", "ErniePixelForCausalLM", "ErniePixelForSequenceClassification",
    "LEGACY_KEY_MAPPING", "PIXEL_TARGETS", "PRESETS", "PixelGPTConfig", "PixelGPTForCausalLM",
    "PixelGPTForSequenceClassification", "PixelGPTModel", "PixelGPTOutput", "PixelGPTPreTrainedModel",
]
