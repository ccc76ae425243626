"""scripts/figures.py: where a figure's seeds are read, how the table states the goal, and that
rerunning replaces the figure's block in a results file."""

import collections
import importlib.util
import json
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def figures():
    spec = importlib.util.spec_from_file_location("figures", os.path.join(HERE, "..", "scripts", "figures.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules["figures"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_a_command_is_done_when_its_output_exists(figures):
    assert figures.made(["pixlm", "vl", "vqa", "--output-dir", "runs/x"]) == os.path.join("runs/x", "all_results.json")
    assert figures.made(["python", "s.py", "--output", "runs/a.json", "--held-out", "b"]) == "runs/a.json"
    with pytest.raises(ValueError, match="has no --output-dir or --output"):
        figures.made(["python", "s.py"])


def test_every_figure_command_names_what_it_makes(figures):
    for name, figure in figures.FIGURES.items():
        for command in figure.commands:
            assert figures.made(command.format(runs="R", seed=1, data="D").split()), name


def test_a_run_kept_per_seed_is_trained_with_that_seed(figures):
    """A seed's value must come from runs that seed drove: a command whose output is kept per
    seed passes --seed; one shared by all seeds (a corpus, a model pretrained once) does not
    depend on it."""
    for name, figure in figures.FIGURES.items():
        for command in figure.commands:
            argv = command.format(runs="R", seed=7, data="D").split()
            per_seed = "7" in figures.made(argv)
            if per_seed and argv[0] == "pixlm":
                assert argv[argv.index("--seed") + 1] == "7", (name, command)
            if not per_seed:
                assert "--seed" not in argv, (name, command)


def test_the_seeded_transfer_pretrains_once_per_seed_and_finetunes_that_model(figures):
    figure = figures.FIGURES["transfer-vi-pos-seeded"]
    commands = [c.format(runs="R", seed=3, data="D") for c in figure.commands]
    pretrain, finetune = commands[1].split(), commands[2].split()
    assert pretrain[:2] == ["pixlm", "pretrain"] and figures.made(pretrain) == os.path.join("R/pixel-pretrained-s3", "all_results.json")
    assert finetune[finetune.index("--model") + 1] == "R/pixel-pretrained-s3"
    assert "D/ud/vi_vtb/train.conllu" in finetune and "en_ewt" not in commands[2]
    # the other tasks' seeded figures share that pretraining rather than repeat it
    assert figures.FIGURES["transfer-sst2-seeded"].commands[1] == figure.commands[1]


def test_the_words_transfer_pretrains_with_its_recipe_apart_from_the_continuous_one(figures):
    words, seeded = figures.FIGURES["transfer-pcm-ner-words"], figures.FIGURES["transfer-pcm-ner-seeded"]
    pretrain, finetune = (c.format(runs="R", seed=3, data="D").split() for c in words.commands[1:])
    assert pretrain[pretrain.index("--recipe") + 1] == "cpu-reader-words"
    assert finetune[finetune.index("--model") + 1] == "R/pixel-pretrained-words-s3"
    assert figures.made(pretrain) == os.path.join("R/pixel-pretrained-words-s3", "all_results.json")
    # the same steps and corpus as the continuous recipe's seeds, and runs of their own
    assert pretrain[pretrain.index("--corpus"):] == [
        w.replace("pixel-pretrained-s3", "pixel-pretrained-words-s3")
        for w in seeded.commands[1].format(runs="R", seed=3, data="D").split()[pretrain.index("--corpus"):]]
    assert words.results != seeded.results and words.commands[2].split("--task")[1] == seeded.commands[2].split("--task")[1]


@pytest.mark.parametrize("kind", ["words", "scratch"])
@pytest.mark.parametrize(("join", "copies"), [("join", 4), ("join8", 8)])
def test_the_joined_kinds_finetune_as_the_mean_kinds_with_joined_sentences_in_runs_of_their_own(figures, kind, join, copies):
    mean, joined = figures.FIGURES[f"transfer-vi-pos-{kind}-mean"], figures.FIGURES[f"transfer-vi-pos-{kind}-mean-{join}"]
    assert joined.commands[:-1] == mean.commands[:-1], "the same pretrained model"
    assert joined.commands[-1] == mean.commands[-1].replace(f"{kind}-mean-vi", f"{kind}-mean-{join}-vi") + f" --join-sentences {copies}"
    assert joined.results == mean.results.replace(f"{kind}-mean-vi", f"{kind}-mean-{join}-vi")
    assert f"{copies} copies of each training sentence" in joined.description


@pytest.mark.parametrize("kind", ["words", "scratch"])
def test_the_shuffled_kinds_finetune_as_the_joined_ones_with_shuffled_copies_in_runs_of_their_own(figures, kind):
    joined, shuffled = figures.FIGURES[f"transfer-vi-pos-{kind}-mean-join"], figures.FIGURES[f"transfer-vi-pos-{kind}-mean-join-shuffle"]
    assert shuffled.commands[:-1] == joined.commands[:-1], "the same pretrained model"
    run, shuffled_run = f"{kind}-mean-join-vi-pos", f"{kind}-mean-join-shuffle-vi-pos"
    assert shuffled.commands[-1] == joined.commands[-1].replace(run, shuffled_run) + " --shuffle-words 2"
    assert shuffled.results == joined.results.replace(run, shuffled_run)
    assert "4 copies of each training sentence joined to another and 2 with its words shuffled" in shuffled.description


@pytest.mark.parametrize(("kind", "copies"), [("words-mean-join-mix", 2), ("scratch-mean-join-mix", 2),
                                              ("words-mean-join-mix4", 4), ("scratch-mean-join-mix4", 4)])
def test_the_mixed_kinds_finetune_as_the_joined_ones_with_mixed_copies_in_runs_of_their_own(figures, kind, copies):
    model = kind.split("-")[0]
    joined, mixed = figures.FIGURES[f"transfer-vi-pos-{model}-mean-join"], figures.FIGURES[f"transfer-vi-pos-{kind}"]
    assert mixed.commands[:-1] == joined.commands[:-1], "the same pretrained model"
    run = f"{model}-mean-join-vi-pos"
    assert mixed.commands[-1] == joined.commands[-1].replace(run, f"{kind}-vi-pos") + f" --mix-words {copies}"
    assert mixed.results == joined.results.replace(run, f"{kind}-vi-pos")
    assert f"on {copies} copies of the training set with its words drawn across its sentences" in mixed.description


@pytest.mark.parametrize("kind", ["words", "scratch"])
def test_a_kind_ending_in_steps_finetunes_that_many_steps_in_a_run_of_its_own(figures, kind):
    usual, longer = figures.FIGURES[f"transfer-vi-pos-{kind}-mean-join"], figures.FIGURES[f"transfer-vi-pos-{kind}-mean-join-3000steps"]
    assert longer.commands[:-1] == usual.commands[:-1], "the same pretrained model"
    run, longer_run = f"{kind}-mean-join-vi-pos", f"{kind}-mean-join-3000steps-vi-pos"
    assert "--steps 1500 " in usual.commands[-1]
    assert longer.commands[-1] == usual.commands[-1].replace(run, longer_run).replace("--steps 1500 ", "--steps 3000 ")
    assert longer.results == usual.results.replace(run, longer_run)
    assert "3,000 finetuning steps instead of 1,500" in longer.description


@pytest.mark.parametrize("kind", ["words", "scratch"])
def test_a_kind_with_patches_reads_that_many_patches_in_a_run_of_its_own(figures, kind):
    usual, wider = figures.FIGURES[f"transfer-en-pos-{kind}-mean-join"], figures.FIGURES[f"transfer-en-pos-{kind}-mean-join-256patches"]
    longer = figures.FIGURES[f"transfer-en-pos-{kind}-mean-join-256patches-3000steps"]
    assert wider.commands[:-1] == longer.commands[:-1] == usual.commands[:-1], "the same pretrained model"
    run = f"{kind}-mean-join-en-pos"
    assert "--max-patches 128 " in usual.commands[-1]
    assert wider.commands[-1] == (usual.commands[-1].replace(run, f"{kind}-mean-join-256patches-en-pos")
                                  .replace("--max-patches 128 ", "--max-patches 256 "))
    assert longer.commands[-1] == (wider.commands[-1].replace("-256patches-en-pos", "-256patches-3000steps-en-pos")
                                   .replace("--steps 1500 ", "--steps 3000 "))
    assert longer.results == usual.results.replace(run, f"{kind}-mean-join-256patches-3000steps-en-pos")
    assert "256 patches per text" in longer.description and "3,000 finetuning steps" in longer.description


def test_the_longer_subword_transfer_finetunes_the_same_model_for_more_steps(figures):
    joined, longer = figures.FIGURES["transfer-en-pos-subword-join"], figures.FIGURES["transfer-en-pos-subword-join-3000steps"]
    assert longer.commands[:-1] == joined.commands[:-1], "the same pretrained model"
    assert longer.commands[-1] == (joined.commands[-1].replace("subword-join-en-pos", "subword-join-3000steps-en-pos")
                                   .replace("--steps 1500 ", "--steps 3000 "))
    assert longer.results == joined.results.replace("subword-join-en-pos", "subword-join-3000steps-en-pos")
    assert "3,000 finetuning steps instead of 1,500" in longer.description


def test_the_subword_model_given_the_pixel_models_pretraining_steps_is_a_model_of_its_own(figures):
    usual = figures.FIGURES["transfer-en-pos-subword-join-3000steps"]
    matched = figures.FIGURES["transfer-en-pos-subword6400-join-3000steps"]
    pixel = figures.FIGURES["transfer-en-pos-words-mean-join-256patches-3000steps"]
    assert matched.commands[:2] == usual.commands[:2], "the same corpus and the same model at step 0"
    pretrain = matched.commands[2].format(runs="R", seed=3, data="D").split()
    pixel_pretrain = next(c for c in pixel.commands if " pretrain " in c).format(runs="R", seed=3, data="D").split()
    assert pretrain[pretrain.index("--steps") + 1] == pixel_pretrain[pixel_pretrain.index("--steps") + 1] == "6400"
    assert pretrain[pretrain.index("--output-dir") + 1] == "R/bert-en-pretrained-6400steps-s3", "not the 4,800-step model's folder"
    assert matched.commands[-1] == (usual.commands[-1].replace("bert-en-pretrained-s", "bert-en-pretrained-6400steps-s")
                                    .replace("subword-join-3000steps-en-pos", "subword6400-join-3000steps-en-pos"))
    assert matched.results == usual.results.replace("subword-join-3000steps", "subword6400-join-3000steps")
    assert "6,400 steps, the pixel model's" in matched.description


def test_the_joined_subword_transfer_finetunes_the_same_pretrained_model_with_joined_sentences(figures):
    plain, joined = figures.FIGURES["transfer-en-pos-subword"], figures.FIGURES["transfer-en-pos-subword-join"]
    assert joined.commands[:-1] == plain.commands[:-1], "the same pretrained model"
    assert joined.commands[-1] == plain.commands[-1].replace("subword-en-pos", "subword-join-en-pos") + " --join-sentences 4"
    assert joined.results == plain.results.replace("subword-en-pos", "subword-join-en-pos")


def test_the_subword_transfer_finetunes_the_model_pretrained_with_its_seed(figures):
    commands = [c.format(runs="R", seed=3, data="D").split() for c in figures.FIGURES["transfer-en-pos-subword"].commands]
    create, pretrain, finetune = commands[1:]
    assert pretrain[pretrain.index("--model") + 1] == create[create.index("--output-dir") + 1] == "R/bert-en-s3"
    assert finetune[finetune.index("--model") + 1] == pretrain[pretrain.index("--output-dir") + 1] == "R/bert-en-pretrained-s3"
    # finetuned exactly as the pixel models it is compared with
    pixel = figures.FIGURES["transfer-en-pos-seeded"].commands[2].format(runs="R", seed=3, data="D").split()
    assert finetune[finetune.index("--seed"):] == pixel[pixel.index("--seed"):]


def test_seeds_recorded_side_by_side_are_all_kept(figures, tmp_path):
    """Seeds run in processes of their own, each noting its threads and CPU in figures.json."""
    import multiprocessing

    context = multiprocessing.get_context("fork")  # the module loaded from its path travels with the fork
    workers = [context.Process(target=_record_many, args=(figures, str(tmp_path), seed)) for seed in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert all(worker.exitcode == 0 for worker in workers)
    meta = json.loads((tmp_path / "figures.json").read_text())
    assert {name: sorted(seeds, key=int) for name, seeds in meta.items()} == {f"f{k}": ["0", "1", "2", "3"] for k in range(25)}
    assert meta["f0"]["3"]["cpu"] and meta["f0"]["3"]["threads"]


def _record_many(figures, runs, seed):
    for k in range(25):
        figures.record(runs, f"f{k}", seed)


def test_the_table_gives_mean_range_and_the_worst_seed_against_the_goal(figures, tmp_path):
    figure = figures.Figure("a figure", ("pixlm x --output-dir {runs}/r-s{seed}",), "{runs}/r-s{seed}/all_results.json",
                            ("validation", "accuracy"), goal=0.9, minutes_per_seed=1)
    for seed, accuracy in ((42, 0.95), (1, 0.85)):
        (tmp_path / f"r-s{seed}").mkdir()
        (tmp_path / f"r-s{seed}" / "all_results.json").write_text(json.dumps({"validation": {"accuracy": accuracy}}))
    block = figures.table("fig", figure, str(tmp_path), [42, 1, 2])
    assert "| 2 of 3 | 0.9000 | 0.8500-0.9500 | 0.9500 | 0.8500 | not run | 0.90: not met (worst seed 0.8500) |" in block
    (tmp_path / "r-s1" / "all_results.json").write_text(json.dumps({"validation": {"accuracy": 0.91}}))
    (tmp_path / "r-s2").mkdir()
    (tmp_path / "r-s2" / "all_results.json").write_text(json.dumps({"validation": {"accuracy": 0.92}}))
    block = figures.table("fig", figure, str(tmp_path), [42, 1, 2])
    assert "0.90: met by every seed" in block
    # The same runs shown under another block name keep the threads and CPU they recorded.
    for seed in (42, 1, 2):
        figures.record(str(tmp_path), "fig", seed)
    assert "Threads: OMP_NUM_THREADS=" in figures.table("fig-here", figure, str(tmp_path), [42, 1, 2], "fig")
    assert "(not recorded)" not in figures.table("fig-here", figure, str(tmp_path), [42, 1, 2], "fig")
    assert "(not recorded)" in figures.table("fig-here", figure, str(tmp_path), [42, 1, 2], "other")
    figures.record(str(tmp_path), "partly", 1)
    partly = figures.table("fig-here", figure, str(tmp_path), [42, 1, 2], "partly")
    assert "(seeds 42, 2: not recorded)" in partly and "OMP_NUM_THREADS=1 python" not in partly, "no rerun threads claimed for all"
    results = tmp_path / "results.md"
    results.write_text("before\n\n<!-- figure:fig -->\nold\n<!-- /figure:fig -->\nafter\n")
    figures.write(str(results), "fig", block)
    text = results.read_text()
    assert text.startswith("before\n\n<!-- figure:fig -->") and text.endswith("<!-- /figure:fig -->\nafter\n")
    assert "old" not in text and text.count("<!-- figure:fig -->") == 1


def test_a_goal_is_printed_as_precisely_as_it_is_set(figures, tmp_path):
    figure = figures.Figure("a figure", ("pixlm x --output-dir {runs}/r-s{seed}",), "{runs}/r-s{seed}/all_results.json",
                            ("validation", "accuracy"), goal=0.823)
    (tmp_path / "r-s42").mkdir()
    (tmp_path / "r-s42" / "all_results.json").write_text(json.dumps({"validation": {"accuracy": 0.8221}}))
    assert "| 0.823: not met (worst seed 0.8221) |" in figures.table("fig", figure, str(tmp_path), [42])


def test_the_rerun_command_sets_the_threads_the_seeds_ran_with(figures, tmp_path, monkeypatch):
    """A reviewer who reruns a one-thread figure with torch's default threads gets other sums,
    and other figures: the command the table gives sets OMP_NUM_THREADS as the runs had it."""
    figure = figures.Figure("a figure", ("pixlm x --output-dir {runs}/r-s{seed}",), "{runs}/r-s{seed}/all_results.json",
                            ("accuracy",), minutes_per_seed=1)
    for seed, threads in ((42, "1"), (1, "1"), (2, None)):
        (tmp_path / f"r-s{seed}").mkdir()
        (tmp_path / f"r-s{seed}" / "all_results.json").write_text(json.dumps({"accuracy": 0.9}))
        if threads:
            monkeypatch.setenv("OMP_NUM_THREADS", threads)
        else:
            monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
        figures.record(str(tmp_path), "fig", seed)
    assert "Rerun: `OMP_NUM_THREADS=1 python scripts/figures.py run fig --seeds 42 1`" in figures.table(
        "fig", figure, str(tmp_path), [42, 1])
    assert "Rerun: `python scripts/figures.py run fig --seeds 2`" in figures.table("fig", figure, str(tmp_path), [2])
    mixed = figures.table("fig", figure, str(tmp_path), [42, 1, 2])  # no single count to set: the table names both
    assert "Rerun: `python scripts/figures.py" in mixed and "OMP_NUM_THREADS=1, unset" in mixed


def test_an_error_rate_goal_is_a_ceiling_that_the_highest_seed_must_meet(figures, tmp_path):
    figure = figures.Figure("an error rate", ("python b.py --output {runs}/cer-s{seed}.json",), "{runs}/cer-s{seed}.json",
                            ("cer",), goal=0.005, lower_is_better=True)
    for seed, cer in ((42, 0.0049), (1, 0.0031)):
        (tmp_path / f"cer-s{seed}.json").write_text(json.dumps({"cer": cer}))
    assert "| at most 0.005: met by the 2 seeds run so far |" in figures.table("cer", figure, str(tmp_path), [42, 1, 2])
    (tmp_path / "cer-s2.json").write_text(json.dumps({"cer": 0.0052}))
    assert "| at most 0.005: not met (worst seed 0.0052) |" in figures.table("cer", figure, str(tmp_path), [42, 1, 2])
    zero = figures.Figure("an error rate", figure.commands, figure.results, ("cer",), goal=0.0, lower_is_better=True)
    assert "| at most 0.000: not met (worst seed 0.0052) |" in figures.table("cer", zero, str(tmp_path), [42, 1, 2])
    without_goal = figures.Figure("an error rate", figure.commands, figure.results, ("cer",), lower_is_better=True)
    block = figures.table("c", without_goal, str(tmp_path), [42, 1, 2])
    assert "| 3 of 3 | 0.0044 | 0.0031-0.0052 | 0.0049 | 0.0031 | 0.0052 |  |" in block


def test_the_recognizer_figure_trains_as_the_script_that_makes_the_shipped_one(figures):
    """Seed 42 of the figure must be the shipped recognizer: the same corpus and flags as
    scripts/train_default_recognizer.sh, only the output folder and the seed told apart."""
    with open(os.path.join(HERE, "..", "scripts", "train_default_recognizer.sh"), encoding="utf-8") as f:
        script = f.read()
    shipped = script[script.index("pixlm read train"):script.index("--seed 42")].replace("\\\n", " ").split()
    train = figures.FIGURES["recognizer-cer-en"].commands[1].format(runs="R", seed=42, data="D")
    train = train[:train.index(" --seed")].split()

    def settings(argv):
        return [a for a, before in zip(argv, [None, *argv]) if "--corpus" not in (a, before) and "--output-dir" not in (a, before)]

    assert settings(shipped) == settings(train) and "--hidden-size" in settings(train)
    assert figures.FIGURES["recognizer-cer-vi"].commands == figures.FIGURES["recognizer-cer-en"].commands


def test_the_recognizer_corpus_is_english_then_vietnamese_thrice_then_the_african_languages(tmp_path):
    spec = importlib.util.spec_from_file_location("recognizer_corpus", os.path.join(HERE, "..", "scripts", "recognizer_corpus.py"))
    corpus = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(corpus)
    for treebank, text in (("en_ewt", "# text = The cat sat."), ("vi_vtb", "# text =Tôi đi.")):
        (tmp_path / "ud" / treebank).mkdir(parents=True)
        (tmp_path / "ud" / treebank / "train.conllu").write_text(f"# sent_id = 1\n{text}\n1\tx\t_\n\n", encoding="utf-8")
    for lang in corpus.MASAKHANER:
        (tmp_path / "ner" / lang).mkdir(parents=True)
        (tmp_path / "ner" / lang / "train.txt").write_text(f"-DOCSTART- O\n\n{lang} B-PER\nsays O\n\nhi O\n", encoding="utf-8")
    texts = corpus.recognizer_texts(str(tmp_path))
    assert texts[:4] == ["The cat sat.", "Tôi đi.", "Tôi đi.", "Tôi đi."]
    assert texts[4:8] == ["yor says", "hi", "ibo says", "hi"] and len(texts) == 4 + 2 * len(corpus.MASAKHANER)


def test_the_pretraining_corpus_adds_a_tasks_training_text_repeated_and_nothing_else(tmp_path):
    """english_corpus.py --add ud/NAME:K or ner/NAME:K: that task's train split, each text K
    times; never a dev or test split, and a malformed or missing source is refused by name."""
    spec = importlib.util.spec_from_file_location("english_corpus", os.path.join(HERE, "..", "scripts", "english_corpus.py"))
    corpus = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(corpus)
    (tmp_path / "ud" / "vi_vtb").mkdir(parents=True)
    for split, text in (("train", "Tôi đi ."), ("test", "Không được .")):
        rows = "".join("\t".join([str(i), w, "_", "X"] + ["_"] * 6) + "\n" for i, w in enumerate(text.split(), 1))
        (tmp_path / "ud" / "vi_vtb" / f"{split}.conllu").write_text(f"# text = {text}\n{rows}\n", encoding="utf-8")
    (tmp_path / "ner" / "pcm").mkdir(parents=True)
    (tmp_path / "ner" / "pcm" / "train.txt").write_text("Lagos B-LOC\ndey O\n\nWetin O\n", encoding="utf-8")
    assert corpus.added_training_texts(str(tmp_path), "ud/vi_vtb:3") == ["Tôi đi ."] * 3
    assert corpus.added_training_texts(str(tmp_path), "ner/pcm:2") == ["Lagos dey", "Wetin", "Lagos dey", "Wetin"]
    for bad, message in (("ud/vi_vtb", "expected ud/NAME:REPEATS"), ("ud/vi_vtb:0", "expected"), ("glue/SST-2:2", "expected"),
                         ("ud/xx_yy:2", "no training file")):
        with pytest.raises(ValueError, match=message):
            corpus.added_training_texts(str(tmp_path), bad)


def test_the_alphabet_probe_gives_every_letter_away_by_its_neighbour():
    """scripts/alphabet_corpus.py: runs of the alphabet, each letter the one after its left
    neighbour (z then a), 40-110 long, the same for the same seed."""
    import random
    import string

    spec = importlib.util.spec_from_file_location("alphabet_corpus", os.path.join(HERE, "..", "scripts", "alphabet_corpus.py"))
    alphabet = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(alphabet)
    runs = alphabet.alphabet_runs(200, random.Random(3))
    assert runs == alphabet.alphabet_runs(200, random.Random(3)) and runs != alphabet.alphabet_runs(200, random.Random(4))
    letters = string.ascii_lowercase
    for run in runs:
        assert 40 <= len(run) <= 110
        assert all(letters.index(b) == (letters.index(a) + 1) % 26 for a, b in zip(run, run[1:]))
    assert len({run[0] for run in runs}) == 26


def test_the_tagging_breakdown_splits_accuracy_by_words_seen_in_training_and_how_often(tmp_path):
    """scripts/tagging_breakdown.py on a treebank worked out by hand: the lexicon (finetuning's
    own, which reports the baseline) tags a seen word with its most frequent training tag, an
    unseen one with the overall most frequent."""
    from pixlm.training.finetuning import most_frequent_tag_baseline, most_frequent_tags

    spec = importlib.util.spec_from_file_location("tagging_breakdown", os.path.join(HERE, "..", "scripts", "tagging_breakdown.py"))
    breakdown = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(breakdown)

    def treebank(name, *sentences):
        rows = "".join(f"# text = {' '.join(w for w, _ in s)}\n" + "".join(
            "\t".join([str(i), w, "_", t] + ["_"] * 6) + "\n" for i, (w, t) in enumerate(s, 1)) + "\n" for s in sentences)
        (tmp_path / name).write_text(rows, encoding="utf-8")
        return breakdown.tagged_words(str(tmp_path / name))

    train = treebank("train.conllu", [("run", "VERB"), ("fast", "ADV")], [("run", "NOUN"), ("run", "VERB"), ("dogs", "NOUN")],
                     [("cats", "NOUN")])
    lexicon, fallback = most_frequent_tags(train)
    assert lexicon == {"run": "VERB", "fast": "ADV", "dogs": "NOUN", "cats": "NOUN"} and fallback == "NOUN"
    gold = treebank("test.conllu", [("run", "NOUN"), ("fast", "ADV"), ("birds", "NOUN"), ("fly", "VERB")])
    assert most_frequent_tag_baseline(train, gold) == 0.5  # VERB ADV NOUN NOUN: run and fly wrong
    train_counts = collections.Counter(w for s in train for w in s["words"])  # run 3, fast dogs cats 1
    counts = breakdown.accuracy_by_group(gold, [["VERB", "ADV", "NOUN", "NOUN"]], train_counts)
    assert counts == {"all": (2, 4), "seen": (1, 2), "unseen": (1, 2), "1-2": (1, 1), "3-9": (0, 1), "10-99": (0, 0), "100+": (0, 0)}
    assert breakdown.row("x", counts) == "| x | 50.0 | 50.0 | 50.0 | 100.0 | 0.0 | - | - |"
    assert [breakdown.frequency_band(n) for n in (0, 2, 3, 9, 10, 99, 100, 5000)] == [
        "unseen", "1-2", "3-9", "3-9", "10-99", "10-99", "100+", "100+"]
    with pytest.raises(ValueError, match="3 tags for 4 words"):
        breakdown.accuracy_by_group(gold, [["VERB", "ADV", "NOUN"]], train_counts)
    gold = treebank("test2.conllu", [("fast", "ADV"), ("dogs", "VERB"), ("run", "VERB"), ("cats", "NOUN"), ("owls", "NOUN")])
    alone = breakdown.rare_words_alone(gold, train_counts, lexicon)
    assert alone == [("fast", "ADV"), ("cats", "NOUN")]  # dogs: its training tag is wrong; run: seen 3 times; owls: unseen
    breakdown.write_sentences_of_one_word(str(tmp_path / "alone.conllu"), alone)
    assert breakdown.tagged_words(str(tmp_path / "alone.conllu")) == [{"words": ["fast"], "tags": ["ADV"]},
                                                                        {"words": ["cats"], "tags": ["NOUN"]}]


@pytest.mark.parametrize("script", sorted(f for f in os.listdir(os.path.join(HERE, "..", "scripts")) if f.endswith(".py")))
def test_every_script_imports_what_it_uses_and_explains_itself(script):
    """`--help` runs each script's imports (pixelgpt_read_eval.py imported a function from where
    it no longer lives, which only a full figure run found)."""
    import subprocess

    res = subprocess.run([sys.executable, os.path.join(HERE, "..", "scripts", script), "--help"], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "usage:" in res.stdout


def test_a_pretraining_that_only_wrote_its_step_0_figures_is_not_done(figures, tmp_path):
    path = tmp_path / "all_results.json"
    assert not figures.is_complete(str(path))
    path.write_text(json.dumps({"initial_eval_loss": 1.0, "steps": 0, "complete": False}))
    assert not figures.is_complete(str(path))  # pixlm pretrain's file from step 0, before an interruption
    path.write_text(json.dumps({"initial_eval_loss": 1.0, "final_eval_loss": 0.7, "steps": 8}))
    assert figures.is_complete(str(path))


def _study_module(monkeypatch):
    spec = importlib.util.spec_from_file_location("pretrain_study", os.path.join(HERE, "..", "scripts", "pretrain_study.py"))
    study = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "pretrain_study", study)  # dataclasses look their module up there
    spec.loader.exec_module(study)
    return study


def test_the_study_fits_steps_to_its_minutes_or_takes_the_steps_given(monkeypatch):
    """scripts/pretrain_study.py: a trial's pace decides the steps (whole minutes' worth, rounded
    down to sixty), unless --steps repeats another machine's study, where no trial runs."""
    from argparse import Namespace

    study = _study_module(monkeypatch)
    trials = []
    monkeypatch.setattr(study, "trial_seconds_per_step", lambda name, args: trials.append(name) or 0.35)
    assert study.planned_steps("baseline", Namespace(minutes=10, steps=None)) == (0.35, 1680)  # 600 s / 0.35 = 1714
    assert study.planned_steps("words", Namespace(minutes=10, steps=1234)) == (None, 1234)
    assert trials == ["baseline"]


def test_the_corpus_size_variant_trains_on_a_fixed_sample_of_the_corpus(monkeypatch, tmp_path):
    """The corpus-2200 variant gets 2,200 texts of --corpus, the same ones every time (seed 0),
    written once into its run folder; other variants get the corpus itself."""
    study = _study_module(monkeypatch)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("".join(f"text {i}\n" for i in range(5000)), encoding="utf-8")
    out = tmp_path / "corpus-2200"
    cmd = study.pretrain_command("corpus-2200", str(corpus), "held.txt", str(out), 60, 10)
    sample = cmd[cmd.index("--corpus") + 1]
    assert sample == str(out / "corpus-2200.txt")
    texts = (out / "corpus-2200.txt").read_text(encoding="utf-8").splitlines()
    assert len(texts) == len(set(texts)) == 2200 and set(texts) < {f"text {i}" for i in range(5000)}
    assert texts[:100] != [f"text {i}" for i in range(100)]  # a sample, not the corpus's head
    (out / "corpus-2200.txt").unlink()
    assert study.variant_corpus("corpus-2200", str(corpus), str(out)) == sample
    assert (out / "corpus-2200.txt").read_text(encoding="utf-8").splitlines() == texts
    base = study.pretrain_command("baseline", str(corpus), "held.txt", str(tmp_path / "baseline"), 60, 10)
    assert base[base.index("--corpus") + 1] == str(corpus)
    corpus.write_text("one\ntwo\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="has 2 texts; variant corpus-2200 needs 2200"):
        study.variant_corpus("corpus-2200", str(corpus), str(tmp_path / "small"))


def test_every_study_variant_is_a_command_pixlm_pretrain_accepts(monkeypatch, tmp_path):
    """Each variant's flags (a typo would only show when its run starts) parse with pixlm's own
    parser into a valid pretraining config, whose model and renderer overrides build."""
    from pixlm.cli import build_parser
    from pixlm.cli.flags import config_from_args
    from pixlm.training.config import PretrainConfig
    from pixlm.training.families import FAMILIES
    from pixlm.training.pretraining import _load_renderer

    study = _study_module(monkeypatch)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("".join(f"text {i}\n" for i in range(2500)), encoding="utf-8")
    for name in study.VARIANTS:
        for cmd in study.stage_commands(name, str(corpus), "h.txt", str(tmp_path / name), 1680):
            cfg = config_from_args(PretrainConfig, build_parser().parse_args(cmd[1:]))
            cfg.validate()
            if cfg.model == "tiny":  # a curriculum's second stage continues a model not trained here
                _load_renderer(cfg, FAMILIES[cfg.model_type].pretraining_model(cfg).config)


def test_a_curriculum_runs_its_easier_variant_then_the_reference_from_that_model(monkeypatch, tmp_path):
    """curriculum-mono: the mono layout for half the steps into RUN/stage-1, then the reference
    recipe (continuous layout, PIXEL's masks) continued from that model for the other half;
    curriculum-corpus-32: 32 texts of the corpus first, then the whole corpus."""
    from pixlm.cli import build_parser
    from pixlm.cli.flags import config_from_args
    from pixlm.training.config import PretrainConfig

    study = _study_module(monkeypatch)
    out = str(tmp_path / "curriculum-mono")

    def parsed(cmd):
        return config_from_args(PretrainConfig, build_parser().parse_args(cmd[1:]))

    first, second = (parsed(cmd) for cmd in study.stage_commands("curriculum-mono", "c.txt", "h.txt", out, 1680))
    assert (first.output_dir, first.max_steps, first.renderer_overrides["layout"]) == (study.first_stage(out), 840, "mono")
    assert (second.output_dir, second.max_steps, second.model) == (out, 840, study.first_stage(out))
    assert second.renderer_overrides["layout"] == "continuous" and second.span_masking
    assert (second.model_overrides["mask_ratio"], second.model_overrides["max_span_length"]) == (0.25, 6)
    spans = study.stage_commands("curriculum-span-1", "c.txt", "h.txt", out, 1680)
    assert not parsed(spans[0]).span_masking and parsed(spans[1]).span_masking
    only = study.stage_commands("baseline", "c.txt", "h.txt", out, 1680)
    assert len(only) == 1 and parsed(only[0]).max_steps == 1680 and parsed(only[0]).model == "tiny"
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("".join(f"text {i}\n" for i in range(100)), encoding="utf-8")
    recall, wide = (parsed(cmd) for cmd in study.stage_commands("curriculum-corpus-32", str(corpus), "h.txt", out, 1680))
    assert recall.corpus == os.path.join(study.first_stage(out), "corpus-32.txt") and wide.corpus == str(corpus)
    assert len((tmp_path / "curriculum-mono" / "stage-1" / "corpus-32.txt").read_text(encoding="utf-8").splitlines()) == 32
    assert wide.model == study.first_stage(out)
