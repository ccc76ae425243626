"""pixlm: language modelling with pixels.

Text is rendered to strips of patches (`pixlm.render`), and models learn language from them.
Import what you need from the subpackages; the names below load on first use so that
`import pixlm` stays light (a DataLoader worker that only renders never imports torch).
pixlm's model families are registered with transformers' Auto classes when those load.
"""

from __future__ import annotations

import importlib

from . import _registration

_registration.install()

__version__ = "0.1.0"

_LAZY = {
    "RendererConfig": "pixlm.render",
    "TextRenderer": "pixlm.render",
    "RenderedText": "pixlm.render",
    "read": "pixlm.models.recognizer.reading",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'pixlm' has no attribute {name!r}")


__all__ = ["__version__", *_LAZY]
