"""Model families: each a `transformers.PreTrainedModel` with its own config class."""
