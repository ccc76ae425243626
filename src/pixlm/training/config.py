"""The configs of pixlm's training entry points: `PretrainConfig` (pretrain), `FinetuneConfig`
(finetune) and `PixelBertRunConfig` (vl). Each field declares its help, flag, choices and range
(pixlm.options): the CLI's flags are made from them, and `validate` checks a config against them
where it is built. Kept free of torch so that `pixlm --help` is fast."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, fields

from ..data.hub import is_hub_name
from ..options import check_fields, option
from ..render.layouts import word_aligned_layouts
from .families import FAMILIES, PRETRAINABLE
from .recipes import RECIPES
from .tasks import TASKS
from .vl_tasks import VL_TASKS

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
MODALITIES = ("pixels", "text", "pair")
FSDP_HELP = ("shard the model with PyTorch FSDP: a transformers fsdp_config JSON file (examples/fsdp-pixel.json, "
             "examples/fsdp-pixelgpt.json); "
             "run under torchrun or accelerate launch on GPUs (accelerate runs FSDP on GPUs only)")
DEEPSPEED_HELP = "train with DeepSpeed: its config JSON file (examples/deepspeed-zero2.json; needs `pip install deepspeed`)"


def check_sharding_files(cfg) -> None:
    """`cfg.fsdp` and `cfg.deepspeed`: at most one, each a JSON object file."""
    if cfg.fsdp and cfg.deepspeed:
        raise ValueError("give --fsdp or --deepspeed, not both")
    for name in ("fsdp", "deepspeed"):
        path = getattr(cfg, name)
        if path is None:
            continue
        try:
            with open(path, encoding="utf-8") as f:
                content = json.load(f)
        except OSError as e:
            raise ValueError(f"--{name} {path}: cannot read it ({e.strerror}); give a JSON config file, "
                             f"e.g. examples/{'fsdp-pixel.json' if name == 'fsdp' else 'deepspeed-zero2.json'}") from None
        except json.JSONDecodeError as e:
            raise ValueError(f"--{name} {path}: not JSON ({e.msg} at line {e.lineno})") from None
        if not isinstance(content, dict):
            raise ValueError(f"--{name} {path}: expected a JSON object of settings, got {type(content).__name__}")


@dataclass
class PretrainConfig:
    """Everything `pretrain` needs. Defaults follow PIXEL's recipe where it has one."""

    corpus: str = option(help="text corpus: a .txt (one text per line), .jsonl, .parquet or .csv file or a folder of "
                              "them, a pre-rendered .arrow file from `pixlm render`, or a datasets name (needs a connection)",
                         metavar="PATH|NAME", group="data")
    output_dir: str = option(help="checkpoints, logs, figures and the final model go here", metavar="DIR", group="training")
    validation: str | None = option(None, help="held-out corpus (default: --validation-size texts taken from --corpus)",
                                    metavar="PATH", group="data")
    validation_size: int = option(256, help="held-out texts taken from the corpus when no --validation is given",
                                  metavar="N", group="data", minimum=1)
    model: str = option("tiny", help="a preset (pixel: tiny, small, base; pixelgpt: tiny, small, 350m) or a checkpoint "
                                     "folder to continue from", metavar="PRESET|DIR", group="model")
    recipe: str | None = option(None, help="a named recipe (pixlm.training.recipes): its model, config, renderer and "
                                           "training settings, for the flags you leave at their defaults; "
                                           "cpu-reader, cpu-reader-words (the same in the words layout) and "
                                           "cpu-reader-mono (the quickstart's, which reads in minutes) are the "
                                           "CPU-scale recipes of docs/results.md",
                                choices=lambda: list(RECIPES), group="model")
    model_overrides: dict = option(help="override a config field, e.g. num_channels=1, mask_ratio=0.4 or "
                                        "pixel_target=binary (repeatable)", flag="--model-arg", group="model",
                                   default_factory=dict)
    model_type: str = option("pixel", help="pixel: PIXEL, masked patches; pixelgpt: the causal decoder of PixelGPT, "
                                           "MonoGPT and DualGPT (see --mixture)", choices=PRETRAINABLE,
                          group="model")
    mixture: str = option("pixelgpt", help="pixelgpt: kinds of batch and their shares, e.g. "
                                           "pixels=0.5,text=0.25,paired=0.25, or a variant: pixelgpt (pixels only), "
                                           "monogpt (pixels=0.5,text=0.5), dualgpt (pixels=0.5,text=0.25,paired=0.25)",
                          metavar="SPEC", group="model")
    tokenizer: str | None = option(None, help="pixelgpt with text or paired batches: a tokenizer folder "
                                              "(pixlm tokenizer train makes one)", metavar="DIR", group="model")
    max_tokens: int = option(256, help="pixelgpt: tokens per text in text and paired batches", metavar="N", group="model",
                             minimum=1)
    renderer: str | None = option(None, help="a text_renderer_config.json or a folder holding one", metavar="PATH",
                                  group="model")
    renderer_overrides: dict = option(help="override a RendererConfig field, e.g. max_patches=256 (repeatable)",
                                      flag="--renderer-arg", group="model", default_factory=dict)
    text_column: str = option("text", help="column holding the text in jsonl/parquet/csv", group="data")
    streaming: bool = option(False, help="stream the corpus instead of loading it (large corpora)", group="data")
    max_steps: int = option(1000, help="optimizer steps", flag="--steps", metavar="N", group="training", minimum=1)
    batch_size: int = option(32, help="texts per device per step", metavar="N", group="training", minimum=1)
    gradient_accumulation_steps: int = option(1, help="gradient accumulation steps", flag="--grad-accum", metavar="N",
                                              group="training", minimum=1)
    learning_rate: float | None = option(None, help="peak learning rate (default PIXEL's 1.5e-4 x total batch / 256)",
                                         flag="--lr", metavar="LR", group="training", above=0)
    min_learning_rate: float = option(1e-5, help="learning rate at the end of the cosine decay", flag="--min-lr",
                                      metavar="LR", group="training", minimum=0)
    warmup_fraction: float = option(0.05, help="share of steps spent warming up", flag="--warmup", metavar="FRACTION",
                                    group="training", minimum=0, maximum=1)
    weight_decay: float = option(0.05, help="AdamW weight decay", group="training", minimum=0)
    span_masking: bool = option(True, help="mask random patches instead of PIXEL's spans", flag="--random-masking",
                                group="model")
    seed: int = option(42, help="random seed", group="training")
    deterministic: bool = option(False, help="torch's deterministic algorithms and seeded workers (transformers' "
                                             "full_determinism): the same result on the same machine, threads and "
                                             "versions, a little slower", group="training")
    logging_steps: int = option(10, help="log the loss every N steps", metavar="N", group="training", minimum=1)
    eval_steps: int = option(100, help="held-out loss every N steps", metavar="N", group="training", minimum=1)
    save_steps: int = option(500, help="checkpoint every N steps", metavar="N", group="training", minimum=1)
    save_total_limit: int | None = option(3, help="keep the N newest checkpoints", metavar="N", group="training", minimum=1)
    reconstruction_steps: int = option(500, help="write reconstruction figures every N steps (0: start and end only)",
                                       metavar="N", group="training", minimum=0)
    reconstruction_texts: int = 2
    num_workers: int = option(0, help="DataLoader worker processes; rendering runs in them", flag="--workers",
                              metavar="N", group="data", minimum=0)
    precision: str = option("auto", help="auto: bf16 on GPUs that support it, else fp32", choices=PRECISIONS,
                            group="training")
    fsdp: str | None = option(None, help=FSDP_HELP, metavar="CONFIG.json", group="training")
    deepspeed: str | None = option(None, help=DEEPSPEED_HELP, metavar="CONFIG.json", group="training")
    resume: bool | str = option(True, help="start afresh even if --output-dir holds checkpoints", flag="--no-resume",
                                group="training")  # True: from the last checkpoint in output_dir; or a checkpoint path
    report_to: list[str] = option(help="where to log (none: nowhere)", metavar="TOOL", group="training",
                                  default_factory=lambda: ["tensorboard"])
    progress: bool = True

    def validate(self) -> None:
        check_fields(self)
        check_sharding_files(self)
        FAMILIES[self.model_type].check_pretraining(self)  # what only that family needs, before any work


