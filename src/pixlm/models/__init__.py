"""Model families: each a `transformers.PreTrainedModel` with its own config class, registered
with transformers' Auto classes when this package is imported."""

from .auto import register_models

register_models()
