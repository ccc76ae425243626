"""Data flows one way: text -> renderer -> processor/collator -> model -> trainer -> metrics. A
module imports only from its own layer or the layers below it, wherever the import stands (at
the top or inside a function), so the layers stay free of cycles."""

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "pixlm"

# Lower numbers sit lower. `files`, `options`, `registry` and `_lazy` are leaves every layer may use.
LAYERS = {"files": 0, "options": 0, "registry": 0, "_lazy": 0, "render": 1, "data": 2, "models": 3, "baselines": 4, "viz": 4,
          "evaluation": 4, "training": 5, "cli": 6, "__main__": 6}
# Imports that go up by design: the hook that registers pixlm's families with transformers'
# Auto classes when those load (so `import pixlm` stays light).
ALLOWED = {("_registration", "models")}


def imports(path: Path, module: str) -> list[tuple[str, int]]:
    """(absolute module imported, line) of every import in a file, relative ones resolved."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            name = ".".join(base + ([node.module] if node.module else []))
            found += [(name, node.lineno)] if node.module else [(f"{name}.{a.name}", node.lineno) for a in node.names]
        elif isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
    return found


def top_package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "pixlm" and len(parts) > 1 else None


def test_every_module_imports_only_from_its_layer_or_below():
    wrong = []
    for path in sorted(SRC.rglob("*.py")):
        module = "pixlm." + ".".join(path.relative_to(SRC).with_suffix("").parts)
        module = module.removesuffix(".__init__")
        own = top_package(module)
        if own is None:
            continue  # pixlm/__init__.py: lazy names only
        for target, line in imports(path, module):
            other = top_package(target)
            if other is None or other == own or other == "__version__" or (own, other) in ALLOWED:
                continue
            if other not in LAYERS or own not in LAYERS:
                wrong.append(f"{path.relative_to(SRC)}:{line} imports {target}: add its package to LAYERS")
            elif LAYERS[other] > LAYERS[own]:
                wrong.append(f"{path.relative_to(SRC)}:{line} ({own}) imports {target} ({other}), a higher layer")
    assert not wrong, "\n".join(wrong)


def test_the_check_finds_an_upward_import(tmp_path):
    # The same walk over a file that imports upward: it is seen.
    fake = tmp_path / "pixlm" / "render" / "x.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("def f():\n    from ..training import pretrain\n")
    assert ("pixlm.training", 2) in imports(fake, "pixlm.render.x")


MARKER = "Imports inside functions:"  # a comment, or a line of the module's docstring


def deferred_imports(path: Path) -> list[int]:
    """Lines of the imports that stand inside a function and say nothing of why: no comment on
    the line or above its run of imports, and no "Imports inside functions: <why>" line (comment
    or docstring) in the module."""
    source = path.read_text()
    if any(line.lstrip("# ").startswith(MARKER) for line in source.splitlines()):
        return []
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)):
                    if not _commented(lines, inner.lineno):
                        found.append(inner.lineno)
    return sorted(set(found))


def _commented(lines: list[str], number: int) -> bool:
    """A comment on the import's line, or above the run of imports it belongs to."""
    if "#" in lines[number - 1]:
        return True
    above = number - 2
    while above >= 0 and lines[above].strip().startswith(("import ", "from ")):
        above -= 1
    return above >= 0 and lines[above].strip().startswith("#")


def test_imports_stand_at_the_top_or_say_why_not():
    # An import inside a function hides a cycle unless something needs it there: an optional
    # dependency, a system library, or start-up time (`pixlm --help`, `import pixlm.render`).
    unexplained = [f"{path.relative_to(SRC)}:{line}" for path in sorted(SRC.rglob("*.py")) for line in deferred_imports(path)]
    assert not unexplained, "imports inside functions with no reason given:\n" + "\n".join(unexplained)


def test_the_check_finds_an_unexplained_import(tmp_path):
    quiet, said = tmp_path / "quiet.py", tmp_path / "said.py"
    quiet.write_text("def f():\n    import json\n")
    said.write_text("def f():\n    # here: costs a second at start-up\n    import json\n")
    assert deferred_imports(quiet) == [2] and deferred_imports(said) == []
    said.write_text(f"# {MARKER} the CLI reads this registry without torch.\ndef f():\n    import json\n")
    assert deferred_imports(said) == []


def test_help_and_the_renderer_load_no_heavy_library():
    code = ("import sys\nfrom pixlm.cli import build_parser\nbuild_parser()\nimport pixlm.render, pixlm.training.tasks\n"
            "print(sorted(m for m in ('torch', 'transformers', 'datasets', 'PIL') if m in sys.modules))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.stdout.strip() == "[]", res.stdout + res.stderr
