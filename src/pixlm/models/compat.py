"""Names that differ between the transformers releases pixlm supports.

transformers 5.24 renamed the key-value cache from `past_key_values` to `cache`, both as a
model argument and as an output field; the 5.x releases before it use the old name. pixlm's
models accept either name and pass the cache on under the name the installed release uses.
"""

from __future__ import annotations

import inspect

from transformers import LlamaModel
from transformers.modeling_outputs import BaseModelOutputWithPast

CACHE_ARG = "cache" if "cache" in inspect.signature(LlamaModel.forward).parameters else "past_key_values"
CACHE_FIELD = "cache" if "cache" in BaseModelOutputWithPast.__dataclass_fields__ else "past_key_values"


def cache_of(output) -> object | None:
    """The key-value cache a transformers model output carries, under either name."""
    return getattr(output, CACHE_FIELD, None)


def pick_cache(past_key_values=None, cache=None) -> object | None:
    """One cache from the two argument names callers may use (old and new transformers)."""
    if past_key_values is not None and cache is not None and past_key_values is not cache:
        raise ValueError("give the key-value cache once: as `cache` or as `past_key_values`, not both")
    return cache if cache is not None else past_key_values
