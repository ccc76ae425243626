"""PIXEL: a masked autoencoder over rendered text."""

from .configuration_pixel import PRESETS, PixelConfig
from .modeling_pixel import (
    LEGACY_KEY_MAPPING,
    PixelForBiaffineParsing,
    PixelForPreTraining,
    PixelForPreTrainingOutput,
    PixelForQuestionAnswering,
    PixelForSequenceClassification,
    PixelForTokenClassification,
    PixelModel,
    PixelModelOutput,
    PixelPreTrainedModel,
    local_attention_bias,
    mask_patches,
    patchify,
    sincos_position_table,
    unpatchify,
)

__all__ = [
    "LEGACY_KEY_MAPPING", "PRESETS", "PixelConfig", "PixelForPreTraining", "PixelForBiaffineParsing", "PixelForPreTrainingOutput",
    "PixelForQuestionAnswering",
    "PixelForSequenceClassification", "PixelForTokenClassification",
    "PixelModel", "PixelModelOutput", "PixelPreTrainedModel", "local_attention_bias", "mask_patches", "patchify",
    "sincos_position_table", "unpatchify",
]
