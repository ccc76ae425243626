"""Pixel-BERT (Huang et al. 2020): a CNN over the image's pixels, joined with BERT.

The image goes through a CNN backbone (stride 32), a 1 x 1 projection to the hidden size and an
extra 2 x 2 max-pool (stride 64 in all); each feature cell becomes a visual token, plus the
visual semantic embedding (BERT's token-type embedding 1) and, when the config asks (not in the
paper), learned row and column embeddings, normalised. Text is embedded as BERT
does (word, position, token type 0). `[CLS] words [SEP] pixels` goes through transformers'
`BertEncoder`; padded image cells and padded tokens are masked out of attention. The text side
is transformers' `BertModel` (module `bert`), so any BERT checkpoint on disk initialises it
(`init_text_from_bert`), and on text alone the model *is* BertModel.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn
from transformers import BertModel, PreTrainedModel
from transformers import initialization as init
from transformers.masking_utils import create_bidirectional_mask
from transformers.modeling_outputs import SequenceClassifierOutput
from transformers.models.bert.modeling_bert import BertEmbeddings, BertLMPredictionHead, BertOnlyMLMHead
from transformers.utils import ModelOutput

from ..loading import load_checked
from .backbones import build_backbone, load_backbone_weights
from .configuration_pixelbert import PixelBertConfig

VISUAL_STRIDE = 64  # the backbone's 32 and the extra 2 x 2 max-pool
MAX_GRID = 64  # rows and columns of visual position embeddings, when used (images up to 4,096 pixels a side)


@dataclass
class PixelBertModelOutput(ModelOutput):
    last_hidden_state: torch.Tensor | None = None  # (B, T + N, D): text positions, then visual cells
    pooler_output: torch.Tensor | None = None  # (B, D): BERT's pooler on [CLS]
    attention_mask: torch.Tensor | None = None  # (B, T + N)
    num_text: int | None = None  # T


@dataclass
class VisualTokens:
    embeddings: torch.Tensor  # (B, N, D)
    mask: torch.Tensor  # (B, N): 1 on cells inside the image
    grid: tuple[int, int]  # (rows, columns) of the feature map before flattening
    index: torch.Tensor | None = None  # (B, N) cell numbers in the grid, after sampling

    def select(self, images: torch.Tensor) -> "VisualTokens":
        """The tokens of the given images, in that order (an image may be chosen several times)."""
        index = None if self.index is None else self.index[images]
        return VisualTokens(self.embeddings[images], self.mask[images], self.grid, index)


def cell_mask(pixel_mask: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
    """(B, H, W) image mask (1 inside the image) -> (B, rows * cols) mask of feature cells that
    hold any part of the image."""
    cells = F.adaptive_max_pool2d(pixel_mask[:, None].float(), grid)
    return cells.flatten(1)


def sample_cells(tokens: VisualTokens, k: int, generator: torch.Generator | None = None) -> VisualTokens:
    """Pixel-BERT's random pixel sampling: `k` cells per image drawn uniformly from its valid
    cells (all of them, padded and masked, when it has fewer)."""
    b, n, _ = tokens.embeddings.shape
    if k <= 0 or k >= n:
        return tokens
    scores = torch.rand(b, n, generator=generator, device=tokens.mask.device) + tokens.mask  # valid cells first
    index = scores.topk(k, dim=1).indices.sort(dim=1).values
    gather = index[..., None].expand(-1, -1, tokens.embeddings.shape[-1])
    return VisualTokens(tokens.embeddings.gather(1, gather), tokens.mask.gather(1, index), tokens.grid, index)


class PixelBertVisualEmbeddings(nn.Module):
    """Image -> visual tokens: backbone, 1 x 1 projection, 2 x 2 max-pool, flatten, semantic
    embedding, LayerNorm, dropout."""

    def __init__(self, config: PixelBertConfig):
        super().__init__()
        self.backbone = build_backbone(config.backbone)
        self.projection = nn.Conv2d(self.backbone.out_channels, config.hidden_size, kernel_size=1)
        self.pool = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        if config.visual_position_embeddings:  # not in the paper: learned row and column embeddings of each cell
            self.row_embeddings = nn.Embedding(MAX_GRID, config.hidden_size)
            self.column_embeddings = nn.Embedding(MAX_GRID, config.hidden_size)

    def forward(self, pixel_values: torch.Tensor, pixel_mask: torch.Tensor | None, semantic: torch.Tensor) -> VisualTokens:
        if pixel_values.ndim != 4 or pixel_values.shape[1] != 3:
            raise ValueError(f"pixel_values must be (batch, 3, height, width); got {tuple(pixel_values.shape)}")
        features = self.pool(self.projection(self.backbone(pixel_values)))
        grid = tuple(features.shape[-2:])
        if pixel_mask is None:
            pixel_mask = pixel_values.new_ones(pixel_values.shape[0], *pixel_values.shape[-2:])
        if hasattr(self, "row_embeddings"):
            features = features + self._positions(grid).to(features.dtype)
        tokens = features.flatten(2).transpose(1, 2)
        return VisualTokens(self.dropout(self.norm(tokens + semantic)), cell_mask(pixel_mask, grid), grid)

    def _positions(self, grid: tuple[int, int]) -> torch.Tensor:
        """(D, rows, cols): each cell's row embedding plus its column embedding."""
        rows, cols = grid
        if rows > MAX_GRID or cols > MAX_GRID:
            raise ValueError(f"a {rows} x {cols} feature grid exceeds the {MAX_GRID} x {MAX_GRID} of the position "
                             f"embeddings; give images of at most {MAX_GRID * VISUAL_STRIDE} pixels a side")
        row = self.row_embeddings.weight[:rows]
        col = self.column_embeddings.weight[:cols]
        return (row[:, None] + col[None]).permute(2, 0, 1)


