"""What the word-level tasks (tagging, parsing) share: words drawn one by one, labels on each
word's first patch, words the canvas cut off, and attacks that keep the words aligned."""

from __future__ import annotations

import collections
import random

import numpy as np

from ...files import written_whole
from .base import Task

# Imports inside functions: the CLI reads this registry for its choices without torch or datasets.


def word_predictions(logits: np.ndarray, label_ids: np.ndarray) -> list[list[int]]:
    """Per example, the predicted label of each labelled word (its first patch), in order."""
    preds = logits.argmax(-1)
    return [row[lab != -100].tolist() for row, lab in zip(preds, label_ids)]


def same_count(predicted: list, examples: list[dict]) -> list:
    """`predicted` (one entry per evaluated example), checked to cover `examples` one to one."""
    if len(predicted) != len(examples):
        raise ValueError(f"evaluation returned {len(predicted)} predictions for {len(examples)} examples")
    return predicted


def most_frequent_label(task: Task, train: list[dict]) -> str:
    """The tag (or relation) most frequent in the training examples."""
    counts = collections.Counter(label for e in train for label in task.example_labels(e))
    if not counts:
        raise ValueError(f"the {task.name} training data holds no labelled words")
    return counts.most_common(1)[0][0]


class WordTask(Task):
    """A task over the words of a sentence; examples are {words, ...}."""

    word_level = True

    def attack(self, example, attack, severity, seed, index, noise_dir):
        from ...evaluation.attacks import WORD_PRESERVING, attack_words

        if attack not in WORD_PRESERVING:
            raise ValueError(f"attack {attack!r} changes the number of words; task {self.name!r} needs one of "
                             f"{', '.join(WORD_PRESERVING)}")
        return {**example, "words": attack_words(list(example["words"]), attack, severity, seed + index, noise_dir)}


def _sentence_of(pieces: list[tuple[dict, tuple[int, int]]]) -> dict:
    """An example made of runs of words, each (its example, its [start, end)), in that order, each
    word with its tag."""
    return {"words": [w for source, (start, end) in pieces for w in source["words"][start:end]],
            "tags": [t for source, (start, end) in pieces for t in source["tags"][start:end]]}


