"""`RendererConfig`: every knob of the text renderer, saved and loaded as JSON next to a model.

The geometry is PIXEL's (Rust et al. 2022) for the `continuous` and `words` layouts and
PIXEL-M4's (Kesen et al. 2025) for `bigrams`; `mono` is pixlm's own. Where pixlm deliberately
differs from those renderers, the difference is a named option (`PIXLM_CHOICES`), and loading
a published renderer folder (PIXEL's `text_renderer_config.json`, as on the Hub) turns each one
to the published behaviour (`PUBLISHED_BEHAVIOUR`).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import shutil
import warnings
from dataclasses import dataclass, field
from typing import Any

from ..options import suggestion
from .fonts import bundled_fonts

CONFIG_NAME = "text_renderer_config.json"

LAYOUTS = ("continuous", "words", "bigrams", "mono")
BACKENDS = ("skia", "pango")
TRUNCATION = ("characters", "clip")
CONTROL_CHARACTERS = ("replace", "keep")
WINDOW_STARTS = ("words", "characters")

# The options by which pixlm's own renderer departs from PIXEL's, and PIXEL's value of each.
PUBLISHED_BEHAVIOUR = {"truncation": "clip", "control_characters": "keep", "window_starts": "characters",
                       "fallback_fonts": False}

# Keys of PIXEL's `text_renderer_config.json`, mapped to ours. PIXEL stores `pad_size` but
# never uses it (its paddings are fixed at 2 pixels), so it is read and written, not used.
_PIXEL_KEYS = {
    "pixels_per_patch": "patch_size",
    "max_seq_length": "max_patches",
    "font_file": "fonts",
    "rgb": "rgb",
    "font_size": "font_size",
    "dpi": "dpi",
}
_PIXEL_ONLY = {"pad_size", "text_renderer_type", "font_color", "background_color", "fallback_fonts_dir"}
# Canvases past this many patches would take gigabytes; no model reads them.
MAX_PATCHES_LIMIT = 1 << 16


@dataclass
class RendererConfig:
    """How text becomes a strip of patches.

    Geometry follows PIXEL: a strip `patch_size` pixels high and `max_patches * patch_size`
    wide (16 x 8464 by default), text starting `pad_left` pixels into its first patch and ending
    at least `pad_left` pixels before the black end patch, each layout centred 2 pixels above
    the middle of the strip. Fonts are 8 pt at 120 dpi by default.

    pixlm's own choices, each a named option (`PUBLISHED_BEHAVIOUR` gives PIXEL's):
      - `truncation`: text past the canvas is cut after its last whole character and the strip
        flagged `truncated` ("characters"), or drawn as is and clipped by the end patch ("clip").
      - `control_characters`: tabs, line breaks and other controls become spaces and are
        counted ("replace"), or go to the shaper as they are ("keep": a tab jumps to a tab stop,
        a carriage return starts a second line that falls outside the strip). "\\n" always
        becomes a space, as in PIXEL.
      - `window_starts`: overflow windows of a long text restart at a word ("words"), or where
        a patch starts, `stride` patches back, as PIXEL's question-answering windows do
        ("characters").
      - `fallback_fonts`: pixlm's bundled fonts follow `fonts` in the fallback chain, or only
        `fonts` are used (PIXEL draws with its one font).
    """

    patch_size: int = 16
    max_patches: int = 529
    font_size: float = 8.0
    dpi: int = 120
    rgb: bool = False
    layout: str = "continuous"
    backend: str = "skia"
    # Font files or folders that head the fallback chain (for instance PIXEL's GoNotoCurrent.ttf);
    # the fonts pixlm installs follow them unless `fallback_fonts` is off.
    fonts: list[str] = field(default_factory=list)
    pad_left: int = 2
    # Width of one character cell in the `mono` layout (two cells per patch by default).
    mono_cell_width: int = 8
    # Rendered words/cells kept for reuse (0 disables the cache).
    cache_size: int = 65536
    truncation: str = "characters"
    control_characters: str = "replace"
    window_starts: str = "words"
    fallback_fonts: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.fonts, (str, os.PathLike)):
            self.fonts = [self.fonts]
        if not isinstance(self.fonts, (list, tuple)):
            raise TypeError(f"fonts must be a list of font files or folders, got {type(self.fonts).__name__}")
        self.fonts = [os.fspath(f) for f in self.fonts]
        self.validate()

    def validate(self) -> None:
        """Raise ValueError naming the first field whose value cannot work."""
        _check_int("patch_size", self.patch_size, 4)
        _check_int("max_patches", self.max_patches, 2)
        if self.max_patches > MAX_PATCHES_LIMIT:
            raise ValueError(f"max_patches must be at most {MAX_PATCHES_LIMIT}, got {self.max_patches}")
        _check_int("dpi", self.dpi, 1)
        _check_int("pad_left", self.pad_left, 0)
        _check_int("mono_cell_width", self.mono_cell_width, 2)
        _check_int("cache_size", self.cache_size, 0)
        if isinstance(self.font_size, bool) or not isinstance(self.font_size, (int, float)) \
                or not math.isfinite(self.font_size) or self.font_size <= 0:
            raise ValueError(f"font_size must be a positive number of points, got {self.font_size!r}")
        for name in ("rgb", "fallback_fonts"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false, got {getattr(self, name)!r}")
        if self.pad_left >= self.patch_size:
            raise ValueError(f"pad_left ({self.pad_left}) must be smaller than patch_size ({self.patch_size})")
        for name, allowed in (("layout", LAYOUTS), ("backend", BACKENDS), ("truncation", TRUNCATION),
                              ("control_characters", CONTROL_CHARACTERS), ("window_starts", WINDOW_STARTS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {getattr(self, name)!r}"
                                 f"{suggestion(getattr(self, name), allowed)}")
        for f in self.fonts:
            if not os.path.exists(f):
                raise ValueError(f"font path {f!r} does not exist; give a .ttf/.otf/.ttc file or a folder of them")
        if not self.fallback_fonts and not self.fonts:
            raise ValueError("fallback_fonts=False needs at least one font in fonts")

    @property
    def font_px(self) -> float:
        """Font size in pixels (points at the configured dpi)."""
        return self.font_size * self.dpi / 72.0

    @property
    def width(self) -> int:
        return self.patch_size * self.max_patches

    @property
    def num_channels(self) -> int:
        return 3 if self.rgb else 1

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json_string(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    def save_pretrained(self, directory: str | os.PathLike) -> str:
        """Write `text_renderer_config.json` into `directory` (created if needed) and copy the
        font files into it, so that the folder renders the same on another machine; return the
        config's path. The file also holds PIXEL's keys, so PIXEL's own code reads the folder."""
        directory = os.fspath(directory)
        os.makedirs(directory, exist_ok=True)
        data = self.to_dict()
        data["fonts"] = [_copy_font(f, directory) for f in self.fonts]
        if data["fonts"]:
            data.update(font_file=os.path.basename(data["fonts"][0]), pixels_per_patch=self.patch_size,
                        max_seq_length=self.max_patches, pad_size=3, text_renderer_type="PangoCairoTextRenderer")
        path = os.path.join(directory, CONFIG_NAME)
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
        os.replace(tmp, path)
        return path

    @classmethod
    def from_dict(cls, data: dict[str, Any], folder: str | None = None) -> "RendererConfig":
        """Build from our own keys or from a published renderer config (PIXEL's keys).

        Font paths that are not absolute are looked up in `folder` (the folder the config came
        from). A published config selects PIXEL's behaviour (`PUBLISHED_BEHAVIOUR`) and the
        `pango` backend where it is installed. Unknown keys are an error naming them.
        """
        if not isinstance(data, dict):
            raise TypeError(f"renderer config must be a dict, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        published = not (set(data) & (known - set(_PIXEL_KEYS.values()) - {"rgb", "font_size", "dpi"})) \
            and bool(set(data) & {"pixels_per_patch", "max_seq_length", "font_file"})
        unknown = sorted(set(data) - known - set(_PIXEL_KEYS) - _PIXEL_ONLY - {"text_renderer_type"})
        if unknown:
            raise ValueError(f"unknown renderer config key(s) {', '.join(map(repr, unknown))}; "
                             f"known keys: {', '.join(sorted(known))}{suggestion(unknown[0], sorted(known))}")
        kwargs: dict[str, Any] = {k: v for k, v in data.items() if k in known}
        if published:
            for key, ours in _PIXEL_KEYS.items():
                if key in data:
                    kwargs[ours] = data[key]
            kwargs.update(PUBLISHED_BEHAVIOUR)
            kwargs.setdefault("backend", _published_backend())
        fonts = kwargs.get("fonts")
        if isinstance(fonts, str):
            fonts = [fonts]
        kwargs["fonts"] = [_resolve_font(f, folder) for f in (fonts or [])]
        return cls(**kwargs)

    @classmethod
    def published(cls, **overrides) -> "RendererConfig":
        """PIXEL's published renderer (its `noto_renderer`: 8 pt at 120 dpi, 16-pixel patches,
        529 of them, PIXEL's behaviour, the pango backend where installed) in pixlm's first
        bundled font: the published checkpoints' GoNotoCurrent.ttf is not bundled (give it with
        `fonts=[...]`, or load the checkpoint's renderer folder)."""
        fonts = [f.path for f in bundled_fonts()[:1]]
        kwargs = {"fonts": fonts, "backend": _published_backend(), **PUBLISHED_BEHAVIOUR, **overrides}
        return cls(**kwargs)

    @classmethod
    def for_model(cls, source: str | os.PathLike | None, *, required: bool = False, **overrides) -> "RendererConfig":
        """The renderer a model folder was trained with, with `overrides`: `source` is a folder
        or file holding `text_renderer_config.json`, or a model folder without one (a released
        checkpoint such as PixelGPT's, which renders with PIXEL's published renderer: that one
        is used, with a warning saying how to give the checkpoint's own; with `required`, as
        for a renderer the user named, it is an error), or None for pixlm's defaults."""
        if source is None:
            return cls(**overrides)
        source = os.fspath(source)
        has_config = os.path.isfile(source) or os.path.isfile(os.path.join(source, CONFIG_NAME)) or \
            (not os.path.exists(source) and _HUB_ID.fullmatch(source) is not None)
        if has_config or required:
            base = cls.from_pretrained(source).to_dict()
            return cls(**{**base, **overrides})
        warnings.warn(f"{source} has no {CONFIG_NAME}: rendering as PIXEL's published renderer does, in pixlm's first "
                      "bundled font; give the checkpoint's renderer folder (e.g. PixelGPT's renderers/noto_renderer, "
                      "with GoNotoCurrent.ttf) for the exact pixels it was trained on", stacklevel=2)
        return cls.published(**overrides)

    @classmethod
    def from_json_file(cls, path: str | os.PathLike) -> "RendererConfig":
        path = os.fspath(path)
        with open(path, encoding="utf-8") as f:
            try:
                data = json.load(f)
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                raise ValueError(f"{path} is not valid JSON in UTF-8, as a renderer config must be: {e}") from e
        return cls.from_dict(data, folder=os.path.dirname(os.path.abspath(path)))

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike) -> "RendererConfig":
        """Load from a model folder holding `text_renderer_config.json`, or from that file, or
        from a model on the Hugging Face Hub (with its font file)."""
        path = os.fspath(path)
        if not os.path.exists(path) and _HUB_ID.fullmatch(path):
            return cls.from_json_file(_download_from_hub(path))
        if os.path.isdir(path):
            path = os.path.join(path, CONFIG_NAME)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"no renderer config at {path}; expected a {CONFIG_NAME} file")
        return cls.from_json_file(path)


