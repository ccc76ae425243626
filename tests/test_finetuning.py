"""Finetuning heads and entry points on tiny data written here."""

import json
import os

import numpy as np
import pytest
import torch

from pixlm.models.heads import SequencePoolingHead
from pixlm.models.pixel import PixelConfig, PixelForPreTraining, PixelForSequenceClassification
from pixlm.training import FinetuneConfig, finetune
from pixlm.training.finetuning import default_learning_rate, most_frequent_tag_baseline
from pixlm.training.tasks import get_task

from conftest import power_cut

TINY = {"num_hidden_layers": 1, "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}


def _identity_head(mode, **kw):
    head = SequencePoolingHead(2, mode, add_layer_norm=False, **kw)
    with torch.no_grad():
        head.linear.weight.copy_(torch.eye(2))
        head.linear.bias.zero_()
    head.activation = torch.nn.Identity()
    return head


def test_pooling_modes_by_hand():
    patches = torch.tensor([[[1.0, 4.0], [3.0, 2.0], [100.0, 100.0]]])  # 2 text patches, padding
    mask = torch.tensor([[1, 1, 0]])
    assert torch.equal(_identity_head("mean")(patches, mask), torch.tensor([[2.0, 3.0]]))
    assert torch.equal(_identity_head("max")(patches, mask), torch.tensor([[3.0, 4.0]]))
    cls = torch.tensor([[9.0, 9.0]])  # cls pools before the head (ViT's pooler): passed through
    assert torch.equal(_identity_head("cls")(cls, None), cls)
    # PIXEL's PMA: one seed attends over keys zeroed at padding (values are not), two heads.
    head = SequencePoolingHead(2, "pma", add_layer_norm=False, pma_heads=2)
    mab = head.pooling.pooler.mab
    q, k, v = mab.fc_q(head.pooling.pooler.S), mab.fc_k(patches) * mask[..., None], mab.fc_v(patches)
    outs = []
    for h in range(2):
        a = torch.softmax(q[..., h : h + 1] @ k[..., h : h + 1].transpose(1, 2) / 2**0.5, -1)
        outs.append(q[..., h : h + 1] + a @ v[..., h : h + 1])
    o = torch.cat(outs, -1)
    expected = (o + torch.relu(mab.fc_o(o))).squeeze(1)
    torch.testing.assert_close(head(patches, mask), expected)
    with pytest.raises(ValueError, match="pooling must be one of mean, max, cls, pma"):
        SequencePoolingHead(2, "median")
    assert PixelConfig(pooling="pma4").pma_heads == 4, "PIXEL's pooling names read as such"


def write_conllu(path, sentences):
    lines = []
    for words in sentences:
        for k, (w, t) in enumerate(words, 1):
            lines.append(f"{k}\t{w}\t{w.lower()}\t{t}\t_\t_\t{0 if k == 1 else 1}\t{'root' if k == 1 else 'dep'}\t_\t_")
        lines.append("")
    path.write_text("\n".join(lines) + "\n")


def pos_data(tmp_path):
    # A tagger can learn this: numbers are NUM, "the" DET, capitalised words PROPN, others NOUN.
    import random

    rng = random.Random(0)
    vocab = [("the", "DET"), ("cat", "NOUN"), ("dog", "NOUN"), ("Paris", "PROPN"), ("Anna", "PROPN"), ("7", "NUM"), ("42", "NUM")]
    sents = [[rng.choice(vocab) for _ in range(rng.randint(2, 6))] for _ in range(120)]
    write_conllu(tmp_path / "train.conllu", sents[:100])
    write_conllu(tmp_path / "dev.conllu", sents[100:])
    return tmp_path / "train.conllu", tmp_path / "dev.conllu"


def test_pos_finetuning_learns_and_writes_conllu(tmp_path):
    train, dev = pos_data(tmp_path)
    out = tmp_path / "pos"
    res = finetune(FinetuneConfig(task="pos", model="tiny", train=str(train), validation=str(dev), test=str(dev),
                                  output_dir=str(out), max_steps=60, eval_steps=20, batch_size=16, learning_rate=2e-3,
                                  max_patches=32, model_overrides=TINY, progress=False))
    assert res["validation"]["accuracy"] > 0.8
    assert res["test"]["accuracy"] == res["validation"]["accuracy"]
    from pixlm.data.readers import read_conllu

    predicted = read_conllu(out / "predictions-test.conllu")
    gold = read_conllu(dev)
    assert [s.words for s in predicted] == [s.words for s in gold]
    right = sum(p.upos == g.upos for ps, gs in zip(predicted, gold) for p, g in zip(ps.tokens, gs.tokens))
    total = sum(len(s.tokens) for s in gold)
    assert right / total == pytest.approx(res["test"]["accuracy"])
    assert json.loads((out / "all_results.json").read_text())["primary_metric"] == "accuracy"
    assert json.loads((out / "config.json").read_text())["word_pooling"] == "mean", "the default for a tiny model"


def test_default_word_pooling_follows_the_model_width():
    from pixlm.training.finetuning import default_word_pooling

    assert default_word_pooling(PixelConfig.from_preset("tiny")) == "mean"
    assert default_word_pooling(PixelConfig.from_preset("base")) == "first", "PIXEL's heads, for its published models"
    assert PixelConfig().word_pooling == "first", "published taggers load as PIXEL finetuned them"


def test_default_learning_rate_follows_the_model_width_and_task():
    tiny, base = PixelConfig.from_preset("tiny"), PixelConfig.from_preset("base")
    assert default_learning_rate(get_task("pos"), tiny) == 1e-3
    assert default_learning_rate(get_task("classify"), tiny) == 1e-4
    assert [default_learning_rate(get_task(t), base) for t in ("pos", "ner", "parse", "classify", "qa")] == \
        [5e-5, 5e-5, 8e-5, 3e-5, 7e-5]  # PIXEL's FINETUNING.md


def test_finetuning_without_lr_records_the_default_it_used(tmp_path):
    train, dev = pos_data(tmp_path)
    cfg = FinetuneConfig(task="pos", model="tiny", train=str(train), validation=str(dev), output_dir=str(tmp_path / "o"),
                         max_steps=2, eval_steps=2, batch_size=16, max_patches=32, model_overrides=TINY, progress=False)
    res = finetune(cfg)
    assert res["config"]["learning_rate"] == 1e-3
    assert cfg.learning_rate is None  # the caller's config is left as given, for another model
    assert torch.load(tmp_path / "o" / "training_args.bin", weights_only=False).learning_rate == 1e-3  # what trained


def test_ner_finetuning_scores_entities(tmp_path):
    rows = []
    for k in range(60):
        rows.append(f"Visit B-LOC\nParis I-LOC\nwith O\nAnna B-PER\n{'today' if k % 2 else 'now'} O\n")
    (tmp_path / "train.txt").write_text("-DOCSTART- O\n\n" + "\n".join(rows))
    (tmp_path / "dev.txt").write_text("\n".join(rows[:10]))
    out = tmp_path / "ner"
    res = finetune(FinetuneConfig(task="ner", model="tiny", train=str(tmp_path / "train.txt"), validation=str(tmp_path / "dev.txt"),
                                  output_dir=str(out), max_steps=40, eval_steps=20, batch_size=16, learning_rate=2e-3,
                                  max_patches=32, model_overrides=TINY, progress=False))
    assert set(res["validation"]) >= {"precision", "recall", "f1"}
    lines = (out / "predictions-validation.txt").read_text().splitlines()
    assert lines[0].split()[:2] == ["Visit", "B-LOC"] and len(lines[0].split()) == 3


def test_glue_classification_from_a_pretraining_checkpoint(tmp_path):
    pretrained = tmp_path / "pixel"
    model = PixelForPreTraining(PixelConfig.from_preset("tiny", num_channels=1, max_patches=64, **TINY))
    model.save_pretrained(pretrained)
    sst = tmp_path / "SST-2"
    sst.mkdir()
    rows = ["sentence\tlabel"] + [f"{'good' if k % 2 else 'bad'} movie {k}\t{k % 2}" for k in range(64)]
    (sst / "train.tsv").write_text("\n".join(rows) + "\n")
    (sst / "dev.tsv").write_text("\n".join(rows[:17]) + "\n")
    out = tmp_path / "sst"
    res = finetune(FinetuneConfig(task="classify", model=str(pretrained), train=str(sst / "train.tsv"),
                                  validation=str(sst / "dev.tsv"), output_dir=str(out), max_steps=30, eval_steps=10,
                                  batch_size=16, learning_rate=2e-3, max_patches=64, progress=False))
    assert res["glue_task"] == "SST-2" and res["primary_metric"] == "accuracy"
    assert 0 <= res["validation"]["accuracy"] <= 1
    # The encoder came from the checkpoint (the decoder was left out), the head is new.
    finetuned = PixelForSequenceClassification.from_pretrained(out)
    assert finetuned.config.num_labels == 2
    # Pretrained without dropout, finetuned with PIXEL's finetuning dropout (--dropout, 0.1).
    assert finetuned.config.hidden_dropout_prob == finetuned.config.attention_probs_dropout_prob == 0.1
    assert (out / "predictions-validation.tsv").read_text().splitlines()[0] == "index\tprediction"
    # A checkpoint with another head is refused, naming both.
    with pytest.raises(ValueError, match="holds a PixelForSequenceClassification, but task 'pos' needs PixelForTokenClassification"):
        train, dev = pos_data(tmp_path)
        finetune(FinetuneConfig(task="pos", model=str(out), train=str(train), validation=str(dev), output_dir=str(tmp_path / "x")))


def test_bad_finetune_inputs_are_named(tmp_path):
    train, dev = pos_data(tmp_path)
    with pytest.raises(ValueError, match="task must be one of classify, pos, ner, parse, qa"):
        finetune(FinetuneConfig(task="translate", model="tiny", train=str(train), validation=str(dev), output_dir=str(tmp_path)))
    with pytest.raises(FileNotFoundError, match="validation file '/no/dev.conllu' does not exist"):
        finetune(FinetuneConfig(task="pos", model="tiny", train=str(train), validation="/no/dev.conllu", output_dir=str(tmp_path)))


def test_most_frequent_tag_baseline_by_hand():
    train = [{"words": ["run", "run", "a"], "tags": ["VERB", "VERB", "DET"]}, {"words": ["run"], "tags": ["NOUN"]}]
    evaluation = [{"words": ["run", "a", "zebra"], "tags": ["NOUN", "DET", "VERB"]}]
    # run -> VERB (2 of 3): wrong; a -> DET: right; zebra unseen -> overall most frequent VERB: right.
    assert most_frequent_tag_baseline(train, evaluation) == pytest.approx(2 / 3)


def test_evaluate_clean_and_under_attack(tmp_path, shared_data):
    from pixlm.cli import main
    from pixlm.training.finetuning import evaluate, robustness_table

    train, dev = pos_data(tmp_path)
    out = tmp_path / "pos"
    res = finetune(FinetuneConfig(task="pos", model="tiny", train=str(train), validation=str(dev), output_dir=str(out),
                                  max_steps=60, eval_steps=20, batch_size=16, learning_rate=2e-3, max_patches=32,
                                  model_overrides=TINY, progress=False))
    clean = evaluate(str(out), "pos", str(dev))
    assert clean["accuracy"] == pytest.approx(res["validation"]["accuracy"])
    assert evaluate(str(out), "pos", str(dev), attack="truncate", severity=0.0)["accuracy"] == clean["accuracy"]
    hurt = evaluate(str(out), "pos", str(dev), attack="disemvowel", severity=1.0)
    assert hurt["accuracy"] < clean["accuracy"]
    rows, table = robustness_table(str(out), "pos", str(dev), ["keyboard", "truncate"], [0.5, 1.0],
                                   noise_dir=str(shared_data / "noise"))
    assert len(rows) == 5 and table.count("\n") == 6 and "| clean | 0 |" in table
    with pytest.raises(ValueError, match="attack 'segmentation' changes the number of words"):
        evaluate(str(out), "pos", str(dev), attack="segmentation", severity=0.5)
    assert main(["evaluate", "--model", str(out), "--task", "ner", "--data", str(dev)]) == 2


def test_parsing_learns_trees_and_writes_them(tmp_path):
    """Sentences 'DET NOUN VERB': the determiner hangs from the noun, the noun from the verb,
    the verb from the root. A parser should get there, and always output trees."""
    import random

    from pixlm.data.readers import read_conllu
    from pixlm.evaluation import attachment_scores
    from pixlm.evaluation.trees import is_tree

    rng = random.Random(0)

    def sentence(adjective: bool) -> list[str]:
        det, noun, verb = rng.choice(["the", "a"]), rng.choice(["cat", "dog", "bird"]), rng.choice(["runs", "sleeps", "sings"])
        if not adjective:
            return [f"1\t{det}\t_\tDET\t_\t_\t2\tdet\t_\t_", f"2\t{noun}\t_\tNOUN\t_\t_\t3\tnsubj\t_\t_",
                    f"3\t{verb}\t_\tVERB\t_\t_\t0\troot\t_\t_", ""]
        return [f"1\t{det}\t_\tDET\t_\t_\t3\tdet\t_\t_", "2\tbig\t_\tADJ\t_\t_\t3\tamod\t_\t_",
                f"3\t{noun}\t_\tNOUN\t_\t_\t4\tnsubj\t_\t_", f"4\t{verb}\t_\tVERB\t_\t_\t0\troot\t_\t_", ""]

    lines = [line for k in range(120) for line in sentence(k % 3 == 0)]
    (tmp_path / "train.conllu").write_text("\n".join(lines) + "\n")
    # Two evaluation batches of different widths (3 words, then 4): their scores must concatenate.
    dev = [line for _ in range(16) for line in sentence(False)] + [line for _ in range(8) for line in sentence(True)]
    (tmp_path / "dev.conllu").write_text("\n".join(dev) + "\n")
    out = tmp_path / "parse"
    res = finetune(FinetuneConfig(task="parse", model="tiny", train=str(tmp_path / "train.conllu"),
                                  validation=str(tmp_path / "dev.conllu"), test=str(tmp_path / "dev.conllu"),
                                  output_dir=str(out), max_steps=80, eval_steps=40, batch_size=16, learning_rate=3e-3,
                                  max_patches=32, model_overrides=TINY, progress=False))
    assert res["primary_metric"] == "las" and res["validation"]["uas"] > 0.6
    predicted, gold = read_conllu(out / "predictions-test.conllu"), read_conllu(tmp_path / "dev.conllu")
    assert all(is_tree([t.head for t in s.tokens]) for s in predicted)
    scores = attachment_scores([[t.head for t in s.tokens] for s in predicted], [[t.deprel for t in s.tokens] for s in predicted],
                               [[t.head for t in s.tokens] for s in gold], [[t.deprel for t in s.tokens] for s in gold])
    assert scores["las"] == pytest.approx(res["test"]["las"])


def test_question_answering_windows_labels_and_answers(tmp_path):
    from pixlm.data.qa import best_answers, qa_features
    from pixlm.render import TextRenderer

    context = " ".join(["filler"] * 40) + " The capital of France is Paris . " + " ".join(["more"] * 40)
    start = context.index("Paris")
    examples = [
        {"id": "a", "question": "What is the capital?", "context": context, "answers": [{"text": "Paris", "answer_start": start}]},
        {"id": "b", "question": "Who?", "context": "Nobody knows .", "answers": [], "is_impossible": True},
    ]
    renderer = TextRenderer(max_patches=64)
    feats = qa_features(examples, renderer, stride=8)
    windows_a = [f for f in feats if f.example == 0]
    assert len(windows_a) >= 3  # the context is far longer than 64 patches
    cls = renderer.config.max_patches  # no answer: the CLS score after every patch, as in PIXEL
    labelled = [f for f in windows_a if f.start != cls]
    assert labelled and all(f.start <= f.end for f in labelled)
    f = labelled[0]
    lo, hi = f.char_spans[f.start][0], f.char_spans[f.end][1]
    assert "Paris" in context[lo:hi]  # the labelled patches hold the answer
    assert all(f.start == cls for f in feats if f.example == 1)
    # Logits that point at the labelled patches give back the answer's text; CLS wins for b.
    starts, ends = [], []
    for feat in feats:
        s, e = np.full(cls + 1, -5.0), np.full(cls + 1, -5.0)
        s[feat.start], e[feat.end] = 5.0, 5.0
        starts.append(s)
        ends.append(e)
    answers = best_answers(examples, feats, starts, ends)
    assert "Paris" in answers["a"] and len(answers["a"]) < 20
    assert answers["b"] == ""


def test_qa_finetuning_end_to_end(tmp_path):
    import json

    paras = []
    for k in range(24):
        city = ["Paris", "Rome", "Oslo"][k % 3]
        ctx = f"The city is {city} ."
        paras.append({"context": ctx, "qas": [{"id": f"q{k}", "question": "Which city?",
                                               "answers": [{"text": city, "answer_start": ctx.index(city)}]}]})
    (tmp_path / "train.json").write_text(json.dumps({"data": [{"paragraphs": paras}]}))
    (tmp_path / "dev.json").write_text(json.dumps({"data": [{"paragraphs": paras[:6]}]}))
    out = tmp_path / "qa"
    res = finetune(FinetuneConfig(task="qa", model="tiny", train=str(tmp_path / "train.json"), validation=str(tmp_path / "dev.json"),
                                  output_dir=str(out), max_steps=20, eval_steps=10, batch_size=8, learning_rate=2e-3,
                                  max_patches=32, model_overrides=TINY, progress=False))
    scores = {k for k in res["validation"] if k not in ("loss", "runtime", "samples_per_second", "steps_per_second", "epoch")}
    assert scores == {"exact_match", "f1"}  # SQuAD's, beside the Trainer's loss and timings
    answers = json.loads((out / "predictions-validation.json").read_text())
    assert set(answers) == {f"q{k}" for k in range(6)}


def test_subword_baseline_through_the_same_entry_points(tmp_path):
    from transformers import AutoTokenizer

    from pixlm.baselines.subword import create_subword_model, is_subword_model
    from pixlm.training.finetuning import evaluate
    from pixlm.training.subword import pretrain_subword

    train, dev = pos_data(tmp_path)
    from pixlm.data.readers import read_conllu

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(" ".join(s.words) for s in read_conllu(train)) + "\n")
    base = create_subword_model(str(corpus), str(tmp_path / "bert"), preset="tiny", vocab_size=120)
    assert is_subword_model(base) and not is_subword_model(str(tmp_path))
    tok = AutoTokenizer.from_pretrained(base)
    assert tok("the cat")["input_ids"][0] == tok.cls_token_id
    pre = pretrain_subword(base, str(corpus), str(tmp_path / "bert-mlm"), max_steps=4, batch_size=8)
    assert pre["steps"] == 4
    # The run records itself (figures.py reads all_results.json to know it finished), and its seed
    # sets the data order and masks: another seed, another loss from the same start.
    from pixlm.training.run import read_results

    assert read_results(pre["output_dir"])["steps"] == 4 and read_results(pre["output_dir"])["seed"] == 42
    other = pretrain_subword(base, str(corpus), str(tmp_path / "bert-mlm-s1"), max_steps=4, batch_size=8, seed=1)
    assert other["train_loss"] != pre["train_loss"]
    out = tmp_path / "pos"
    res = finetune(FinetuneConfig(task="pos", model=pre["output_dir"], train=str(train), validation=str(dev), test=str(dev),
                                  output_dir=str(out), max_steps=60, eval_steps=20, batch_size=16, learning_rate=2e-3,
                                  progress=False))
    assert res["validation"]["accuracy"] > 0.8
    # Predictions are written as for the pixel model, one tag per word.
    predicted = read_conllu(out / "predictions-test.conllu")
    assert [s.words for s in predicted] == [s.words for s in read_conllu(dev)]
    assert evaluate(str(out), "pos", str(dev))["accuracy"] == pytest.approx(res["validation"]["accuracy"])
    assert evaluate(str(out), "pos", str(dev), attack="disemvowel", severity=1.0)["accuracy"] < res["validation"]["accuracy"]
    with pytest.raises(ValueError, match="the subword baseline covers classify, pos, ner; not 'parse'"):
        finetune(FinetuneConfig(task="parse", model=pre["output_dir"], train=str(train), validation=str(dev),
                                output_dir=str(tmp_path / "x")))


