"""Pixel-BERT: a CNN over image pixels joined with a BERT transformer."""

from .backbones import BACKBONES, build_backbone, load_backbone_weights
from .configuration_pixelbert import PRESETS, PixelBertConfig
from .modeling_pixelbert import (
    PixelBertForImageTextRetrieval,
    PixelBertForNLVR2,
    PixelBertForPreTraining,
    PixelBertForQuestionAnswering,
    PixelBertModel,
    PixelBertPreTrainedModel,
    VisualTokens,
    cell_mask,
    sample_cells,
)

__all__ = [
    "BACKBONES", "PRESETS", "PixelBertConfig", "PixelBertForImageTextRetrieval", "PixelBertForNLVR2",
    "PixelBertForPreTraining", "PixelBertForQuestionAnswering", "PixelBertModel", "PixelBertPreTrainedModel",
    "VisualTokens", "build_backbone", "cell_mask", "load_backbone_weights", "sample_cells",
]
