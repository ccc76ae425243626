"""Text corpora for pretraining: local files, `datasets` names, pre-rendered Arrow files."""

from __future__ import annotations

import os

import datasets

from .readers import read_conllu

_BUILDERS = {".txt": "text", ".text": "text", ".jsonl": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv"}


def _looks_like_path(source: str) -> bool:
    return os.sep in source or source.startswith(".") or os.path.splitext(source)[1].lower() in (*_BUILDERS, ".arrow", ".conllu")


def load_corpus(source: str, *, text_column: str = "text", streaming: bool = False, split: str = "train", stats: dict | None = None):
    """A `datasets` Dataset (or IterableDataset when streaming) with a `text` column, or the
    `pixel_values`/`num_patches` columns of a pre-rendered Arrow file (`pixlm render --output
    x.arrow`).

    `source` is a .txt (one text per line), .jsonl/.json, .parquet or .csv file, a folder of
    such files, a CoNLL-U treebank (its sentences' text: the `# text =` line, else the words
    joined by spaces), a .arrow file, a folder saved with `save_to_disk`, or a dataset name on the
    Hugging Face Hub (needs a connection). Texts too short to mask (empty or only whitespace)
    are dropped; pass a dict as `stats` to get their count in `stats["skipped"]` (not when
    streaming, where they are dropped as they come).
    """
    if not isinstance(source, str) or not source:
        raise TypeError(f"corpus must be a path or a dataset name (a non-empty str), got {source!r}")
    if os.path.exists(source):
        ds = _load_local(source, streaming)
    elif _looks_like_path(source):
        raise FileNotFoundError(f"corpus {source!r} does not exist")
    else:
        try:
            ds = datasets.load_dataset(source, split=split, streaming=streaming)
        except Exception as e:  # noqa: BLE001 - any failure here is the user's source
            raise ValueError(f"could not load corpus {source!r} as a local file or a datasets name: {e}") from e
    columns = ds.column_names
    if columns is None:  # a stream whose features are not declared (a text file never loaded whole): its first row's
        columns = list(next(iter(ds.take(1)), {}))
    if "pixel_values" in columns:
        return ds
    if text_column not in columns:
        raise ValueError(f"corpus {source!r} has no column {text_column!r}; its columns are {columns}")
    if text_column != "text":
        ds = ds.rename_column(text_column, "text")
    before = None if streaming else len(ds)
    ds = ds.filter(lambda row: bool(row["text"] and row["text"].strip()))
    if not streaming:
        if len(ds) == 0:
            raise ValueError(f"corpus {source!r} holds no non-empty text")
        if stats is not None:
            stats["skipped"] = stats.get("skipped", 0) + before - len(ds)
    return ds


def _load_local(path: str, streaming: bool):
    try:
        if os.path.isdir(path):
            if os.path.exists(os.path.join(path, "dataset_info.json")) or os.path.exists(os.path.join(path, "state.json")):
                ds = datasets.load_from_disk(path)
                return ds.to_iterable_dataset() if streaming else ds
            files = sorted(os.path.join(path, n) for n in os.listdir(path) if os.path.splitext(n)[1].lower() in _BUILDERS)
            if not files:
                raise ValueError(f"corpus folder {path!r} holds no {', '.join(_BUILDERS)} files")
            builders = {_BUILDERS[os.path.splitext(f)[1].lower()] for f in files}
            if len(builders) > 1:
                raise ValueError(f"corpus folder {path!r} mixes file types {sorted(builders)}; use one kind")
            return datasets.load_dataset(builders.pop(), data_files=files, split="train", streaming=streaming)
        if os.path.isfile(path) and os.path.getsize(path) == 0:
            raise ValueError(f"corpus file {path!r} is empty; give a file with one text per line (or a dataset)")
        ext = os.path.splitext(path)[1].lower()
        if ext == ".conllu":
            ds = datasets.Dataset.from_dict({"text": [s.text or " ".join(s.words) for s in read_conllu(path)]})
            return ds.to_iterable_dataset() if streaming else ds
        if ext == ".arrow":
            ds = datasets.Dataset.from_file(path)
            return ds.to_iterable_dataset() if streaming else ds
        if ext not in _BUILDERS:
            raise ValueError(f"corpus file {path!r} is not one of {', '.join((*_BUILDERS, '.arrow', '.conllu'))}")
        return datasets.load_dataset(_BUILDERS[ext], data_files=path, split="train", streaming=streaming)
    except (ValueError, FileNotFoundError):
        raise
    except Exception as e:  # noqa: BLE001
        cause = e.__cause__ or e.__context__  # `datasets` wraps what went wrong in a generic error
        detail = f"{e} ({type(cause).__name__}: {cause})" if cause is not None else str(e)
        raise ValueError(f"could not read corpus {path!r}: {detail}") from e
