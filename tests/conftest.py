import os
import warnings
from contextlib import contextmanager
from pathlib import Path

import pytest

from pixlm.render import TextRenderer, available_backends
from pixlm.render.backends import backend_problem

BACKENDS = available_backends()
# Every backend is a test parameter; one that cannot run here is skipped with the reason.
BACKEND_PARAMS = [pytest.param(name, marks=pytest.mark.skipif(name not in BACKENDS, reason=f"backend {name} cannot run "
                                                                  f"here: {backend_problem(name)}"))
                  for name in ("skia", "pango")]


def data_dir() -> Path | None:
    """The shared evaluation data: $PIXLM_DATA, else ../shared/data beside the checkout."""
    env = os.environ.get("PIXLM_DATA")
    path = Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared" / "data"
    return path if path.is_dir() else None


@pytest.fixture
def shared_data() -> Path:
    path = data_dir()
    if path is None:
        pytest.skip("shared evaluation data not found: set PIXLM_DATA or place it at ../shared/data")
    return path


@pytest.fixture(params=BACKEND_PARAMS)
def backend(request) -> str:
    return request.param


_RENDERERS: dict = {}


@pytest.fixture
def make_renderer(backend):
    """Renderers are cached per (backend, options): building the font chain costs a little."""

    def make(**kw) -> TextRenderer:
        key = (backend, tuple(sorted(kw.items())))
        if key not in _RENDERERS:
            _RENDERERS[key] = TextRenderer(backend=backend, **kw)
        return _RENDERERS[key]

    return make


def ink(pixels):
    """Darkness per pixel (0 white .. 255 black), grayscale."""
    import numpy as np

    px = pixels.astype(np.int16)
    if px.ndim == 3:
        px = px.mean(axis=2)
    return 255 - px


@pytest.fixture(autouse=True)
def _quiet_expected_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        yield


def free_port() -> int:
    """A TCP port nothing listens on now (for torchrun's rendezvous, so parallel runs do not clash)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def power_cut(module, step: int):
    """Runs started by `module` inside this block lose power at the end of `step` (its
    checkpoint, if any, is not saved); the block expects the KeyboardInterrupt that stops them."""
    from transformers import TrainerCallback

    class PowerCut(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):
            if state.global_step == step:
                raise KeyboardInterrupt("power cut")

    original = module.PixlmTrainer

    class CutTrainer(original):
        def __init__(self, *a, **kw):
            super().__init__(*a, **{**kw, "callbacks": [*(kw.get("callbacks") or []), PowerCut()]})

    module.PixlmTrainer = CutTrainer
    try:
        with pytest.raises(KeyboardInterrupt, match="power cut"):
            yield
    finally:
        module.PixlmTrainer = original
