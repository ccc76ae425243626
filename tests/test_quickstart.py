"""`pixlm quickstart` wiring (full runs, with their times, are recorded in docs/results.md)."""

import json
from pathlib import Path

from pixlm.cli import main
from pixlm.training.quickstart import stdlib_corpus


def test_stdlib_corpus_is_real_prose():
    texts = stdlib_corpus()
    assert len(texts) > 2000
    assert all(30 <= len(t) <= 200 for t in texts)
    assert len(set(texts)) == len(texts)


def test_quickstart_runs_and_reports(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where a stray ./runs would appear
    out = tmp_path / "qs"
    assert main(["quickstart", "--output-dir", str(out), "--steps", "6", "--batch-size", "8"]) == 0
    printed = capsys.readouterr().out
    assert "held-out masked-patch loss:" in printed and "at step 6" in printed
    assert "loss curve:" in printed and "reconstructions:" in printed
    assert printed.startswith("pixlm quickstart: a tiny PIXEL") and f"go to {out}/" in printed  # what, on what, where
    assert f"pixlm reconstruct --model {out}" in printed and "tensorboard --logdir" in printed  # what next
    assert not (tmp_path / "runs").exists()  # no stray TensorBoard folder in the working directory
    results = json.loads((out / "all_results.json").read_text())
    assert (f"Not reading yet: R = {results['reading_ratio']:.3f}" in printed) == (results["reading_ratio"] > 0.85)
    assert results["steps"] == 6 and results["final_eval_loss"] > 0
    assert (out / "model.safetensors").exists() and (out / "loss_curve.png").exists()
    assert (out / "reconstructions" / "step-000000.png").exists()
    config = json.loads((out / "config.json").read_text())  # the cpu-reader recipe, positions for 128 patches
    assert (config["character_loss_weight"], config["character_patches"], config["max_patches"]) == (1.0, "visible", 128)


def test_quickstart_layout_and_recipe_reach_the_saved_model(tmp_path):
    out = tmp_path / "qs-bigrams"
    assert main(["quickstart", "--output-dir", str(out), "--steps", "2", "--batch-size", "4", "--layout", "bigrams",
                 "--recipe", "cpu-tiny"]) == 0
    assert json.loads((out / "text_renderer_config.json").read_text())["layout"] == "bigrams"
    assert json.loads((out / "config.json").read_text())["character_loss_weight"] == 0.0  # PIXEL's objective alone


def test_the_quickstart_draws_in_its_recipes_layout_unless_told(tmp_path, capsys):
    out = tmp_path / "qs-words"
    assert main(["quickstart", "--output-dir", str(out), "--steps", "1", "--batch-size", "4", "--recipe", "cpu-reader-words"]) == 0
    assert "rendered in the words layout" in capsys.readouterr().out
    assert json.loads((out / "text_renderer_config.json").read_text())["layout"] == "words"
    assert json.loads((out / "config.json").read_text())["character_loss_weight"] == 1.0
    out = tmp_path / "qs-continuous"
    assert main(["quickstart", "--output-dir", str(out), "--steps", "1", "--batch-size", "4", "--recipe", "cpu-reader-words",
                 "--layout", "continuous"]) == 0
    assert json.loads((out / "text_renderer_config.json").read_text())["layout"] == "continuous"


def test_the_mono_recipe_reaches_the_quickstarts_model(tmp_path, capsys):
    out = tmp_path / "qs-mono"
    assert main(["quickstart", "--output-dir", str(out), "--steps", "1", "--batch-size", "4", "--recipe", "cpu-reader-mono"]) == 0
    assert "rendered in the mono layout" in capsys.readouterr().out
    assert json.loads((out / "text_renderer_config.json").read_text())["layout"] == "mono"
    config = json.loads((out / "config.json").read_text())
    assert (config["decoder_position_bias"], config["mask_ratio"], config["character_patches"]) == ("local", 0.15, "visible")
    assert json.loads((out / "all_results.json").read_text())["config"]["span_masking"] is False


def test_the_quickstart_offers_the_tiny_recipes_only():
    from pixlm.cli.quickstart import quickstart_recipes

    assert set(quickstart_recipes()) == {"cpu-tiny", "cpu-reader", "cpu-reader-words", "cpu-reader-mono"}  # not PIXEL's base


def test_loss_curve_ticks_are_round_numbers_inside_the_range():
    from pixlm.viz.curves import nice_ticks

    for lo, hi in [(0.731, 1.04), (0, 1500), (0.5012, 0.5077), (3, 3)]:
        ticks = nice_ticks(lo, hi)
        assert ticks and all(lo - 1e-12 <= t <= hi + 1e-12 for t in ticks)
        if len(ticks) > 1:
            step = ticks[1] - ticks[0]
            mantissa = step / 10 ** __import__("math").floor(__import__("math").log10(step))
            assert round(mantissa, 6) in (1, 2, 5), (lo, hi, ticks)
    assert nice_ticks(0, 1500) == [0, 500, 1000, 1500]


def test_the_quickstart_does_not_call_a_low_r_reading_when_no_letters_come_back():
    """R at the goal with reconstructions that read back nothing (the words layout after 6,400
    steps: R 0.81, 0% of masked characters) is said to be ink placement, not reading."""
    from pixlm.cli.quickstart import reading_summary

    assert reading_summary(None, None, None, "cpu-reader") is None
    assert reading_summary(0.962, 0.0, 0.0, "cpu-reader").startswith("Not reading yet: R = 0.962")
    ink = reading_summary(0.807, 0.0, 0.123, "cpu-reader")
    assert ink.startswith("R = 0.807 is at the goal") and "read back as 0.0% of their characters (white patches: 12.3%)" in ink
    assert reading_summary(0.807, 0.25, 0.0, "cpu-reader").startswith("Reading: R = 0.807, at the goal")  # letters come back
    # diagnose's rule: no more than white patches read back (words: spaces) is not letters
    assert reading_summary(0.807, 0.10, 0.123, "cpu-reader").startswith("R = 0.807 is at the goal")
    alone = reading_summary(0.807, None, None, "cpu-tiny")  # no recognizer for this renderer: R alone
    assert alone.startswith("Reading: R = 0.807, at the goal (<= 0.85): the model")


def test_a_quickstart_short_of_reading_says_how_far_its_resume_command_took_it():
    """The figures the quickstart quotes for its resume command are those of the command it prints
    (the default steps times RESUME_FACTOR), and a recipe that does not read points to the one that does."""
    from pixlm.cli.quickstart import CONTINUED, READING_GOAL, READING_RECIPE, RESUME_FACTOR, default_steps, reading_summary
    from pixlm.training.recipes import RECIPES

    layout = RECIPES[READING_RECIPE].renderer_overrides["layout"]
    assert CONTINUED["steps"] == default_steps(layout) * RESUME_FACTOR and CONTINUED["ratio"] <= READING_GOAL
    assert READING_RECIPE in RECIPES and CONTINUED["read_back"] > CONTINUED["white"]
    mono = reading_summary(0.872, 0.125, 0.108, READING_RECIPE)
    assert mono.startswith("Not reading yet: R = 0.872") and f"reached R {CONTINUED['ratio']}" in mono
    other = reading_summary(0.960, 0.0, 0.108, "cpu-reader")
    assert f"--recipe {READING_RECIPE} (the default) does" in other and "better start for finetuning" in other
    reading = reading_summary(0.818, 0.121, 0.108, READING_RECIPE)
    assert reading.startswith("Reading: R = 0.818") and "12.1% of their characters (white patches: 10.8%)" in reading
    assert f"reached R {CONTINUED['ratio']}" in reading
    assert "better start" not in reading_summary(0.960, None, None, "cpu-tiny")
    ink = reading_summary(0.806, 0.100, 0.117, READING_RECIPE)  # R at the goal, no letters yet: the resume command
    assert ink.startswith("R = 0.806 is at the goal") and "not which letters yet" in ink and f"reached R {CONTINUED['ratio']}" in ink


def test_the_quickstarts_spread_counts_the_runs_that_read_letters(monkeypatch):
    """The runs the verdict quotes: those whose reconstructions read back more than white patches
    (in %, by pixlm diagnose's margin of 1 point) are counted, on runs worked out by hand."""
    import pixlm.cli.quickstart as cli

    runs = ((0.8, 20.0, 10.0), (0.9, 10.0, 10.5), (0.84, 11.6, 10.5), (0.95, 11.4, 10.5))  # letters: yes, no, yes, no
    monkeypatch.setattr(cli, "QUICKSTART_RUNS", runs)
    spread = cli.quickstart_spread()
    assert "(R 0.800, 0.900, 0.840, 0.950 in 4 runs" in spread and "do in 2 of them" in spread


def test_the_results_give_r_as_a_measure_not_as_a_verdict(capsys):
    """The results line of R does not say "reads its context" of a model that the quickstart then
    calls not reading (R 0.961 printed both ways before), and reconstructions read back are
    shown beside white patches' share."""
    from pixlm.cli.common import print_results

    print_results({"reading_ratio": 0.961, "masked_character_accuracy": 0.0, "white_character_accuracy": 0.1161,
                   "output_dir": "qs"})
    printed = capsys.readouterr().out
    assert printed.startswith("R = 0.961: held-out loss with the real input / with blank patches")
    assert "reads its context:" not in printed and "0.0% of the characters there" in printed and "as 11.6%" in printed
    print_results({"reconstructions": ["qs/reconstructions/step-004200.png"], "output_dir": "qs"})  # a resumed run
    assert "reconstructions: qs/reconstructions/step-004200.png (end)\n" in capsys.readouterr().out


def test_the_quickstart_says_how_long_it_takes_and_when_that_is_over_its_budget():
    """The pace measured on the slower machine of docs/results.md: 1,500 steps continuous fit 10
    minutes (9.4 there), in the words layout they do not (11.7), and the user is told so."""
    from pixlm.cli.quickstart import expected_minutes

    assert expected_minutes(1500, "continuous") == "up to about 9 minutes on 2 CPU cores"
    words = expected_minutes(1500, "words")
    assert words.startswith("up to about 12 minutes on 2 CPU cores (over the quickstart's 10-minute budget")
    assert expected_minutes(1200, "words") == "up to about 9 minutes on 2 CPU cores"
    assert expected_minutes(6, "continuous") == "up to about 1 minute on 2 CPU cores"


def test_the_quickstart_trains_as_many_steps_as_fit_its_budget_in_the_layout():
    from pixlm.cli.quickstart import BUDGET_MINUTES, SECONDS_PER_STEP, default_steps

    assert default_steps("continuous") == 1500 and default_steps("words") == 1200  # 11.7 min at 1,500 there
    for layout in SECONDS_PER_STEP:
        steps = default_steps(layout)
        assert steps % 100 == 0 and steps * SECONDS_PER_STEP[layout] <= BUDGET_MINUTES * 60
        assert (steps + 100) * SECONDS_PER_STEP[layout] > BUDGET_MINUTES * 60 - 30 or steps == 1500


def test_the_printed_resume_command_continues_the_same_run(tmp_path, capsys, monkeypatch):
    """The quickstart prints the command that continues its run; run as printed, it resumes from
    the run's last checkpoint in the same folder, with the quickstart's recipe and settings; the
    figures of docs/results.md are drawn from the two."""
    import runpy
    import shlex
    import shutil

    from PIL import Image

    out = tmp_path / "qs"
    assert main(["quickstart", "--output-dir", str(out), "--steps", "2", "--batch-size", "4", "--seed", "3"]) == 0
    shutil.copytree(out, tmp_path / "qs-quickstart")
    printed = capsys.readouterr().out
    command = next(line.strip() for line in printed.splitlines() if line.strip().startswith("pixlm pretrain "))
    words = shlex.split(command)
    assert words[words.index("--steps") + 1] == "6" and words[words.index("--seed") + 1] == "3"
    assert main(words[1:]) == 0
    results = json.loads((out / "all_results.json").read_text())
    assert results["steps"] == 6 and results["resumed_from"].endswith("checkpoint-2")
    assert results["config"]["recipe"] == "cpu-reader-mono" and results["config"]["batch_size"] == 4
    assert json.loads((out / "config.json").read_text())["max_patches"] == 128
    assert json.loads((out / "text_renderer_config.json").read_text())["layout"] == "mono"
    script = str(Path(__file__).parent.parent / "scripts" / "quickstart_figures.py")
    monkeypatch.setattr("sys.argv", [script, "--quickstart", str(tmp_path / "qs-quickstart"), "--resumed", str(out),
                                     "--output-dir", str(tmp_path / "figures"), "--line", "1", "--spans", "1:2,3:5"])
    drawn = runpy.run_path(script, run_name="__main__")
    assert str(tmp_path / "figures" / "quickstart-mono-reading.png") in capsys.readouterr().out
    reading = Image.open(tmp_path / "figures" / "quickstart-mono-reading.png")
    recon = Image.open(tmp_path / "figures" / "quickstart-mono-reconstructions.png")
    assert reading.width == 2 * 640 and recon.height > 2 * 4 * 32  # two panels; two models' four strips each
    steps = [h["step"] for h in drawn["evaluations"](str(out))]
    assert steps[0] <= 2 and steps[-1] == 6  # the curves hold the quickstart's evaluations and the resumed ones


def test_the_resume_command_keeps_a_layout_the_user_chose_over_the_recipes():
    from argparse import Namespace

    from pixlm.cli.quickstart import resume_command

    args = Namespace(output_dir="qs", recipe="cpu-reader-mono", lr=1e-3, batch_size=32, seed=0)
    assert "--renderer-arg" not in resume_command(args, "mono", 1400, 4200)
    chosen = resume_command(args, "continuous", 1500, 4500)
    assert "--renderer-arg layout=continuous" in chosen and chosen.endswith("--steps 4500")
    assert "--eval-steps 300 --save-steps 500 --logging-steps 30" in chosen
