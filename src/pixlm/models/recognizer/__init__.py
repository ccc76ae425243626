"""The line recognizer: reads rendered strips (any layout, or a model's output) back as text."""

from .configuration_recognizer import BLANK, UNKNOWN, RecognizerConfig
from .modeling_recognizer import PixelRecognizer, PixelRecognizerPreTrainedModel, Reading, RecognizerOutput, decode, decode_best

__all__ = ["BLANK", "UNKNOWN", "PixelRecognizer", "PixelRecognizerPreTrainedModel", "Reading", "RecognizerConfig",
           "RecognizerOutput", "decode", "decode_best"]
