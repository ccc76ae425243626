"""A line recognizer for rendered strips: convolutions over pixel columns and a CTC head.

The strip (any width, one patch high) is cut into overlapping windows of pixel columns, a frame
every `frame_stride` columns; each frame is projected to features, residual depthwise-separable
1-D convolutions let neighbouring frames inform each other, and a linear head scores each frame
over CTC's blank and the characters. Trained with CTC on strips pixlm renders itself (pixlm read
train), it reads any layout, since it never assumes where characters fall.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers.utils import ModelOutput

from ...render.charsets import resolve_homoglyphs
from .configuration_recognizer import BLANK, RecognizerConfig


@dataclass
class RecognizerOutput(ModelOutput):
    """loss: CTC loss (with labels); logits: (B, T, V) per frame; frame_lengths: (B,) frames
    that cover each strip's text."""

    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    frame_lengths: torch.Tensor | None = None


class SeparableBlock(nn.Module):
    """x + dropout(pointwise(gelu(norm(depthwise(x))))) over frames (B, T, H)."""

    def __init__(self, config: RecognizerConfig):
        super().__init__()
        h, k = config.hidden_size, config.kernel_size
        self.depthwise = nn.Conv1d(h, h, k, padding=k // 2, groups=h)
        self.norm = nn.LayerNorm(h)
        self.pointwise = nn.Linear(h, h)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.depthwise(x.transpose(1, 2)).transpose(1, 2)
        return x + self.dropout(self.pointwise(F.gelu(self.norm(y))))


class PixelRecognizerPreTrainedModel(PreTrainedModel):
    config_class = RecognizerConfig
    config: RecognizerConfig
    base_model_prefix = "recognizer"
    main_input_name = "pixel_values"

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d)):
            nn.init.normal_(module.weight, std=self.config.initializer_range)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)


