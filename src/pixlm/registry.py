"""A named registry, as timm's and transformers' are: classes register an instance of
themselves under their `name`, callers look them up by name (with the nearest name suggested)
and iterate over them in registration order."""

from __future__ import annotations

from typing import Generic, TypeVar

from .options import suggestion

T = TypeVar("T")


class Registry(Generic[T], dict):
    """{name: instance}; `register` is a class decorator, `get` the lookup that explains itself."""

    def __init__(self, what: str):
        super().__init__()
        self.what = what  # what a name names, for messages: "task", "Pixel-BERT task"

    def register(self, cls: type[T]) -> type[T]:
        if cls.name in self:
            raise ValueError(f"{self.what} {cls.name!r} is registered twice")
        self[cls.name] = cls()
        return cls

    def lookup(self, name: str) -> T:
        """The instance registered as `name`, or an error listing the names (and the nearest)."""
        if name in self:
            return self[name]
        raise ValueError(f"{self.what} must be one of {', '.join(self)}; got {name!r}{suggestion(name, self)}")
