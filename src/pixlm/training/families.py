"""The model families as the training entry points see them: one description each (its models,
pretraining objective and collators, the figure pretraining draws, what it needs besides a
renderer), found by name in `FAMILIES` or from a checkpoint folder with `family_of`.
`pretrain` and `finetune` ask the description instead of testing `model_type`.

Imports inside functions: the descriptions' models and collators, so that the CLI reads this
registry for its choices without importing torch."""

from __future__ import annotations

import importlib
import json
import os

from .tasks import TASKS


class Family:
    """One model family. Subclasses set the attributes and the methods that differ."""

    name: str = ""  # the `model_type` pixlm saves, and --model-type's value
    title: str = ""  # how papers and model cards name it
    module: str = ""  # where its models live: pixlm.models.<module>
    pretraining_head: str | None = None  # the class `pretrain` trains
    objective: str = ""  # model cards: what pretraining optimises
    loss_name: str = ""  # loss curves: the held-out loss
    figure_folder: str = ""  # where pretraining's figures go, under the output folder
    uses_tokenizer: bool = False  # pretraining may batch tokens as well as pixels
    unused_parameters: bool = False  # DDP: a batch may leave some parameters without a gradient

    def models(self):
        return importlib.import_module(f"pixlm.models.{self.module}")

    @property
    def model_types(self) -> tuple[str, ...]:
        """The `model_type`s of the checkpoints it opens (released ones too), as its config says."""
        return self.head(self.pretraining_head).config_class.accepted_model_types

    def head(self, name: str):
        return getattr(self.models(), name)

    def check_pretraining(self, cfg) -> None:
        """Refuse a pretraining config (pixlm.training.PretrainConfig) this family cannot run,
        before any work starts."""

    def task_model(self, task, source: str):
        """The model class that carries `task` (a pixlm.training.tasks.Task) for this family;
        `source`, the checkpoint, is named in the error when it carries none."""
        raise ValueError(f"{source} is a {self.title} model, which pixlm finetune does not finetune")

    def finetuning_model(self, task, cfg, label_kwargs: dict):
        """The model `finetune` trains for `task`, from `cfg.model` (a preset or checkpoint)."""
        return self.task_model(task, cfg.model).from_pretrained(cfg.model, **cfg.model_overrides, **label_kwargs)

    def finetuned_model(self, task, folder: str, **options):
        """A model finetuned for `task`, to evaluate (`options`: config fields to override);
        refuses one finetuned for another task."""
        head = self.task_model(task, folder)
        with open(os.path.join(folder, "config.json"), encoding="utf-8") as f:
            architectures = json.load(f).get("architectures") or []
        if architectures and not self.same_head(architectures[0], head):
            raise ValueError(f"checkpoint {folder} holds a {architectures[0]}, but task {task.name!r} needs {head.__name__}")
        return head.from_pretrained(folder, **options)

    def same_head(self, saved: str, head) -> bool:
        """Whether a checkpoint's saved architecture is the class `head` (PIXEL's own code
        spells its classes PIXELFor...)."""
        return saved.lower() == head.__name__.lower()

    def pretraining_model(self, cfg, tokenizer=None):
        """The model `pretrain` starts from: a preset built new, or a checkpoint continued."""
        from ..models.loading import load_model

        return load_model(self.head(self.pretraining_head), cfg.model, **cfg.model_overrides)

    def collators(self, cfg, model, renderer, tokenizer):
        """(training collator, held-out collator) for pretraining."""
        raise NotImplementedError

    def figure(self, model, renderer, text: str, k: int):
        """The picture pretraining draws of a held-out text (PIL image)."""
        raise NotImplementedError

    def eval_probe(self, renderer, texts: list[str]):
        """What pretraining measures at each evaluation besides the loss: a function of the
        model returning {name: value}, or None."""
        return None