class PixelRecognizer(PixelRecognizerPreTrainedModel):
    """Reads strips as text with CTC (see the module docstring and `RecognizerConfig`).

    `forward(pixel_values, widths=None, labels=None)`: pixel_values are (B, H, W) or (B, C, H, W)
    in [0, 1], white background, H the config's `patch_size`; `widths` (B,) are the columns of
    text in each strip (default: all); `labels` (B, S) are class ids (`config.vocabulary`),
    padded with -100.
    """

    def __init__(self, config: RecognizerConfig):
        super().__init__(config)
        self.frames = nn.Conv2d(1, config.hidden_size, (config.patch_size, config.window),
                                stride=(config.patch_size, config.frame_stride),
                                padding=(0, (config.window - config.frame_stride) // 2))
        self.blocks = nn.ModuleList(SeparableBlock(config) for _ in range(config.num_layers))
        self.norm = nn.LayerNorm(config.hidden_size)
        self.head = nn.Linear(config.hidden_size, config.vocab_size)
        self.post_init()

    def ink(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """(B, 1, H, W) darkness in [0, 1] (1 = black) from white-background gray or colour pixels."""
        if not torch.is_tensor(pixel_values) or not pixel_values.is_floating_point():
            raise TypeError("pixel_values must be a float tensor in [0, 1] (divide uint8 pixels by 255)")
        x = pixel_values if pixel_values.dim() == 4 else pixel_values.unsqueeze(1)
        if x.dim() != 4 or x.shape[-2] != self.config.patch_size:
            raise ValueError(f"pixel_values must be (B, H, W) or (B, C, H, W) with H = {self.config.patch_size}, "
                             f"got {tuple(pixel_values.shape)}")
        return 1.0 - x.mean(1, keepdim=True)

    def frame_lengths(self, widths: torch.Tensor) -> torch.Tensor:
        return torch.div(widths + self.config.frame_stride - 1, self.config.frame_stride, rounding_mode="floor")

    def forward(self, pixel_values: torch.Tensor, widths: torch.Tensor | None = None, labels: torch.Tensor | None = None,
                **kwargs) -> RecognizerOutput:
        x = self.ink(pixel_values)
        h = self.frames(x).squeeze(2).transpose(1, 2)  # (B, T, hidden)
        for block in self.blocks:
            h = block(h)
        logits = self.head(self.norm(h))
        if widths is None:
            widths = torch.full((x.shape[0],), x.shape[-1], device=x.device)
        lengths = self.frame_lengths(widths.to(x.device)).clamp(max=logits.shape[1])
        loss = None
        if labels is not None:
            target_lengths = (labels >= 0).sum(1)
            log_probs = logits.float().log_softmax(-1).transpose(0, 1)  # (T, B, V), as CTC takes it
            loss = F.ctc_loss(log_probs, labels.clamp(min=0), lengths, target_lengths, blank=BLANK, reduction="sum",
                              zero_infinity=True) / target_lengths.sum().clamp(min=1)
        return RecognizerOutput(loss=loss, logits=logits, frame_lengths=lengths)


@dataclass
class Reading:
    """What a strip reads as: its text, and for each character its confidence (the mean
    probability of the frames that gave it), its pixel column and its patch; `frame_confidence`
    is the mean probability of every frame's best class, blanks included; `unread_ink` the share
    of the strip's inked columns with no character read near them (set by `read_strips`)."""

    text: str
    confidence: list[float]
    columns: list[int]
    patches: list[int]
    frame_confidence: float = 1.0
    unread_ink: float = 0.0

    @property
    def mean_confidence(self) -> float:
        """The characters' mean confidence (for a strip read as empty, the frames')."""
        return float(sum(self.confidence) / len(self.confidence)) if self.confidence else self.frame_confidence

    @property
    def strip_confidence(self) -> float:
        """How far to trust the reading as a whole: the characters' confidence, discounted by
        the ink in which nothing was read (a character's confidence cannot flag a character
        that was never read, such as text a model smeared into grey)."""
        return self.mean_confidence * (1.0 - self.unread_ink)


def decode(logits: torch.Tensor, frame_lengths: torch.Tensor, config: RecognizerConfig) -> list[Reading]:
    """Greedy CTC decoding: each frame's best class, repeats merged, blanks dropped; runs of
    spaces become one, and none starts or ends the text; look-alike letters of Latin, Greek and
    Cyrillic take the script of their word (unless the config says not to)."""
    # The best class's probability without the full softmax: exp(its logit - logsumexp).
    best_logit, best = logits.max(-1)
    best_p = (best_logit.float() - torch.logsumexp(logits.float(), -1)).exp()
    vocab = config.vocabulary
    out = []
    for b in range(logits.shape[0]):
        ids, ps = best[b, : int(frame_lengths[b])].tolist(), best_p[b, : int(frame_lengths[b])].tolist()
        chars, confs, frames = [], [], []
        prev, start = BLANK, 0
        for t, (c, p) in enumerate(zip(ids + [BLANK], ps + [1.0])):
            if c == prev:
                continue
            if prev != BLANK:  # the run of `prev` over frames [start, t) ends
                chars.append(vocab[prev])
                confs.append(sum(ps[start:t]) / (t - start))
                frames.append((start + t - 1) / 2)
            prev, start = c, t
        reading = _tidy_spaces(chars, confs, frames, config)
        reading.frame_confidence = sum(ps) / len(ps) if ps else 1.0
        out.append(reading)
    return out


def _tidy_spaces(chars, confs, frames, config: RecognizerConfig) -> Reading:
    text, kept_confs, columns = [], [], []
    for ch, p, f in zip(chars, confs, frames):
        if ch == " " and (not text or text[-1] == " "):
            continue
        text.append(ch)
        kept_confs.append(float(p))
        columns.append(int(math.floor(f * config.frame_stride + config.frame_stride / 2)))
    while text and text[-1] == " ":
        text.pop(), kept_confs.pop(), columns.pop()
    joined = "".join(text)
    if getattr(config, "resolve_homoglyphs", True):
        joined = resolve_homoglyphs(joined)
    return Reading(joined, kept_confs, columns, [c // config.patch_size for c in columns])
