"""pixlm's own golden outputs (tests/data/pixlm-golden, written by scripts/make_pixlm_golden.py):
a change to rendering or to a model's computation shows up here. Regenerate them only for a
change meant to alter outputs."""

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import BACKEND_PARAMS, BACKENDS

GOLDEN = Path(__file__).parent / "data" / "pixlm-golden"
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import make_pixlm_golden as make  # noqa: E402

TOL = dict(rtol=1e-5, atol=1e-5)


@pytest.fixture(scope="module")
def recorded():
    return np.load(GOLDEN / "render.npz"), json.loads((GOLDEN / "render.json").read_text())


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
def test_renderings_are_unchanged(recorded, backend):
    arrays, meta = recorded
    if f"{backend}.sentence" not in arrays:
        pytest.skip(f"no golden renderings were recorded for the {backend} backend")
    ours, fields = make.renders(backend)
    # Glyph rasters may change with the library that draws them; geometry may not.
    same_library = make.drawing_libraries().get(backend) == meta["made_with"].get(backend)
    for key, pixels in ours.items():
        assert fields[key] == meta["fields"][key], key
        if same_library:
            np.testing.assert_array_equal(pixels, arrays[key], err_msg=key)
        else:
            assert np.abs(pixels.astype(int) - arrays[key]).mean() < 3, key


@pytest.fixture(scope="module")
def models():
    return np.load(GOLDEN / "models.npz")


def _close(ours, theirs, what):
    torch.testing.assert_close(torch.as_tensor(ours).float(), torch.from_numpy(np.asarray(theirs)).float(), **TOL,
                               msg=lambda m: f"{what}: {m}")


def test_pixel_outputs_are_unchanged(models):
    from pixlm.models.pixel import PixelForPreTraining, PixelForSequenceClassification

    x, noise = torch.from_numpy(models["pixel.input"]), torch.from_numpy(models["pixel.noise"])
    mask = torch.ones(2, 32, dtype=torch.long)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pretraining = PixelForPreTraining.from_pretrained(GOLDEN / "pixel-pretraining").eval()
        classifier = PixelForSequenceClassification.from_pretrained(GOLDEN / "pixel-seqcls").eval()
    with torch.no_grad():
        pre = pretraining(pixel_values=x, attention_mask=mask, noise=noise)
        cls = classifier(pixel_values=x, attention_mask=mask)
    _close(pre.loss, models["pixel.pretraining.loss"], "pretraining loss")
    _close(pre.logits, models["pixel.pretraining.logits"], "pretraining logits")
    _close(cls.logits, models["pixel.seqcls.logits"], "classifier logits")


def test_pixelgpt_outputs_are_unchanged(models):
    from pixlm.models.pixelgpt import PixelGPTForCausalLM

    model = PixelGPTForCausalLM.from_pretrained(GOLDEN / "pixelgpt").eval()
    x = torch.from_numpy(models["pixel.input"])
    ids, ids_mask = torch.from_numpy(models["pixelgpt.input_ids"]), torch.from_numpy(models["pixelgpt.input_mask"])
    with torch.no_grad():
        pixels = model(pixel_values=x, attention_mask=torch.ones(2, 32, dtype=torch.long))
        text = model(input_ids=ids, attention_mask=ids_mask)
        generated = model.generate(ids[:1, :3], max_new_tokens=6, do_sample=False, pad_token_id=0)
    _close(pixels.pixel_logits, models["pixelgpt.pixel_logits"], "pixel logits")
    _close(pixels.loss, models["pixelgpt.pixel_loss"], "pixel loss")
    _close(text.logits, models["pixelgpt.token_logits"], "token logits")
    assert generated.tolist() == models["pixelgpt.generated"].tolist()


def test_the_models_golden_inputs_still_render_as_recorded(models, recorded):
    # The models' inputs are skia strips: if rendering changed, this says so before the models do.
    if "skia" not in BACKENDS:
        pytest.skip("the skia backend is not installed")
    ours = make.strips().numpy()
    if make.drawing_libraries().get("skia") == recorded[1]["made_with"].get("skia"):
        np.testing.assert_array_equal(ours, models["pixel.input"])
    else:
        assert np.abs(ours - models["pixel.input"]).mean() < 3 / 255
