"""`pixlm` end to end, as a user runs it."""

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from pixlm.cli import main


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "pixlm", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_render_one_text_to_png(tmp_path):
    out = tmp_path / "hello.png"
    res = run("render", "Hello pixels", "-o", str(out))
    assert res.returncode == 0, res.stderr
    img = np.asarray(Image.open(out).convert("L"))
    n = int(res.stdout.split(": ")[1].split()[0]) + 1  # text patches + end patch
    assert img.shape == (16, 16 * n)
    assert (img[:, -16:] == 0).all(), "the picture ends with the black end patch"


def test_render_wrapped_with_grid(tmp_path):
    out = tmp_path / "wrapped.png"
    assert main(["render", "word " * 30, "-o", str(out), "--wrap", "10", "--grid", "--layout", "words"]) == 0
    img = np.asarray(Image.open(out).convert("RGB"))
    assert img.shape[1] == 160 and img.shape[0] > 16 * 3
    assert ((img[..., 0] > 150) & (img[..., 1] < 120)).any(), "grid lines are red"


def test_render_file_to_pngs_and_arrow(tmp_path):
    import datasets

    src = tmp_path / "lines.txt"
    src.write_text("first line\n\nsecond line, longer than the first\nthird\n", encoding="utf-8")
    assert main(["render", "--input", str(src), "--output", str(tmp_path / "pngs")]) == 0
    assert sorted(p.name for p in (tmp_path / "pngs").iterdir()) == ["000001.png", "000002.png", "000003.png"]
    arrow = tmp_path / "lines.arrow"
    assert main(["render", "--input", str(src), "--output", str(arrow), "--workers", "2"]) == 0
    ds = datasets.Dataset.from_file(str(arrow))
    assert ds["text"] == ["first line", "second line, longer than the first", "third"]
    for row in ds:
        px = np.asarray(row["pixel_values"])
        assert px.shape == (16, 16 * row["num_patches"]) and (px[:, -16:] == 0).all()


def test_render_sample(tmp_path, capsys):
    assert main(["render", "--sample", "-o", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "arabic" in printed and "0 missing glyphs" in printed and "1 missing" not in printed
    assert (tmp_path / "samples.png").exists() and (tmp_path / "khmer.png").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["render"], "give exactly one of TEXT, --input FILE or --sample"),
        (["render", "x", "--font", "/no/font.ttf"], "font path '/no/font.ttf' does not exist"),
        (["render", "--input", "/no/such.txt"], "input file '/no/such.txt' does not exist"),
    ],
)
def test_errors_exit_2_with_a_message(args, message):
    res = run(*args)
    assert res.returncode == 2
    assert message in res.stderr


def test_help_explains_every_flag():
    res = run("render", "--help")
    assert res.returncode == 0
    for flag in ("--layout", "--rgb", "--font", "--max-patches", "--grid", "--wrap", "--input", "--workers", "--pair"):
        assert flag in res.stdout
    assert "bigrams: two characters per patch" in res.stdout
    top = run("--help")
    assert "render" in top.stdout and top.returncode == 0


def test_a_backend_that_cannot_load_is_one_line_with_the_fix_and_the_other_backend_still_works(tmp_path):
    from pixlm.render import available_backends

    if "pango" not in available_backends():
        pytest.skip("the pango backend is not installed: nothing to fall back to")
    code = ("import sys; sys.modules['skia'] = None  # as on a system without libEGL\n"
            "from pixlm.cli import main\n"
            f"print('skia', main(['render', 'hello', '-o', {str(tmp_path / 'a.png')!r}]))\n"
            f"print('pango', main(['render', 'hello', '--backend', 'pango', '-o', {str(tmp_path / 'b.png')!r}]))\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert "skia 2" in res.stdout and "pango 0" in res.stdout, res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    error = [line for line in res.stderr.splitlines() if "error" in line]
    assert len(error) == 1 and "apt-get install libegl1 libgl1" in error[0] and "backend='pango'" in error[0]


def test_attack_refuses_to_write_over_its_input_and_leaves_outputs_whole(tmp_path, capsys):
    src = tmp_path / "texts.txt"
    src.write_text("Some words to attack.\nAnd more words.\n")
    assert main(["attack", "--attack", "inner-swap", "--severity", "0.5", "--input", str(src), "--output", str(src)]) == 2
    assert "is the input file" in capsys.readouterr().err
    assert src.read_text() == "Some words to attack.\nAnd more words.\n"  # untouched
    out = tmp_path / "out.txt"
    out.write_text("an earlier result\n")
    # A failing attack (its noise table is missing) leaves an existing output as it was, and no temporary file.
    assert main(["attack", "--attack", "keyboard", "--severity", "0.5", "--input", str(src), "--output", str(out),
                 "--noise-dir", str(tmp_path / "none")]) != 0
    assert out.read_text() == "an earlier result\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt", "texts.txt"]


def test_unexpected_failures_are_one_line_and_debug_shows_the_traceback(tmp_path):
    bad = tmp_path / "model"
    bad.mkdir()
    (bad / "config.json").write_text("{ not json")
    code = f"from pixlm.cli import main; raise SystemExit(main(['reconstruct', 'text', '--model', {str(bad)!r}]))"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode in (1, 2) and "Traceback" not in res.stderr
    assert res.stderr.strip().count("\n") == 0 and "pixlm reconstruct: error:" in res.stderr, res.stderr
    code = code.replace("main([", "main(['--debug', ")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert "Traceback" in res.stderr


def test_quickstart_refuses_zero_steps(capsys):
    assert main(["quickstart", "--steps", "0"]) == 2
    assert "--steps must be at least 1" in capsys.readouterr().err
