"""What `finetune`, `evaluate` and `robustness_table` need to know about a task, and the registry
that names the tasks. A task is a `Task` subclass in its own module, registered with
`register_task`; nothing outside its module tests its name.

The task modules import torch, datasets and the collators inside their methods: the CLI reads
the registry for its choices and `pixlm --help` stays fast."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from ...registry import Registry

# Imports inside functions: the CLI reads this registry for its choices without torch or datasets.

if TYPE_CHECKING:
    import datasets


@dataclass
class FinetuneRun:
    """What a task's prediction writer may use: the config, the trained Trainer, the label set
    and the training examples (for fallbacks such as the most frequent tag)."""

    cfg: Any
    trainer: Any
    labels: list | None
    train: list[dict]


class Task:
    """One finetuning task: how its data is read, labelled, batched, scored and written back.

    Subclasses set the class attributes and implement `read`, `compute_metrics` and
    `write_predictions`; the defaults suit tasks with one label set and examples as dicts."""

    name: str = ""
    description: str = ""  # model cards and --help: "part-of-speech tagging"
    formats: str = ""  # --help: the files it reads
    head: str = ""  # the pixlm.models.pixel class that carries it
    subword_head: str | None = None  # the transformers class of the subword baseline, if it has one
    pixelgpt: bool = False  # PixelGPT's sequence classifier carries it too
    pooled: bool = False  # one prediction per text from pooled patches: the classifier's pooling applies
    word_level: bool = False  # words are drawn one by one: the renderer's layout (words, bigrams) applies
    label_names: tuple[str, ...] = ("labels",)  # the batch keys the Trainer hands back as label_ids
    group_by_length: bool = True  # batches of similar lengths (examples have a `length`)
    joins_sentences: bool = False  # --join-sentences and --shuffle-words apply: its examples can be joined, their words shuffled
    small_model_learning_rate: float = 1e-3  # the default for models narrower than PIXEL-base (docs/results.md)
    pixel_learning_rate: float = 5e-5  # the default for PIXEL-base and wider: PIXEL's FINETUNING.md rate for the task

    # -- data -----------------------------------------------------------------------------------
    def read(self, path: str, cfg) -> list[dict]:
        """The examples of a file."""
        raise NotImplementedError

    def read_hub(self, ds: datasets.Dataset, source: str, cfg) -> list[dict]:
        """The examples of a Hub split (a `datasets.Dataset`)."""
        raise ValueError(f"task {self.name!r} does not read Hub datasets; give a file")

    def with_joined_copies(self, examples: list[dict], copies: int, seed: int) -> list[dict]:
        """The training examples, and `copies` more of each joined to another (--join-sentences);
        tasks whose examples cannot be joined take none."""
        if copies:
            raise ValueError(f"--join-sentences is for the tasks that tag words; task {self.name!r} takes none")
        return examples

    def shuffled_copies(self, examples: list[dict], copies: int, seed: int) -> list[dict]:
        """`copies` copies of each training example with its words in random order (--shuffle-words);
        tasks whose examples have no words to shuffle take none."""
        if copies:
            raise ValueError(f"--shuffle-words is for the tasks that tag words; task {self.name!r} takes none")
        return []

    def mixed_copies(self, examples: list[dict], copies: int, seed: int) -> list[dict]:
        """`copies` copies of the training examples with their words drawn across all of them
        (--mix-words); tasks whose examples have no words to mix take none."""
        if copies:
            raise ValueError(f"--mix-words is for the tasks that tag words; task {self.name!r} takes none")
        return []

    def example_labels(self, example: dict) -> list:
        """The labels an example holds (none for unlabelled test data)."""
        return []

    def label_set(self, train: list[dict], cfg) -> list | None:
        """The labels a model predicts among, from the training examples (None: no label set)."""
        return sorted({str(label) for e in train for label in self.example_labels(e)})

    def labels_of(self, model_config) -> list | None:
        """The label set a finetuned model was saved with."""
        return [model_config.id2label[i] for i in range(model_config.num_labels)]

    def label_kwargs(self, labels: list | None) -> dict:
        """What the head's config needs to know of the label set."""
        if labels is None:
            return {"num_labels": 1}
        return {"num_labels": len(labels), "id2label": dict(enumerate(labels)), "label2id": {x: i for i, x in enumerate(labels)}}

    def dataset(self, examples: list[dict], renderer, training: bool):
        """What the Trainer iterates: for training, a Dataset with each example's `length`."""
        if not training or not self.group_by_length:
            return examples
        import datasets

        return datasets.Dataset.from_list([{**e, "length": text_length(e)} for e in examples])

    def collator(self, renderer, num_channels: int, label2id: dict | None, cfg):
        """The collator that batches examples for a pixel model."""
        raise NotImplementedError

    def subword_collator(self, tokenizer, label2id: dict | None, cfg):
        """The collator that batches examples for the subword baseline."""
        raise ValueError(f"the subword baseline does not cover task {self.name!r}")

    def has_gold(self, examples: list[dict]) -> bool:
        """Whether the examples can be scored (test files may come without labels)."""
        return True

    # -- scoring and predictions ----------------------------------------------------------------
    def primary_metric(self, cfg) -> str:
        raise NotImplementedError

    def details(self, cfg) -> dict:
        """What the results file records of the task beyond its name (e.g. the GLUE task)."""
        return {}

    def title(self, cfg) -> str:
        """What the task is, for model cards: "text classification (SST-2)"."""
        return self.description

    def compute_metrics(self, labels: list | None, examples: list[dict], dataset, cfg) -> Callable:
        """The Trainer's `compute_metrics` for `examples` (batched as `dataset`)."""
        raise NotImplementedError

    def keep_outputs(self, model_config) -> Callable | None:
        """The Trainer's `preprocess_logits_for_metrics`: what evaluation keeps of the outputs."""
        return None

    def prediction_extension(self, path: str) -> str:
        """The extension of the predictions file written for the data file `path`."""
        raise NotImplementedError

    def write_predictions(self, run: FinetuneRun, path: str, examples: list[dict], dataset, out_path: str) -> None:
        raise NotImplementedError

    def attack(self, example: dict, attack: str, severity: float, seed: int, index: int, noise_dir: str | None) -> dict:
        """The example with orthographic noise (pixlm.evaluation.attacks) applied; `index`, the
        example's position, gives each example its own noise for one `seed`."""
        raise ValueError(f"task {self.name!r} has no attacked evaluation")


def text_length(example: dict) -> int:
    """Characters to render: what the strip's length grows with."""
    if "words" in example:
        return sum(len(w) + 1 for w in example["words"])
    return len(example["text_a"]) + len(example.get("text_b") or "")


TASKS: Registry[Task] = Registry("task")
register_task = TASKS.register  # class decorator: makes a task known to finetune, evaluate and the CLI
get_task = TASKS.lookup  # the registered task called `name`, or an error naming the nearest
