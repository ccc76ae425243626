"""PIXEL pretraining end to end on a tiny model: outputs, resume, atomic checkpoints, bad loss,
torchrun, corpora."""

import importlib.util
import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch

from pixlm.models.pixel import PixelConfig, PixelForPreTraining
from pixlm.training import NonFiniteLossError, PixlmTrainer, PretrainConfig, last_checkpoint, pretrain

from conftest import free_port, power_cut

SENTENCES = [f"Sentence {k}: pixels carry the text of line number {k}, and more words." for k in range(120)]


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(SENTENCES) + "\n\n\n", encoding="utf-8")
    return str(path)


def tiny_config(corpus, out, **kw) -> PretrainConfig:
    base = dict(
        corpus=corpus, output_dir=str(out), validation_size=16, max_steps=8, batch_size=4, eval_steps=4,
        save_steps=4, logging_steps=2, reconstruction_steps=4, learning_rate=1e-3, report_to=[], progress=False,
        model_overrides={"num_channels": 1, "max_patches": 48, "num_hidden_layers": 1, "decoder_num_hidden_layers": 1},
        renderer_overrides={"max_patches": 48},
    )
    base.update(kw)
    return PretrainConfig(**base)


def params(model) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_pretrain_writes_model_checkpoints_figures_and_results(corpus, tmp_path):
    out = tmp_path / "run"
    res = pretrain(tiny_config(corpus, out))
    assert res["steps"] == 8
    assert all(isinstance(res[k], float) and res[k] == res[k] for k in ("initial_eval_loss", "final_eval_loss"))
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("checkpoint-")) == ["checkpoint-4", "checkpoint-8"]
    for ckpt in ("checkpoint-4", "checkpoint-8"):
        assert {"model.safetensors", "optimizer.pt", "trainer_state.json", "text_renderer_config.json",
                "preprocessor_config.json"} <= set(os.listdir(out / ckpt))
    assert not (out / ".staging").exists()
    assert (out / "loss_curve.png").stat().st_size > 1000
    # the last figure once, though the end of training redraws it
    assert [os.path.basename(p) for p in res["reconstructions"]] == ["step-000000.png", "step-000004.png", "step-000008.png"]
    card = (out / "README.md").read_text()
    assert "masked-patch reconstruction" in card and "| final_eval_loss |" in card and "PixelProcessor.from_pretrained" in card
    saved = json.loads((out / "all_results.json").read_text())
    assert saved["final_eval_loss"] == res["final_eval_loss"]
    assert res["skipped_texts"] == 2  # the corpus ends with two empty lines
    # The final model and its renderer load back.
    from pixlm.render import TextRenderer

    model = PixelForPreTraining.from_pretrained(out)
    assert model.config.num_channels == 1 and TextRenderer.from_pretrained(out).config.max_patches == 48
    from pixlm.data import PixelProcessor

    processor = PixelProcessor.from_pretrained(out)
    assert processor.num_channels == 1 and model(**processor(["Text for the saved model."])).loss.isfinite()
    # PIXEL's learning rate rule when none is given: 1.5e-4 x batch / 256.
    res = pretrain(tiny_config(corpus, tmp_path / "lr", learning_rate=None, max_steps=1, eval_steps=1, save_steps=1))
    assert res["learning_rate"] == pytest.approx(1.5e-4 * 4 / 256)


def test_interrupted_run_resumes_to_the_same_weights(corpus, tmp_path):
    straight = tmp_path / "straight"
    straight_results = pretrain(tiny_config(corpus, straight))
    expected = params(PixelForPreTraining.from_pretrained(straight))

    broken = tmp_path / "broken"
    import pixlm.training.pretraining as mod

    with power_cut(mod, step=6):
        pretrain(tiny_config(corpus, broken))
    assert last_checkpoint(str(broken)).endswith("checkpoint-4")
    res = pretrain(tiny_config(corpus, broken))  # resumes from checkpoint-4
    assert res["steps"] == 8
    # The step-0 loss reported is the one measured at step 0 before the interruption.
    assert res["initial_eval_loss"] == pytest.approx(straight_results["initial_eval_loss"])
    got = params(PixelForPreTraining.from_pretrained(broken))
    for k, v in expected.items():
        torch.testing.assert_close(got[k], v, rtol=1e-5, atol=1e-6, msg=k)


def test_a_save_that_fails_midway_leaves_no_checkpoint(corpus, tmp_path, monkeypatch):
    from transformers import Trainer

    out = tmp_path / "run"
    calls = {"n": 0}
    real = Trainer._save_optimizer_and_scheduler

    def flaky(self, output_dir):
        calls["n"] += 1
        if calls["n"] == 2:  # the second checkpoint dies while its optimizer is written
            raise OSError("disk full")
        return real(self, output_dir)

    monkeypatch.setattr(Trainer, "_save_optimizer_and_scheduler", flaky)
    with pytest.raises(OSError, match="disk full"):
        pretrain(tiny_config(corpus, out))
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("checkpoint-")) == ["checkpoint-4"]
    assert last_checkpoint(str(out)).endswith("checkpoint-4")


class _NaNAfter(PixelForPreTraining):
    """Returns a NaN loss from its third call on."""

    calls = 0

    def forward(self, *args, **kwargs):
        out = super().forward(*args, **kwargs)
        type(self).calls += 1
        if type(self).calls >= 3:
            out.loss = out.loss * float("nan")
        return out


def test_non_finite_loss_stops_the_run_naming_the_step(tmp_path):
    from transformers import TrainingArguments

    from pixlm.data import PixelPretrainingCollator
    from pixlm.render import TextRenderer

    model = _NaNAfter(PixelConfig.from_preset("tiny", num_channels=1, max_patches=32, num_hidden_layers=1))
    renderer = TextRenderer(max_patches=32)
    args = TrainingArguments(output_dir=str(tmp_path), max_steps=10, per_device_train_batch_size=2, report_to=[],
                             remove_unused_columns=False, save_strategy="no", disable_tqdm=True)
    trainer = PixlmTrainer(model=model, args=args, train_dataset=[{"text": t} for t in SENTENCES[:40]],
                           data_collator=PixelPretrainingCollator(renderer, num_channels=1, seed=0))
    with pytest.raises(NonFiniteLossError, match="loss became nan at step 3"):
        trainer.train()


