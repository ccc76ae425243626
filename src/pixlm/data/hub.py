"""Finetuning data from the Hugging Face Hub through `datasets` (needs the network), named
`hf:NAME[/CONFIG]:SPLIT`, for instance `hf:glue/sst2:train`, `hf:universal_dependencies/en_ewt:train`,
`hf:conll2003:validation`, `hf:squad_v2:validation`. Rows become the same examples the file
readers give, with class-label columns turned into their names.
"""

from __future__ import annotations

HUB_PREFIX = "hf:"
GLUE_NAMES = {"cola": "CoLA", "sst2": "SST-2", "mrpc": "MRPC", "stsb": "STS-B", "wnli": "WNLI", "rte": "RTE",
              "qnli": "QNLI", "qqp": "QQP", "mnli": "MNLI"}
_TEXT_COLUMNS = [("sentence1", "sentence2"), ("question1", "question2"), ("premise", "hypothesis"), ("question", "sentence"),
                 ("sentence",), ("text",)]


def is_hub_name(source: str) -> bool:
    return isinstance(source, str) and source.startswith(HUB_PREFIX)


def parse_hub_name(source: str) -> tuple[str, str | None, str]:
    """`hf:NAME[/CONFIG]:SPLIT` -> (name, config, split)."""
    body = source[len(HUB_PREFIX):]
    name, sep, split = body.rpartition(":")
    if not sep or not name or not split:
        raise ValueError(f"{source!r}: a Hub dataset is named hf:NAME[/CONFIG]:SPLIT, e.g. hf:glue/sst2:train")
    parts = name.split("/")
    # "owner/name" repositories keep their owner; a third part, or a known multi-config
    # dataset's second part, is the config.
    if len(parts) == 3:
        return "/".join(parts[:2]), parts[2], split
    if len(parts) == 2 and parts[0] in ("glue", "universal_dependencies", "masakhaner", "xtreme"):
        return parts[0], parts[1], split
    return name, None, split


def _names(feature) -> list[str] | None:
    """The names of a ClassLabel (or of a sequence of them)."""
    feature = getattr(feature, "feature", feature)
    return list(feature.names) if hasattr(feature, "names") else None


def hub_examples(source: str, task: str, text_columns: list[str] | None = None, label_column: str = "label") -> list[dict]:
    """Examples of `task` (classify, pos, ner, parse, qa) from a Hub dataset split."""
    import datasets

    name, config, split = parse_hub_name(source)
    try:
        ds = datasets.load_dataset(name, config, split=split)
    except Exception as e:  # noqa: BLE001 - the network, the name or the split: say which source failed
        raise ValueError(f"could not load {source!r} with datasets ({type(e).__name__}: {e})") from e
    return rows_to_examples(ds, task, source, text_columns, label_column)


def rows_to_examples(ds, task: str, source: str, text_columns: list[str] | None = None, label_column: str = "label") -> list[dict]:
    """A `datasets.Dataset` -> examples of `task`, naming any missing column."""
    columns = set(ds.column_names)

    def need(*wanted):
        missing = [c for c in wanted if c not in columns]
        if missing:
            raise ValueError(f"{source}: no column(s) {missing}; columns are {sorted(columns)}")

    if task in ("pos", "ner"):
        tag_column = "upos" if task == "pos" else "ner_tags"
        need("tokens", tag_column)
        names = _names(ds.features[tag_column])
        return [{"words": list(r["tokens"]), "tags": [names[t] if names else str(t) for t in r[tag_column]]} for r in ds]
    if task == "parse":
        need("tokens", "head", "deprel")
        return [{"words": list(r["tokens"]), "heads": [int(h) for h in r["head"]], "rels": list(r["deprel"])} for r in ds]
    if task == "qa":
        need("id", "question", "context", "answers")
        return [{"id": r["id"], "question": r["question"], "context": r["context"],
                 "answers": [{"text": t, "answer_start": s} for t, s in zip(r["answers"]["text"], r["answers"]["answer_start"])],
                 "is_impossible": not r["answers"]["text"]} for r in ds]
    if text_columns and all(c in columns for c in text_columns):
        chosen = tuple(text_columns)
    else:
        chosen = next((pair for pair in _TEXT_COLUMNS if all(c in columns for c in pair)), None)
        if chosen is None:
            raise ValueError(f"{source}: no text column found (tried {text_columns or _TEXT_COLUMNS}); columns are {sorted(columns)}")
    need(label_column)
    labels = ds[label_column]
    # GLUE test splits carry -1 for "no label".
    return [{"text_a": r[chosen[0]], "text_b": r[chosen[1]] if len(chosen) > 1 else None,
             "label": None if lab == -1 else str(lab)} for r, lab in zip(ds, labels)]
