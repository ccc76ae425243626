"""Package namespaces whose names load on first use (PEP 562), as transformers' `_LazyModule`
does: importing `pixlm.data.glue` or `pixlm.training.tasks` (the CLI does, for its choices)
must not import torch through the package's `__init__`."""

from __future__ import annotations

import importlib


def lazy_exports(package: str, exports: dict[str, tuple[str, ...]]):
    """(__getattr__, __dir__, __all__) for a package that exports {submodule: names}."""
    names = {name: module for module, listed in exports.items() for name in listed}

    def __getattr__(name: str):
        if name in names:
            return getattr(importlib.import_module(f"{package}.{names[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return sorted(names)

    return __getattr__, __dir__, list(names)