@dataclass
class FinetuneConfig:
    """What `finetune` needs. The model is a PIXEL checkpoint folder (pretrained or finetuned),
    a preset name (tiny, small, base) to train from scratch, a PixelGPT checkpoint (classify) or
    a subword baseline folder."""

    task: str = option(help="the task (the files each reads are listed below)", choices=TASKS)
    model: str = option(help="a PIXEL checkpoint folder, or tiny/small/base from scratch; a PixelGPT checkpoint folder "
                             "(pixlm's, or a released one such as baidu/PixelGPT downloaded) for classify; a subword "
                             "baseline folder (pixlm baseline create)", metavar="DIR|PRESET")
    train: str = option(help="training data (a file, or a Hub dataset hf:NAME[/CONFIG]:SPLIT, online)", metavar="FILE")
    validation: str = option(help="validation data (early stopping, best checkpoint)", metavar="FILE")
    output_dir: str = option(help="checkpoints, all_results.json, predictions", metavar="DIR")
    test: str | None = option(None, help="test data, scored and predicted with the best checkpoint", metavar="FILE")
    glue_task: str | None = option(None, help="GLUE task of TSV files (default: found in the path, e.g. .../SST-2/train.tsv)",
                                   group="data")
    text_columns: tuple[str, ...] = option(("text",), help="CSV/JSONL text column(s); two for pairs", metavar="COL",
                                           group="data")
    label_column: str = option("label", help="CSV/JSONL label column", metavar="COL", group="data")
    ner_scheme: str = option("IOB2", help="tag scheme of NER files", choices=("IOB1", "IOB2"), group="data")
    max_patches: int = option(256, help="patches per text", metavar="N", group="model", minimum=1)
    max_tokens: int = option(256, help="PixelGPT's text and pair modalities: tokens per example", metavar="N",
                             group="model", minimum=1)
    layout: str = option("words", help="word-level tasks (pos, ner, parse): how the words are rendered",
                         choices=word_aligned_layouts, group="model")
    epochs: float = option(10.0, help="epochs (early stopping usually ends sooner)", group="training", above=0)
    max_steps: int = option(-1, help="steps, overriding --epochs (-1: by epochs)", flag="--steps", metavar="N",
                            group="training", minimum=-1)
    batch_size: int = option(32, help="examples per step", metavar="N", group="training", minimum=1)
    learning_rate: float | None = option(None, help="peak learning rate (default: for models 768 wide or wider PIXEL's for "
                                                    "the task: 5e-5 pos and ner, 8e-5 parse, 3e-5 classify, 7e-5 qa; "
                                                    "narrower ones 1e-3, or 1e-4 for classify, where 1e-3 stays at the "
                                                    "majority class)",
                                         flag="--lr", metavar="LR", group="training", above=0)
    warmup_fraction: float = option(0.1, help="share of steps spent warming up", flag="--warmup", metavar="FRACTION",
                                    group="training", minimum=0, maximum=1)
    weight_decay: float = option(0.0, help="AdamW weight decay", group="training", minimum=0)
    layer_lr_decay: float = option(1.0, help="layer-wise learning-rate decay (BEiT, ELECTRA): the head trains at --lr, "
                                             "each layer below it at this factor times the rate of the one above, the "
                                             "embeddings lowest, so the pretrained lower layers change less (1: one rate "
                                             "for all, as PIXEL)", metavar="F", group="training", above=0,
                                   maximum=1)
    eval_steps: int = option(200, help="evaluate and checkpoint every N steps", metavar="N", group="training", minimum=1)
    patience: int = option(5, help="evaluations without improvement before stopping", metavar="N", group="training",
                           minimum=1)
    pooling: str = option("mean", help="classify: how the encoder's patches are pooled: mean, max, cls or pma",
                          group="model")
    word_pooling: str | None = option(None, help="pos and ner with PIXEL models: a word's tag from its first patch "
                                                 "(PIXEL's heads) or from the mean of its patches (default: first for "
                                                 "models 768 wide or wider, as PIXEL finetuned them; mean for narrower "
                                                 "ones, 1.3-7.1 points better on the tiny preset)",
                                      choices=("first", "mean"), group="model")
    modality: str = option("pixels", help="PixelGPT models: what the decoder reads, as in PixelGPT's finetuning "
                                          "scripts: pixels (the rendered text), text (its tokens) or pair (the rendered "
                                          "text, then its tokens)", choices=MODALITIES, group="model")
    tokenizer: str | None = option(None, help="text and pair modalities: a tokenizer folder (default: the model folder's)",
                                   metavar="DIR", group="model")
    renderer: str | None = option(None, help="a renderer folder or text_renderer_config.json, for a checkpoint released "
                                             "without one (PixelGPT's renderers/noto_renderer); default: the model folder's",
                                  metavar="PATH", group="model")
    dropout: float = option(0.1, help="PIXEL and subword models: dropout of the encoder's hidden states and attention, "
                                      "set as PIXEL's finetuning scripts set it whatever the checkpoint says (a "
                                      "checkpoint pretrained without dropout keeps none otherwise)", metavar="P",
                            group="model", minimum=0, maximum=0.99)
    model_overrides: dict = option(help="override a model config field (repeatable)", flag="--model-arg", group="model",
                                   default_factory=dict)
    joined_copies: int = option(0, help="pos and ner: also train on N copies of each training sentence, each joined to "
                                        "another drawn at random (before or after it), so that a word comes in more "
                                        "contexts and places than its own sentence gives (0: none, as PIXEL)",
                                flag="--join-sentences", metavar="N", group="training", minimum=0)
    shuffled_copies: int = option(0, help="pos and ner: also train on N copies of each training sentence with its words "
                                          "in random order (an entity's words kept together), so that the tagger learns "
                                          "a word's tag from the word, not only from the sentence it saw it in (0: none, "
                                          "as PIXEL)", flag="--shuffle-words", metavar="N", group="training", minimum=0)
    mixed_copies: int = option(0, help="pos and ner: also train on N copies of the training set whose sentences are made "
                                       "of words drawn across all of it (each word once a copy, an entity's words kept "
                                       "together), so that a word seen once is also seen among strangers, where only "
                                       "its pixels tell its tag (0: none, as PIXEL)", flag="--mix-words", metavar="N",
                               group="training", minimum=0)
    seed: int = option(42, help="random seed", group="training")
    deterministic: bool = option(False, help="torch's deterministic algorithms and seeded workers (transformers' "
                                             "full_determinism): the same result on the same machine, threads and "
                                             "versions, a little slower", group="training")
    num_workers: int = option(0, help="DataLoader worker processes; rendering runs in them", flag="--workers",
                              metavar="N", group="training", minimum=0)
    report_to: list[str] = option(help="where to log, e.g. tensorboard (default: nowhere)", metavar="TOOL",
                                  group="training", default_factory=list)
    fsdp: str | None = option(None, help=FSDP_HELP, metavar="CONFIG.json", group="training")
    deepspeed: str | None = option(None, help=DEEPSPEED_HELP, metavar="CONFIG.json", group="training")
    resume: bool | str = option(True, help="start afresh even if --output-dir holds checkpoints", flag="--no-resume",
                                group="training")  # True: from the newest whole checkpoint in output_dir; or a path
    progress: bool = True

    def validate(self) -> None:
        check_fields(self)
        check_sharding_files(self)
        for copies, flag in ((self.joined_copies, "--join-sentences"), (self.shuffled_copies, "--shuffle-words"),
                             (self.mixed_copies, "--mix-words")):
            if copies and not TASKS.lookup(self.task).joins_sentences:
                raise ValueError(f"{flag} is for the tasks that tag words (pos, ner); task {self.task!r} takes none")
        if self.layer_lr_decay != 1 and (self.fsdp or self.deepspeed):
            raise ValueError("--layer-lr-decay gives each layer its own parameter group, which --fsdp and --deepspeed "
                             "would flatten or replace; leave it at 1 with either")

        for name in ("train", "validation") + (("test",) if self.test else ()):
            path = getattr(self, name)
            if not is_hub_name(path) and not os.path.isfile(path):
                raise FileNotFoundError(f"{name} file {path!r} does not exist")