class PixelFamily(Family):
    name, title, module = "pixel", "PIXEL", "pixel"
    pretraining_head = "PixelForPreTraining"
    objective = "masked-patch reconstruction with span masking"
    loss_name = "masked-patch loss"
    figure_folder = "reconstructions"

    def task_model(self, task, source):
        return self.head(task.head)

    def finetuning_model(self, task, cfg, label_kwargs):
        from ..models.loading import load_model

        head = self.task_model(task, cfg.model)
        dropout = finetuning_dropout(cfg)
        if cfg.model in head.config_class.presets:  # from scratch: grayscale strips of the run's length
            overrides = {"num_channels": 1, "max_patches": cfg.max_patches, "pooling": cfg.pooling, **dropout,
                         **cfg.model_overrides}
            return load_model(head, cfg.model, **overrides, **label_kwargs)
        if cfg.modality != "pixels":
            raise ValueError(f"modality {cfg.modality!r} is PixelGPT's (text or pair); {cfg.model} is a PIXEL model, "
                             "which reads pixels")
        with open(os.path.join(cfg.model, "config.json"), encoding="utf-8") as f:
            architectures = json.load(f).get("architectures") or []

        other_heads = {t.head.lower() for t in TASKS.values() if t.head != task.head}
        if architectures and architectures[0].lower() in other_heads:
            raise ValueError(f"checkpoint {cfg.model} holds a {architectures[0]}, but task {task.name!r} needs {task.head}; "
                             "start from a pretrained PIXEL checkpoint or one finetuned for the same task")
        return load_model(head, cfg.model, pooling=cfg.pooling, **{**dropout, **cfg.model_overrides}, **label_kwargs)

    def collators(self, cfg, model, renderer, tokenizer):
        from ..data import PixelPretrainingCollator

        mc = model.config
        args = dict(num_channels=mc.num_channels, mask_ratio=mc.mask_ratio, span_masking=cfg.span_masking,
                    max_span_length=mc.max_span_length, span_weights=mc.span_weights, seed=cfg.seed)
        # Held-out batches carry no character labels, so that the held-out loss stays the pixel
        # loss of every PIXEL run, with or without a character head.
        characters = dict(character_slots=mc.character_slots, character_vocab_size=mc.character_vocab_size) \
            if getattr(mc, "character_loss_weight", 0) > 0 else {}
        return PixelPretrainingCollator(renderer, **args, **characters), PixelPretrainingCollator(renderer, **args)

    def figure(self, model, renderer, text, k):
        from ..viz import reconstruct

        return reconstruct(model, renderer, text, seed=k)[0]

    def eval_probe(self, renderer, texts):
        """R, whether the model reads its context (pixlm.evaluation.diagnose), on held-out texts;
        with a recognizer for the renderer (pixlm's ships with one for the default renderer),
        also the character accuracy of what its reconstructions of masked patches read as."""
        if not texts:
            return None
        from ..evaluation.diagnose import diagnose
        from ..models.recognizer.reading import recognizer_for

        recognizer = recognizer_for(renderer.config)

        def probe(model) -> dict[str, float]:
            result = diagnose(getattr(model, "module", model), renderer, texts, recognizer=recognizer)
            out = {"reading_ratio": result.ratio}
            if result.reading is not None:
                out["masked_character_accuracy"] = result.reading["reconstructed"]
                out["white_character_accuracy"] = result.reading["white"]  # white patches read back, for scale
            return out

        return probe


