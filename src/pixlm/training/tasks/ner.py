"""Named-entity recognition: CoNLL files with IOB1 or IOB2 tags, scored by entity F1 (seqeval's
micro average)."""

from __future__ import annotations

from .base import register_task
from .words import WordTagging

# Imports inside functions: the CLI reads this registry for its choices without torch or datasets.


@register_task
class NamedEntities(WordTagging):
    name = "ner"
    description = "named-entity recognition"
    formats = "CoNLL (IOB tags)"
    cut_off_tag = "O"  # a word the canvas cut off is in no predicted entity

    def read(self, path, cfg):
        from ...data.readers import read_conll_ner

        return [{"words": w, "tags": t} for w, t in read_conll_ner(path, cfg.ner_scheme)]

    def read_hub(self, ds, source, cfg):
        from ...data.hub import hub_word_tags

        return hub_word_tags(ds, source, "ner_tags")

    def tag_units(self, tags):
        """Each entity (B- and the I- tags after it, IOB2 as read) and each word outside one; a
        sentence that opens on I- (hub data is not repaired) keeps those words as its first unit."""
        starts = [0] + [k for k in range(1, len(tags)) if not tags[k].startswith("I-")]
        return list(zip(starts, starts[1:] + [len(tags)]))

    def primary_metric(self, cfg):
        return "f1"

    def score(self, predicted, gold):
        from ...evaluation import entity_f1

        return entity_f1(predicted, gold)

    def write_tags(self, path, tags, out_path, cfg):
        from ...data.readers import read_conll_ner, write_conll_ner

        write_conll_ner(read_conll_ner(path, cfg.ner_scheme), tags, out_path)
