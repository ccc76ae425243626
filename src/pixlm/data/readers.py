"""Readers (and writers) for task data: CoNLL-U, CoNLL NER, GLUE TSV, SQuAD JSON, CSV/JSONL.

Each reader checks its input and names the file and line of anything malformed.
"""

from __future__ import annotations

import collections
import csv
import io
import json
import logging
import os
import re
from dataclasses import dataclass, field, replace

from ..files import read_text, written_whole
from .glue import glue_task

logger = logging.getLogger("pixlm")
_TEXT_COMMENT = re.compile(r"#\s*text\s*=\s?(.*)")
_RANGE_ID = re.compile(r"([1-9][0-9]*)-([1-9][0-9]*)")  # a multiword token
_EMPTY_ID = re.compile(r"(0|[1-9][0-9]*)\.[1-9][0-9]*")  # an empty node


def _open(path: str | os.PathLike):
    return io.StringIO(read_text(path), newline="")


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
            match = _TEXT_COMMENT.match(c)
            if match:  # "# text = ..." (vi_vtb writes "# text =...")
                return match.group(1)
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
    start = 1  # the line the sentence starts on
    with _open(path) as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.rstrip("\r\n")
            if not line.strip():
                if tokens:
                    _check_tree(tokens, path, start)
                    sentences.append(Sentence(tokens, comments, lines))
                elif comments or lines:
                    raise ValueError(f"{path}:{lineno}: sentence without words")
                tokens, comments, lines = [], [], []
                continue
            if not lines:
                start = lineno
            lines.append(line)
            if line.startswith("#"):
                comments.append(line)
                continue
            cols = line.split("\t")
            if len(cols) != 10:
                raise ValueError(f"{path}:{lineno}: expected 10 tab-separated columns, got {len(cols)}")
            ident = cols[0]
            if _RANGE_ID.fullmatch(ident) or _EMPTY_ID.fullmatch(ident):
                continue  # a multiword token or an empty node
            if not ident.isdigit() or ident.startswith("0"):
                raise ValueError(f"{path}:{lineno}: ID must be a word number (1, 2, ...), a range (1-2) or an empty "
                                 f"node (1.1), got {ident!r}")
            if int(ident) != len(tokens) + 1:
                raise ValueError(f"{path}:{lineno}: word ID {ident} out of order (expected {len(tokens) + 1})")
            head = None
            if cols[6] != "_":
                if not cols[6].isdigit():
                    raise ValueError(f"{path}:{lineno}: HEAD must be an integer or _, got {cols[6]!r}")
                head = int(cols[6])
            tokens.append(Token(int(ident), cols[1], cols[2], cols[3], cols[4], cols[5], head, cols[7], cols[8], cols[9]))
    if tokens:
        _check_tree(tokens, path, start)
        sentences.append(Sentence(tokens, comments, lines))
    if not sentences:
        raise ValueError(f"{path}: no sentences")
    return sentences


def _check_tree(tokens: list[Token], path, line: int) -> None:
    """The rules of the CoNLL 2018 evaluation script for a sentence's HEADs: all given or none,
    within the sentence, no word its own head, exactly one root, no cycle."""
    where = f"{path}:{line}: sentence"
    heads = [t.head for t in tokens]
    if all(h is None for h in heads):
        return  # no syntax annotated (a file for tagging only)
    if any(h is None for h in heads):
        missing = next(t.id for t in tokens if t.head is None)
        raise ValueError(f"{where}: word {missing} has HEAD _ while other words have heads")
    n = len(tokens)
    for t in tokens:
        if t.head > n:
            raise ValueError(f"{where}: word {t.id} has HEAD {t.head} beyond its {n} words")
        if t.head == t.id:
            raise ValueError(f"{where}: word {t.id} is its own head")
    roots = [t.id for t in tokens if t.head == 0]
    if len(roots) != 1:
        raise ValueError(f"{where}: {len(roots)} words have HEAD 0 ({roots}); a tree has exactly one root")
    rooted = {0}  # words known to reach the root
    for t in tokens:
        path, on_path, node = [], set(), t.id
        while node not in rooted:
            if node in on_path:
                raise ValueError(f"{where}: the heads of words {sorted(path[path.index(node):])} form a cycle")
            path.append(node)
            on_path.add(node)
            node = heads[node - 1]
        rooted.update(path)


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
        return [(w, iob1_to_iob2(t)) for w, t in out]
    repaired = [(w, iob1_to_iob2(t)) for w, t in out]
    starts = sum(a != b for (_, tags), (_, fixed) in zip(out, repaired) for a, b in zip(tags, fixed))
    if starts:
        logger.warning("%s: %d entities start with I- (after O or another type), which IOB2 does not allow; read as "
                       "B- (as conlleval does). If the file is IOB1, say so (--ner-scheme IOB1)", path, starts)
    return repaired


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
        if header and len(row) != len(header):
            raise ValueError(f"{path}:{lineno}: {len(row)} tab-separated columns where the header has {len(header)} "
                             "(a tab inside a text?)")
        label = None if y is None else _glue_label(spec, row[y], path, lineno)
        examples.append({"text_a": row[a], "text_b": None if b is None else row[b], "label": label})
    return examples


def _glue_label(spec, value: str, path, lineno: int):
    if spec.regression:
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"{path}:{lineno}: {spec.name}'s score must be a number, got {value!r}") from None
    if spec.labels and value not in spec.labels:
        raise ValueError(f"{path}:{lineno}: {spec.name}'s label must be one of {', '.join(spec.labels)}, got {value!r}")
    return value


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
    ids: collections.Counter = collections.Counter()
    for k, article in enumerate(data["data"]):
        for j, para in enumerate(article.get("paragraphs", [])):
            if not isinstance(para.get("context"), str):
                raise ValueError(f"{path}: article {k}, paragraph {j} has no context text")
            context = para["context"]
            for qa in para.get("qas", []):
                for key in ("id", "question"):
                    if not isinstance(qa.get(key), str):
                        raise ValueError(f"{path}: article {k}, paragraph {j}: a question without {key!r} (text)")
                ids[qa["id"]] += 1
                if ids[qa["id"]] > 1:
                    raise ValueError(f"{path}: question id {qa['id']!r} appears more than once; ids must be unique")
                answers = qa.get("answers", [])
                for a in answers:
                    s = a.get("answer_start")
                    if not isinstance(s, int) or not isinstance(a.get("text"), str):
                        raise ValueError(f"{path}: question {qa['id']}: an answer needs text and an integer answer_start")
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
                        row = json.loads(line)
                    except json.JSONDecodeError as e:
                        raise ValueError(f"{path}:{lineno}: not a JSON object: {e}") from e
                    if not isinstance(row, dict):
                        raise ValueError(f"{path}:{lineno}: expected a JSON object per line, got {type(row).__name__}")
                    rows.append(row)
        elif ext in (".csv", ".tsv"):
            rows = list(csv.DictReader(f, delimiter="\t" if ext == ".tsv" else ","))
        else:
            raise ValueError(f"{path}: expected a .csv, .tsv or .jsonl file")
    if not rows:
        raise ValueError(f"{path}: no rows")
    missing = [c for c in columns if c not in rows[0]]
    if missing:
        raise ValueError(f"{path}: no column(s) {missing}; columns are {sorted(rows[0])}")
    for k, r in enumerate(rows):
        absent = [c for c in columns if r.get(c) is None]
        if absent:
            raise ValueError(f"{path}: row {k + 1} has no value in column(s) {absent}")
    return [{c: r[c] for c in columns} for r in rows]