def test_the_trainer_tells_the_collator_each_epoch_and_resumes_inside_one(tmp_path):
    """Masks are drawn anew each epoch: the collator learns the epoch as it starts, and a run
    resumed in the middle of epoch 1 draws epoch 1's masks there."""
    from transformers import TrainingArguments

    from pixlm.data import PixelPretrainingCollator
    from pixlm.render import TextRenderer

    class Recording(PixelPretrainingCollator):
        def __call__(self, examples):
            seen.append(self.epoch)
            return super().__call__(examples)

    def run(steps, resume=None):
        model = PixelForPreTraining(PixelConfig.from_preset("tiny", num_channels=1, max_patches=32, num_hidden_layers=1,
                                                            decoder_num_hidden_layers=1))
        args = TrainingArguments(output_dir=str(tmp_path), max_steps=steps, per_device_train_batch_size=4, report_to=[],
                                 remove_unused_columns=False, save_steps=6, disable_tqdm=True, dataloader_num_workers=0)
        trainer = PixlmTrainer(model=model, args=args, train_dataset=[{"text": t} for t in SENTENCES[:16]],
                               data_collator=Recording(TextRenderer(max_patches=32), num_channels=1, seed=0))
        trainer.train(resume_from_checkpoint=resume)

    seen: list[int] = []
    run(10)  # epochs of 4 steps: 0, 0, 0, 0, 1, 1, 1, 1, 2, 2
    assert seen[:10] == [0] * 4 + [1] * 4 + [2] * 2
    seen.clear()
    run(8, resume=str(tmp_path / "checkpoint-6"))  # resumed inside epoch 1
    assert seen[:2] == [1, 1]


def test_torchrun_checkpoints_resume_on_two_processes(corpus, tmp_path):
    script = tmp_path / "ddp.py"
    script.write_text(textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from test_pretraining import tiny_config
        from pixlm.training import pretrain
        pretrain(tiny_config({corpus!r}, {str(tmp_path / 'ddp')!r}, max_steps=int(sys.argv[1]), save_steps=2, eval_steps=2,
                             reconstruction_steps=0))
    """))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for steps in (4, 6):  # then resumed from checkpoint-4
        res = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                              "--master_port", str(free_port()), str(script), str(steps)],
                             capture_output=True, text=True, timeout=600, env=env)
        assert res.returncode == 0, res.stderr[-3000:]
        # Each process saved its own RNG state: the run can resume on two processes.
        assert {"rng_state_0.pth", "rng_state_1.pth"} <= set(os.listdir(tmp_path / "ddp" / f"checkpoint-{steps}"))
    state = json.loads((tmp_path / "ddp" / "checkpoint-6" / "trainer_state.json").read_text())
    assert state["global_step"] == 6
    assert json.loads((tmp_path / "ddp" / "all_results.json").read_text())["resumed_from"].endswith("checkpoint-4")


@pytest.mark.parametrize("workers", [0, 2])
def test_torchrun_streaming_reads_each_text_once_per_epoch(tmp_path, workers):
    """Under torchrun a streamed corpus is split between the processes (and their DataLoader
    workers): in one epoch every training text is collated once, by one process (it crashed on
    rank 1 with "Batch does not contain any data")."""
    corpus = tmp_path / "count.txt"
    corpus.write_text("".join(f"line {k:03d} of the counting corpus\n" for k in range(16 + 64)))
    seen = tmp_path / "seen"
    seen.mkdir()
    script = tmp_path / "stream.py"
    script.write_text(textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from test_pretraining import tiny_config
        from pixlm.training import pretrain
        from pixlm.training.families import FAMILIES
        family = FAMILIES["pixel"]
        collators = family.collators
        def recording(*args):
            train, held_out = collators(*args)
            def collate(examples):
                with open(os.path.join({str(seen)!r}, f"rank{{os.environ['RANK']}}-{{os.getpid()}}.txt"), "a") as f:
                    f.writelines(e["text"] + "\\n" for e in examples)
                return train(examples)
            return collate, held_out
        family.collators = recording
        # 64 training texts, 2 processes, 4 a batch: an epoch is 8 steps
        pretrain(tiny_config({str(corpus)!r}, {str(tmp_path / 'run')!r}, streaming=True, max_steps=8, eval_steps=8,
                             save_steps=8, reconstruction_steps=0, num_workers={workers}))
    """))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    res = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                          "--master_port", str(free_port()), str(script)],
                         capture_output=True, text=True, timeout=600, env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    by_rank = {}
    for f in seen.iterdir():
        by_rank.setdefault(f.name.split("-")[0], []).extend(f.read_text().splitlines())
    assert sorted(by_rank) == ["rank0", "rank1"]
    texts = [t for lines in by_rank.values() for t in lines]
    want = {f"line {k:03d} of the counting corpus" for k in range(16, 16 + 64)}  # the first 16 are held out
    assert len(texts) == len(set(texts)) == 64 and set(texts) == want
    assert not set(by_rank["rank0"]) & set(by_rank["rank1"])


EQUIVALENCE_SCRIPT = """
import json, os, sys
sys.path.insert(0, {tests!r})
from test_pretraining import tiny_config
from pixlm.training import pretrain
from pixlm.training.families import FAMILIES
family = FAMILIES["pixel"]
collators = family.collators

class Recording:
    def __init__(self, collate):
        self.collate = collate
    def set_epoch(self, epoch):
        self.collate.set_epoch(epoch)
    def __call__(self, examples):
        with open(os.path.join({seen!r}, f"rank{{os.environ.get('RANK', '0')}}.txt"), "a") as f:
            f.write("|".join(e["text"] for e in examples) + "\\n")
        return self.collate(examples)

def recording(*args):
    train, held_out = collators(*args)
    return Recording(train), held_out

family.collators = recording
overrides = {{"num_channels": 1, "max_patches": 48, "num_hidden_layers": 1, "decoder_num_hidden_layers": 1,
             "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}}
pretrain(tiny_config({corpus!r}, {out!r}, batch_size={batch}, max_steps=12, logging_steps=1, eval_steps=12,
                     save_steps=12, reconstruction_steps=0, model_overrides=overrides))
"""


