"""Named presets of a config class, shared by the model families."""

from __future__ import annotations


def config_from_preset(cls, presets: dict[str, dict], family: str, name: str, overrides: dict):
    """`cls` built from preset `name` with any field overridden; an unknown name is an error
    listing the family's presets."""
    if name not in presets:
        raise ValueError(f"unknown {family} preset {name!r}; presets: {', '.join(presets)}")
    return cls(**{**presets[name], **overrides})
