"""Config fields that describe themselves: their help, flag, choices and allowed range live in
the field's metadata, where the CLI reads them to build its flags (pixlm.cli.flags) and where
`check_fields` validates a config once, as it is built. One place per option: the dataclass.

    @dataclass
    class Config:
        steps: int = option(1000, help="optimizer steps", flag="--steps", minimum=1)
"""

from __future__ import annotations

import difflib
import math
from dataclasses import MISSING, field, fields
from typing import Any, Callable, Iterable


def option(default: Any = MISSING, *, help: str, flag: str | None = None, metavar: str | None = None,
           choices: Iterable | Callable[[], Iterable] | None = None, group: str | None = None,
           minimum: float | None = None, above: float | None = None, maximum: float | None = None,
           positional: bool = False, default_factory: Callable | None = None):
    """A dataclass field with what a user needs to set it: `help`, `flag` (default --field-name),
    `choices` (a sequence, or a function returning one from a registry), the range (`minimum`,
    `above` for strictly greater, `maximum`), the --help `group`."""
    metadata = {"help": help, "flag": flag, "metavar": metavar, "choices": choices, "group": group,
                "minimum": minimum, "above": above, "maximum": maximum, "positional": positional}
    if default_factory is not None:
        return field(default_factory=default_factory, metadata=metadata)
    return field(default=default, metadata=metadata)


def choices_of(f) -> list | None:
    """The allowed values of a field (its registry read now, if it names one)."""
    choices = f.metadata.get("choices")
    if choices is None:
        return None
    return list(choices() if callable(choices) else choices)


def suggestion(value: Any, allowed: Iterable) -> str:
    """' (did you mean X?)' for the allowed value nearest `value`, or ''."""
    near = difflib.get_close_matches(str(value), [str(a) for a in allowed], n=1)
    return f" (did you mean {near[0]!r}?)" if near else ""


def check_fields(cfg) -> None:
    """Check every field of a config against its declared choices and range; one error that
    names the field, the value and what is allowed."""
    for f in fields(cfg):
        value, meta = getattr(cfg, f.name), f.metadata
        if value is None:
            continue
        allowed = choices_of(f)
        if allowed is not None and value not in allowed:
            raise ValueError(f"{f.name} must be one of {', '.join(map(str, allowed))}; got {value!r}{suggestion(value, allowed)}")
        bounds = [meta.get(k) for k in ("minimum", "above", "maximum")]
        if all(b is None for b in bounds):
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) or math.isinf(value):
            raise ValueError(f"{f.name} must be a finite number, got {value!r}")
        minimum, above, maximum = bounds
        integer = str(f.type).startswith("int")
        if integer and not isinstance(value, int):
            raise ValueError(f"{f.name} must be an integer, got {value!r}")
        if minimum is not None and value < minimum:
            wanted = "a positive integer" if integer and minimum == 1 else f"at least {minimum:g}"
            raise ValueError(f"{f.name} must be {wanted}, got {value!r}")
        if above is not None and not value > above:
            raise ValueError(f"{f.name} must be greater than {above:g}, got {value!r}")
        if maximum is not None and value > maximum:
            raise ValueError(f"{f.name} must be at most {maximum:g}, got {value!r}")


def unknown_keys(given: Iterable[str], known: Iterable[str], what: str) -> None:
    """Refuse keys that are not fields of `what`, suggesting the nearest (a typo must not fall
    back to a default unseen)."""
    known = list(known)
    for key in given:
        if key not in known:
            raise ValueError(f"{what} has no field {key!r}{suggestion(key, known)}")