def test_pixelgpt_classifier_through_finetune_and_evaluate(tmp_path):
    from pixlm.models.pixelgpt import PixelGPTConfig, PixelGPTForCausalLM, PixelGPTForSequenceClassification
    from pixlm.training.finetuning import evaluate

    torch.manual_seed(0)
    lm = PixelGPTForCausalLM(PixelGPTConfig.from_preset("tiny", num_channels=1, max_patches=64, num_hidden_layers=2,
                                                        vocab_size=16))
    lm.save_pretrained(tmp_path / "gpt")
    rows = ["sentence\tlabel"] + [f"{'good' if k % 2 else 'bad'} movie number {k}\t{k % 2}" for k in range(96)]
    sst = tmp_path / "SST-2"
    sst.mkdir()
    (sst / "train.tsv").write_text("\n".join(rows) + "\n")
    (sst / "dev.tsv").write_text("\n".join(rows[:1] + rows[-32:]) + "\n")
    out = tmp_path / "clf"
    res = finetune(FinetuneConfig(task="classify", model=str(tmp_path / "gpt"), train=str(sst / "train.tsv"),
                                  validation=str(sst / "dev.tsv"), output_dir=str(out), max_steps=60, eval_steps=20,
                                  batch_size=16, learning_rate=1e-3, max_patches=64, progress=False))
    assert res["validation"]["accuracy"] >= 0.9  # the first word decides, and the end patch sees it
    clf = PixelGPTForSequenceClassification.from_pretrained(out)
    assert clf.config.num_labels == 2 and clf.config.architectures == ["PixelGPTForSequenceClassification"]
    again = evaluate(str(out), "classify", str(sst / "dev.tsv"))
    assert again["accuracy"] == pytest.approx(res["validation"]["accuracy"])
    train, dev = pos_data(tmp_path)
    with pytest.raises(ValueError, match="is a PixelGPT model, which finetunes for classify; not 'pos'"):
        finetune(FinetuneConfig(task="pos", model=str(tmp_path / "gpt"), train=str(train), validation=str(dev),
                                output_dir=str(tmp_path / "x")))


