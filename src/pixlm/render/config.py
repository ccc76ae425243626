"""`RendererConfig`: every knob of the text renderer, saved and loaded as JSON next to a model."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

CONFIG_NAME = "text_renderer_config.json"

LAYOUTS = ("continuous", "words", "bigrams", "mono")
BACKENDS = ("skia", "pango")

# Keys used by the published PIXEL checkpoints' `text_renderer_config.json`, mapped to ours.
_PIXEL_KEYS = {
    "pixels_per_patch": "patch_size",
    "max_seq_length": "max_patches",
    "font_file": "fonts",
    "rgb": "rgb",
    "font_size": "font_size",
    "dpi": "dpi",
    "pad_size": "pad_left",
}


@dataclass
class RendererConfig:
    """How text becomes a strip of patches.

    Geometry follows PIXEL: a strip `patch_size` pixels high and `max_patches * patch_size`
    wide (16 x 8464 by default), text starting `pad_left` pixels into its first patch, a black
    patch after each text segment, white after that. Fonts are 8 pt at 120 dpi by default.
    """

    patch_size: int = 16
    max_patches: int = 529
    font_size: float = 8.0
    dpi: int = 120
    rgb: bool = False
    layout: str = "continuous"
    backend: str = "skia"
    # Font files or folders that head the fallback chain (for instance PIXEL's GoNotoCurrent.ttf);
    # the fonts pixlm installs follow them.
    fonts: list[str] = field(default_factory=list)
    pad_left: int = 2
    # Width of one character cell in the `mono` layout (two cells per patch by default).
    mono_cell_width: int = 8
    # Rendered words/cells kept for reuse (0 disables the cache).
    cache_size: int = 65536

    def __post_init__(self) -> None:
        if isinstance(self.fonts, str):
            self.fonts = [self.fonts]
        self.fonts = [os.fspath(f) for f in self.fonts]
        self.validate()

    def validate(self) -> None:
        """Raise ValueError naming the first field whose value cannot work."""
        _check_int("patch_size", self.patch_size, 4)
        _check_int("max_patches", self.max_patches, 2)
        _check_int("dpi", self.dpi, 1)
        _check_int("pad_left", self.pad_left, 0)
        _check_int("mono_cell_width", self.mono_cell_width, 2)
        _check_int("cache_size", self.cache_size, 0)
        if not isinstance(self.font_size, (int, float)) or self.font_size <= 0:
            raise ValueError(f"font_size must be a positive number of points, got {self.font_size!r}")
        if self.pad_left >= self.patch_size:
            raise ValueError(f"pad_left ({self.pad_left}) must be smaller than patch_size ({self.patch_size})")
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}; got {self.layout!r}")
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}; got {self.backend!r}")
        for f in self.fonts:
            if not os.path.exists(f):
                raise ValueError(
                    f"font path {f!r} does not exist; give a .ttf/.otf/.ttc file or a folder of them"
                )

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
        """Write `text_renderer_config.json` into `directory` (created if needed); return its path."""
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, CONFIG_NAME)
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(self.to_json_string())
        os.replace(tmp, path)
        return path

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RendererConfig":
        """Build from our own keys or from a PIXEL checkpoint's renderer config."""
        if not isinstance(data, dict):
            raise TypeError(f"renderer config must be a dict, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            if key in known:
                kwargs[key] = value
            elif key in _PIXEL_KEYS and _PIXEL_KEYS[key] not in data:
                kwargs[_PIXEL_KEYS[key]] = value
        fonts = kwargs.get("fonts")
        if isinstance(fonts, str):
            kwargs["fonts"] = [fonts]
        # PIXEL configs name a font file by its path on the machine that trained the model;
        # keep only the ones that exist here, the bundled chain covers the rest.
        kwargs["fonts"] = [f for f in kwargs.get("fonts", []) if f and os.path.exists(f)]
        return cls(**kwargs)

    @classmethod
    def from_json_file(cls, path: str | os.PathLike) -> "RendererConfig":
        with open(path, encoding="utf-8") as f:
            try:
                data = json.load(f)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path} is not valid JSON: {e}") from e
        return cls.from_dict(data)

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike) -> "RendererConfig":
        """Load from a model folder holding `text_renderer_config.json`, or from that file."""
        path = os.fspath(path)
        if not os.path.exists(path) and _HUB_ID.fullmatch(path):
            return cls.from_json_file(_download_from_hub(path))
        if os.path.isdir(path):
            path = os.path.join(path, CONFIG_NAME)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"no renderer config at {path}; expected a {CONFIG_NAME} file")
        return cls.from_json_file(path)


_HUB_ID = re.compile(r"[\w.-]+/[\w.-]+")


def _download_from_hub(repo_id: str) -> str:
    """The renderer config of a model on the Hugging Face Hub (e.g. Team-PIXEL/pixel-base)."""
    from huggingface_hub import hf_hub_download

    try:
        return hf_hub_download(repo_id, CONFIG_NAME)
    except Exception as e:  # noqa: BLE001 - offline, missing repo or file: all say the same to the user
        raise FileNotFoundError(
            f"could not fetch {CONFIG_NAME} of {repo_id!r} from the Hub ({type(e).__name__}: {e}); "
            "pass a local folder instead"
        ) from e


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
