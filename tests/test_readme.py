"""The README's examples run as written: every fenced block is marked `readme-test: run` or
`readme-test: skip (why)`, and the run blocks run here, in order, in one folder (later blocks
use what earlier ones wrote), with training budgets shrunk to seconds."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"(<!-- readme-test: (\w+)[^>]*-->\n)?```(\w+)\n(.*?)```", re.S)

# (pattern, replacement): the same commands, with budgets of seconds.
BUDGETS = [
    (r"pixlm quickstart(?=[ \n])", "pixlm quickstart --steps 4 --batch-size 8"),
    (r"pixlm pretrain(?=[ \n])", "pixlm pretrain --batch-size 4 --eval-steps 2 --save-steps 2 --validation-size 8 "
                                 "--max-tokens 32"),
    (r"pixlm vl (\w+)", r"pixlm vl \1 --scenes 16 --validation-scenes 8 --batch-size 4"),
    (r"--steps \d+", "--steps 2"),
    (r"--vocab-size \d+", "--vocab-size 400"),
    (r"--patches \d+", "--patches 4"),
    (r"--max-new-tokens \d+", "--max-new-tokens 3"),
]


def blocks() -> list[tuple[str | None, str, str]]:
    """(marker, language, code) of every fenced block, in order."""
    return [(m.group(2), m.group(3), m.group(4)) for m in BLOCK.finditer(README.read_text())]


def shrink(code: str) -> str:
    for pattern, replacement in BUDGETS:
        code = re.sub(pattern, replacement, code)
    return code


def test_every_readme_block_says_whether_it_runs():
    found = blocks()
    assert len(found) >= 10
    unmarked = [code.splitlines()[0] for marker, _, code in found if marker not in ("run", "skip")]
    assert not unmarked, f"README blocks without a readme-test marker: {unmarked}"


def test_readme_run_blocks_run_as_written(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    ran = 0
    for marker, language, code in blocks():
        if marker != "run":
            continue
        if language == "python":
            script = tmp_path / f"block{ran}.py"
            script.write_text(code)
            cmd = [sys.executable, str(script)]
        elif language == "bash":
            cmd = ["bash", "-euo", "pipefail", "-c", shrink(code)]
        else:
            pytest.fail(f"a run block in {language!r}: only python and bash blocks run")
        res = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, f"README block failed:\n{code}\n--- stdout\n{res.stdout[-3000:]}\n--- stderr\n{res.stderr[-3000:]}"
        assert "Traceback" not in res.stderr, res.stderr[-3000:]
        ran += 1
    assert ran >= 7
    for made in ("hello.png", "corpus.arrow", "recon.png", "continuation.png", "attention.png", "scene.png"):
        assert (tmp_path / made).exists(), made