def test_hub_dataset_names_become_the_same_examples(tmp_path, monkeypatch):
    """`hf:NAME[/CONFIG]:SPLIT` goes through datasets.load_dataset (stubbed here: no network in
    tests) and class labels come back as names, as the file readers give them."""
    import datasets

    from pixlm.data.hub import hub_texts, hub_word_tags, parse_hub_name

    assert parse_hub_name("hf:glue/sst2:train") == ("glue", "sst2", "train")
    assert parse_hub_name("hf:conll2003:validation") == ("conll2003", None, "validation")
    assert parse_hub_name("hf:someone/corpus/en:test") == ("someone/corpus", "en", "test")
    with pytest.raises(ValueError, match="hf:NAME\\[/CONFIG\\]:SPLIT"):
        parse_hub_name("hf:glue")
    upos = datasets.ClassLabel(names=["NOUN", "VERB", "DET"])
    pos = datasets.Dataset.from_dict({"tokens": [["the", "dog", "runs"]] * 40, "upos": [[2, 0, 1]] * 40},
                                     features=datasets.Features({"tokens": datasets.Sequence(datasets.Value("string")),
                                                                 "upos": datasets.Sequence(upos)}))
    assert hub_word_tags(pos, "x", "upos")[0] == {"words": ["the", "dog", "runs"], "tags": ["DET", "NOUN", "VERB"]}
    glue = datasets.Dataset.from_dict({"sentence": ["good film", "bad film"] * 20, "label": [1, 0] * 20, "idx": list(range(40))})
    assert hub_texts(glue, "x")[:2] == [{"text_a": "good film", "text_b": None, "label": "1"},
                                                          {"text_a": "bad film", "text_b": None, "label": "0"}]
    with pytest.raises(ValueError, match=r"x: no column\(s\) \['ner_tags'\]"):
        hub_word_tags(pos, "x", "ner_tags")
    loaded = []
    monkeypatch.setattr(datasets, "load_dataset", lambda name, config, split: loaded.append((name, config, split)) or pos)
    res = finetune(FinetuneConfig(task="pos", model="tiny", train="hf:universal_dependencies/en_ewt:train",
                                  validation="hf:universal_dependencies/en_ewt:validation", output_dir=str(tmp_path),
                                  max_steps=2, eval_steps=2, batch_size=8, max_patches=32, model_overrides=TINY, progress=False))
    assert loaded == [("universal_dependencies", "en_ewt", "train"), ("universal_dependencies", "en_ewt", "validation")]
    assert res["labels"] == ["DET", "NOUN", "VERB"]
    assert (tmp_path / "predictions-validation.txt").read_text().splitlines()[0].split()[:2] == ["the", "DET"]