@pytest.mark.parametrize("source", ["text", "pre-rendered"])
def test_torchrun_batch_b_on_two_processes_equals_batch_2b_on_one(tmp_path, source):
    """torchrun with 2 processes at batch 4 trains as one process at batch 8, from text or from
    strips pre-rendered by `pixlm render`: each step sees the same 8 examples (over an epoch and
    into the next) under the same masks, and the loss curve and the held-out losses agree to
    float rounding (PIXEL's loss is a mean over masked patches, and every example of a batch of
    one length masks as many). Before, evaluating ahead of training left the model out of DDP
    on CPU: each process trained its own copy."""
    from pixlm.cli import main

    corpus = tmp_path / "long.txt"
    corpus.write_text("".join(f"text {k:03d}: a sentence long enough to be cut at the strip's last patch, "
                              "with words after words after words\n" for k in range(16 + 64)))
    if source == "pre-rendered":
        assert main(["render", "--input", str(corpus), "--output", str(tmp_path / "long.arrow"), "--max-patches", "48"]) == 0
        corpus = tmp_path / "long.arrow"
    results = {}
    for name, batch, launcher in (("single", 8, []), ("ddp", 4, ["-m", "torch.distributed.run", "--nproc_per_node", "2",
                                                                  "--master_port", str(free_port())])):
        seen = tmp_path / f"seen-{name}"
        seen.mkdir()
        script = tmp_path / f"{name}.py"
        script.write_text(EQUIVALENCE_SCRIPT.format(tests=os.path.dirname(__file__), seen=str(seen), corpus=str(corpus),
                                                    out=str(tmp_path / name), batch=batch))
        res = subprocess.run([sys.executable, *launcher, str(script)], capture_output=True, text=True, timeout=600,
                             env={**os.environ, "OMP_NUM_THREADS": "1"})
        assert res.returncode == 0, res.stderr[-3000:]
        steps = [[set(line.split("|")) for line in f.read_text().splitlines()] for f in sorted(seen.iterdir())]
        state = json.loads((tmp_path / name / "checkpoint-12" / "trainer_state.json").read_text())
        losses = [e["loss"] for e in state["log_history"] if "loss" in e]
        held_out = json.loads((tmp_path / name / "all_results.json").read_text())
        losses += [held_out["initial_eval_loss"], held_out["final_eval_loss"]]  # over both processes' shares
        # accelerate's loader collates one batch ahead: the 13th is never trained on
        results[name] = ([set().union(*batches) for batches in zip(*steps)][:12], losses)
    (single_steps, single_loss), (ddp_steps, ddp_loss) = results["single"], results["ddp"]
    assert len(single_steps) == len(ddp_steps) == 12 and all(len(s) == 8 for s in single_steps)
    assert ddp_steps == single_steps
    assert len(single_loss) == len(ddp_loss) == 12 + 2
    assert ddp_loss == pytest.approx(single_loss, rel=1e-5)  # measured: 2e-7 at most
    assert single_loss[-1] < single_loss[0]  # it trained


@pytest.mark.parametrize("kind", ["jsonl", "parquet", "folder"])
def test_corpora_in_other_formats(tmp_path, kind):
    import datasets

    from pixlm.data.corpus import load_corpus

    rows = [{"body": s} for s in SENTENCES[:10]] + [{"body": "   "}]
    if kind == "jsonl":
        path = tmp_path / "c.jsonl"
        path.write_text("\n".join(json.dumps(r) for r in rows))
    elif kind == "parquet":
        path = tmp_path / "c.parquet"
        datasets.Dataset.from_list(rows).to_parquet(str(path))
    else:
        path = tmp_path / "texts"
        path.mkdir()
        (path / "a.txt").write_text("\n".join(SENTENCES[:5]))
        (path / "b.txt").write_text("\n".join(SENTENCES[5:10]) + "\n\n")
    ds = load_corpus(str(path), text_column="text" if kind == "folder" else "body")
    assert sorted(ds["text"]) == sorted(SENTENCES[:10])


def test_a_text_file_never_loaded_whole_streams(tmp_path):
    """`datasets` declares no columns for a text file it streams before it has ever loaded it
    whole; the corpus is still read (its first row says the columns)."""
    from pixlm.data.corpus import load_corpus

    path = tmp_path / f"fresh-{os.getpid()}.txt"
    path.write_text("\n".join(SENTENCES[:5]) + "\n\n")
    assert [row["text"] for row in load_corpus(str(path), streaming=True)] == SENTENCES[:5]


def test_corpus_errors_name_the_file(tmp_path):
    from pixlm.data.corpus import load_corpus

    with pytest.raises(FileNotFoundError, match="corpus '/no/such.txt' does not exist"):
        load_corpus("/no/such.txt")
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n")
    with pytest.raises(ValueError, match="empty.txt' holds no non-empty text"):
        load_corpus(str(empty))
    rows = tmp_path / "r.jsonl"
    rows.write_text(json.dumps({"body": "x"}))
    with pytest.raises(ValueError, match=r"has no column 'text'; its columns are \['body'\]"):
        load_corpus(str(rows))


def test_a_treebank_is_a_corpus_of_its_sentences(tmp_path):
    from pixlm.data.corpus import load_corpus

    tree = tmp_path / "t.conllu"
    rows = lambda *words: "".join(f"{i}\t{w}\t_\t_\t_\t_\t{0 if i == 1 else 1}\t_\t_\t_\n" for i, w in enumerate(words, 1))  # noqa: E731
    tree.write_text("# text = Hello, world\n" + rows("Hello", ",", "world") + "\n" + rows("No", "text", "line") + "\n")
    assert load_corpus(str(tree))["text"] == ["Hello, world", "No text line"]


