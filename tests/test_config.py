import json

import pytest

from pixlm.render import CONFIG_NAME, RendererConfig, TextRenderer
from pixlm.render.config import PUBLISHED_BEHAVIOUR


def test_json_round_trip(tmp_path):
    cfg = RendererConfig(patch_size=8, max_patches=64, rgb=True, layout="bigrams", font_size=7.5, dpi=96)
    path = cfg.save_pretrained(tmp_path)
    assert path.endswith(CONFIG_NAME)
    loaded = RendererConfig.from_pretrained(tmp_path)
    assert loaded == cfg
    with open(path) as f:
        assert json.load(f)["layout"] == "bigrams"


def test_renderer_save_and_load_renders_the_same(tmp_path):
    r = TextRenderer(max_patches=32)
    r.save_pretrained(tmp_path)
    r2 = TextRenderer.from_pretrained(tmp_path)
    assert r2.config == r.config
    assert (r("Same pixels").pixel_values == r2("Same pixels").pixel_values).all()


def _pixel_folder(tmp_path, font_file="GoNotoCurrent.ttf"):
    """A renderer folder as PIXEL publishes one (Team-PIXEL/pixel-base's keys), with its font."""
    import shutil

    from pixlm.render.fonts import bundled_fonts

    pixel = {
        "dpi": 120, "font_size": 8, "pad_size": 3, "pixels_per_patch": 16, "max_seq_length": 529,
        "font_file": font_file, "rgb": False, "text_renderer_type": "PangoCairoTextRenderer",
    }
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / CONFIG_NAME).write_text(json.dumps(pixel))
    shutil.copy(bundled_fonts()[0].path, tmp_path / "GoNotoCurrent.ttf")
    return tmp_path


def test_reads_a_published_pixel_renderer_folder(tmp_path, monkeypatch):
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the font is found beside the config, not in the working directory
    cfg = RendererConfig.from_pretrained(_pixel_folder(tmp_path / "model"))
    assert (cfg.patch_size, cfg.max_patches, cfg.dpi, cfg.font_size) == (16, 529, 120, 8)
    assert cfg.fonts == [str(tmp_path / "model" / "GoNotoCurrent.ttf")]
    assert cfg.pad_left == 2, "PIXEL stores pad_size but pads with 2 pixels"
    # PIXEL's behaviour wherever pixlm's own differs, and PIXEL's drawing backend where installed.
    for key, value in PUBLISHED_BEHAVIOUR.items():
        assert getattr(cfg, key) == value, key
    from pixlm.render import available_backends

    assert cfg.backend == ("pango" if "pango" in available_backends() else "skia")


def test_a_published_folder_without_its_font_says_where_it_looked(tmp_path):
    folder = _pixel_folder(tmp_path, font_file="/home/someone/fonts/GoNotoCurrent.ttf")
    with pytest.raises(ValueError, match="font '/home/someone/fonts/GoNotoCurrent.ttf' named by the renderer config was not found"):
        RendererConfig.from_pretrained(folder)


def test_config_written_by_pixlm_round_trips_and_pixel_keys_travel(tmp_path):
    folder = _pixel_folder(tmp_path / "published")
    cfg = RendererConfig.from_pretrained(folder)
    cfg.save_pretrained(tmp_path / "again")
    written = json.loads((tmp_path / "again" / CONFIG_NAME).read_text())
    # PIXEL's own loader finds what it needs; pixlm reads its own keys back.
    assert written["font_file"] == "GoNotoCurrent.ttf" and (tmp_path / "again" / "GoNotoCurrent.ttf").is_file()
    assert written["pixels_per_patch"] == 16 and written["max_seq_length"] == 529
    loaded = RendererConfig.from_pretrained(tmp_path / "again")
    assert loaded.to_dict() == {**cfg.to_dict(), "fonts": [str(tmp_path / "again" / "GoNotoCurrent.ttf")]}
    loaded.save_pretrained(tmp_path / "third")
    assert (tmp_path / "third" / CONFIG_NAME).read_text() == (tmp_path / "again" / CONFIG_NAME).read_text()


def test_unknown_keys_are_refused_with_a_suggestion(tmp_path):
    (tmp_path / CONFIG_NAME).write_text(json.dumps({"patch_sise": 32}))
    with pytest.raises(ValueError, match="unknown renderer config key.*'patch_sise'.*did you mean 'patch_size'"):
        RendererConfig.from_pretrained(tmp_path)


def test_pixel_geometry_defaults():
    cfg = RendererConfig()
    assert (cfg.patch_size, cfg.max_patches, cfg.width) == (16, 529, 8464)
    assert cfg.font_px == pytest.approx(8 * 120 / 72)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"layout": "diagonal"}, "layout must be one of continuous, words, bigrams, mono"),
        ({"backend": "cairo"}, "backend must be one of skia, pango"),
        ({"fonts": ["/no/such/font.ttf"]}, "font path '/no/such/font.ttf' does not exist"),
        ({"patch_size": 0}, "patch_size must be an integer >= 4"),
        ({"max_patches": 1.5}, "max_patches must be an integer"),
        ({"font_size": -1}, "font_size must be a positive number"),
        ({"pad_left": 16}, "pad_left (16) must be smaller than patch_size (16)"),
    ],
)
def test_bad_config_values_are_named(kwargs, message):
    with pytest.raises(ValueError) as e:
        RendererConfig(**kwargs)
    assert message in str(e.value)


def test_missing_config_file_says_what_was_expected(tmp_path):
    with pytest.raises(FileNotFoundError, match=CONFIG_NAME):
        RendererConfig.from_pretrained(tmp_path)
    (tmp_path / CONFIG_NAME).write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        RendererConfig.from_pretrained(tmp_path)


def test_hub_ids_are_fetched_and_failures_say_so(tmp_path, monkeypatch):
    import huggingface_hub

    saved = RendererConfig(max_patches=100).save_pretrained(tmp_path)
    asked = []
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda repo, name: asked.append((repo, name)) or saved)
    assert RendererConfig.from_pretrained("Team-PIXEL/pixel-base").max_patches == 100
    assert asked == [("Team-PIXEL/pixel-base", CONFIG_NAME)]

    def offline(repo, name):
        raise OSError("no network")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", offline)
    with pytest.raises(FileNotFoundError, match="could not fetch text_renderer_config.json of 'someone/model'.*no network"):
        RendererConfig.from_pretrained("someone/model")