def _published_backend() -> str:
    from .backends import available_backends  # here: the backends import this module

    if "pango" in available_backends():
        return "pango"
    warnings.warn("a published renderer config was loaded but the pango backend (PIXEL's) is not installed: "
                  "rendering with skia, whose pixels differ slightly from PIXEL's; `pip install pixlm[pango]` "
                  "for exact ones", stacklevel=4)
    return "skia"


def _resolve_font(path: str, folder: str | None) -> str:
    if not isinstance(path, str) or not path:
        raise ValueError(f"a font in the renderer config must be a file name, got {path!r}")
    candidates = [path] if os.path.isabs(path) else ([os.path.join(folder, path)] if folder else []) + [path]
    for candidate in candidates:
        if os.path.exists(candidate):
            return os.path.abspath(candidate)
    where = f" (looked in {folder})" if folder else ""
    raise ValueError(f"font {path!r} named by the renderer config was not found{where}; put the font file next "
                     "to text_renderer_config.json or pass fonts=[...]")


def _copy_font(path: str, directory: str) -> str:
    """The font's file name in `directory`, copied there unless it is there already."""
    if os.path.isdir(path):
        return path  # a folder of fonts is kept by its path
    target = os.path.join(directory, os.path.basename(path))
    if not os.path.exists(target) or not os.path.samefile(path, target):
        shutil.copyfile(path, target + ".tmp")
        os.replace(target + ".tmp", target)
    return os.path.basename(path)


_HUB_ID = re.compile(r"[\w.-]+/[\w.-]+")


def _download_from_hub(repo_id: str) -> str:
    """The renderer config of a model on the Hugging Face Hub (e.g. Team-PIXEL/pixel-base),
    with the font file it names beside it."""
    # Imported here: its HTTP client adds a tenth of a second to every import of the renderer.
    from huggingface_hub import hf_hub_download

    try:
        path = hf_hub_download(repo_id, CONFIG_NAME)
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        for font in ([data["font_file"]] if isinstance(data.get("font_file"), str) else []) + list(data.get("fonts") or []):
            if not os.path.isabs(font):
                hf_hub_download(repo_id, font)
        return path
    except Exception as e:  # noqa: BLE001 - offline, missing repo or file: all say the same to the user
        raise FileNotFoundError(
            f"could not fetch {CONFIG_NAME} of {repo_id!r} from the Hub ({type(e).__name__}: {e}); "
            "pass a local folder instead"
        ) from e


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
