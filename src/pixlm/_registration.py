"""pixlm's families in transformers' Auto classes, without making `import pixlm` heavy.

Registering needs the model classes, and so torch and transformers: seconds that a process
which only renders (a DataLoader or `render_batch` worker, `pixlm --help`) should not pay. So:
importing `pixlm.models` registers every family (`pixlm.models.auto`); `import pixlm` does it at
once if transformers' Auto classes are already loaded, and otherwise watches for them to load
and then has their entry points (`AutoConfig.from_pretrained`, `AutoModel...from_pretrained`,
`from_config`, `for_model`) import `pixlm.models` before their first lookup. Nothing of pixlm is
imported while transformers is still loading (its modules import each other half-way through).
"""

from __future__ import annotations

import functools
import importlib.abc
import sys

_CONFIGS = "transformers.models.auto.configuration_auto"
_FACTORY = "transformers.models.auto.auto_factory"


def ensure_registered() -> None:
    import pixlm.models  # noqa: F401  (registers on import)


def _before(cls, name: str) -> None:
    """Have `cls.name` (a classmethod) register pixlm's families before it runs."""
    original = cls.__dict__.get(name)
    if not isinstance(original, classmethod) or getattr(original.__func__, "_pixlm", False):
        return

    @functools.wraps(original.__func__)
    def run(klass, *args, **kwargs):
        ensure_registered()
        return original.__func__(klass, *args, **kwargs)

    run._pixlm = True
    setattr(cls, name, classmethod(run))


def _hook(module_name: str) -> None:
    module = sys.modules[module_name]
    if module_name == _CONFIGS:
        for name in ("from_pretrained", "for_model"):
            _before(module.AutoConfig, name)
    else:
        for name in ("from_pretrained", "from_config"):
            _before(module._BaseAutoModelClass, name)


class _AfterImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself: wraps the loaders of transformers' Auto modules so that their
    entry points are hooked right after the modules run."""

    def find_spec(self, name, path, target=None):
        if name not in (_CONFIGS, _FACTORY):
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                break
        else:
            return None
        run = spec.loader.exec_module

        def exec_module(module, _run=run, _name=name):
            _run(module)
            _hook(_name)

        spec.loader.exec_module = exec_module
        return spec


def install() -> None:
    loaded = [name for name in (_CONFIGS, _FACTORY) if name in sys.modules]
    if _FACTORY in loaded and "transformers.modeling_utils" in sys.modules:
        ensure_registered()  # transformers is loaded already: nothing is saved by waiting
        return
    for name in loaded:
        _hook(name)
    if not any(isinstance(f, _AfterImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterImport())