class PixelBertPreTrainedModel(PreTrainedModel):
    config_class = PixelBertConfig
    config: PixelBertConfig
    base_model_prefix = "pixelbert"
    main_input_name = "input_ids"
    _no_split_modules = ["BertLayer"]

    @torch.no_grad()
    def _init_weights(self, module):
        if getattr(module, "_in_backbone", False) and isinstance(module, nn.Conv2d):
            init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            return
        super()._init_weights(module)
        if isinstance(module, BertLMPredictionHead):
            init.zeros_(module.bias)
        elif isinstance(module, BertEmbeddings):
            init.copy_(module.position_ids, torch.arange(module.position_ids.shape[-1]).expand((1, -1)))
            init.zeros_(module.token_type_ids)

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, *args, **kwargs):
        """Load a checkpoint; what it lacks or has to spare (a pretraining head, a new task head)
        is said in one line, shapes that do not fit are refused."""
        want_info = kwargs.get("output_loading_info", False)
        model, info = load_checked(cls, super().from_pretrained, pretrained_model_name_or_path, *args, **kwargs)
        return (model, info) if want_info else model

    def _base(self) -> "PixelBertModel":
        return self if isinstance(self, PixelBertModel) else self.pixelbert

    def load_backbone(self, path: str) -> None:
        """Load ImageNet (or any) backbone weights from a local torchvision state-dict file."""
        load_backbone_weights(self._base().visual.backbone, path)

    def init_text_from_bert(self, folder: str) -> list[str]:
        """Copy a BERT checkpoint on disk (BertModel, BertForMaskedLM, BertForPreTraining, ...)
        into the text side and transformer; returns the names loaded."""
        path = os.path.join(folder, "model.safetensors")
        if not os.path.isfile(path):
            raise FileNotFoundError(f"no model.safetensors in {folder!r}: give a BERT checkpoint folder")
        state = load_file(path)
        base = self._base()
        ours = base.state_dict()
        loaded = {}
        for key, value in state.items():
            name = key if key.startswith("bert.") else f"bert.{key}"
            if name in ours and ours[name].shape == value.shape:
                loaded[name] = value
        if not any(".encoder." in k for k in loaded):
            raise ValueError(f"{folder!r} holds no BERT encoder weights of this size (hidden {self.config.hidden_size}, "
                             f"{self.config.num_hidden_layers} layers)")
        base.load_state_dict(loaded, strict=False)
        if isinstance(self, PixelBertForPreTraining):  # BERT's MLM head, where the checkpoint has one
            head = {k.removeprefix("cls."): v for k, v in state.items() if k.startswith("cls.predictions.")}
            if head:
                self.cls.load_state_dict(head, strict=False)
        return sorted(loaded)