def test_pretrain_on_a_pre_rendered_arrow_corpus(corpus, tmp_path):
    from pixlm.cli import main

    arrow = tmp_path / "c.arrow"
    assert main(["render", "--input", corpus, "--output", str(arrow), "--max-patches", "48"]) == 0
    res = pretrain(tiny_config(str(arrow), tmp_path / "run", max_steps=2, eval_steps=2, save_steps=2))
    assert res["steps"] == 2 and res["final_eval_loss"] == res["final_eval_loss"]


def test_bad_settings_are_named(corpus, tmp_path):
    with pytest.raises(ValueError, match="max_steps must be a positive integer, got 0"):
        pretrain(tiny_config(corpus, tmp_path, max_steps=0))
    with pytest.raises(ValueError, match=r"model must be a PIXEL preset \(tiny, small, base\) or a checkpoint folder"):
        pretrain(tiny_config(corpus, tmp_path, model="gigantic"))
    with pytest.raises(ValueError, match="renderer patch_size is 8 but the model's patch_size is 16"):
        pretrain(tiny_config(corpus, tmp_path, renderer_overrides={"patch_size": 8, "max_patches": 48}))


def test_cli_reconstruct_and_pretrain_help(corpus, tmp_path):
    from PIL import Image

    from pixlm.cli import main

    out = tmp_path / "run"
    pretrain(tiny_config(corpus, out, max_steps=2, eval_steps=2, save_steps=2))
    png = tmp_path / "r.png"
    assert main(["reconstruct", "--model", str(out), "Reconstruct this text, please.", "--spans", "1:3,5:6", "-o", str(png)]) == 0
    with Image.open(png) as img:
        assert img.width > 100 and img.height > 4 * 32
    assert main(["reconstruct", "--model", str(out), "x", "--spans", "1-3"]) == 2
    res = subprocess.run([sys.executable, "-m", "pixlm", "pretrain", "--help"], capture_output=True, text=True)
    for flag in ("--corpus", "--model", "--steps", "--lr", "--resume-from", "--no-resume", "--workers", "--precision"):
        assert flag in res.stdout


def test_tensorboard_logs_go_to_the_output_dir_from_the_first_evaluation(corpus, tmp_path, monkeypatch):
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    out = tmp_path / "run"
    pretrain(tiny_config(corpus, out, max_steps=4, save_steps=4, report_to=["tensorboard"]))
    assert not (elsewhere / "runs").exists(), "a writer opened in the working directory"
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(out / "runs")).Reload()
    tags = set(events.Tags()["scalars"])
    assert {"train/loss", "eval/loss"} <= tags, tags
    # The step-0 evaluation and the training steps are in the same log.
    assert [e.step for e in events.Scalars("eval/loss")][0] == 0 and len(events.Scalars("train/loss")) >= 2


def test_pixel_processor_turns_text_into_model_inputs_and_travels_with_the_model(tmp_path):
    from pixlm.data import PixelProcessor
    from pixlm.models.pixel import PixelConfig, PixelForPreTraining
    from pixlm.render import TextRenderer

    processor = PixelProcessor(TextRenderer(max_patches=64), num_channels=1)
    batch = processor(["A short text.", "A somewhat longer text to render here."], span_mask=True, seed=0)
    longest = processor.renderer("A somewhat longer text to render here.").num_patches
    assert batch["pixel_values"].shape == (2, 1, 16, 16 * longest) and batch["pixel_values"].dtype == torch.float32
    assert 0.0 <= float(batch["pixel_values"].min()) and float(batch["pixel_values"].max()) == 1.0
    assert batch["attention_mask"][1].sum() == longest and batch["patch_mask"].shape == (2, longest)
    pairs = processor(["Question?"], ["Its context."])
    words = processor([["Words", "of"], ["two", "texts"]], is_split_into_words=True)
    assert pairs["pixel_values"].shape[0] == 1 and words["pixel_values"].shape[0] == 2
    two = processor.renderer(["two", "texts"])  # the word starts a tagger reading whole words takes
    assert words["word_starts"][1].tolist() == two.word_starts.tolist() + [two.num_text_patches]
    assert "word_starts" not in pairs
    full = processor("x", padding="max_length")
    assert full["attention_mask"].shape == (1, 64)
    model = PixelForPreTraining(PixelConfig.from_preset("tiny", num_channels=1, max_patches=64))
    assert model(**batch).loss.isfinite()
    # Saved beside the model and loaded back: the same inputs.
    model.save_pretrained(tmp_path)
    processor.save_pretrained(tmp_path)
    again = PixelProcessor.from_pretrained(tmp_path)
    assert again.num_channels == 1 and again.renderer.config == processor.renderer.config
    torch.testing.assert_close(again(["A short text."])["pixel_values"], processor(["A short text."])["pixel_values"])
    with pytest.raises(TypeError, match="is_split_into_words=True"):
        processor([["not", "flagged"]])
    with pytest.raises(ValueError, match="text_pair holds 2 texts but text holds 1"):
        processor(["one"], ["two", "three"])


def test_a_damaged_newest_checkpoint_is_skipped_for_the_one_before(corpus, tmp_path, caplog):
    """A checkpoint cut short on disk (here its weights truncated) is not resumed from: the run
    says which file is damaged and continues from the checkpoint before it, to the same end."""
    from pixlm.training.run import checkpoint_problem, resume_checkpoint

    out = tmp_path / "run"
    pretrain(tiny_config(corpus, out, max_steps=8, save_steps=4, save_total_limit=3))
    newest = out / "checkpoint-8"
    assert checkpoint_problem(str(newest)) is None
    weights = newest / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    assert "model.safetensors is truncated or corrupt" in checkpoint_problem(str(newest))
    with caplog.at_level("WARNING", logger="pixlm"):
        assert resume_checkpoint(str(out), True) == str(out / "checkpoint-4")
    assert "not resuming from" in caplog.text and "checkpoint-8" in caplog.text
    (out / "checkpoint-4" / "optimizer.pt").write_bytes(b"PK\x03\x04 cut")
    assert resume_checkpoint(str(out), True) is None  # nothing whole is left: start afresh
    with pytest.raises(ValueError, match="cannot resume from .*checkpoint-4: .*optimizer.pt is truncated or corrupt"):
        resume_checkpoint(str(out), str(out / "checkpoint-4"))


