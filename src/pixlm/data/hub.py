"""Finetuning data from the Hugging Face Hub through `datasets` (needs the network), named
`hf:NAME[/CONFIG]:SPLIT`, for instance `hf:glue/sst2:train`, `hf:universal_dependencies/en_ewt:train`,
`hf:conll2003:validation`, `hf:squad_v2:validation`. Rows become the same examples the file
readers give (one converter per format, as for files), with class-label columns turned into
their names.
"""

from __future__ import annotations

HUB_PREFIX = "hf:"
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


def load_hub_split(source: str):
    """The `datasets.Dataset` of a Hub split named `hf:NAME[/CONFIG]:SPLIT`."""
    # Imported here: the task registry reads this module's names for `pixlm --help`, which
    # stays fast without datasets (most of a second to import).
    import datasets

    name, config, split = parse_hub_name(source)
    try:
        return datasets.load_dataset(name, config, split=split)
    except Exception as e:  # noqa: BLE001 - the network, the name or the split: say which source failed
        raise ValueError(f"could not load {source!r} with datasets ({type(e).__name__}: {e})") from e


def _need(ds, source: str, *wanted: str) -> None:
    missing = [c for c in wanted if c not in ds.column_names]
    if missing:
        raise ValueError(f"{source}: no column(s) {missing}; columns are {sorted(ds.column_names)}")


def hub_word_tags(ds, source: str, tag_column: str) -> list[dict]:
    """{words, tags} of a split with `tokens` and a tag column (`upos`, `ner_tags`)."""
    _need(ds, source, "tokens", tag_column)
    names = _names(ds.features[tag_column])
    return [{"words": list(r["tokens"]), "tags": [names[t] if names else str(t) for t in r[tag_column]]} for r in ds]


def hub_parses(ds, source: str) -> list[dict]:
    """{words, heads, rels} of a Universal Dependencies split."""
    _need(ds, source, "tokens", "head", "deprel")
    return [{"words": list(r["tokens"]), "heads": [int(h) for h in r["head"]], "rels": list(r["deprel"])} for r in ds]


def hub_squad(ds, source: str) -> list[dict]:
    """SQuAD-style examples {id, question, context, answers, is_impossible}."""
    _need(ds, source, "id", "question", "context", "answers")
    return [{"id": r["id"], "question": r["question"], "context": r["context"],
             "answers": [{"text": t, "answer_start": s} for t, s in zip(r["answers"]["text"], r["answers"]["answer_start"])],
             "is_impossible": not r["answers"]["text"]} for r in ds]


def hub_texts(ds, source: str, text_columns: list[str] | None = None, label_column: str = "label") -> list[dict]:
    """{text_a, text_b, label} of a text classification split: the given text columns, or the
    first of the usual pairs and single columns that the split has."""
    columns = set(ds.column_names)
    if text_columns and all(c in columns for c in text_columns):
        chosen = tuple(text_columns)
    else:
        chosen = next((pair for pair in _TEXT_COLUMNS if all(c in columns for c in pair)), None)
        if chosen is None:
            raise ValueError(f"{source}: no text column found (tried {text_columns or _TEXT_COLUMNS}); columns are {sorted(columns)}")
    _need(ds, source, label_column)
    labels = ds[label_column]
    # GLUE test splits carry -1 for "no label".
    return [{"text_a": r[chosen[0]], "text_b": r[chosen[1]] if len(chosen) > 1 else None,
             "label": None if lab == -1 else str(lab)} for r, lab in zip(ds, labels)]