class PixelBertModel(PixelBertPreTrainedModel):
    """The joint encoder: text, visual tokens, BERT encoder; returns every state and the pooled
    [CLS]."""

    base_model_prefix = "pixelbert"

    def __init__(self, config: PixelBertConfig):
        super().__init__(config)
        self.bert = BertModel(config.bert_config(), add_pooling_layer=True)
        self.visual = PixelBertVisualEmbeddings(config)
        for m in self.visual.backbone.modules():
            m._in_backbone = True
        self.post_init()

    def visual_tokens(self, pixel_values: torch.Tensor, pixel_mask: torch.Tensor | None = None) -> VisualTokens:
        semantic = self.bert.embeddings.token_type_embeddings.weight[1]
        return self.visual(pixel_values, pixel_mask, semantic)

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        pixel_values: torch.Tensor | None = None,
        pixel_mask: torch.Tensor | None = None,
        visual: VisualTokens | None = None,
        **kwargs,
    ) -> PixelBertModelOutput:
        """`input_ids` (B, T) as `[CLS] words [SEP]`; `pixel_values` (B, 3, H, W) with
        `pixel_mask` (B, H, W), or precomputed (possibly sampled) `visual` tokens."""
        if input_ids is None:
            raise ValueError("input_ids are required: Pixel-BERT reads text with its image")
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        text = self.bert.embeddings(input_ids=input_ids, token_type_ids=torch.zeros_like(input_ids))
        if visual is None and pixel_values is not None:
            visual = self.visual_tokens(pixel_values, pixel_mask)
        if visual is not None:
            if visual.embeddings.shape[0] != input_ids.shape[0]:
                raise ValueError(f"{visual.embeddings.shape[0]} images for {input_ids.shape[0]} texts; give one image per text")
            hidden = torch.cat([text, visual.embeddings], dim=1)
            mask = torch.cat([attention_mask.to(hidden.dtype), visual.mask.to(hidden.dtype)], dim=1)
        else:
            hidden, mask = text, attention_mask.to(text.dtype)
        extended = create_bidirectional_mask(config=self.bert.config, inputs_embeds=hidden, attention_mask=mask)
        states = self.bert.encoder(hidden, attention_mask=extended).last_hidden_state
        return PixelBertModelOutput(last_hidden_state=states, pooler_output=self.bert.pooler(states),
                                    attention_mask=mask, num_text=input_ids.shape[1])


@dataclass
class PixelBertForPreTrainingOutput(ModelOutput):
    loss: torch.Tensor | None = None
    mlm_loss: torch.Tensor | None = None
    itm_loss: torch.Tensor | None = None
    mlm_logits: torch.Tensor | None = None  # (B, T, vocab)
    itm_logits: torch.Tensor | None = None  # (B, 2): not matched, matched


class PixelBertForPreTraining(PixelBertPreTrainedModel):
    """Masked language modelling and image-text matching, as two forward passes over the same
    visual tokens (the CNN runs once); the losses are summed. In training, each image keeps
    `config.num_visual_samples` random cells (random pixel sampling)."""

    _tied_weights_keys = {"cls.predictions.decoder.weight": "pixelbert.bert.embeddings.word_embeddings.weight",
                          "cls.predictions.decoder.bias": "cls.predictions.bias"}

    def __init__(self, config: PixelBertConfig):
        super().__init__(config)
        self.pixelbert = PixelBertModel(config)
        self.cls = BertOnlyMLMHead(config.bert_config())
        self.itm_head = nn.Linear(config.hidden_size, 2)
        self.post_init()

    def get_output_embeddings(self):
        return self.cls.predictions.decoder

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        pixel_values: torch.Tensor | None = None,
        pixel_mask: torch.Tensor | None = None,
        mlm_input_ids: torch.Tensor | None = None,
        mlm_labels: torch.Tensor | None = None,
        itm_image_index: torch.Tensor | None = None,
        itm_labels: torch.Tensor | None = None,
        **kwargs,
    ) -> PixelBertForPreTrainingOutput:
        """MLM: `mlm_input_ids` (the text with masked tokens) and `mlm_labels` (-100 where not
        masked), read with the text's own image. ITM: text b is read with image
        `itm_image_index[b]` of the batch, `itm_labels[b]` = 1 when that is its own image."""
        if pixel_values is None:
            raise ValueError("pixel_values are required for pretraining")
        visual = self.pixelbert.visual_tokens(pixel_values, pixel_mask)
        if self.training and self.config.num_visual_samples:
            visual = sample_cells(visual, self.config.num_visual_samples)
        out = PixelBertForPreTrainingOutput()
        losses = []
        if "mlm" in self.config.pretraining_tasks and mlm_input_ids is not None:
            states = self.pixelbert(mlm_input_ids, attention_mask, visual=visual).last_hidden_state
            out.mlm_logits = self.cls(states[:, : mlm_input_ids.shape[1]])
            if mlm_labels is not None:
                out.mlm_loss = F.cross_entropy(out.mlm_logits.reshape(-1, out.mlm_logits.shape[-1]), mlm_labels.reshape(-1),
                                               ignore_index=-100)
                losses.append(out.mlm_loss)
        if "itm" in self.config.pretraining_tasks and itm_image_index is not None:
            paired = visual.select(itm_image_index)
            out.itm_logits = self.itm_head(self.pixelbert(input_ids, attention_mask, visual=paired).pooler_output)
            if itm_labels is not None:
                out.itm_loss = F.cross_entropy(out.itm_logits, itm_labels)
                losses.append(out.itm_loss)
        out.loss = sum(losses) if losses else None
        return out


def _mlp(hidden: int, out: int, eps: float) -> nn.Sequential:
    return nn.Sequential(nn.Linear(hidden, hidden * 2), nn.GELU(), nn.LayerNorm(hidden * 2, eps=eps), nn.Linear(hidden * 2, out))


