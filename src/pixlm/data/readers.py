"""Readers (and writers) for task data: CoNLL-U, CoNLL NER, GLUE TSV, SQuAD JSON, CSV/JSONL.

Each reader checks its input and names the file and line of anything malformed.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass, field, replace

from ..files import written_whole
from .glue import glue_task


def _open(path: str | os.PathLike):
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"file {path!r} does not exist")
    return open(path, encoding="utf-8-sig", newline="")  # utf-8-sig drops a byte-order mark


# -- CoNLL-U ------------------------------------------------------------------------------------
@dataclass
class Token:
    """One syntactic word of a CoNLL-U sentence (multiword tokens and empty nodes are not words)."""

    id: int
    form: str
    lemma: str
    upos: str
    xpos: str
    feats: str
    head: int | None
    deprel: str
    deps: str
    misc: str


@dataclass
class Sentence:
    tokens: list[Token]
    comments: list[str] = field(default_factory=list)
    # Every line as read (comments, multiword tokens, empty nodes, words), to write predictions back.
    lines: list[str] = field(default_factory=list)

    @property
    def text(self) -> str | None:
        for c in self.comments:
            if c.startswith("# text = "):
                return c[len("# text = ") :]
        return None

    @property
    def words(self) -> list[str]:
        return [t.form for t in self.tokens]


def read_conllu(path: str | os.PathLike) -> list[Sentence]:
    """Sentences of a CoNLL-U file. Multiword-token lines (`1-2`) and empty nodes (`8.1`) are
    kept for writing back but are not words; comments are kept."""
    sentences: list[Sentence] = []
    tokens: list[Token] = []
    comments: list[str] = []
    lines: list[str] = []
    with _open(path) as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.rstrip("\r\n")
            if not line.strip():
                if tokens:
                    sentences.append(Sentence(tokens, comments, lines))
                elif comments or lines:
                    raise ValueError(f"{path}:{lineno}: sentence without words")
                tokens, comments, lines = [], [], []
                continue
            lines.append(line)
            if line.startswith("#"):
                comments.append(line)
                continue
            cols = line.split("\t")
            if len(cols) != 10:
                raise ValueError(f"{path}:{lineno}: expected 10 tab-separated columns, got {len(cols)}")
            ident = cols[0]
            if "-" in ident or "." in ident:
                continue  # a multiword token or an empty node
            if not ident.isdigit():
                raise ValueError(f"{path}:{lineno}: word ID must be an integer, got {ident!r}")
            if int(ident) != len(tokens) + 1:
                raise ValueError(f"{path}:{lineno}: word ID {ident} out of order (expected {len(tokens) + 1})")
            head = None
            if cols[6] != "_":
                if not cols[6].isdigit():
                    raise ValueError(f"{path}:{lineno}: HEAD must be an integer or _, got {cols[6]!r}")
                head = int(cols[6])
            tokens.append(Token(int(ident), cols[1], cols[2], cols[3], cols[4], cols[5], head, cols[7], cols[8], cols[9]))
    if tokens:
        sentences.append(Sentence(tokens, comments, lines))
    if not sentences:
        raise ValueError(f"{path}: no sentences")
    for sentence in sentences:
        n = len(sentence.tokens)
        for t in sentence.tokens:
            if t.head is not None and t.head > n:
                raise ValueError(f"{path}: word {t.id} of sentence {sentence.text!r} has HEAD {t.head} beyond its {n} words")
    return sentences


def write_conllu(
    sentences: list[Sentence],
    path: str | os.PathLike,
    upos: list[list[str]] | None = None,
    heads: list[list[int]] | None = None,
    deprels: list[list[str]] | None = None,
) -> None:
    """Write sentences back, with predicted UPOS, HEAD and DEPREL in place of the read ones."""
    with written_whole(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        for k, sentence in enumerate(sentences):
            word = 0
            for line in sentence.lines:
                cols = line.split("\t")
                if line.startswith("#") or "-" in cols[0] or "." in cols[0]:
                    f.write(line + "\n")
                    continue
                if upos is not None:
                    cols[3] = upos[k][word]
                if heads is not None:
                    cols[6] = str(heads[k][word])
                if deprels is not None:
                    cols[7] = deprels[k][word]
                f.write("\t".join(cols) + "\n")
                word += 1
            f.write("\n")


# -- CoNLL NER ----------------------------------------------------------------------------------
def read_conll_ner(path: str | os.PathLike, scheme: str = "IOB2") -> list[tuple[list[str], list[str]]]:
    """(words, tags) per sentence of a CoNLL NER file: a word and its tag (last column) per line,
    blank lines between sentences, `-DOCSTART-` lines skipped. IOB1 tags are turned into IOB2."""
    if scheme not in ("IOB1", "IOB2"):
        raise ValueError(f"scheme must be IOB1 or IOB2, got {scheme!r}")
    out: list[tuple[list[str], list[str]]] = []
    words: list[str] = []
    tags: list[str] = []
    with _open(path) as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith("-DOCSTART-"):
                if words:
                    out.append((words, tags))
                words, tags = [], []
                continue
            cols = line.split()
            if len(cols) < 2:
                raise ValueError(f"{path}:{lineno}: expected a word and a tag, got {line!r}")
            tag = cols[-1]
            if tag != "O" and not (tag[:2] in ("B-", "I-") and len(tag) > 2):
                raise ValueError(f"{path}:{lineno}: tag {tag!r} is not O, B-TYPE or I-TYPE")
            words.append(cols[0])
            tags.append(tag)
    if words:
        out.append((words, tags))
    if not out:
        raise ValueError(f"{path}: no sentences")
    if scheme == "IOB1":
        out = [(w, iob1_to_iob2(t)) for w, t in out]
    return out


def iob1_to_iob2(tags: list[str]) -> list[str]:
    """IOB1 starts an entity with I- unless it follows one of the same type; IOB2 always uses B-."""
    out = []
    for k, tag in enumerate(tags):
        if tag.startswith("I-"):
            prev = out[-1] if out else "O"
            if prev == "O" or prev[2:] != tag[2:]:
                tag = "B-" + tag[2:]
        out.append(tag)
    return out


def write_conll_ner(sentences: list[tuple[list[str], list[str]]], predictions: list[list[str]], path) -> None:
    """word, gold tag, predicted tag per line (conlleval's input format)."""
    with written_whole(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        for (words, gold), pred in zip(sentences, predictions):
            for w, g, p in zip(words, gold, pred):
                f.write(f"{w} {g} {p}\n")
            f.write("\n")


# -- GLUE ---------------------------------------------------------------------------------------
def read_glue(task: str, path: str | os.PathLike) -> list[dict]:
    """Examples {text_a, text_b, label} of a GLUE TSV file (label None in test files).

    Quote characters are data, not quoting (some MRPC and SST-2 rows hold stray quotes); a
    byte-order mark is dropped. CoLA's train and dev files have no header, its test file has one.
    """
    spec = glue_task(task)
    with _open(path) as f:
        rows = [r for r in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE) if r]
    if not rows:
        raise ValueError(f"{path}: empty file")
    if spec.name == "CoLA" and rows[0][:2] == ["index", "sentence"]:
        spec = replace(spec, text_a="sentence", label=None, has_header=True)  # the test file has a header and no labels
    header = rows.pop(0) if spec.has_header else None

    def index_of(key):
        if key is None or isinstance(key, int):
            return key
        if key not in header:
            return None
        return header.index(key)

    a, b, y = index_of(spec.text_a), index_of(spec.text_b), index_of(spec.label)
    if a is None:
        raise ValueError(f"{path}: no column {spec.text_a!r}; columns are {header}")
    if spec.text_b is not None and b is None:
        raise ValueError(f"{path}: no column {spec.text_b!r}; columns are {header}")
    needed = max(i for i in (a, b, y) if i is not None) + 1
    examples = []
    for lineno, row in enumerate(rows, 2 if header else 1):
        if len(row) < needed:
            raise ValueError(f"{path}:{lineno}: expected at least {needed} tab-separated columns, got {len(row)}")
        label = None if y is None else (float(row[y]) if spec.regression else row[y])
        examples.append({"text_a": row[a], "text_b": None if b is None else row[b], "label": label})
    return examples


# -- SQuAD --------------------------------------------------------------------------------------
def read_squad(path: str | os.PathLike) -> list[dict]:
    """Examples {id, question, context, answers: [{text, answer_start}], is_impossible} of a
    SQuAD v1.1 or v2.0 JSON file; answers are checked against their context."""
    with _open(path) as f:
        try:
            data = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path} is not valid JSON: {e}") from e
    if "data" not in data:
        raise ValueError(f"{path}: expected SQuAD JSON with a top-level 'data' list")
    out = []
    for article in data["data"]:
        for para in article.get("paragraphs", []):
            context = para["context"]
            for qa in para.get("qas", []):
                answers = qa.get("answers", [])
                for a in answers:
                    s = a["answer_start"]
                    if context[s : s + len(a["text"])] != a["text"]:
                        raise ValueError(f"{path}: question {qa['id']}: answer {a['text']!r} is not at {s} in its context")
                out.append({
                    "id": qa["id"], "question": qa["question"], "context": context, "answers": answers,
                    "is_impossible": bool(qa.get("is_impossible", False)),
                })
    return out


# -- generic ------------------------------------------------------------------------------------
def read_table(path: str | os.PathLike, columns: list[str]) -> list[dict]:
    """Rows of a CSV, TSV or JSONL file, keeping `columns` (each must exist)."""
    ext = os.path.splitext(os.fspath(path))[1].lower()
    with _open(path) as f:
        if ext in (".jsonl", ".json"):
            rows = []
            for lineno, line in enumerate(f, 1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError as e:
                        raise ValueError(f"{path}:{lineno}: not a JSON object: {e}") from e
        elif ext in (".csv", ".tsv"):
            rows = list(csv.DictReader(f, delimiter="\t" if ext == ".tsv" else ","))
        else:
            raise ValueError(f"{path}: expected a .csv, .tsv or .jsonl file")
    if not rows:
        raise ValueError(f"{path}: no rows")
    missing = [c for c in columns if c not in rows[0]]
    if missing:
        raise ValueError(f"{path}: no column(s) {missing}; columns are {sorted(rows[0])}")
    return [{c: r[c] for c in columns} for r in rows]