def test_pixlm_push_uploads_the_model_its_processor_and_card_but_not_the_training_state(tmp_path, monkeypatch):
    import fnmatch
    import shutil

    import huggingface_hub

    from pixlm.cli import main
    from pixlm.data import PixelProcessor
    from pixlm.models.pixel import PixelConfig, PixelForSequenceClassification

    folder = tmp_path / "run"
    PixelForSequenceClassification(PixelConfig.from_preset("tiny", num_channels=1, max_patches=32)).save_pretrained(folder)
    PixelProcessor(num_channels=1).save_pretrained(folder)
    (folder / "README.md").write_text("card")
    (folder / "checkpoint-10").mkdir()
    (folder / "checkpoint-10" / "optimizer.pt").write_text("state")
    (folder / "loss_curve.png").write_bytes(b"png")
    hub = tmp_path / "hub"

    def create_repo(self, repo_id, private=False, exist_ok=False):
        return f"https://huggingface.co/{repo_id}"

    def upload_folder(self, repo_id, folder_path, commit_message, ignore_patterns):
        for root, _, files in os.walk(folder_path):
            for name in files:
                rel = os.path.relpath(os.path.join(root, name), folder_path)
                if not any(fnmatch.fnmatch(rel, pattern) for pattern in ignore_patterns):
                    (hub / rel).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy(os.path.join(root, name), hub / rel)

    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo", create_repo)
    monkeypatch.setattr(huggingface_hub.HfApi, "upload_folder", upload_folder)
    assert main(["push", str(folder), "--repo", "someone/pixel-model"]) == 0
    uploaded = {str(p.relative_to(hub)) for p in hub.rglob("*") if p.is_file()}
    assert {"config.json", "model.safetensors", "text_renderer_config.json", "preprocessor_config.json", "README.md"} <= uploaded
    assert not any(u.startswith("checkpoint-") or u.endswith(".png") for u in uploaded)
    # What was uploaded is a folder that feeds and runs the model.
    processor = PixelProcessor.from_pretrained(hub)
    model = PixelForSequenceClassification.from_pretrained(hub)
    assert model(**processor(["Pushed and loaded back."])).logits.shape == (1, 2)
    # A folder without a processor is refused with the fix.
    (folder / "text_renderer_config.json").unlink()
    assert main(["push", str(folder), "--repo", "someone/pixel-model"]) == 2


