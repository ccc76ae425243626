"""A line recognizer for rendered strips: convolutions over pixel columns and a CTC head.

Every few columns (a step), a window of the strip (any width, one patch high) is projected to
features; residual depthwise-separable 1-D convolutions let neighbouring steps inform each
other; each step then gives a few frames, each scored first for CTC's blank and then, where it
is probably not blank, over the characters. Trained with CTC on strips pixlm renders itself
(pixlm read train), it reads any layout, since it never assumes where characters fall.
"""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval
from transformers import PreTrainedModel
from transformers.utils import ModelOutput

from ...render.charsets import resolve_homoglyphs
from .configuration_recognizer import BLANK, RecognizerConfig


@dataclass
class RecognizerOutput(ModelOutput):
    """loss: CTC loss (with labels); logits: (B, T, V) log-probabilities per frame (blank
    first); frame_lengths: (B,) frames that cover each strip's text."""

    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    frame_lengths: torch.Tensor | None = None


class SeparableBlock(nn.Module):
    """x + dropout(pointwise(relu(norm(depthwise(x))))) over steps. The steps are a row of
    pixels (B, H, 1, T) in channels-last memory, as oneDNN convolves fastest: no reordering
    between layers, and a batch norm that is one multiply-add when reading."""

    def __init__(self, config: RecognizerConfig):
        super().__init__()
        h, k = config.hidden_size, config.kernel_size
        self.depthwise = nn.Conv2d(h, h, (1, k), padding=(0, k // 2), groups=h)
        self.norm = nn.BatchNorm2d(h)
        self.pointwise = nn.Conv2d(h, h, 1)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pointwise(F.relu(self.norm(self.depthwise(x)), inplace=True))
        if self.training:
            return x + self.dropout(y)
        return y.add_(x)  # reading: no copies kept for a backward pass, so no new tensor


class PixelRecognizerPreTrainedModel(PreTrainedModel):
    config_class = RecognizerConfig
    config: RecognizerConfig
    base_model_prefix = "recognizer"
    main_input_name = "pixel_values"

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            nn.init.normal_(module.weight, std=self.config.initializer_range)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)


class PixelRecognizer(PixelRecognizerPreTrainedModel):
    """Reads strips as text with CTC (see the module docstring and `RecognizerConfig`).

    `forward(pixel_values, widths=None, labels=None)`: pixel_values are (B, H, W) or (B, C, H, W)
    in [0, 1], white background, H the config's `patch_size`; `widths` (B,) are the columns of
    text in each strip (default: all); `labels` (B, S) are class ids (`config.vocabulary`),
    padded with -100. `best_frames` gives what reading needs at a fraction of the cost.
    """

    def __init__(self, config: RecognizerConfig):
        super().__init__(config)
        h, r = config.hidden_size, config.frames_per_step
        self.frames = nn.Conv2d(1, h, (config.patch_size, config.window), stride=(config.patch_size, config.step_columns),
                                padding=(0, (config.window - config.step_columns) // 2))
        self.blocks = nn.ModuleList(SeparableBlock(config) for _ in range(config.num_layers))
        self.norm = nn.BatchNorm2d(h)
        self.blank = nn.Conv2d(h, r, 1)  # each step's frames: the blank's logit
        self.characters = nn.Conv2d(h, r * config.head_size, 1)  # ... and their hidden layer for the characters
        self.head = nn.Linear(config.head_size, config.vocab_size - 1)
        self.post_init()

    def ink(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """(B, 1, H, W) darkness in [0, 1] (1 = black) from white-background gray or colour pixels."""
        if not torch.is_tensor(pixel_values) or not pixel_values.is_floating_point():
            raise TypeError("pixel_values must be a float tensor in [0, 1] (divide uint8 pixels by 255)")
        x = pixel_values if pixel_values.dim() == 4 else pixel_values.unsqueeze(1)
        if x.dim() != 4 or x.shape[-2] != self.config.patch_size:
            raise ValueError(f"pixel_values must be (B, H, W) or (B, C, H, W) with H = {self.config.patch_size}, "
                             f"got {tuple(pixel_values.shape)}")
        return 1.0 - (x if x.shape[1] == 1 else x.mean(1, keepdim=True))

    def frame_lengths(self, widths: torch.Tensor) -> torch.Tensor:
        return torch.div(widths + self.config.frame_stride - 1, self.config.frame_stride, rounding_mode="floor")

    def _features(self, pixel_values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(blank logits (B, T), each frame's hidden layer for the characters (B, T, head_size))."""
        h = self.frames(self.ink(pixel_values).to(self.frames.weight.dtype))
        h = h.contiguous(memory_format=torch.channels_last)  # (B, hidden, 1, steps); the layers after keep it
        for block in self.blocks:
            h = block(h)
        h = self.norm(h)
        b, r = h.shape[0], self.config.frames_per_step
        # (B, r, 1, steps) -> (B, steps * r): frame s * r + j is step s's j-th
        blank = self.blank(h).flatten(2).transpose(1, 2).reshape(b, -1)
        hidden = self.characters(h).view(b, r, self.config.head_size, -1).permute(0, 3, 1, 2)
        return blank, F.relu(hidden.reshape(b, blank.shape[1], self.config.head_size), inplace=True)

    def _lengths(self, widths: torch.Tensor | None, pixel_values: torch.Tensor, frames: int) -> torch.Tensor:
        if widths is None:
            widths = torch.full((pixel_values.shape[0],), pixel_values.shape[-1], device=pixel_values.device)
        return self.frame_lengths(widths.to(pixel_values.device)).clamp(max=frames)

    def forward(self, pixel_values: torch.Tensor, widths: torch.Tensor | None = None, labels: torch.Tensor | None = None,
                **kwargs) -> RecognizerOutput:
        blank, hidden = self._features(pixel_values)
        # P(blank) = sigmoid(b); P(class c) = (1 - sigmoid(b)) * softmax(head)[c]
        logits = torch.cat([F.logsigmoid(blank).unsqueeze(-1),
                            F.logsigmoid(-blank).unsqueeze(-1) + self.head(hidden).float().log_softmax(-1)], -1)
        lengths = self._lengths(widths, pixel_values, logits.shape[1])
        loss = None
        if labels is not None:
            target_lengths = (labels >= 0).sum(1)
            loss = F.ctc_loss(logits.float().transpose(0, 1), labels.clamp(min=0), lengths, target_lengths, blank=BLANK,
                              reduction="sum", zero_infinity=True) / target_lengths.sum().clamp(min=1)
        return RecognizerOutput(loss=loss, logits=logits, frame_lengths=lengths)

    @torch.no_grad()
    def best_frames(self, pixel_values: torch.Tensor, widths: torch.Tensor | None = None
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Each frame's most probable class and its probability, (B, T) each, and the frames
        that cover each strip (B,): the greedy reading of `forward`'s logits, exactly, with the
        characters scored only on frames whose blank is under 1/2 (a blank over 1/2 beats every
        character)."""
        blank, hidden = self._features(pixel_values)
        lengths = self._lengths(widths, pixel_values, blank.shape[1])
        p_blank = torch.sigmoid(blank.float())
        best = torch.full(blank.shape, BLANK, dtype=torch.long, device=blank.device)
        best_p = p_blank.clone()
        inside = torch.arange(blank.shape[1], device=blank.device) < lengths[:, None]
        chosen = (p_blank < 0.5) & inside
        if chosen.any():
            top_p, top_class = self._best_characters(hidden[chosen])
            p_char = (1.0 - p_blank[chosen]) * top_p
            wins = p_char > p_blank[chosen]
            best[chosen] = torch.where(wins, top_class + 1, BLANK)
            best_p[chosen] = torch.where(wins, p_char, p_blank[chosen])
        return best, best_p, lengths

    @torch.no_grad()
    def for_reading(self, dtype: torch.dtype = torch.float32) -> PixelRecognizer:
        """An eval-mode copy in `dtype` with each batch norm folded into the convolutions next
        to it: the same function in fewer passes over memory (`best_frames` runs faster)."""
        fused = copy.deepcopy(self).eval()
        for block in fused.blocks:
            block.depthwise, block.norm = fuse_conv_bn_eval(block.depthwise, block.norm), nn.Identity()
        # The last norm feeds two 1x1 convolutions: conv(scale * h + shift) = (conv . scale)(h) + conv(shift)
        norm = fused.norm
        scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
        shift = norm.bias - norm.running_mean * scale
        for conv in (fused.blank, fused.characters):
            conv.bias.add_(conv.weight[:, :, 0, 0] @ shift)
            conv.weight.mul_(scale[None, :, None, None])
        fused.norm = nn.Identity()
        return fused.to(dtype)

    def _best_characters(self, hidden: torch.Tensor, rows: int = 512) -> tuple[torch.Tensor, torch.Tensor]:
        """The most probable character of each frame's hidden layer (N, head_size) and its
        probability, in float32 whatever the model's dtype. In chunks of `rows` frames: a chunk's
        scores (rows x ~1,000 floats, 2 MB) stay in a core's cache through the softmax; scoring
        every frame at once would go out to memory and back, several times slower (here, per
        frame: 512 rows 1.7 us, 256 rows 1.9 us, 1,024 rows 3.4 us)."""
        # A trained head puts most classes 50-150 below the best: their exp(score - best) are
        # denormal floats, which x86 computes several times slower unless they are flushed to
        # zero (a probability under 1e-38 is nothing here).
        with flushed_denormals():
            chunks = [torch.softmax(self.head(part), -1, dtype=torch.float32).max(-1) for part in hidden.split(rows)]
        return torch.cat([c.values for c in chunks]), torch.cat([c.indices for c in chunks])


@contextlib.contextmanager
def flushed_denormals():
    """Denormal floats flushed to zero for the time of the block (where the CPU can), then the
    setting as it was: torch can set it but not say it, so it is found by multiplying one."""
    was_on = (torch.tensor([1e-39]) * 1.0).item() == 0.0
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(was_on)


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
    """Greedy CTC decoding of (B, T, V) frame scores (`decode_best` on each frame's best class)."""
    best_logit, best = logits.max(-1)
    # The best class's probability without the full softmax: exp(its logit - logsumexp).
    best_p = (best_logit.float() - torch.logsumexp(logits.float(), -1)).exp()
    return decode_best(best, best_p, frame_lengths, config)


def decode_best(best: torch.Tensor, best_p: torch.Tensor, frame_lengths: torch.Tensor,
                config: RecognizerConfig) -> list[Reading]:
    """Greedy CTC decoding from each frame's best class and its probability (B, T): repeats
    merged, blanks dropped; runs of spaces become one, and none starts or ends the text;
    look-alike letters of Latin, Greek and Cyrillic take the script of their word (unless the
    config says not to). A character's confidence is the mean probability of its frames.

    The runs of the whole batch are found at once (array work, not a loop over frames)."""
    ids, ps = best.detach().cpu().numpy(), best_p.detach().float().cpu().numpy().astype(np.float64)
    lengths = frame_lengths.detach().cpu().numpy().astype(np.int64)
    batch, frames = ids.shape
    inside = np.arange(frames) < lengths[:, None]
    # A run starts where a strip's frame differs from the one before it.
    starts = inside.copy()
    starts[:, 1:] &= ids[:, 1:] != ids[:, :-1]
    row, t = np.divmod(np.flatnonzero(starts), frames)
    same_row_next = np.append(row[1:] == row[:-1], False)
    end = np.where(same_row_next, np.append(t[1:], 0), lengths[row])
    cumulative = np.zeros((batch, frames + 1))
    np.cumsum(np.where(inside, ps, 0.0), axis=1, out=cumulative[:, 1:])
    confidence = (cumulative[row, end] - cumulative[row, t]) / (end - t)
    classes, centre = ids[row, t], (t + end - 1) / 2
    # Characters: runs that are not blank; of a run of spaces only the first, and none that
    # starts or ends its strip's text.
    space = config.vocabulary.index(" ")
    keep = classes != BLANK
    row, classes, confidence, centre = row[keep], classes[keep], confidence[keep], centre[keep]
    is_space = classes == space
    first_of_row = np.append(True, row[1:] != row[:-1])
    keep = ~(is_space & (first_of_row | np.append(True, is_space[:-1])))
    row, classes, confidence, centre, is_space = row[keep], classes[keep], confidence[keep], centre[keep], is_space[keep]
    last_of_row = np.append(row[1:] != row[:-1], True)
    keep = ~(is_space & last_of_row)
    row, classes, confidence, centre = row[keep], classes[keep], confidence[keep], centre[keep]
    column = np.floor(centre * config.frame_stride + config.frame_stride / 2).astype(np.int64)
    vocab = config.vocabulary
    resolve = getattr(config, "resolve_homoglyphs", True)
    frame_confidence = cumulative[np.arange(batch), lengths] / np.maximum(lengths, 1)
    bounds = np.searchsorted(row, np.arange(batch + 1))
    out = []
    for b in range(batch):
        a, z = bounds[b], bounds[b + 1]
        text = "".join([vocab[c] for c in classes[a:z].tolist()])
        columns = column[a:z]
        out.append(Reading(resolve_homoglyphs(text) if resolve else text, confidence[a:z].tolist(), columns.tolist(),
                           (columns // config.patch_size).tolist(),
                           frame_confidence=float(frame_confidence[b]) if lengths[b] else 1.0))
    return out
