"""`PixelBertConfig`: Pixel-BERT (Huang et al. 2020), a CNN over image pixels joined with BERT."""

from __future__ import annotations

from transformers import BertConfig, PretrainedConfig

from ..presets import config_from_preset
from ..validation import check_config_fields
from .backbones import BACKBONES

PRESETS: dict[str, dict] = {
    # A model that learns synthetic scenes on a CPU in minutes. Four layers and visual position
    # embeddings: with two layers, or without positions, questions that bind a word to one cell
    # ("what colour is the circle?", "what shape is at the top left?") learned far slower.
    "tiny": dict(backbone="small_cnn", hidden_size=128, num_hidden_layers=4, num_attention_heads=4, intermediate_size=256,
                 image_min_size=128, image_max_size=192, num_visual_samples=0, visual_position_embeddings=True),
    # The paper's models: ResNet-50 (or ResNeXt-152, not built here) with BERT-base.
    "base": dict(backbone="resnet50"),
    "base-resnext": dict(backbone="resnext50_32x4d"),
}

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class PixelBertConfig(PretrainedConfig):
    """A CNN backbone (torchvision names), a projection to the hidden size, an extra 2 x 2
    max-pool (64 x downsampling in all), the feature cells flattened with a visual semantic
    embedding; BERT embeddings for text; `[CLS] words [SEP] pixels` through a BERT encoder.

    `num_visual_samples` feature cells per image are drawn at random in pretraining (Pixel-BERT's
    random pixel sampling; 0: all). `visual_position_embeddings` adds learned row and column
    embeddings to the visual tokens (not in the paper, which relies on the CNN's own sense of
    position; off by default). Images are resized so the shorter edge is `image_min_size`
    with the longer edge at most `image_max_size`, as the paper (800 and 1333).
    """

    model_type = "pixelbert"
    presets, family = PRESETS, "Pixel-BERT"  # the named sizes (from_preset, load_model); the name in messages
    accepted_model_types = ("pixelbert",)

    def __init__(
        self,
        backbone: str = "resnet50",
        vocab_size: int = 30522,
        hidden_size: int = 768,
        num_hidden_layers: int = 12,
        num_attention_heads: int = 12,
        intermediate_size: int = 3072,
        hidden_act: str = "gelu",
        hidden_dropout_prob: float = 0.1,
        attention_probs_dropout_prob: float = 0.1,
        max_position_embeddings: int = 512,
        type_vocab_size: int = 2,
        layer_norm_eps: float = 1e-12,
        initializer_range: float = 0.02,
        num_visual_samples: int = 100,
        visual_position_embeddings: bool = False,
        image_min_size: int = 800,
        image_max_size: int = 1333,
        image_mean: tuple = IMAGENET_MEAN,
        image_std: tuple = IMAGENET_STD,
        pretraining_tasks: tuple = ("mlm", "itm"),
        mlm_probability: float = 0.15,
        retrieval_hard_negatives: int = 5,
        pad_token_id: int = 0,
        tie_word_embeddings: bool = True,
        **kwargs,
    ):
        super().__init__(pad_token_id=pad_token_id, **kwargs)
        self.tie_word_embeddings = tie_word_embeddings  # the MLM decoder shares the word embeddings, as BERT
        if backbone not in BACKBONES:
            raise ValueError(f"unknown backbone {backbone!r}; backbones: {', '.join(BACKBONES)}")
        if hidden_size % num_attention_heads:
            raise ValueError(f"hidden_size ({hidden_size}) must divide by num_attention_heads ({num_attention_heads})")
        unknown = set(pretraining_tasks) - {"mlm", "itm"}
        if unknown or not pretraining_tasks:
            raise ValueError(f"pretraining_tasks must be a non-empty subset of mlm, itm; got {list(pretraining_tasks)}")
        if image_min_size < 64 or image_max_size < image_min_size:
            raise ValueError(f"need 64 <= image_min_size <= image_max_size; got {image_min_size} and {image_max_size}")
        if num_visual_samples < 0:
            raise ValueError(f"num_visual_samples must be >= 0 (0: all cells), got {num_visual_samples}")
        self.backbone = backbone
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.hidden_act = hidden_act
        self.hidden_dropout_prob = hidden_dropout_prob
        self.attention_probs_dropout_prob = attention_probs_dropout_prob
        self.max_position_embeddings = max_position_embeddings
        self.type_vocab_size = type_vocab_size
        self.layer_norm_eps = layer_norm_eps
        self.initializer_range = initializer_range
        self.num_visual_samples = num_visual_samples
        self.visual_position_embeddings = bool(visual_position_embeddings)
        self.image_min_size = image_min_size
        self.image_max_size = image_max_size
        self.image_mean = list(image_mean)
        self.image_std = list(image_std)
        self.pretraining_tasks = list(pretraining_tasks)
        self.mlm_probability = mlm_probability
        self.retrieval_hard_negatives = retrieval_hard_negatives
        check_config_fields(self, sizes=("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "vocab_size"),
                            probabilities=("hidden_dropout_prob", "attention_probs_dropout_prob"))

    @classmethod
    def from_preset(cls, name: str, **overrides) -> "PixelBertConfig":
        return config_from_preset(cls, cls.presets, cls.family, name, overrides)

    def bert_config(self) -> BertConfig:
        """The text and transformer side, as transformers' BERT takes it."""
        return BertConfig(
            vocab_size=self.vocab_size, hidden_size=self.hidden_size, num_hidden_layers=self.num_hidden_layers,
            num_attention_heads=self.num_attention_heads, intermediate_size=self.intermediate_size,
            hidden_act=self.hidden_act, hidden_dropout_prob=self.hidden_dropout_prob,
            attention_probs_dropout_prob=self.attention_probs_dropout_prob,
            max_position_embeddings=self.max_position_embeddings, type_vocab_size=self.type_vocab_size,
            layer_norm_eps=self.layer_norm_eps, initializer_range=self.initializer_range, pad_token_id=self.pad_token_id,
        )
