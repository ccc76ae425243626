"""Package namespaces whose names load on first use (PEP 562), as transformers' `_LazyModule`
does: importing `pixlm.data.glue` or `pixlm.training.tasks` (the CLI does, for its choices)
must not import torch through the package's `__init__`."""

from __future__ import annotations

import importlib


def lazy_exports(package: str, names: dict[str, str]):
    """(__getattr__, __dir__) for a package that exports `names` {name: submodule}."""

    def __getattr__(name: str):
        if name in names:
            return getattr(importlib.import_module(f"{package}.{names[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return sorted(names)

    return __getattr__, __dir__
