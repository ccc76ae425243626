"""Zeroé-style attacks: determinism, severity, and what each attack may do to a word."""

import collections

import pytest

from pixlm.evaluation.attacks import ATTACKS, WORD_PRESERVING, attack_file, attack_words, homoglyphs, keyboard_neighbours

WORDS = "the quick brown foxes jumped over lazy sleeping dogs again yesterday evening".split()


@pytest.mark.parametrize("attack", ["full-swap", "inner-swap", "intrude", "disemvowel", "truncate", "segmentation"])
def test_deterministic_and_severity_counts(attack):
    a = attack_words(WORDS, attack, 0.5, seed=1)
    assert a == attack_words(WORDS, attack, 0.5, seed=1)
    assert attack_words(WORDS, attack, 0.0, seed=1) == WORDS
    if attack != "segmentation":
        changed = sum(x != y for x, y in zip(a, WORDS))
        assert len(a) == len(WORDS) and 1 <= changed <= round(0.5 * len(WORDS))
        if attack in ("full-swap", "inner-swap", "intrude"):  # the others change a word one way only
            assert attack_words(WORDS, attack, 1.0, seed=1) != attack_words(WORDS, attack, 1.0, seed=2)
    else:
        assert len(a) == len(WORDS) - round(0.5 * len(WORDS)) or len(a) == len(WORDS) - round(0.5 * len(WORDS)) + 1
        assert "".join(a) == "".join(WORDS)


def test_what_each_attack_does_to_a_word():
    full = attack_words(WORDS, "inner-swap", 1.0, seed=3)
    for before, after in zip(WORDS, full):
        assert after[0] == before[0] and after[-1] == before[-1]
        assert collections.Counter(after) == collections.Counter(before)
    for before, after in zip(WORDS, attack_words(WORDS, "full-swap", 1.0, seed=3)):
        assert sorted(after) == sorted(before)
    for before, after in zip(WORDS, attack_words(WORDS, "disemvowel", 1.0)):
        assert after == "".join(c for c in before if c not in "aeiou")
    for before, after in zip(WORDS, attack_words(WORDS, "truncate", 1.0)):
        assert after == before[:-1]
    for before, after in zip(WORDS, attack_words(WORDS, "intrude", 1.0, seed=4)):
        letters = [c for c in after if c.isalpha()]
        assert "".join(letters) == before and len(after) > len(before)


def test_table_attacks_use_their_tables(shared_data):
    folder = str(shared_data / "noise")
    keys = keyboard_neighbours(folder)
    for before, after in zip(WORDS, attack_words(WORDS, "keyboard", 1.0, seed=5, noise_dir_path=folder)):
        diff = [(a, b) for a, b in zip(before, after) if a != b]
        assert len(after) == len(before) and len(diff) == 1 and diff[0][1] in keys[diff[0][0]]
    # en.natural lists "esteem" on two lines: estime, esstem; and steem.
    natural = attack_words(["hierarchically", "esteem", "zzzzqx"], "natural", 1.0, seed=0, noise_dir_path=folder)
    assert natural[0] == "hierachically" and natural[1] in ("estime", "esstem", "steem") and natural[2] == "zzzzqx"
    table = homoglyphs(folder)
    assert "а" in table["a"]  # Cyrillic a looks like Latin a
    for before, after in zip(WORDS, attack_words(WORDS, "homoglyph", 1.0, seed=6, noise_dir_path=folder)):
        assert len(after) == len(before) and after != before
        assert all(a == b or a in table.get(b, []) for a, b in zip(after, before))
    visual = attack_words(WORDS, "visual", 1.0, seed=7, noise_dir_path=folder)
    assert sum(a != b for a, b in zip(visual, WORDS)) == len(WORDS)


def test_conllu_attack_keeps_annotations(tmp_path, shared_data):
    from pixlm.data.readers import read_conllu

    src = tmp_path / "in.conllu"
    src.write_text("# text = Birds fly south\n1\tBirds\tbird\tNOUN\t_\t_\t2\tnsubj\t_\t_\n2\tfly\tfly\tVERB\t_\t_\t0\troot\t_\t_\n"
                   "3\tsouth\tsouth\tADV\t_\t_\t2\tadvmod\t_\t_\n\n")
    out = tmp_path / "out.conllu"
    assert attack_file(str(src), str(out), "inner-swap", 1.0, seed=0) == 1
    (sentence,) = read_conllu(out)
    assert [t.upos for t in sentence.tokens] == ["NOUN", "VERB", "ADV"] and sentence.words[1] == "fly"
    assert sentence.text == " ".join(sentence.words) and sentence.words[0] != "Birds"
    with pytest.raises(ValueError, match="segmentation changes the number of words"):
        attack_file(str(src), str(out), "segmentation", 0.5)


def test_bad_arguments_are_named(monkeypatch):
    with pytest.raises(ValueError, match="unknown attack 'leet'; attacks: full-swap"):
        attack_words(WORDS, "leet", 0.5)
    with pytest.raises(ValueError, match=r"severity must be a share of words in \[0, 1\], got 1.5"):
        attack_words(WORDS, "truncate", 1.5)
    monkeypatch.delenv("PIXLM_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="needs the noise tables"):
        attack_words(WORDS, "keyboard", 1.0)
    assert set(WORD_PRESERVING) == set(ATTACKS) - {"segmentation"}


def test_cli_attack(tmp_path):
    from pixlm.cli import main

    src = tmp_path / "in.txt"
    src.write_text("one two three four\nfive six seven eight\n")
    out = tmp_path / "out.txt"
    assert main(["attack", "--attack", "truncate", "--severity", "1", "--input", str(src), "--output", str(out)]) == 0
    assert out.read_text() == "on tw thre fou\nfiv si seve eigh\n"


def test_conllu_attack_keeps_the_spacing_of_the_text(tmp_path):
    rows = ["# sent_id = 1", "# text = I don't know, really.",
            "1\tI\tI\tPRON\t_\t_\t3\tnsubj\t_\t_",
            "2-3\tdon't\t_\t_\t_\t_\t_\t_\t_\t_",
            "2\tdo\tdo\tAUX\t_\t_\t4\taux\t_\t_",
            "3\tn't\tnot\tPART\t_\t_\t4\tadvmod\t_\t_",
            "4\tknow\tknow\tVERB\t_\t_\t0\troot\t_\tSpaceAfter=No",
            "5\t,\t,\tPUNCT\t_\t_\t6\tpunct\t_\t_",
            "6\treally\treally\tADV\t_\t_\t4\tadvmod\t_\tSpaceAfter=No",
            "7\t.\t.\tPUNCT\t_\t_\t4\tpunct\t_\tSpaceAfter=No", ""]
    src, out = tmp_path / "in.conllu", tmp_path / "out.conllu"
    src.write_text("\n".join(rows) + "\n")
    attack_file(str(src), str(out), "inner-swap", 0.0, seed=0)
    assert "# text = I don't know, really." in out.read_text().splitlines()
    attack_file(str(src), str(out), "truncate", 1.0, seed=0)
    text = next(line for line in out.read_text().splitlines() if line.startswith("# text = "))
    forms = [line.split("\t")[1] for line in out.read_text().splitlines() if line and line[0].isdigit() and "-" not in line.split("\t")[0]]
    assert text == f"# text = {forms[0]} {forms[1]}{forms[2]} {forms[3]}{forms[4]} {forms[5]}{forms[6]}"