def test_word_means_spread_over_each_words_patches_by_hand():
    from pixlm.models.heads import spread_word_means

    states = torch.arange(12.0).reshape(1, 6, 2)  # patch k holds (2k, 2k + 1)
    # Words at patches [0, 2) and [2, 5); patch 5 is the end patch, outside every word.
    out = spread_word_means(states, torch.tensor([[0, 2, 5, -100]]))
    expected = torch.tensor([[[1.0, 2.0], [1.0, 2.0], [6.0, 7.0], [6.0, 7.0], [6.0, 7.0], [10.0, 11.0]]])
    assert torch.equal(out, expected)
    # PIXEL pads word_starts with zeros: the words end there, as in word_means.
    assert torch.equal(spread_word_means(states, torch.tensor([[0, 2, 5, 0, 0]])), expected)


def test_a_tagger_with_word_pooling_mean_reads_the_mean_of_each_words_patches(tmp_path):
    from pixlm.data import PixelTokenClassificationCollator
    from pixlm.models.pixel import PixelForTokenClassification
    from pixlm.render import RendererConfig, TextRenderer

    renderer = TextRenderer(RendererConfig(max_patches=32, layout="words"))
    examples = [{"words": ["international", "cats", "7"], "tags": ["ADJ", "NOUN", "NUM"]}, {"words": ["a"], "tags": ["DET"]}]
    collator = PixelTokenClassificationCollator(renderer, 1, {"ADJ": 0, "DET": 1, "NOUN": 2, "NUM": 3})
    batch = collator(examples)
    rendered = [renderer(e["words"], layout="words") for e in examples]
    assert batch["word_starts"][0].tolist() == rendered[0].word_starts.tolist() + [rendered[0].num_text_patches]
    assert batch["word_starts"][1].tolist()[:2] == [0, rendered[1].num_text_patches]
    assert set(batch["word_starts"][1].tolist()[2:]) == {-100}

    config = PixelConfig.from_preset("tiny", num_channels=1, max_patches=32, num_labels=4, word_pooling="mean", **TINY)
    model = PixelForTokenClassification(config).eval()
    with torch.no_grad():
        logits = model(**batch).logits
        states = model.vit(batch["pixel_values"], attention_mask=batch["attention_mask"]).last_hidden_state[:, 1:]
    first, second = rendered[0].word_starts.tolist()[:2]
    assert second - first > 1, "the test needs a word of several patches"
    torch.testing.assert_close(logits[0, first], model.classifier(states[0, first:second].mean(0)))
    model.config.word_pooling = "first"  # PIXEL's: the first patch alone
    with torch.no_grad():
        torch.testing.assert_close(model(**batch).logits[0, first], model.classifier(states[0, first]))
    model.config.word_pooling = "mean"
    without = {k: v for k, v in batch.items() if k != "word_starts"}
    with pytest.raises(ValueError, match="word_pooling 'mean' needs word_starts"):
        model(**without)
    with pytest.raises(ValueError, match="word_pooling must be one of first, mean, got 'last'"):
        PixelConfig(word_pooling="last")


def test_finetune_word_pooling_mean_learns_and_is_saved_with_the_model(tmp_path):
    from pixlm.training.finetuning import evaluate

    train, dev = pos_data(tmp_path)
    out = tmp_path / "pos-mean"
    res = finetune(FinetuneConfig(task="pos", model="tiny", train=str(train), validation=str(dev), output_dir=str(out),
                                  max_steps=60, eval_steps=30, batch_size=16, learning_rate=2e-3, max_patches=32,
                                  word_pooling="mean", model_overrides=TINY, progress=False))
    assert res["validation"]["accuracy"] > 0.8
    assert json.loads((out / "config.json").read_text())["word_pooling"] == "mean"
    assert evaluate(str(out), "pos", str(dev))["accuracy"] == pytest.approx(res["validation"]["accuracy"])
    with pytest.raises(ValueError, match="word_pooling"):
        FinetuneConfig(task="pos", model="tiny", train=str(train), validation=str(dev), output_dir=str(out),
                       word_pooling="last").validate()


