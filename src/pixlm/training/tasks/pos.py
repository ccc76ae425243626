"""Part-of-speech tagging: Universal Dependencies' UPOS, scored by accuracy over words."""

from __future__ import annotations

from .base import register_task
from .words import WordTagging

# Imports inside functions: the CLI reads this registry for its choices without torch or datasets.


@register_task
class PartOfSpeech(WordTagging):
    name = "pos"
    description = "part-of-speech tagging"
    formats = "CoNLL-U (UPOS)"
    file_extension = ".conllu"

    def read(self, path, cfg):
        from ...data.readers import read_conllu

        return [{"words": s.words, "tags": [t.upos for t in s.tokens]} for s in read_conllu(path)]

    def read_hub(self, ds, source, cfg):
        from ...data.hub import hub_word_tags

        return hub_word_tags(ds, source, "upos")

    def primary_metric(self, cfg):
        return "accuracy"

    def score(self, predicted, gold):
        from ...evaluation import token_accuracy

        return {"accuracy": token_accuracy(predicted, gold)}

    def write_tags(self, path, tags, out_path, cfg):
        from ...data.readers import read_conllu, write_conllu

        write_conllu(read_conllu(path), out_path, upos=tags)
