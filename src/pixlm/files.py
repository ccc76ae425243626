"""Writing files whole: what a command writes is either complete or absent, never half-written,
and never written over what it is still reading."""

from __future__ import annotations

import os
from contextlib import contextmanager


@contextmanager
def written_whole(path: str | os.PathLike, inputs: tuple = ()):
    """Yield a temporary path beside `path`; when the block ends without an error it replaces
    `path`, otherwise it is removed and `path` is left as it was. Refuses a `path` that is one
    of `inputs` (the files being read)."""
    path = os.fspath(path)
    for source in inputs:
        if source is not None and os.path.exists(source) and os.path.exists(path) and os.path.samefile(source, path):
            raise ValueError(f"output {path!r} is the input file: give another output path")
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
