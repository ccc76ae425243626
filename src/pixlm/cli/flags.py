"""Flags made from a config dataclass's field metadata (pixlm.options), and the config made back
from the parsed flags: an option is written once, in its dataclass."""

from __future__ import annotations

import argparse
import json
from dataclasses import MISSING, fields

from ..options import choices_of


def parse_assignments(items: list[str] | None, flag: str) -> dict:
    """KEY=VALUE strings to a dict, values read as JSON when they parse (numbers, booleans)."""
    out = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"{flag} takes KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def _default(f):
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return f.default_factory()
    return MISSING


def _flag(f) -> str:
    return f.metadata.get("flag") or "--" + f.name.replace("_", "-")


def _argument(f) -> dict:
    """add_argument's keywords for a field: its kind read from the annotation."""
    kind, meta, default = str(f.type), f.metadata, _default(f)
    help_text = meta["help"]
    kwargs = {"dest": f.name, "default": argparse.SUPPRESS}  # absent: the dataclass's default applies
    if kind.startswith("bool"):
        kwargs["action"] = "store_false" if default else "store_true"
        return {**kwargs, "help": help_text}
    if kind.startswith("dict"):
        kwargs.update(action="append", metavar="KEY=VALUE")
    elif kind.startswith("tuple[float"):
        kwargs.update(nargs="+", type=_number_or_none)
    elif kind.startswith("tuple"):
        kwargs.update(nargs="+")
    elif kind.startswith("list"):
        kwargs.update(nargs="*")
    elif kind.startswith("int"):
        kwargs["type"] = int
    elif kind.startswith("float"):
        kwargs["type"] = float
    choices = choices_of(f)
    if choices is not None:
        kwargs["choices"] = choices
    if meta.get("metavar") and "metavar" not in kwargs:
        kwargs["metavar"] = meta["metavar"]
    shown = " ".join(map(str, default)) if isinstance(default, (list, tuple)) else default
    if default is not MISSING and default is not None and shown != "" and not kind.startswith("dict") and "default" not in help_text:
        help_text += f" (default {shown})"
    kwargs["help"] = help_text
    if default is MISSING and not meta.get("positional"):
        kwargs["required"] = True
    return kwargs


def add_config_flags(parser: argparse.ArgumentParser, cls, skip: tuple[str, ...] = (), optional: bool = False,
                     group: str | None = None) -> None:
    """A flag for every field of `cls` that has help, in the field's --help group (or all in
    `group`). With `optional`, no flag is required (for a command whose config is one of its
    modes, which checks what it needs itself)."""
    groups: dict[str, argparse._ArgumentGroup] = {}
    for f in fields(cls):
        if "help" not in f.metadata or f.name in skip:
            continue
        group_name = group or f.metadata.get("group")
        target = parser
        if group_name:
            if group_name not in groups:
                groups[group_name] = parser.add_argument_group(group_name)
            target = groups[group_name]
        kwargs = _argument(f)
        if optional:
            kwargs.pop("required", None)
        if f.metadata.get("positional"):
            kwargs.pop("dest")
            kwargs.pop("default")
            target.add_argument(f.name, **kwargs)
        else:
            target.add_argument(_flag(f), **kwargs)


def config_from_args(cls, args: argparse.Namespace, **values):
    """`cls` from the flags given (the others keep their defaults), then `values` on top."""
    given = {}
    for f in fields(cls):
        if not hasattr(args, f.name) or "help" not in f.metadata:
            continue
        value, kind = getattr(args, f.name), str(f.type)
        if kind.startswith("dict"):
            value = parse_assignments(value, _flag(f))
        elif kind.startswith("tuple"):
            value = () if value == [None] else tuple(value)  # `none` alone: the empty tuple (beside numbers: refused)
        elif kind.startswith("list") and value in ([], ["none"]):
            value = []
        given[f.name] = value
    return cls(**{**given, **values})


def _number_or_none(text: str) -> float | None:
    """A number, or None for `none` (an empty list of numbers)."""
    if text.lower() == "none":
        return None
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number or none, got {text!r}") from None


def _number_type(convert, name: str, accept, wanted: str):
    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {text!r}") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {text!r}")
        return value

    parse.__name__ = name
    return parse


# argparse types for the hand-written flags (the config flags are checked by their configs).
positive_int = _number_type(int, "positive_int", lambda v: v >= 1, "a positive integer")
non_negative_int = _number_type(int, "non_negative_int", lambda v: v >= 0, "0 or a positive integer")
positive_float = _number_type(float, "positive_float", lambda v: v > 0 and v != float("inf"), "a positive number")
fraction = _number_type(float, "fraction", lambda v: 0 <= v <= 1, "a number from 0 to 1")


def png_path(text: str) -> str:
    """An output path for a picture: pixlm writes PNG, so the name must say .png."""
    if not text.lower().endswith(".png"):
        raise argparse.ArgumentTypeError(f"must name a .png file (pixlm writes PNG), got {text!r}")
    return text