def test_config_typos_and_ranges_are_named_with_the_fix(corpus, tmp_path):
    with pytest.raises(ValueError, match=r"PixelConfig has no field 'mask_ratoi' \(did you mean 'mask_ratio'\?\)"):
        pretrain(tiny_config(corpus, tmp_path, model_overrides={"mask_ratoi": 0.5}))
    with pytest.raises(ValueError, match=r"RendererConfig has no field 'max_patchs' \(did you mean 'max_patches'\?\)"):
        pretrain(tiny_config(corpus, tmp_path, renderer_overrides={"max_patchs": 48}))
    with pytest.raises(ValueError, match=r"precision must be one of auto, fp32, bf16, fp16; got 'bf61' \(did you mean 'bf16'\?\)"):
        tiny_config(corpus, tmp_path, precision="bf61").validate()
    with pytest.raises(ValueError, match="warmup_fraction must be at most 1, got 5"):
        tiny_config(corpus, tmp_path, warmup_fraction=5).validate()
    with pytest.raises(ValueError, match="learning_rate must be a finite number, got nan"):
        tiny_config(corpus, tmp_path, learning_rate=float("nan")).validate()
    with pytest.raises(ValueError, match="learning_rate must be greater than 0, got 0"):
        tiny_config(corpus, tmp_path, learning_rate=0).validate()
    with pytest.raises(ValueError, match="batch_size must be an integer, got 2.5"):
        tiny_config(corpus, tmp_path, batch_size=2.5).validate()


def test_diagnose_compares_real_and_blank_context_by_span_length(corpus, tmp_path, capsys, monkeypatch):
    import json

    import torch

    from pixlm.cli import main
    from pixlm.evaluation.diagnose import Diagnosis, span_lengths

    assert span_lengths(torch.tensor([[0, 1, 1, 0, 1, 0, 1, 1, 1]])).tolist() == [[0, 2, 2, 0, 1, 0, 3, 3, 3]]
    same = Diagnosis(4, 0.7, 0.7)
    assert same.ratio == 1.0 and same.verdict.startswith("the model predicts from position alone")
    assert Diagnosis(4, 0.5, 0.7).verdict.startswith("the model reads its context")
    # Raw pixel targets: a blank strip predicts no ink, so R alone does not say the model reads
    # (the study's raw-target run: R 0.36, none of its reconstructed characters read back).
    raw = Diagnosis(4, 0.05, 0.13, pixel_target="raw")
    assert raw.verdict.startswith("not decided by R: R = 0.385 compares raw-pixel losses") and "--recognizer" in raw.verdict
    assert Diagnosis(4, 0.05, 0.13, pixel_target="binary").verdict.startswith("not decided by R: R = 0.385 compares binary-pixel")
    read_back = Diagnosis(4, 0.05, 0.13, reading={"reconstructed": 0.0, "white": 0.0, "characters": 40}, pixel_target="raw")
    assert read_back.verdict.startswith("decided by what it reconstructs, not by R: its masked patches read back as 0.0%")
    # Normalised targets with a recognizer: a low R whose reconstructions read back nothing is not
    # called reading (the words-layout cpu-reader run: R 0.81, 0% of masked characters back).
    ink_only = Diagnosis(4, 0.56, 0.7, reading={"reconstructed": 0.004, "white": 0.0, "characters": 40})
    assert ink_only.reads_back is False
    assert ink_only.verdict.startswith("the context helps but no letters come back: the real input lowers the masked-patch "
                                       "loss to 0.800") and "0.4% of their characters" in ink_only.verdict
    letters = Diagnosis(4, 0.56, 0.7, reading={"reconstructed": 0.3, "white": 0.0, "characters": 40})
    assert letters.reads_back and letters.verdict.startswith("the model reads its context") and "30.0%" in letters.verdict
    assert Diagnosis(4, 0.56, 0.7).reads_back is None
    out = tmp_path / "run"
    res = pretrain(tiny_config(corpus, out, max_steps=2, eval_steps=2, save_steps=2))
    # Pretraining measures R at every evaluation (step 0 included) and reports the last.
    history = json.loads((out / "checkpoint-2" / "trainer_state.json").read_text())["log_history"]
    assert [h["step"] for h in history if "eval_reading_ratio" in h] == [2]
    assert isinstance(res["initial_reading_ratio"], float)  # measured at step 0, before training
    assert res["reading_ratio"] == pytest.approx([h for h in history if "eval_reading_ratio" in h][-1]["eval_reading_ratio"])
    texts = tmp_path / "held-out.txt"
    texts.write_text("\n".join(["The quick brown fox jumps over the lazy dog."] * 4) + "\n")
    assert main(["diagnose", str(out), "--texts", str(texts), "--output", str(tmp_path / "d.json")]) == 0
    printed = capsys.readouterr().out
    assert "| all |" in printed and "verdict: " in printed
    result = json.loads((tmp_path / "d.json").read_text())
    assert result["texts"] == 4 and result["reading_ratio"] == pytest.approx(result["real_loss"] / result["blank_loss"])
    assert result["by_span_length"]  # the masks hold spans, each length reported
    assert main(["diagnose", str(out)]) == 2  # no held-out texts in a pretrain folder: say how to give them
    assert "give them with --texts FILE" in capsys.readouterr().err
    # With a recognizer, the masked patches are read too: of the reconstruction and of white patches.
    from pixlm.models.recognizer import PixelRecognizer, RecognizerConfig
    from pixlm.render import RendererConfig

    reader = tmp_path / "reader"
    PixelRecognizer(RecognizerConfig(hidden_size=16, num_layers=1)).save_pretrained(reader)
    RendererConfig.from_pretrained(out).save_pretrained(reader)
    assert main(["diagnose", str(out), "--texts", str(texts), "--recognizer", str(reader), "--output",
                 str(tmp_path / "r.json")]) == 0
    assert "| the model's reconstruction |" in capsys.readouterr().out
    reading = json.loads((tmp_path / "r.json").read_text())["masked_character_accuracy"]
    assert set(reading) == {"reconstructed", "white", "characters"}
    assert 0 <= reading["reconstructed"] <= 1 and 0 <= reading["white"] <= 1
    # Pretraining's evaluation logs both shares, so a run's results apply diagnose's rule (quickstart).
    import pixlm.models.recognizer.reading as reading_module
    from pixlm.render import TextRenderer
    from pixlm.training.families import FAMILIES

    with monkeypatch.context() as patch:
        patch.setattr(reading_module, "recognizer_for", lambda config: PixelRecognizer.from_pretrained(reader))
        probe = FAMILIES["pixel"].eval_probe(TextRenderer(RendererConfig.from_pretrained(out)), texts.read_text().splitlines())
    logged = probe(PixelForPreTraining.from_pretrained(str(out)))
    assert set(logged) == {"reading_ratio", "masked_character_accuracy", "white_character_accuracy"}
    assert 0 <= logged["white_character_accuracy"] <= 1
    assert main(["reconstruct", "The quick brown fox", "--model", str(out), "--spans", "1:3", "--recognizer", str(reader),
                 "-o", str(tmp_path / "r.png")]) == 0
    assert "patches 1:3  was " in capsys.readouterr().out


