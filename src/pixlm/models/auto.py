"""pixlm's model families registered with transformers' Auto classes, so that
`AutoConfig`/`AutoModel`/`AutoModelFor...` open any pixlm checkpoint (and the released PixelGPT
ones, `model_type` "ernie-pixel"). `import pixlm` arranges for this to run when transformers'
Auto classes are first imported (`pixlm._registration`)."""

from __future__ import annotations

from .pixel import configuration_pixel
from .pixelbert import configuration_pixelbert
from .pixelgpt import configuration_pixelgpt
from .recognizer import configuration_recognizer

CONFIGS = {
    "pixel": configuration_pixel.PixelConfig,
    "pixelgpt": configuration_pixelgpt.PixelGPTConfig,
    configuration_pixelgpt.ERNIE_PIXEL: configuration_pixelgpt.ErniePixelConfig,
    "pixelbert": configuration_pixelbert.PixelBertConfig,
    "pixlm-recognizer": configuration_recognizer.RecognizerConfig,
}


# Imports inside functions: these run from a hook while transformers is importing its Auto
# modules (`pixlm._registration`); at this module's import those modules are not there yet. For
# the same reason the Auto classes come from their own modules, not transformers' lazy namespace.
def register_configs() -> None:
    from transformers.models.auto.configuration_auto import AutoConfig

    for model_type, config in CONFIGS.items():
        AutoConfig.register(model_type, config, exist_ok=True)


def register_models() -> None:
    from transformers.models.auto.modeling_auto import (
        AutoModel,
        AutoModelForCausalLM,
        AutoModelForPreTraining,
        AutoModelForQuestionAnswering,
        AutoModelForSequenceClassification,
        AutoModelForTokenClassification,
    )

    from . import pixel, pixelbert, pixelgpt, recognizer

    register_configs()
    # Per family: the Auto class that opens each of its models.
    families = {
        pixel.PixelConfig: {AutoModel: pixel.PixelModel, AutoModelForPreTraining: pixel.PixelForPreTraining,
                            AutoModelForSequenceClassification: pixel.PixelForSequenceClassification,
                            AutoModelForTokenClassification: pixel.PixelForTokenClassification,
                            AutoModelForQuestionAnswering: pixel.PixelForQuestionAnswering},
        pixelgpt.PixelGPTConfig: {AutoModel: pixelgpt.PixelGPTModel, AutoModelForCausalLM: pixelgpt.PixelGPTForCausalLM,
                                  AutoModelForSequenceClassification: pixelgpt.PixelGPTForSequenceClassification},
        pixelgpt.ErniePixelConfig: {AutoModelForCausalLM: pixelgpt.ErniePixelForCausalLM,
                                    AutoModelForSequenceClassification: pixelgpt.ErniePixelForSequenceClassification},
        pixelbert.PixelBertConfig: {AutoModel: pixelbert.PixelBertModel,
                                    AutoModelForPreTraining: pixelbert.PixelBertForPreTraining},
        recognizer.RecognizerConfig: {AutoModel: recognizer.PixelRecognizer},
    }
    for config, models in families.items():
        for auto, model in models.items():
            auto.register(config, model, exist_ok=True)