@dataclass
class PixelBertRunConfig:
    """A Pixel-BERT pretraining or finetuning run. Data: synthetic scenes (default) or files."""

    task: str = option(help="what to train", choices=VL_TASKS, positional=True)
    output_dir: str = option(help="model, tokenizer, checkpoints and all_results.json", metavar="DIR")
    model: str = option("tiny", help="tiny (small CNN, 4 layers of 128, visual position embeddings), base (ResNet-50 + "
                                     "BERT-base), base-resnext, or a checkpoint folder", metavar="PRESET|DIR")
    model_overrides: dict = option(help="override a PixelBertConfig field (repeatable)", flag="--model-arg",
                                   default_factory=dict)
    tokenizer: str | None = option(None, help="a BERT tokenizer folder (default: the checkpoint's, or WordPiece trained "
                                              "on the data)", metavar="DIR")
    bert: str | None = option(None, help="initialise the text side and transformer from this BERT checkpoint folder",
                              metavar="DIR")
    backbone_weights: str | None = option(None, help="torchvision state-dict file for the CNN (e.g. ImageNet weights)",
                                          metavar="FILE")
    scenes: int = option(3000, help="training scenes", metavar="N", group="data (default: synthetic scenes)", minimum=1)
    validation_scenes: int = option(200, help="held-out scenes", metavar="N", group="data (default: synthetic scenes)",
                                    minimum=1)
    scene_size: int = option(128, help="scene side in pixels", metavar="PX", group="data (default: synthetic scenes)",
                             minimum=16)
    train: str | None = option(None, help="captions (COCO, Karpathy, ALBEF list, Flickr30k split), VQA questions or "
                                          "NLVR2 JSON", metavar="FILE", group="data (default: synthetic scenes)")
    validation: str | None = option(None, help="the held-out file of the same kind", metavar="FILE",
                                    group="data (default: synthetic scenes)")
    images: str | None = option(None, help="image folder (root) for the files", metavar="DIR",
                                group="data (default: synthetic scenes)")
    train_annotations: str | None = option(None, help="VQA answers for --train", metavar="FILE",
                                           group="data (default: synthetic scenes)")
    validation_annotations: str | None = option(None, help="VQA answers for --validation", metavar="FILE",
                                                group="data (default: synthetic scenes)")
    sentences: str | None = option(None, help="Flickr30k Entities sentence folder", metavar="DIR",
                                   group="data (default: synthetic scenes)")
    pretraining_tasks: str = option("mlm,itm", help="pretrain: mlm, itm or both", group="training")
    pixel_sampling: int | None = option(None, help="pretrain: cells kept per image (default the config's; 0: all)",
                                        metavar="N", group="training", minimum=0)
    max_steps: int = option(1000, help="optimizer steps", flag="--steps", metavar="N", group="training", minimum=1)
    batch_size: int = option(32, help="examples per step", metavar="N", group="training", minimum=1)
    learning_rate: float = option(1e-4, help="AdamW learning rate of the transformer (the paper's; the scenes recipe "
                                             "uses 3e-4)", flag="--lr", group="training", above=0)
    weight_decay: float = option(1e-2, help="AdamW weight decay of the transformer", group="training", minimum=0)
    cnn_learning_rate: float = option(1e-2, help="SGD learning rate of the CNN", flag="--cnn-lr", group="training", above=0)
    cnn_weight_decay: float = option(5e-4, help="SGD weight decay of the CNN", group="training", minimum=0)
    warmup_fraction: float = option(0.05, help="share of steps spent warming up", flag="--warmup", metavar="FRACTION",
                                    group="training", minimum=0, maximum=1)
    decay_milestones: tuple[float, ...] = option((0.6, 0.85), help="fractions of the steps after which both learning "
                                                 "rates fall tenfold, in order; none: constant after warm-up",
                                                 flag="--decay-at", metavar="FRACTION", group="training")
    group_by_image: bool = option(False, help="vqa: batches of whole images' questions, each image through the CNN once "
                                              "(about twice as many steps per second on scenes, but a batch sees ~5 "
                                              "images: on scenes it learned far slower per step)", group="training")
    retrieval_negatives: int = option(20, help="retrieval: sampled negative captions per image", flag="--negatives",
                                      metavar="N", group="training", minimum=1)
    retrieval_candidates: int = option(100, help="retrieval: images ranked in evaluation", flag="--candidates",
                                       metavar="N", group="training", minimum=2)
    eval_steps: int = option(200, help="held-out scores every N steps", metavar="N", group="training", minimum=1)
    save_steps: int = option(500, help="checkpoint every N steps", metavar="N", group="training", minimum=1)
    seed: int = option(42, help="random seed", group="training")
    deterministic: bool = option(False, help="torch's deterministic algorithms and seeded workers (transformers' "
                                             "full_determinism): the same result on the same machine, threads and "
                                             "versions, a little slower", group="training")
    num_workers: int = option(0, help="DataLoader worker processes", flag="--workers", metavar="N", group="training",
                              minimum=0)
    report_to: list = option(help="where to log, e.g. tensorboard (default: nowhere)", metavar="TOOL", group="training",
                             default_factory=list)
    progress: bool = True
    resume: bool = option(True, help="start afresh even if --output-dir holds checkpoints", flag="--no-resume",
                          group="training")

    def validate(self) -> None:
        check_fields(self)
        marks = list(self.decay_milestones)
        if not all(isinstance(m, (int, float)) and 0 < m < 1 for m in marks) or marks != sorted(set(marks)):
            raise ValueError(f"decay_milestones must be increasing fractions between 0 and 1 (e.g. 0.6 0.85), or none; "
                             f"got {self.decay_milestones!r}")
        if self.train and not self.images:
            raise ValueError("data files need the image folder (images)")
        if self.train and not self.validation:
            raise ValueError("data files need a validation file (validation)")
        file_options = ("validation", "images", "train_annotations", "validation_annotations", "sentences")
        given = [name for name in file_options if getattr(self, name)]
        if given and not self.train:
            raise ValueError(f"{', '.join(given)} are read with data files (train); without train the run uses synthetic "
                             "scenes: give train as well, or leave them out")
        for name, kind in (("images", "folder"), ("sentences", "folder"), ("tokenizer", "folder"), ("bert", "folder"),
                           ("backbone_weights", "file")):
            path = getattr(self, name)
            if path and not (os.path.isdir(path) if kind == "folder" else os.path.isfile(path)):
                raise FileNotFoundError(f"{name} {path!r} is not a {kind}")
        for name in ("tokenizer", "bert"):
            path = getattr(self, name)
            if path and not any(os.path.isfile(os.path.join(path, f)) for f in ("tokenizer.json", "vocab.txt",
                                                                                   "tokenizer_config.json")):
                raise ValueError(f"{name} {path!r} holds no tokenizer (tokenizer.json or vocab.txt): give a BERT "
                                 "checkpoint or tokenizer folder")


