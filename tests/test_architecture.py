"""docs/ARCHITECTURE.md's worked example works as written: its one new module registers a task
that the CLI, finetuning and evaluation then serve without any other change."""

import importlib.util
import json
import re
from pathlib import Path

import pytest

from pixlm.training.tasks import TASKS

DOC = Path(__file__).resolve().parents[1] / "docs" / "ARCHITECTURE.md"
TINY = ["num_hidden_layers=1", "hidden_dropout_prob=0.0", "attention_probs_dropout_prob=0.0"]


@pytest.fixture
def similarity_task(tmp_path):
    """The example module, written as a file of the tasks package and imported (so registered)."""
    code = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    path = tmp_path / "similarity.py"
    path.write_text(code)
    spec = importlib.util.spec_from_file_location("pixlm.training.tasks.similarity", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield TASKS["similarity"]
    del TASKS["similarity"]


def test_the_worked_example_adds_a_task_end_to_end(similarity_task, tmp_path, capsys):
    from transformers import AutoConfig

    from pixlm.cli import main

    rows = [{"sentence1": f"the {w} sat", "sentence2": f"a {w} sat" if k % 2 else "nothing here at all",
             "score": 4.5 if k % 2 else 0.5} for k, w in enumerate(["cat", "dog", "bird", "fish"] * 12)]
    data = tmp_path / "pairs.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    out = tmp_path / "run"
    args = ["finetune", "--task", "similarity", "--model", "tiny", "--train", str(data), "--validation", str(data),
            "--output-dir", str(out), "--text-columns", "sentence1", "sentence2", "--label-column", "score",
            "--steps", "40", "--eval-steps", "20", "--batch-size", "16", "--lr", "1e-3", "--max-patches", "32"]
    for item in TINY:
        args += ["--model-arg", item]
    assert main(args) == 0
    results = json.loads((out / "all_results.json").read_text())
    assert results["primary_metric"] == "pearson" and results["labels"] is None
    assert set(results["validation"]) >= {"pearson", "spearman"}
    assert results["validation"]["pearson"] > 0.5  # the pairs differ visibly: the model separates them
    assert AutoConfig.from_pretrained(out).num_labels == 1
    predictions = (out / "predictions-validation.tsv").read_text().splitlines()
    assert predictions[0] == "index\tprediction" and len(predictions) == len(rows) + 1
    assert main(["evaluate", "--model", str(out), "--task", "similarity", "--data", str(data),
                 "--text-columns", "sentence1", "sentence2", "--label-column", "score"]) == 0
    assert "pearson" in capsys.readouterr().out