class PixelBertForQuestionAnswering(PixelBertPreTrainedModel):
    """VQA as multi-label classification over an answer vocabulary: an MLP on [CLS], binary
    cross-entropy against soft scores (`labels` (B, num_labels) in [0, 1]). Questions about
    the same image can share one pass of the CNN: `pixel_values` then holds each image once and
    `image_index` (B,) names each question's image."""

    def __init__(self, config: PixelBertConfig):
        super().__init__(config)
        self.pixelbert = PixelBertModel(config)
        self.classifier = _mlp(config.hidden_size, config.num_labels, config.layer_norm_eps)
        self.post_init()

    def forward(self, input_ids, attention_mask=None, pixel_values=None, pixel_mask=None, labels=None, image_index=None,
                **kwargs):
        visual = None if pixel_values is None else self.pixelbert.visual_tokens(pixel_values, pixel_mask)
        if image_index is not None:
            if visual is None:
                raise ValueError("image_index names images of pixel_values; give pixel_values too")
            if image_index.shape != input_ids.shape[:1] or int(image_index.max()) >= len(pixel_values):
                raise ValueError(f"image_index must hold one image number below {len(pixel_values)} per question "
                                 f"({input_ids.shape[0]}); got shape {tuple(image_index.shape)}")
            visual = visual.select(image_index)
        pooled = self.pixelbert(input_ids, attention_mask, visual=visual).pooler_output
        logits = self.classifier(pooled)
        loss = None
        if labels is not None:
            # Summed over answers, averaged over questions (as the VQA literature does).
            loss = F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype), reduction="sum") / len(logits)
        return SequenceClassifierOutput(loss=loss, logits=logits)


class PixelBertForNLVR2(PixelBertPreTrainedModel):
    """NLVR2: the statement read with each of its two images, the two [CLS] vectors
    concatenated, true or false. `pixel_values` holds 2B images, the pairs one after the other."""

    def __init__(self, config: PixelBertConfig):
        super().__init__(config)
        self.pixelbert = PixelBertModel(config)
        self.classifier = _mlp(2 * config.hidden_size, 2, config.layer_norm_eps)
        self.post_init()

    def forward(self, input_ids, attention_mask=None, pixel_values=None, pixel_mask=None, labels=None, **kwargs):
        if pixel_values is None or pixel_values.shape[0] != 2 * input_ids.shape[0]:
            got = None if pixel_values is None else pixel_values.shape[0]
            raise ValueError(f"NLVR2 takes two images per statement: {input_ids.shape[0]} statements need "
                             f"{2 * input_ids.shape[0]} images, got {got}")
        ids = input_ids.repeat_interleave(2, dim=0)
        mask = None if attention_mask is None else attention_mask.repeat_interleave(2, dim=0)
        pooled = self.pixelbert(ids, mask, pixel_values, pixel_mask).pooler_output
        logits = self.classifier(pooled.reshape(input_ids.shape[0], -1))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class PixelBertForImageTextRetrieval(PixelBertPreTrainedModel):
    """A matching score on [CLS] for an image and a caption. Training: each image with its
    caption and K sampled negative captions (`input_ids` (B, 1 + K, T), positive first); the
    `hard_negatives` highest-scoring negatives and the positive enter a softmax loss."""

    def __init__(self, config: PixelBertConfig):
        super().__init__(config)
        self.pixelbert = PixelBertModel(config)
        self.score_head = nn.Linear(config.hidden_size, 1)
        self.hard_negatives = config.retrieval_hard_negatives
        self.post_init()

    def score(self, input_ids, attention_mask, visual: VisualTokens) -> torch.Tensor:
        """Scores of text b with visual tokens b: (B,)."""
        return self.score_head(self.pixelbert(input_ids, attention_mask, visual=visual).pooler_output).squeeze(-1)

    def forward(self, input_ids, attention_mask=None, pixel_values=None, pixel_mask=None, labels=None, **kwargs):
        visual = self.pixelbert.visual_tokens(pixel_values, pixel_mask)
        if input_ids.ndim == 2:
            return SequenceClassifierOutput(logits=self.score(input_ids, attention_mask, visual))
        b, c, t = input_ids.shape
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        expanded = visual.select(torch.arange(b, device=input_ids.device).repeat_interleave(c))
        scores = self.score(input_ids.reshape(b * c, t), attention_mask.reshape(b * c, t), expanded).reshape(b, c)
        k = min(self.hard_negatives, c - 1)
        hardest = scores[:, 1:].detach().topk(k, dim=1).indices + 1
        chosen = torch.cat([scores[:, :1], scores.gather(1, hardest)], dim=1)
        loss = F.cross_entropy(chosen, torch.zeros(b, dtype=torch.long, device=scores.device))
        return SequenceClassifierOutput(loss=loss, logits=scores)
