"""Checks the model configs share: sizes that must be positive integers and probabilities that
must lie in [0, 1), named with the value when they do not (a zero or negative size would
otherwise fail later, deep inside torch, or build an empty model)."""

from __future__ import annotations

import math


def check_config_fields(config, sizes: tuple[str, ...], probabilities: tuple[str, ...] = ()) -> None:
    """Raise ValueError naming the first of `sizes` that is not a positive integer, or of
    `probabilities` that is not a number in [0, 1) (fields a config does not have are skipped)."""
    for name in sizes:
        value = getattr(config, name, None)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{type(config).__name__}.{name} must be a positive integer, got {value!r}")
    for name in probabilities:
        value = getattr(config, name, None)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) or not 0 <= value < 1:
            raise ValueError(f"{type(config).__name__}.{name} must be a probability in [0, 1), got {value!r}")