class WordTagging(WordTask):
    """One tag per word (POS, NER): examples are {words, tags}."""

    head = "PixelForTokenClassification"
    subword_head = "BertForTokenClassification"
    file_extension = ".txt"  # of the predictions written back in the input's format

    joins_sentences = True

    def example_labels(self, example):
        return example["tags"]

    def with_joined_copies(self, examples, copies, seed):
        """The examples, then `copies` more of each, each joined to an example drawn at random, before
        or after it. A tagger finetuned on a small treebank learns its sentences whole (vi_vtb: 99.99%
        of the training words right) yet tags the words seen there once or twice far worse than their
        most frequent tag does; joined, each word comes in new contexts and at new places on the canvas."""
        if not copies:
            return examples
        if len(examples) < 2:
            raise ValueError(f"--join-sentences needs two training sentences or more; the training data has {len(examples)}")
        rng = random.Random(seed)
        joined = []
        for example in examples:
            for _ in range(copies):
                other = examples[rng.randrange(len(examples))]
                first, second = (example, other) if rng.random() < 0.5 else (other, example)
                joined.append({"words": [*first["words"], *second["words"]], "tags": [*first["tags"], *second["tags"]]})
        return [*examples, *joined]

    def shuffled_copies(self, examples, copies, seed):
        """`copies` copies of each example with its words in random order, each keeping its tag (an
        entity's words kept together: `tag_units`). The tagger learns a small treebank's sentences
        whole, so that a word it has seen there in one sentence is tagged from that sentence's
        context more than from the word; out of order, only the word tells its tag."""
        rng = random.Random(seed)
        shuffled = []
        for example in examples if copies else []:
            units = [(example, unit) for unit in self.tag_units(example["tags"])]
            shuffled.extend(_sentence_of(rng.sample(units, len(units))) for _ in range(copies))
        return shuffled

    def mixed_copies(self, examples, copies, seed):
        """`copies` copies of the training set whose sentences are made of words drawn from all of
        them: each copy deals every word of the training set (an entity's words kept together:
        `tag_units`) once, in random order, into sentences of the original lengths. A tagger
        shown a rare word among its own sentence's words, even shuffled, can still tag it from
        the words beside it; among strangers, only its pixels tell its tag."""
        rng = random.Random(seed)
        lengths = [len(self.tag_units(example["tags"])) for example in examples]  # in units
        units = [(example, unit) for example in examples for unit in self.tag_units(example["tags"])]
        mixed = []
        for _ in range(copies if examples else 0):
            dealt = iter(rng.sample(units, len(units)))
            mixed.extend(_sentence_of([next(dealt) for _ in range(length)]) for length in lengths)
        return mixed

    def tag_units(self, tags: list[str]) -> list[tuple[int, int]]:
        """The [start, end) runs of words that move together when a sentence is shuffled: each word."""
        return [(k, k + 1) for k in range(len(tags))]

    def collator(self, renderer, num_channels, label2id, cfg):
        from ...data import PixelTokenClassificationCollator

        return PixelTokenClassificationCollator(renderer, num_channels, label2id, cfg.layout)

    def subword_collator(self, tokenizer, label2id, cfg):
        from ...data.collators import SubwordTaggingCollator

        return SubwordTaggingCollator(tokenizer, label2id)

    cut_off_tag = "_"  # what a word the canvas cut off is scored as predicting: never a gold tag

    def compute_metrics(self, labels, examples, dataset, cfg):
        def compute(eval_pred) -> dict[str, float]:
            words = same_count(word_predictions(eval_pred.predictions, eval_pred.label_ids), examples)
            gold = [list(self.example_labels(e)) for e in examples]
            predicted = [[labels[i] for i in ws] + [self.cut_off_tag] * (len(tags) - len(ws)) for ws, tags in zip(words, gold)]
            return {**self.score(predicted, gold), "words_cut_off": sum(len(g) - len(w) for w, g in zip(words, gold))}

        return compute

    def score(self, predicted: list[list[str]], gold: list[list[str]]) -> dict[str, float]:
        """The metrics of predicted tags against gold tags, sentence by sentence."""
        raise NotImplementedError

    def word_tags(self, run, dataset) -> list[list[str]]:
        """Predicted tag of every word; words the canvas cut off get the most frequent training tag."""
        out = run.trainer.predict(dataset)
        fallback = most_frequent_label(self, run.train)
        tags = []
        for e, ws in zip(dataset, word_predictions(out.predictions, out.label_ids)):
            predicted = [run.labels[i] for i in ws]
            tags.append(predicted + [fallback] * (len(e["words"]) - len(predicted)))
        return tags

    def prediction_extension(self, path):
        from ...data.hub import is_hub_name

        return ".txt" if is_hub_name(path) else self.file_extension

    def write_predictions(self, run, path, examples, dataset, out_path):
        from ...data.hub import is_hub_name

        tags = self.word_tags(run, dataset)
        if not is_hub_name(path):
            return self.write_tags(path, tags, out_path, run.cfg)
        # Hub data has no file to copy: word, gold and predicted tag, as CoNLL.
        with written_whole(out_path) as tmp, open(tmp, "w", encoding="utf-8") as f:
            for e, predicted in zip(examples, tags):
                for w, gold, tag in zip(e["words"], e["tags"], predicted):
                    f.write(f"{w} {gold} {tag}\n")
                f.write("\n")

    def write_tags(self, path: str, tags: list[list[str]], out_path: str, cfg) -> None:
        """The data file `path` again, with the predicted tags in place of the gold ones."""
        raise NotImplementedError