def config_fields(cls) -> list[str]:
    """The field names of a config class."""
    return [f.name for f in fields(cls)]


@dataclass
class RecognizerTrainConfig:
    """Training a line recognizer on strips rendered on the fly from a corpus (`pixlm read train`)."""

    corpus: str = option(help="the text to render: files as for pixlm pretrain (.txt, .jsonl, .conllu, ...), several "
                              "joined by commas", metavar="PATH[,PATH...]", group="data")
    output_dir: str = option(help="checkpoints, the recognizer, its renderer config and all_results.json",
                             metavar="DIR", group="training")
    renderer: str | None = option(None, help="the renderer to read (a text_renderer_config.json or a folder holding "
                                             "one; default pixlm's)", metavar="PATH", group="data")
    charset: str = option("default", help="characters to read: default (Latin with diacritics, Greek, Cyrillic), "
                                          "corpus (default plus every character of the corpus), or a file holding them",
                          metavar="default|corpus|FILE", group="data")
    layouts: str = option("continuous:0.55,words:0.2,bigrams:0.1,mono:0.15", help="layouts drawn and their shares",
                          metavar="SPEC", group="data")
    random_text: float = option(0.15, help="share of strips of random words (every character of the charset is seen)",
                                metavar="FRACTION", group="data", minimum=0, maximum=1)
    validation: str | None = option(None, help="held-out text to measure the character error rate on (default: "
                                               "--validation-size lines taken from the corpus)", metavar="PATH",
                                    group="data")
    validation_size: int = option(200, help="corpus lines held out to measure the character error rate",
                                  metavar="N", group="data", minimum=1)
    hidden_size: int = option(192, help="features per step of 4 pixel columns", metavar="N", group="model", minimum=1)
    num_layers: int = option(3, help="convolution blocks over steps", metavar="N", group="model", minimum=1)
    head_size: int = option(128, help="each frame's hidden layer before the character scores", metavar="N",
                            group="model", minimum=1)
    max_steps: int = option(6000, help="optimizer steps", flag="--steps", metavar="N", group="training", minimum=1)
    batch_size: int = option(32, help="strips per step", metavar="N", group="training", minimum=1)
    learning_rate: float = option(2e-3, help="peak AdamW learning rate (cosine decay)", flag="--lr", group="training",
                                  above=0)
    warmup_fraction: float = option(0.03, help="share of steps spent warming up", flag="--warmup", metavar="FRACTION",
                                    group="training", minimum=0, maximum=1)
    seed: int = option(42, help="random seed", group="training")
    num_workers: int = option(0, help="DataLoader worker processes; rendering runs in them", flag="--workers",
                              metavar="N", group="training", minimum=0)
    save_steps: int = option(500, help="checkpoint every N steps", metavar="N", group="training", minimum=1)
    logging_steps: int = option(50, help="log the loss every N steps", metavar="N", group="training", minimum=1)
    report_to: list[str] = option(help="where to log, e.g. tensorboard (default: nowhere)", metavar="TOOL",
                                  group="training", default_factory=list)
    resume: bool | str = option(True, help="start afresh even if --output-dir holds checkpoints", flag="--no-resume",
                                group="training")
    progress: bool = True

    def corpus_paths(self) -> list[str]:
        return [p.strip() for p in self.corpus.split(",") if p.strip()]

    def validate(self) -> None:
        check_fields(self)
        for path in self.corpus_paths() + ([self.validation] if self.validation else []):
            if not os.path.exists(path):
                raise FileNotFoundError(f"{'validation' if path == self.validation else 'corpus'} {path!r} does not exist")
        if self.charset not in ("default", "corpus") and not os.path.isfile(self.charset):
            raise FileNotFoundError(f"charset must be default, corpus or a file of characters; {self.charset!r} is none")