def test_joined_copies_join_each_sentence_to_others_by_hand():
    """--join-sentences: the examples, then N copies of each joined before or after an example
    drawn with the seed, words and tags side by side."""
    examples = [{"words": ["a", "b"], "tags": ["X", "Y"]}, {"words": ["c"], "tags": ["Z"]},
                {"words": ["d", "e", "f"], "tags": ["X", "X", "Y"]}]
    for name in ("pos", "ner"):
        task = get_task(name)
        assert task.with_joined_copies(examples, 0, seed=1) is examples
        joined = task.with_joined_copies(examples, 2, seed=1)
        assert joined[:3] == examples and len(joined) == 9
        assert joined == task.with_joined_copies(examples, 2, seed=1) != task.with_joined_copies(examples, 2, seed=2)
        for k, example in enumerate(joined[3:]):
            own = examples[k // 2]
            assert any(example == {"words": [*x["words"], *y["words"]], "tags": [*x["tags"], *y["tags"]]}
                       for other in examples for x, y in ((own, other), (other, own))), example
    assert {tuple(e["words"][:2]) == ("a", "b") for e in get_task("pos").with_joined_copies(examples, 20, seed=0)[3:23]} == {
        True, False}, "the sentence comes first in some copies and second in others"
    with pytest.raises(ValueError, match="two training sentences or more"):
        get_task("pos").with_joined_copies(examples[:1], 1, seed=0)


def test_shuffled_copies_keep_each_words_tag_and_an_entitys_words_together():
    """--shuffle-words: N copies of each sentence, its words reordered with the seed, each word with
    its own tag; NER moves an entity (B- and its I- tags) as one piece, in its order."""
    pos = get_task("pos")
    examples = [{"words": ["a", "b", "c", "d"], "tags": ["W", "X", "Y", "Z"]}, {"words": ["e"], "tags": ["X"]}]
    assert pos.shuffled_copies(examples, 0, seed=1) == []
    copies = pos.shuffled_copies(examples, 3, seed=1)
    assert len(copies) == 6 and copies == pos.shuffled_copies(examples, 3, seed=1)
    for k, copy in enumerate(copies):
        own = examples[k // 3]
        assert sorted(zip(copy["words"], copy["tags"])) == sorted(zip(own["words"], own["tags"]))
    assert len({tuple(c["words"]) for c in pos.shuffled_copies(examples[:1], 20, seed=0)}) > 1  # not one fixed order
    ner = get_task("ner")
    sentence = {"words": ["in", "New", "York", "City", "met", "Ada", "Lovelace"],
                "tags": ["O", "B-LOC", "I-LOC", "I-LOC", "O", "B-PER", "I-PER"]}
    assert ner.tag_units(sentence["tags"]) == [(0, 1), (1, 4), (4, 5), (5, 7)]
    assert ner.tag_units(["I-LOC", "I-LOC", "O"]) == [(0, 2), (2, 3)], "no word lost before the first B- or O"
    for copy in ner.shuffled_copies([sentence], 10, seed=0):
        joined = " ".join(f"{w}/{t}" for w, t in zip(copy["words"], copy["tags"]))
        assert "New/B-LOC York/I-LOC City/I-LOC" in joined and "Ada/B-PER Lovelace/I-PER" in joined
        assert not copy["tags"][0].startswith("I-")


def test_mixed_copies_deal_every_word_once_a_copy_into_sentences_of_the_original_lengths():
    """--mix-words: each copy of the training set deals all its words (an entity's words as one
    piece) in an order drawn with the seed into sentences as long as the originals, each word
    with its own tag, so that words of different sentences come side by side."""
    pos = get_task("pos")
    examples = [{"words": ["a", "b", "c", "d"], "tags": ["W", "X", "Y", "Z"]}, {"words": ["e", "f"], "tags": ["X", "Y"]},
                {"words": ["g"], "tags": ["Z"]}]
    assert pos.mixed_copies(examples, 0, seed=1) == []
    copies = pos.mixed_copies(examples, 3, seed=1)
    assert len(copies) == 9 and copies == pos.mixed_copies(examples, 3, seed=1) != pos.mixed_copies(examples, 3, seed=2)
    every_word = sorted((w, t) for e in examples for w, t in zip(e["words"], e["tags"]))
    for k in range(3):
        copy = copies[3 * k:3 * k + 3]
        assert [len(e["words"]) for e in copy] == [4, 2, 1]
        assert sorted((w, t) for e in copy for w, t in zip(e["words"], e["tags"])) == every_word
    own = [set(e["words"]) for e in examples]
    strangers = [e for e in pos.mixed_copies(examples, 20, seed=0) if not any(set(e["words"]) <= words for words in own)]
    assert strangers, "some sentences hold words of different training sentences"
    ner = get_task("ner")
    sentences = [{"words": ["in", "New", "York", "met", "Ada"], "tags": ["O", "B-LOC", "I-LOC", "O", "B-PER"]},
                 {"words": ["Ada", "Lovelace", "wrote"], "tags": ["B-PER", "I-PER", "O"]}]
    for copy in ner.mixed_copies(sentences, 10, seed=0):
        joined = " ".join(f"{w}/{t}" for w, t in zip(copy["words"], copy["tags"]))
        assert ("New/" in joined) == ("New/B-LOC York/I-LOC" in joined) and ("Lovelace" in joined) == ("Ada/B-PER Lovelace/I-PER" in joined)
        assert not copy["tags"][0].startswith("I-")
    assert [len(ner.tag_units(e["tags"])) for e in ner.mixed_copies(sentences, 1, seed=3)] == [4, 2]


@pytest.mark.parametrize(("flag", "field", "method"), [("--join-sentences", "joined_copies", "with_joined_copies"),
                                                       ("--shuffle-words", "shuffled_copies", "shuffled_copies"),
                                                       ("--mix-words", "mixed_copies", "mixed_copies")])
def test_copies_of_sentences_are_refused_by_the_tasks_that_do_not_tag_words(tmp_path, flag, field, method):
    with pytest.raises(ValueError, match=f"{flag} is for the tasks that tag words"):
        getattr(get_task("classify"), method)([{"words": ["a"], "tags": ["X"]}, {"words": ["b"], "tags": ["Y"]}], 1, seed=0)
    train, dev = pos_data(tmp_path)
    with pytest.raises(ValueError, match=rf"{flag} is for the tasks that tag words \(pos, ner\); task 'parse'"):
        FinetuneConfig(task="parse", model="tiny", train=str(train), validation=str(dev), output_dir=str(tmp_path),
                       **{field: 1}).validate()


def test_finetuning_with_joined_sentences_trains_on_them(tmp_path):
    train, dev = pos_data(tmp_path)
    res = finetune(FinetuneConfig(task="pos", model="tiny", train=str(train), validation=str(dev), output_dir=str(tmp_path / "pos"),
                                  max_steps=60, eval_steps=30, batch_size=16, learning_rate=2e-3, max_patches=32,
                                  joined_copies=2, shuffled_copies=1, mixed_copies=2, model_overrides=TINY, progress=False))
    sentences = len(get_task("pos").read(str(train), None))
    assert res["training_examples"] == 6 * sentences and res["config"]["joined_copies"] == 2
    assert res["config"]["shuffled_copies"] == 1 and res["config"]["mixed_copies"] == 2
    assert res["validation"]["accuracy"] > 0.8


def test_words_the_canvas_cut_off_get_the_most_frequent_training_tag():
    from types import SimpleNamespace

    from pixlm.training.tasks import FinetuneRun, get_task
    from pixlm.training.tasks.words import most_frequent_label

    pos = get_task("pos")
    train = [{"words": ["a", "b", "c"], "tags": ["DET", "NOUN", "NOUN"]}, {"words": ["d"], "tags": ["VERB"]}]
    labels = ["ADJ", "DET", "NOUN", "VERB"]  # alphabetically first is not the most frequent
    assert most_frequent_label(pos, train) == "NOUN"
    # Two of three words were predicted; the third was cut off by the canvas.
    logits = np.zeros((1, 4, 4))
    logits[0, 0, 1] = logits[0, 1, 3] = 1.0
    label_ids = np.array([[1, 3, -100, -100]])
    trainer = SimpleNamespace(predict=lambda examples: SimpleNamespace(predictions=logits, label_ids=label_ids))
    tags = pos.word_tags(FinetuneRun(None, trainer, labels, train), [{"words": ["x", "y", "z"]}])
    assert tags == [["DET", "VERB", "NOUN"]]


def test_scores_count_the_words_the_canvas_cut_off_as_wrong():
    """As the most-frequent-tag and subword baselines are scored: over every word, not only the drawn ones."""
    from transformers import EvalPrediction

    from pixlm.training.tasks import get_task

    labels = ["DET", "NOUN", "VERB"]
    examples = [{"words": ["a", "b", "c", "d"], "tags": ["DET", "NOUN", "VERB", "NOUN"]}]
    logits = np.zeros((1, 5, 3))
    logits[0, 0, 0] = logits[0, 2, 1] = 1.0  # both drawn words right; "c" and "d" fell off the canvas
    label_ids = np.array([[0, -100, 1, -100, -100]])
    scores = get_task("pos").compute_metrics(labels, examples, examples, None)(EvalPrediction(logits, label_ids))
    assert scores == {"accuracy": 0.5, "words_cut_off": 2}

    ner = [{"words": ["Ada", "met", "Bo", "Li"], "tags": ["B-PER", "O", "B-PER", "I-PER"]}]
    ner_labels = ["B-PER", "I-PER", "O"]
    logits = np.zeros((1, 3, 3))
    logits[0, 0, 0] = logits[0, 1, 2] = 1.0  # "Ada" found; the entity "Bo Li" was cut off: missed, not ignored
    scores = get_task("ner").compute_metrics(ner_labels, ner, ner, None)(EvalPrediction(logits, np.array([[0, 2, -100]])))
    assert scores["precision"] == 1.0 and scores["recall"] == 0.5 and scores["words_cut_off"] == 2


def test_parsing_scores_count_words_cut_off_and_heads_cut_off_as_wrong(monkeypatch):
    from transformers import EvalPrediction

    from pixlm.training.tasks import get_task, parse

    # Three words, two drawn: word 1 hangs from 2 (right), word 2 from the cut-off word 3 (cannot be right).
    examples = [{"words": ["a", "b", "c"], "heads": [2, 3, 0], "rels": ["det", "nsubj", "root"]}]
    monkeypatch.setattr(parse, "decode_parses", lambda predictions: [([2, 0], [0, 2])])
    labels = ["det", "nsubj", "root"]
    scores = get_task("parse").compute_metrics(labels, examples, examples, None)(EvalPrediction(None, (None, None)))
    assert scores["uas"] == pytest.approx(1 / 3) and scores["las"] == pytest.approx(1 / 3)
    assert scores["words_cut_off"] == 1


def test_a_subword_pretraining_cut_off_resumes_from_its_last_checkpoint(tmp_path):
    """`pixlm baseline pretrain` runs for an hour at the transfer table's budget: cut off after
    its step-4 checkpoint, the same command again continues from it (weights, optimizer,
    schedule and step) instead of starting over, and finishes the run."""
    import pixlm.training.subword as subword_module
    from pixlm.baselines.subword import create_subword_model
    from pixlm.data.readers import read_conllu

    train, _ = pos_data(tmp_path)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(" ".join(s.words) for s in read_conllu(train)) + "\n")
    base = create_subword_model(str(corpus), str(tmp_path / "bert"), preset="tiny", vocab_size=120)
    common = dict(max_steps=6, batch_size=8, save_steps=2, progress=False, seed=3)
    straight = subword_module.pretrain_subword(base, str(corpus), str(tmp_path / "straight"), **common)
    assert straight["resumed_from"] is None

    with power_cut(subword_module, step=5):
        subword_module.pretrain_subword(base, str(corpus), str(tmp_path / "cut"), **common)
    assert not (tmp_path / "cut" / "all_results.json").exists() and (tmp_path / "cut" / "checkpoint-4").exists()
    resumed = subword_module.pretrain_subword(base, str(corpus), str(tmp_path / "cut"), **common)
    assert resumed["resumed_from"].endswith("checkpoint-4") and resumed["steps"] == 6

    def losses(run):
        state = json.loads((tmp_path / run / "checkpoint-6" / "trainer_state.json").read_text())
        return {h["step"]: h["loss"] for h in state["log_history"] if "loss" in h}

    # One history: the first four steps are the uninterrupted run's, not a second start.
    assert sorted(losses("cut")) == [1, 2, 3, 4, 5, 6]
    assert [losses("cut")[k] for k in range(1, 5)] == [losses("straight")[k] for k in range(1, 5)]


def test_an_interrupted_finetuning_resumes_from_its_last_checkpoint(tmp_path):
    """A second `finetune` into the same folder continues from its newest checkpoint (the
    Trainer's state: step, optimizer, best checkpoint) rather than starting over."""
    train, dev = pos_data(tmp_path)
    out = tmp_path / "pos"
    common = dict(task="pos", model="tiny", train=str(train), validation=str(dev), output_dir=str(out), eval_steps=2,
                  batch_size=8, max_patches=32, model_overrides=TINY, progress=False)
    first = finetune(FinetuneConfig(max_steps=4, **common))
    assert first["steps"] == 4
    again = finetune(FinetuneConfig(max_steps=6, **common))
    assert again["steps"] == 6
    state = json.loads((out / "checkpoint-6" / "trainer_state.json").read_text())
    assert [h["step"] for h in state["log_history"] if "eval_loss" in h] == [2, 4, 6]  # one history, not two runs
    fresh = finetune(FinetuneConfig(max_steps=2, resume=False, **{**common, "output_dir": str(tmp_path / "fresh")}))
    assert fresh["steps"] == 2


def test_a_finetuning_cut_off_resumes_to_the_same_weights(tmp_path):
    """Cut off after its step-4 checkpoint (a crash in step 5), the same command again ends with
    the weights an uninterrupted run has: the data order, dropout and the optimizer resume."""
    from safetensors.torch import load_file

    import pixlm.training.finetuning as finetuning_module

    train, dev = pos_data(tmp_path)
    common = dict(task="pos", model="tiny", train=str(train), validation=str(dev), eval_steps=2, max_steps=6,
                  batch_size=8, max_patches=32, progress=False, seed=3,
                  model_overrides={"num_hidden_layers": 1, "hidden_dropout_prob": 0.1})
    finetune(FinetuneConfig(output_dir=str(tmp_path / "straight"), **common))

    with power_cut(finetuning_module, step=5):
        finetune(FinetuneConfig(output_dir=str(tmp_path / "cut"), **common))
    assert not (tmp_path / "cut" / "checkpoint-6").exists() and (tmp_path / "cut" / "checkpoint-4").exists()
    assert finetune(FinetuneConfig(output_dir=str(tmp_path / "cut"), **common))["resumed_from"].endswith("checkpoint-4")
    a, b = (load_file(tmp_path / run / "checkpoint-6" / "model.safetensors") for run in ("straight", "cut"))
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(b[name], a[name], rtol=1e-5, atol=1e-6, msg=name)


def test_unknown_choices_get_a_suggestion():
    with pytest.raises(ValueError, match=r"task must be one of classify, pos, ner, parse, qa; got 'nre' \(did you mean 'ner'\?\)"):
        FinetuneConfig(task="nre", model="tiny", train="a", validation="b", output_dir="c").validate()
    with pytest.raises(ValueError, match=r"layout must be one of words, bigrams; got 'word' \(did you mean 'words'\?\)"):
        FinetuneConfig(task="pos", model="tiny", train="a", validation="b", output_dir="c", layout="word").validate()


def test_layer_lr_scales_decay_from_the_head_down_to_the_embeddings_by_hand():
    from transformers import BertConfig, BertForTokenClassification

    from pixlm.models.pixel import PixelForTokenClassification
    from pixlm.training.trainer import layer_lr_scales

    pixel = PixelForTokenClassification(PixelConfig.from_preset("tiny", num_hidden_layers=2, num_labels=3))
    scales = layer_lr_scales(pixel, 0.5)  # 2 layers: embeddings 0, layers 1-2, norm and head 3
    assert scales["vit.embeddings.patch_embeddings.projection.weight"] == 0.125
    assert scales["vit.layers.0.attention.q_proj.weight"] == 0.25 and scales["vit.layers.1.mlp.fc2.bias"] == 0.5
    assert scales["vit.layernorm.weight"] == 1.0 and scales["classifier.weight"] == 1.0
    bert = BertForTokenClassification(BertConfig(vocab_size=50, hidden_size=8, num_hidden_layers=3, num_attention_heads=2,
                                                 intermediate_size=16, num_labels=3))
    scales = layer_lr_scales(bert, 0.5)
    assert scales["bert.embeddings.word_embeddings.weight"] == 0.0625
    assert scales["bert.encoder.layer.0.output.dense.weight"] == 0.125 and scales["bert.encoder.layer.2.output.dense.weight"] == 0.5
    assert scales["classifier.bias"] == 1.0
    with pytest.raises(ValueError, match="no numbered layers"):
        layer_lr_scales(torch.nn.Linear(2, 2), 0.5)


def test_layer_lr_decay_gives_each_layer_its_rate_and_the_schedule_scales_them_alike(tmp_path):
    from transformers import TrainingArguments

    from pixlm.models.pixel import PixelForTokenClassification
    from pixlm.training import PixlmTrainer

    model = PixelForTokenClassification(PixelConfig.from_preset("tiny", num_hidden_layers=2, num_labels=3))
    args = TrainingArguments(output_dir=str(tmp_path), learning_rate=1e-3, weight_decay=0.1, warmup_steps=2, max_steps=10,
                             report_to=[])
    trainer = PixlmTrainer(model=model, args=args, layer_lr_decay=0.5)
    trainer.create_optimizer_and_scheduler(num_training_steps=10)
    groups = trainer.optimizer.param_groups
    rate = {id(p): (g["lr"], g["weight_decay"]) for g in groups for p in g["params"]}
    params = dict(model.named_parameters())
    assert rate[id(params["classifier.weight"])] == pytest.approx((0.0, 0.1))  # warm-up starts at 0
    for _ in range(4):
        trainer.optimizer.step()
        trainer.lr_scheduler.step()
    rate_now = {id(p): g["lr"] for g in groups for p in g["params"]}
    top = rate_now[id(params["classifier.weight"])]
    assert 0 < top < 1e-3
    assert rate_now[id(params["vit.layers.1.mlp.fc1.weight"])] == pytest.approx(top / 2)
    assert rate_now[id(params["vit.embeddings.patch_embeddings.projection.weight"])] == pytest.approx(top / 8)
    decayed = {id(p): g["weight_decay"] for g in groups for p in g["params"]}
    assert decayed[id(params["vit.layers.0.mlp.fc1.weight"])] == 0.1 and decayed[id(params["vit.layers.0.mlp.fc1.bias"])] == 0.0
    assert sum(len(g["params"]) for g in groups) == sum(p.requires_grad for p in model.parameters())
    with pytest.raises(ValueError, match="layer_lr_decay: expected a factor in"):
        PixlmTrainer(model=model, args=args, layer_lr_decay=1.5)


def test_finetune_layer_lr_decay_is_recorded_and_refused_with_sharding(tmp_path):
    train, dev = pos_data(tmp_path)
    res = finetune(FinetuneConfig(task="pos", model="tiny", train=str(train), validation=str(dev), output_dir=str(tmp_path / "pos"),
                                  max_steps=60, eval_steps=30, batch_size=16, learning_rate=2e-3, max_patches=32,
                                  layer_lr_decay=0.8, model_overrides=TINY, progress=False))
    assert res["config"]["layer_lr_decay"] == 0.8 and res["validation"]["accuracy"] > 0.8
    fsdp = tmp_path / "fsdp.json"
    fsdp.write_text("{}")
    with pytest.raises(ValueError, match="--layer-lr-decay gives each layer its own parameter group"):
        FinetuneConfig(task="pos", model="tiny", train=str(train), validation=str(dev), output_dir=str(tmp_path),
                       layer_lr_decay=0.8, fsdp=str(fsdp)).validate()
