"""Configuration of the line recognizer that reads rendered strips back as text."""

from __future__ import annotations

from transformers import PretrainedConfig

from ...render.charsets import DEFAULT_CHARSET, recognition_vocabulary
from ..validation import check_config_fields

BLANK, UNKNOWN = 0, 1  # CTC's blank, and the class of a character outside the charset


class RecognizerConfig(PretrainedConfig):
    """A strip recognizer: every `frames_per_step * frame_stride` pixel columns, a window of
    `window` columns (the strip's full height) is projected to `hidden_size` features;
    `num_layers` residual depthwise-separable convolutions (kernel `kernel_size`) mix
    neighbouring steps; each step then gives `frames_per_step` frames of `frame_stride` columns,
    each with a probability of CTC's blank and, through a hidden layer of `head_size`, a
    distribution over an unknown character, the space and `charset`.

    The blank's probability comes first and alone so that reading scores the ~1,000 characters
    only on frames that are probably not blank (about a third of them): the head is most of a
    reading's cost otherwise.

    `resolve_homoglyphs`: read a letter that Latin, Greek and Cyrillic draw alike (A, Α, А) in
    the script of the rest of its word (`pixlm.render.charsets.resolve_homoglyphs`).

    A frame every 2 columns gives about three frames per character of PIXEL's 8-point text,
    which CTC needs (a doubled letter takes a blank between its two frames).
    """

    model_type = "pixlm-recognizer"
    family = "recognizer"

    def __init__(self, charset: str = DEFAULT_CHARSET, patch_size: int = 16, window: int = 16, frame_stride: int = 2,
                 frames_per_step: int = 2, hidden_size: int = 192, num_layers: int = 3, kernel_size: int = 5,
                 head_size: int = 128, dropout: float = 0.1, initializer_range: float = 0.02,
                 resolve_homoglyphs: bool = True, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(charset, str) or not charset:
            raise ValueError("RecognizerConfig.charset must be a non-empty string of the characters to read")
        if len(set(charset)) != len(charset):
            raise ValueError("RecognizerConfig.charset holds a character twice")
        if " " in charset or any(c.isspace() for c in charset):
            raise ValueError("RecognizerConfig.charset must not hold whitespace (a space is always read)")
        self.charset, self.resolve_homoglyphs = charset, resolve_homoglyphs
        # The frames: their height, width and spacing in pixels.
        self.patch_size, self.window, self.frame_stride = patch_size, window, frame_stride
        self.frames_per_step = frames_per_step
        self.hidden_size, self.num_layers, self.kernel_size = hidden_size, num_layers, kernel_size
        self.head_size = head_size
        self.dropout, self.initializer_range = dropout, initializer_range
        check_config_fields(self, sizes=("patch_size", "window", "frame_stride", "frames_per_step", "hidden_size",
                                            "num_layers", "kernel_size", "head_size"),
                            probabilities=("dropout",))
        if window < self.step_columns or (window - self.step_columns) % 2:
            raise ValueError(f"RecognizerConfig.window ({window}) must be frames_per_step x frame_stride ({self.step_columns}) "
                             "or more by an even number, so that each step's window centres on its columns")

    @property
    def step_columns(self) -> int:
        """Pixel columns per step of the convolutions (each gives `frames_per_step` frames)."""
        return self.frame_stride * self.frames_per_step

    @property
    def vocabulary(self) -> list[str]:
        """Class i's text: '' for the blank, U+FFFD for an unknown character, then a space and
        the charset."""
        return recognition_vocabulary(self.charset)

    @property
    def vocab_size(self) -> int:
        return len(self.charset) + 3
