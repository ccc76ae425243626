"""Task data readers on small files written here, and on the shared data when present."""

import json

import pytest

from pixlm.data.readers import iob1_to_iob2, read_conll_ner, read_conllu, read_glue, read_squad, read_table, write_conll_ner, write_conllu

CONLLU = """# sent_id = 1
# text = Don't stop.
1-2\tDon't\t_\t_\t_\t_\t_\t_\t_\t_
1\tDo\tdo\tAUX\tVBP\t_\t3\taux\t_\t_
2\tn't\tnot\tPART\tRB\t_\t3\tadvmod\t_\t_
3\tstop\tstop\tVERB\tVB\t_\t0\troot\t_\tSpaceAfter=No
3.1\tgo\tgo\tVERB\tVB\t_\t_\t_\t3:conj\t_
4\t.\t.\tPUNCT\t.\t_\t3\tpunct\t_\t_

# text = Hi
1\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_
"""


def test_conllu_skips_multiword_tokens_and_empty_nodes(tmp_path):
    path = tmp_path / "a.conllu"
    path.write_text(CONLLU)
    sents = read_conllu(path)
    assert [s.words for s in sents] == [["Do", "n't", "stop", "."], ["Hi"]]
    assert sents[0].text == "Don't stop." and sents[0].comments[0] == "# sent_id = 1"
    assert [t.head for t in sents[0].tokens] == [3, 3, 0, 3]
    assert [t.upos for t in sents[0].tokens] == ["AUX", "PART", "VERB", "PUNCT"]


def test_conllu_written_back_keeps_comments_and_multiword_lines(tmp_path):
    path = tmp_path / "a.conllu"
    path.write_text(CONLLU)
    sents = read_conllu(path)
    out = tmp_path / "pred.conllu"
    write_conllu(sents, out, upos=[["X"] * 4, ["X"]], heads=[[0, 1, 1, 1], [0]], deprels=[["a", "b", "c", "d"], ["root"]])
    again = read_conllu(out)
    assert [t.upos for t in again[0].tokens] == ["X"] * 4
    assert [t.head for t in again[0].tokens] == [0, 1, 1, 1]
    text = out.read_text()
    assert "1-2\tDon't" in text and "3.1\tgo" in text and "# text = Don't stop." in text


@pytest.mark.parametrize(
    "content, message",
    [
        ("1\tA\ta\tX\n", r"a\.conllu:1: expected 10 tab-separated columns, got 4"),
        ("1\tA\ta\tX\tX\t_\t0\troot\t_\t_\n3\tB\tb\tX\tX\t_\t1\tdep\t_\t_\n", r"a\.conllu:2: word ID 3 out of order"),
        ("1\tA\ta\tX\tX\t_\tx\troot\t_\t_\n", r"a\.conllu:1: HEAD must be an integer"),
        ("1\tA\ta\tX\tX\t_\t5\troot\t_\t_\n", "HEAD 5 beyond its 1 words"),
        ("", "no sentences"),
    ],
)
def test_malformed_conllu_names_file_and_line(tmp_path, content, message):
    path = tmp_path / "a.conllu"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        read_conllu(path)


def test_missing_file_is_named():
    with pytest.raises(FileNotFoundError, match="file '/no/such.conllu' does not exist"):
        read_conllu("/no/such.conllu")


def test_conll_ner_iob1_and_docstart(tmp_path):
    path = tmp_path / "n.txt"
    path.write_text("-DOCSTART- -X- O O\n\nEU NNP I-ORG\nrejects VBZ O\nGerman JJ I-MISC\nBritish JJ I-MISC\n\n"
                    "Peter I-PER\nBlackburn I-PER\n")
    sents = read_conll_ner(path, scheme="IOB1")
    assert sents[0] == (["EU", "rejects", "German", "British"], ["B-ORG", "O", "B-MISC", "I-MISC"])
    assert sents[1] == (["Peter", "Blackburn"], ["B-PER", "I-PER"])
    # IOB1 marks a new entity right after one of the same type with B-.
    assert iob1_to_iob2(["I-PER", "B-PER", "I-PER"]) == ["B-PER", "B-PER", "I-PER"]
    out = tmp_path / "pred.txt"
    write_conll_ner(sents, [t for _, t in sents], out)
    assert out.read_text().splitlines()[0] == "EU B-ORG B-ORG"
    bad = tmp_path / "bad.txt"
    bad.write_text("word\n")
    with pytest.raises(ValueError, match=r"bad\.txt:1: expected a word and a tag"):
        read_conll_ner(bad)
    bad.write_text("word X-PER\n")
    with pytest.raises(ValueError, match="is not O, B-TYPE or I-TYPE"):
        read_conll_ner(bad)


def test_glue_byte_order_mark_and_stray_quotes(tmp_path):
    mrpc = tmp_path / "mrpc.tsv"
    mrpc.write_text('\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1\t2\tHe said " yes\tShe said "no" .\n', encoding="utf-8")
    assert read_glue("MRPC", mrpc) == [{"text_a": 'He said " yes', "text_b": 'She said "no" .', "label": "1"}]
    cola = tmp_path / "cola.tsv"
    cola.write_text("gj04\t1\t\tThe cat sat.\ngj04\t0\t*\tCat the sat.\n")
    assert [e["label"] for e in read_glue("CoLA", cola)] == ["1", "0"]
    stsb = tmp_path / "stsb.tsv"
    stsb.write_text("index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n0\tg\tf\ty\t0\tn\tn\tA.\tB.\t3.800\n")
    assert read_glue("STS-B", stsb)[0]["label"] == 3.8
    with pytest.raises(ValueError, match="unknown GLUE task 'SST-5'"):
        read_glue("SST-5", stsb)
    with pytest.raises(ValueError, match=r"no column 'sentence'"):
        read_glue("SST-2", stsb)


def test_squad_v2_and_answer_check(tmp_path):
    data = {"data": [{"paragraphs": [{"context": "Paris is in France.", "qas": [
        {"id": "a", "question": "Where is Paris?", "answers": [{"text": "France", "answer_start": 12}]},
        {"id": "b", "question": "Who?", "answers": [], "is_impossible": True}]}]}]}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    rows = read_squad(path)
    assert [r["id"] for r in rows] == ["a", "b"] and rows[1]["is_impossible"]
    data["data"][0]["paragraphs"][0]["qas"][0]["answers"][0]["answer_start"] = 3
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="answer 'France' is not at 3"):
        read_squad(path)


def test_generic_tables(tmp_path):
    jl = tmp_path / "t.jsonl"
    jl.write_text('{"text": "a", "label": 1, "x": 0}\n{"text": "b", "label": 0, "x": 0}\n')
    assert read_table(jl, ["text", "label"]) == [{"text": "a", "label": 1}, {"text": "b", "label": 0}]
    csvf = tmp_path / "t.csv"
    csvf.write_text("text,label\nhello,pos\n")
    with pytest.raises(ValueError, match=r"no column\(s\) \['sentence'\]; columns are \['label', 'text'\]"):
        read_table(csvf, ["sentence"])


def test_shared_treebanks_and_ner_read(shared_data):
    for tb, split, n in [("en_ewt", "dev", 2001), ("vi_vtb", "test", 800), ("zh_gsd", "dev", 500), ("ja_gsd", "test", 543)]:
        assert len(read_conllu(shared_data / "ud" / tb / f"{split}.conllu")) == n
    assert len(read_conll_ner(shared_data / "ner" / "conll2003_en" / "test.txt")) == 3453
    assert len(read_glue("MRPC", shared_data / "glue" / "MRPC" / "dev.tsv")) == 408