MEMORISED = ["the film is a charming and often moving tale of friendship.",
             "a dull script and stiff acting sink this comedy early on.",
             "every scene looks lovely, but the story goes nowhere at all.",
             "she plays the role with wit, warmth and quiet intelligence."]
MEMORISING_STEPS = 1200  # measured: R 0.99 after 300 steps, 0.55 after 600, 0.46 after 1,200


def test_the_objective_learns_letters_it_can_recall(tmp_path):
    """PIXEL's objective end to end (span masks, per-patch normalised targets, the decoder, R and
    the read-back of reconstructions): trained on four texts and scored on them, a tiny model
    recalls what its masks hide. R falls far below 1 (the blank input keeps each text's length, so
    only what the model sees can lower it), and its reconstructions read back as letters, more of
    them than white patches give. Memorising, not reading (docs/results.md: on held-out text the
    same recipe plateaus); a pipeline that drew, hid or scored the patches wrongly could not pass."""
    texts = tmp_path / "four.txt"
    texts.write_text("\n".join(MEMORISED) + "\n", encoding="utf-8")
    res = pretrain(PretrainConfig(
        corpus=str(texts), validation=str(texts), output_dir=str(tmp_path / "run"), max_steps=MEMORISING_STEPS,
        batch_size=4, eval_steps=MEMORISING_STEPS, save_steps=MEMORISING_STEPS, logging_steps=50, reconstruction_steps=0,
        learning_rate=1e-3, report_to=[], progress=False, seed=0,
        model_overrides={"num_channels": 1, "max_patches": 32, "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0},
        renderer_overrides={"max_patches": 32}))
    assert res["initial_reading_ratio"] > 0.95  # untrained: no better with the real input than with a blank one
    assert res["reading_ratio"] < 0.7, res
    assert res["final_eval_loss"] < 0.5 * res["initial_eval_loss"], res
    assert res["masked_character_accuracy"] is not None  # the shipped recognizer reads the default renderer's strips
    assert res["masked_character_accuracy"] > res["white_character_accuracy"] + 0.1, res


def test_deterministic_runs_give_the_same_weights(corpus, tmp_path):
    """--deterministic switches torch to its deterministic algorithms (in a process of its own:
    the switch is global); two runs then end with the same weights, bit for bit."""
    from safetensors.torch import load_file

    args = ["pretrain", "--corpus", str(corpus), "--steps", "3", "--batch-size", "4", "--eval-steps", "3",
            "--save-steps", "3", "--validation-size", "8", "--lr", "1e-3", "--report-to", "none", "--deterministic",
            "--model-arg", "num_channels=1", "--model-arg", "max_patches=48", "--model-arg", "num_hidden_layers=1",
            "--model-arg", "decoder_num_hidden_layers=1", "--renderer-arg", "max_patches=48"]
    for run in ("a", "b"):
        done = subprocess.run([sys.executable, "-m", "pixlm", *args, "--output-dir", str(tmp_path / run)],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
    # The flag reached the Trainer (not only: two CPU runs that happen to agree).
    args = torch.load(tmp_path / "a" / "checkpoint-3" / "training_args.bin", weights_only=False)
    assert args.full_determinism is True
    a, b = (load_file(tmp_path / run / "model.safetensors") for run in ("a", "b"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_training_keeps_large_freed_blocks_for_reuse(monkeypatch):
    """Every run sets glibc's mmap threshold (the kernel zero-filled each step's large tensors
    anew: 20% of a recognizer run's CPU time); not where the user set it themselves."""
    import ctypes.util

    from pixlm.training.run import reuse_freed_memory

    if not sys.platform.startswith("linux") or "libc.so.6" not in (ctypes.util.find_library("c") or ""):
        pytest.skip("glibc only")
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    assert reuse_freed_memory() is True
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
    assert reuse_freed_memory() is False


def test_character_labels_name_the_characters_drawn_in_each_patch():
    from pixlm.data import PixelPretrainingCollator
    from pixlm.data.collators import character_classes
    from pixlm.render import TextRenderer

    renderer = TextRenderer(max_patches=48)
    text = "Hello world"
    spans = renderer(text, char_spans=True).char_spans
    labels = character_classes(text, spans, slots=4, vocab_size=1280)
    for patch, (start, end) in enumerate(spans):
        if start < 0:
            assert (labels[patch] == -100).all()  # blank and end patches hold nothing to predict
            continue
        drawn = [c for c in text[start:end] if c != " "][:4]
        assert labels[patch].tolist() == [1 + ord(c) for c in drawn] + [0] * (4 - len(drawn))
    read = "".join(chr(c - 1) for row in labels for c in row if c > 0)
    assert read == text.replace(" ", "")  # every drawn character is in some patch, once, in order
    assert character_classes("ж", [(0, 1)], 2, 1280)[0].tolist() == [1 + ord("ж"), 0]  # Cyrillic has its own class

    batch = PixelPretrainingCollator(renderer, num_channels=1, seed=0, character_slots=4)([{"text": text}, {"text": "Hi"}])
    assert batch["character_labels"].shape == (2, batch["attention_mask"].shape[1], 4)
    assert (batch["character_labels"][1, 2:] == -100).all()  # "Hi" then its end patch and padding
    with pytest.raises(ValueError, match="pre-rendered strips have none"):
        PixelPretrainingCollator(renderer, num_channels=1, character_slots=4)([{"pixel_values": batch["pixel_values"][0, 0].numpy()}])


def test_character_head_adds_its_cross_entropy_on_hidden_text_patches_only():
    torch.manual_seed(0)
    config = PixelConfig.from_preset("tiny", num_channels=1, max_patches=16, num_hidden_layers=1, decoder_num_hidden_layers=1,
                                     character_loss_weight=0.5, character_slots=2, character_vocab_size=7,
                                     hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    model = PixelForPreTraining(config).eval()
    pixels = torch.rand(2, 1, 16, 16 * 16)
    patch_mask = torch.zeros(2, 16)
    patch_mask[:, 3:7] = 1
    labels = torch.randint(0, 7, (2, 16, 2))
    labels[1, 4] = -100  # a hidden patch without text
    noise = torch.rand(2, 16)
    plain = model(pixels, patch_mask=patch_mask, noise=noise)
    out = model(pixels, patch_mask=patch_mask, noise=noise, character_labels=labels)
    states = model.decoder.states(model.vit(pixels, attention_mask=torch.ones(2, 16), patch_mask=patch_mask, noise=noise,
                                            mask_ratio=config.mask_ratio).last_hidden_state,
                                  out.ids_restore, None)
    hidden = (out.mask > 0) & (labels != -100).any(-1)
    logits = model.character_head(states[hidden]).view(-1, 7)
    expected = torch.nn.functional.cross_entropy(logits, labels[hidden].reshape(-1))
    torch.testing.assert_close(out.character_loss, expected)
    torch.testing.assert_close(out.loss, plain.loss + 0.5 * expected)
    assert hidden.sum() == out.mask.sum() - 1
    with pytest.raises(ValueError, match="no character head"):
        PixelForPreTraining(PixelConfig.from_preset("tiny", max_patches=16))(pixels.repeat(1, 3, 1, 1), character_labels=labels)


def test_pretraining_with_a_character_head_keeps_the_held_out_loss_the_pixel_loss(corpus, tmp_path):
    res = pretrain(tiny_config(corpus, tmp_path / "run", max_steps=4, eval_steps=4, save_steps=4,
                               model_overrides={"num_channels": 1, "max_patches": 48, "num_hidden_layers": 1,
                                                "decoder_num_hidden_layers": 1, "character_loss_weight": 1.0}))
    model = PixelForPreTraining.from_pretrained(str(tmp_path / "run"))
    assert model.character_head is not None and model.config.character_loss_weight == 1.0
    # The character cross-entropy starts near log(1280) = 7.2; the held-out loss is the pixel MSE (about 1).
    assert res["final_eval_loss"] < 2.0
    state = json.loads((tmp_path / "run" / "checkpoint-4" / "trainer_state.json").read_text())
    logged = [e for e in state["log_history"] if "loss" in e]
    assert logged[0]["loss"] > 5.0 and logged[0]["character_loss"] > 5.0  # the part is logged beside the total
    assert all(e["character_loss"] < e["loss"] for e in logged)


@pytest.mark.parametrize("family, layer", [("pixel", "PixelLayer"), ("pixelgpt", "LlamaDecoderLayer")])
def test_the_fsdp_examples_load_into_accelerates_plugin_and_wrap_layers_the_model_has(family, layer):
    from accelerate.utils import FullyShardedDataParallelPlugin
    from accelerate.utils.dataclasses import get_module_class_from_name

    from pixlm.models.pixelgpt import PixelGPTConfig, PixelGPTForCausalLM
    from pixlm.training.run import training_arguments

    path = os.path.join(os.path.dirname(__file__), "..", "examples", f"fsdp-{family}.json")
    args = training_arguments("unused", fsdp=True, fsdp_config=path)
    plugin = FullyShardedDataParallelPlugin(**args.fsdp_plugin_args)
    assert plugin.fsdp_version == 2 and plugin.transformer_cls_names_to_wrap == [layer]
    model = PixelForPreTraining(PixelConfig.from_preset("tiny")) if family == "pixel" \
        else PixelGPTForCausalLM(PixelGPTConfig.from_preset("tiny"))
    assert get_module_class_from_name(model, layer) is not None


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without a GPU")
def test_fsdp_and_deepspeed_are_refused_where_they_would_not_run(corpus, tmp_path):
    examples = os.path.join(os.path.dirname(__file__), "..", "examples")
    with pytest.raises(ValueError, match="FSDP needs GPUs; on this machine accelerate would train with plain DDP"):
        pretrain(tiny_config(corpus, tmp_path / "a", fsdp=os.path.join(examples, "fsdp-pixel.json")))
    deepspeed = os.path.join(examples, "deepspeed-zero2.json")
    with open(deepspeed, encoding="utf-8") as f:
        assert json.load(f)["zero_optimization"]["stage"] == 2
    if importlib.util.find_spec("deepspeed") is None:
        with pytest.raises(ValueError, match=r"DeepSpeed is not installed \(pip install deepspeed\)"):
            pretrain(tiny_config(corpus, tmp_path / "b", deepspeed=deepspeed))
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    with pytest.raises(ValueError, match="--fsdp .*bad.json: expected a JSON object of settings, got list"):
        pretrain(tiny_config(corpus, tmp_path / "c", fsdp=str(bad)))
    with pytest.raises(ValueError, match="--fsdp .*missing.json: cannot read it") as refused:
        pretrain(tiny_config(corpus, tmp_path / "f", fsdp=str(tmp_path / "missing.json")))
    suggested = str(refused.value).rsplit("e.g. ", 1)[1]
    assert os.path.isfile(os.path.join(examples, "..", suggested))  # the example it names is shipped
    with pytest.raises(ValueError, match="--deepspeed .*missing.json: cannot read it"):
        pretrain(tiny_config(corpus, tmp_path / "d", deepspeed=str(tmp_path / "missing.json")))
    with pytest.raises(ValueError, match="give --fsdp or --deepspeed, not both"):
        pretrain(tiny_config(corpus, tmp_path / "e", fsdp=str(bad), deepspeed=deepspeed))
    assert not (tmp_path / "a").exists()  # refused before anything was written


def test_diagnose_measures_models_of_other_masks_on_the_masks_it_is_given():
    from pixlm.evaluation.diagnose import diagnose
    from pixlm.render import TextRenderer

    torch.manual_seed(0)
    renderer = TextRenderer(max_patches=48)
    texts = [f"Line {k} holds a few words of held-out text." for k in range(8)]
    config = dict(num_channels=1, max_patches=48, num_hidden_layers=1, decoder_num_hidden_layers=1)
    pixel_style = PixelForPreTraining(PixelConfig.from_preset("tiny", **config))
    other = PixelForPreTraining(PixelConfig.from_preset("tiny", **config, mask_ratio=0.5, max_span_length=2,
                                                        span_weights=[0.5, 1.0]))
    other.load_state_dict(pixel_style.state_dict())  # the same weights; only the config's masks differ
    own, reference = diagnose(other, renderer, texts), diagnose(pixel_style, renderer, texts)
    given = diagnose(other, renderer, texts, mask_ratio=0.25, max_span_length=6, span_weights=[0.2, 0.4, 0.6, 0.8, 0.9, 1.0])
    assert (given.real, given.blank) == (reference.real, reference.blank)
    assert own.real != reference.real and max(own.by_span) <= 2 < max(reference.by_span)


def test_a_visible_character_head_reads_the_encoders_states_of_the_patches_it_sees():
    torch.manual_seed(0)
    config = PixelConfig.from_preset("tiny", num_channels=1, max_patches=16, num_hidden_layers=1, decoder_num_hidden_layers=1,
                                     character_loss_weight=1.0, character_slots=2, character_vocab_size=7,
                                     character_patches="visible", hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    model = PixelForPreTraining(config).eval()
    assert model.character_head.in_features == config.hidden_size
    pixels, noise = torch.rand(2, 1, 16, 16 * 16), torch.rand(2, 16)
    labels = torch.randint(0, 7, (2, 16, 2))
    out = model(pixels, noise=noise, character_labels=labels)
    encoded = model.vit(pixels, attention_mask=torch.ones(2, 16), noise=noise, mask_ratio=config.mask_ratio)
    # The kept patches in strip order: row b's k-th kept state belongs to the patch at ids_keep[b, k].
    ids_keep = torch.argsort(encoded.ids_restore, dim=1)[:, : encoded.last_hidden_state.shape[1] - 1]
    seen = torch.zeros(2, 16, config.hidden_size)
    for b in range(2):
        seen[b, ids_keep[b]] = encoded.last_hidden_state[b, 1:]
    visible = out.mask == 0
    expected = torch.nn.functional.cross_entropy(model.character_head(seen[visible]).view(-1, 7), labels[visible].reshape(-1))
    torch.testing.assert_close(out.character_loss, expected)
    with pytest.raises(ValueError, match="character_patches must be 'hidden' or 'visible'"):
        PixelConfig(character_patches="all")


def test_a_recipe_fills_what_the_user_left_at_its_defaults(corpus, tmp_path):
    from pixlm.training.recipes import RECIPES, apply_recipe

    given = apply_recipe(PretrainConfig(corpus=corpus, output_dir="x", recipe="cpu-reader", learning_rate=5e-4,
                                        model_overrides={"num_channels": 3}, renderer_overrides={"max_patches": 64}))
    assert given.learning_rate == 5e-4 and given.batch_size == 32  # the user's lr; the recipe's batch (32 = default)
    assert given.model_overrides["num_channels"] == 3 and given.model_overrides["character_patches"] == "visible"
    assert given.renderer_overrides == {"max_patches": 64}
    assert apply_recipe(PretrainConfig(corpus=corpus, output_dir="x", recipe="pixel")).max_steps == 1_000_000
    assert set(RECIPES) >= {"pixel", "cpu-tiny", "cpu-reader", "cpu-reader-words", "cpu-reader-mono"}
    words = apply_recipe(PretrainConfig(corpus=corpus, output_dir="x", recipe="cpu-reader-words"))
    assert words.renderer_overrides == {"max_patches": 128, "layout": "words"}
    assert words.model_overrides["character_patches"] == "visible" and words.learning_rate == 1e-3
    mono = apply_recipe(PretrainConfig(corpus=corpus, output_dir="x", recipe="cpu-reader-mono"))
    assert mono.renderer_overrides == {"max_patches": 128, "layout": "mono"} and mono.span_masking is False
    assert (mono.model_overrides["mask_ratio"], mono.model_overrides["decoder_position_bias"]) == (0.15, "local")
    assert mono.model_overrides["character_patches"] == "visible"
    with pytest.raises(ValueError, match=r"recipe must be one of pixel, cpu-tiny, cpu-reader, cpu-reader-words, cpu-reader-mono; "
                                         r"got 'cpu-raeder' "
                                         r"\(did you mean 'cpu-reader'\?\)"):
        pretrain(tiny_config(corpus, tmp_path / "bad", recipe="cpu-raeder"))
    config = tiny_config(corpus, tmp_path / "run", recipe="cpu-reader", max_steps=2, eval_steps=2, save_steps=2)
    res = pretrain(config)
    assert config.model_overrides == {"num_channels": 1, "max_patches": 48, "num_hidden_layers": 1,
                                      "decoder_num_hidden_layers": 1}  # the caller's config is left as it was
    model = PixelForPreTraining.from_pretrained(str(tmp_path / "run"))
    assert model.config.character_patches == "visible" and model.config.num_hidden_layers == 1
    assert res["config"]["recipe"] == "cpu-reader" and res["config"]["learning_rate"] == 1e-3