class PixelGPTFamily(Family):
    name, title, module = "pixelgpt", "PixelGPT", "pixelgpt"
    pretraining_head = "PixelGPTForCausalLM"
    objective = "next-patch prediction"
    loss_name = "next-patch loss (pixels)"
    figure_folder = "generations"
    uses_tokenizer = True
    unused_parameters = True  # a pixel batch leaves the token embedding and head unused, a text batch the pixel side

    def check_pretraining(self, cfg):
        """Text and paired batches of the mixture need a tokenizer."""
        from ..data.mixture import parse_mixture

        mixture = parse_mixture(cfg.mixture)
        if set(mixture) & {"text", "paired"} and cfg.tokenizer is None and not has_tokenizer(cfg.model):
            raise ValueError(f"mixture {mixture} has text or paired batches: give a tokenizer folder "
                             "(make one with `pixlm tokenizer train`)")

    def task_model(self, task, source):
        if not task.pixelgpt:
            covered = ", ".join(name for name, t in TASKS.items() if t.pixelgpt)
            raise ValueError(f"checkpoint {source} is a PixelGPT model, which finetunes for {covered}; not {task.name!r}")
        from transformers import AutoModelForSequenceClassification

        return AutoModelForSequenceClassification  # PixelGPT's or the released ErniePixel's, by model_type

    def finetuning_model(self, task, cfg, label_kwargs):
        model = super().finetuning_model(task, cfg, label_kwargs)
        model.config.modality = cfg.modality  # saved with the model, so that evaluation feeds it the same way
        return model

    def same_head(self, saved, head):
        return saved.endswith("ForSequenceClassification")

    def pretraining_model(self, cfg, tokenizer=None):
        from ..models.loading import load_model

        head = self.head(self.pretraining_head)
        overrides = dict(cfg.model_overrides)
        if tokenizer is not None and cfg.model in head.config_class.presets:
            overrides.setdefault("vocab_size", len(tokenizer))
        return load_model(head, cfg.model, **overrides)

    def collators(self, cfg, model, renderer, tokenizer):
        """PixelGPT's held-out batches are always pixels, so that every variant (PixelGPT,
        MonoGPT, DualGPT) is scored by the same next-patch loss."""
        from ..data.mixture import PixelGPTCollator

        mc = model.config
        if tokenizer is not None and len(tokenizer) > mc.vocab_size:
            raise ValueError(f"tokenizer has {len(tokenizer)} tokens but the model's vocab_size is {mc.vocab_size}")
        args = dict(num_channels=mc.num_channels, max_tokens=min(cfg.max_tokens, mc.max_tokens), seed=cfg.seed)
        return (PixelGPTCollator(renderer, tokenizer, mixture=cfg.mixture, **args),
                PixelGPTCollator(renderer, None, mixture="pixelgpt", **args))

    def figure(self, model, renderer, text, k):
        from ..viz import generate

        half = max(1, (renderer(text).num_patches - 1) // 2)
        return generate(model, renderer, text, prompt_patches=half)[0]


class SubwordFamily(Family):
    """The subword baseline: a BERT with its WordPiece tokenizer trained on the same corpus
    (pixlm.baselines.subword); pretrained by pixlm.training.subword."""

    name, title, module = "subword", "subword baseline (BERT)", ""
    model_types = ("bert",)  # transformers' BERT, with pixlm's marker in its config

    def task_model(self, task, source):
        if not task.subword_head:
            covered = ", ".join(name for name, t in TASKS.items() if t.subword_head)
            raise ValueError(f"the subword baseline covers {covered}; not {task.name!r}")
        return self.head(task.subword_head)

    def head(self, name):
        import transformers

        return getattr(transformers, name)

    def finetuning_model(self, task, cfg, label_kwargs):
        return self.task_model(task, cfg.model).from_pretrained(cfg.model, **finetuning_dropout(cfg), **label_kwargs)


def finetuning_dropout(cfg) -> dict:
    """The dropout a finetuning run sets on an encoder with BERT's dropout fields (PIXEL, the
    subword baseline): `cfg.dropout` for both, as PIXEL's finetuning scripts do (their
    `--dropout_prob`, 0.1), so that a checkpoint pretrained without dropout is not finetuned
    without it."""
    return {"hidden_dropout_prob": cfg.dropout, "attention_probs_dropout_prob": cfg.dropout}


def has_tokenizer(folder: str) -> bool:
    """Whether a model folder holds a tokenizer beside the model."""
    return os.path.isfile(os.path.join(folder, "tokenizer_config.json"))


FAMILIES: dict[str, Family] = {f.name: f for f in (PixelFamily(), PixelGPTFamily(), SubwordFamily())}
PRETRAINABLE = tuple(name for name, f in FAMILIES.items() if f.pretraining_head)


def family_of(model: str) -> Family:
    """The family of a checkpoint folder (by its config's model_type); PIXEL for a preset name."""
    config = os.path.join(model, "config.json")
    if not os.path.isfile(config):
        return FAMILIES["pixel"]
    from ..baselines.subword import is_subword_model

    if is_subword_model(model):
        return FAMILIES["subword"]
    with open(config, encoding="utf-8") as f:
        model_type = json.load(f).get("model_type")
    for family in FAMILIES.values():
        if model_type in family.model_types and family.name != "subword":
            return family
    raise ValueError(f"checkpoint {model} has model_type {model_type!r}, which no pixlm family opens "
                     f"({', '.join(t for f in FAMILIES.values() for t in f.model_types)})")
