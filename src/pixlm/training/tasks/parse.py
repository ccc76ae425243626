"""Dependency parsing with PIXEL's biaffine head: CoNLL-U in and out, scored by unlabelled and
labelled attachment (UAS, LAS) of trees decoded from the arc scores."""

from __future__ import annotations

import numpy as np

from ...files import written_whole
from .base import register_task
from .words import WordTask, most_frequent_label, same_count

# Imports inside functions: the CLI reads this registry for its choices without torch or datasets.


def decode_parses(predictions) -> list[tuple[list[int], list[int]]]:
    """(heads, relation ids) of each drawn word, decoded into a tree."""
    from ...evaluation.trees import decode_tree

    arcs, rel_pred, num_words = predictions
    out = []
    for a, r, n in zip(arcs, rel_pred, num_words):
        n = int(n)
        heads = decode_tree(np.asarray(a[:n, : n + 1], dtype=np.float64)) if n else []
        out.append((heads, [int(r[k, h]) for k, h in enumerate(heads)]))
    return out


@register_task
class DependencyParsing(WordTask):
    name = "parse"
    pixel_learning_rate = 8e-5  # PIXEL's for dependency parsing
    description = "dependency parsing"
    formats = "CoNLL-U (heads and relations)"
    head = "PixelForBiaffineParsing"
    label_names = ("arc_labels", "rel_labels")

    def read(self, path, cfg):
        from ...data.readers import read_conllu

        sentences = read_conllu(path)
        for s in sentences:
            if s.tokens[0].head is None:
                raise ValueError(f"{path}: sentence {s.text or s.words[:5]!r} has no heads (HEAD _): parsing needs "
                                 "annotated trees")
        return [{"words": s.words, "heads": [t.head for t in s.tokens], "rels": [t.deprel for t in s.tokens]}
                for s in sentences]

    def read_hub(self, ds, source, cfg):
        from ...data.hub import hub_parses

        return hub_parses(ds, source)

    def example_labels(self, example):
        return example["rels"]

    def collator(self, renderer, num_channels, label2id, cfg):
        from ...data import PixelParsingCollator

        return PixelParsingCollator(renderer, num_channels, label2id, cfg.layout)

    def primary_metric(self, cfg):
        return "las"

    def keep_outputs(self, model_config):
        """Arc scores and each arc's best relation, over the batch's words only (PIXEL's scores
        cover every patch: far more than the words), the heads padded to one width so that
        batches concatenate."""
        import torch

        max_patches = model_config.max_patches

        def keep(outputs, labels=None):
            arcs, rels, num_words = outputs
            w = max(int(num_words.max()), 1)
            pad = max_patches + 1 - (w + 1)
            arcs = torch.nn.functional.pad(arcs[:, :w, : w + 1], (0, pad), value=torch.finfo(arcs.dtype).min)
            return arcs, torch.nn.functional.pad(rels[:, :w, : w + 1].argmax(-1), (0, pad)), num_words

        return keep

    def compute_metrics(self, labels, examples, dataset, cfg):
        from ...evaluation import attachment_scores

        def compute(eval_pred) -> dict[str, float]:
            # Scored over every word of `examples`: one the canvas cut off, or whose head it cut
            # off, counts as wrong, as the baselines that see every word are scored.
            parses = same_count(decode_parses(eval_pred.predictions), examples)
            predicted_heads, predicted_rels, heads, rels = [], [], [], []
            for (p_heads, p_rels), e in zip(parses, examples):
                scored = [k for k, head in enumerate(e["heads"]) if head is not None]
                missing = len(e["words"]) - len(p_heads)
                p_heads, p_rels = p_heads + [-1] * missing, [labels[r] for r in p_rels] + ["_"] * missing
                predicted_heads.append([p_heads[k] for k in scored])
                predicted_rels.append([p_rels[k] for k in scored])
                heads.append([int(e["heads"][k]) for k in scored])
                rels.append([e["rels"][k] for k in scored])
            return {**attachment_scores(predicted_heads, predicted_rels, heads, rels),
                    "words_cut_off": sum(len(e["words"]) - len(p[0]) for p, e in zip(parses, examples))}

        return compute

    def parses(self, run, dataset) -> tuple[list[list[int]], list[list[str]]]:
        """Predicted heads and relations of every word; words the canvas cut off hang from the
        word before them with the most frequent relation (so each sentence stays a tree)."""
        fallback = most_frequent_label(self, run.train)
        all_heads, all_rels = [], []
        for e, (heads, rels) in zip(dataset, decode_parses(run.trainer.predict(dataset).predictions)):
            missing = len(e["words"]) - len(heads)
            all_heads.append(heads + [len(heads) + k for k in range(missing)])
            all_rels.append([run.labels[i] for i in rels] + [fallback] * missing)
        return all_heads, all_rels

    def prediction_extension(self, path):
        return ".conllu"

    def write_predictions(self, run, path, examples, dataset, out_path):
        from ...data.hub import is_hub_name
        from ...data.readers import read_conllu, write_conllu

        heads, rels = self.parses(run, dataset)
        if not is_hub_name(path):
            return write_conllu(read_conllu(path), out_path, heads=heads, deprels=rels)
        # Hub data has no file to copy: a bare CoNLL-U of forms, heads and relations.
        with written_whole(out_path) as tmp, open(tmp, "w", encoding="utf-8") as f:
            for e, hs, rs in zip(examples, heads, rels):
                for k, (w, h, r) in enumerate(zip(e["words"], hs, rs), 1):
                    f.write(f"{k}\t{w}\t_\t_\t_\t_\t{h}\t{r}\t_\t_\n")
                f.write("\n")
