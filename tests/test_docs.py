"""Every ```python block in README.md and docs/*.md runs as written.

Each document runs in its own Python subprocess, in a fresh temporary working directory that
holds a copy of the repository's ``examples/`` (the documents are written for the repository
root). Its blocks run in order in one namespace, as a reader pasting them one after another
would; nothing is defined for them. A block fenced ```python no-run is not executed; every such
block must be listed in ``NO_RUN`` with the reason, and there should be very few.

A block fenced ```python slow (training runs that take half a minute each) runs only with the
slow tests (`make test-all`); the fast suite runs the document's other blocks (none of which may
read a name that only a slow block defines), checks that the slow ones parse and import
existing names, and covers what they do with the reduced training
tests in tests/test_meta.py and tests/test_training.py.

Documents whose blocks take more than a few seconds beyond importing TensorFlow are marked
slow; the fast suite still checks that every block of those parses and that every name they
import exists (a renamed or removed API breaks the docs test there too).
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCUMENTS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])

# (document, first line of the block) -> why it cannot run in a test. Keep this very short.
NO_RUN: dict[tuple[str, int], str] = {}

# Documents whose snippets take long: run with the slow tests (`make test-all`).
SLOW = {"docs/hardware.md", "docs/meta_learning.md", "docs/noise_study.md", "docs/scaling.md"}

FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<info>[^`]*)$")


def python_blocks(path: pathlib.Path) -> list[dict]:
    """The ```python blocks of a Markdown file: first code line, code (dedented), no-run flag."""
    blocks, current = [], None
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        match = FENCE.match(line)
        if current is None:
            if match and match["info"].strip().split(" ")[0] == "python":
                words = match["info"].split()
                current = {
                    "line": number + 1,
                    "indent": match["indent"],
                    "no_run": "no-run" in words[1:],
                    "slow": "slow" in words[1:],
                    "code": [],
                }
        elif match and match["info"].strip() == "" and line.startswith(current["indent"]):
            indent = len(current.pop("indent"))
            current["code"] = "\n".join(text[indent:] for text in current["code"]) + "\n"
            blocks.append(current)
            current = None
        else:
            current["code"].append(line)
    assert current is None, f"{path.name}: unclosed ```python block at line {current['line']}"
    return blocks


def _name(path: pathlib.Path) -> str:
    return path.relative_to(ROOT).as_posix()


RUNNER = """
import json, sys, time, traceback
name, blocks = json.loads(sys.stdin.read())
namespace = {"__name__": "__main__"}
for block in blocks:
    start = time.perf_counter()
    try:
        exec(compile(block["code"], f"{name}, block at line {block['line']}", "exec"), namespace)
    except BaseException:
        traceback.print_exc()
        print(f"FAILED: {name}, the block starting at line {block['line']}", file=sys.stderr)
        sys.exit(1)
    print(f"{name}:{block['line']}: {time.perf_counter() - start:.1f} s", flush=True)
"""


def run_document(
    path: pathlib.Path, workdir: pathlib.Path, with_slow_blocks: bool = True
) -> subprocess.CompletedProcess:
    blocks = [
        b for b in python_blocks(path) if not b["no_run"] and (with_slow_blocks or not b["slow"])
    ]
    shutil.copytree(ROOT / "examples", workdir / "examples")
    env = {**os.environ, "MPLBACKEND": "Agg", "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(
        [sys.executable, "-c", RUNNER],
        input=json.dumps([_name(path), blocks]),
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )


def _params():
    for path in DOCUMENTS:
        blocks = [b for b in python_blocks(path) if not b["no_run"]]
        if not blocks:
            continue
        if _name(path) in SLOW:
            yield pytest.param(path, True, id=_name(path), marks=[pytest.mark.slow])
        elif any(b["slow"] for b in blocks):
            yield pytest.param(path, False, id=f"{_name(path)}-fast-blocks")
            yield pytest.param(path, True, id=_name(path), marks=[pytest.mark.slow])
        else:
            yield pytest.param(path, True, id=_name(path))


@pytest.mark.parametrize("path, with_slow_blocks", list(_params()))
def test_snippets_run(path, with_slow_blocks, tmp_path):
    result = run_document(path, tmp_path, with_slow_blocks)
    assert result.returncode == 0, result.stdout + result.stderr[-6000:]


def _bound_and_used(code: str) -> tuple[set[str], set[str]]:
    """Names a block binds (assignments, imports, definitions) and names it reads."""
    bound, used = set(), set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Name):
            (bound if isinstance(node.ctx, ast.Store | ast.Del) else used).add(node.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    return bound, used


def fast_blocks_needing_slow_ones(blocks: list[dict]) -> list[str]:
    """Fast blocks that read a name only a slow block before them defines (the fast suite
    skips slow blocks): ``["line N: [names]", ...]``."""
    problems, fast_names, slow_only = [], set(), set()
    for block in blocks:
        bound, used = _bound_and_used(block["code"])
        if block["slow"]:
            slow_only |= bound - fast_names
            continue
        needed = (used - bound) & slow_only
        if needed:
            problems.append(f"line {block['line']}: {sorted(needed)}")
        fast_names |= bound
        slow_only -= bound
    return problems


def test_slow_blocks_are_few_and_fast_blocks_never_need_them():
    for path in DOCUMENTS:
        blocks = [b for b in python_blocks(path) if not b["no_run"]]
        assert sum(b["slow"] for b in blocks) <= 2, f"{_name(path)}: more than two slow blocks"
        assert not fast_blocks_needing_slow_ones(blocks), (
            f"{_name(path)}: fast blocks use names defined only in a ```python slow block: "
            f"{fast_blocks_needing_slow_ones(blocks)}"
        )


def test_the_rule_catches_a_fast_block_that_needs_a_slow_one():
    blocks = [
        {"line": 1, "slow": False, "code": "import numpy as np\nx = np.ones(2)\n"},
        {"line": 5, "slow": True, "code": "model = train(x)\nscore = 1\n"},
        {"line": 9, "slow": False, "code": "print(model.summary(), x)\nscore = 2\n"},
        {"line": 12, "slow": False, "code": "print(score)\n"},  # rebound by a fast block
    ]
    assert fast_blocks_needing_slow_ones(blocks) == ["line 9: ['model']"]


def test_no_run_blocks_are_listed_with_a_reason():
    found = {
        (_name(path), block["line"])
        for path in DOCUMENTS
        for block in python_blocks(path)
        if block["no_run"]
    }
    assert found == set(NO_RUN), (
        "```python no-run blocks must be listed in NO_RUN with the reason they cannot run"
    )
    assert len(NO_RUN) <= 3


@pytest.mark.parametrize("path", DOCUMENTS, ids=_name)
def test_snippets_parse_and_their_imports_exist(path):
    """Cheap check for every block (also the slow and no-run ones): syntax and imported names."""
    for block in python_blocks(path):
        where = f"{_name(path)}, block at line {block['line']}"
        tree = ast.parse(block["code"], filename=where)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                module = importlib.import_module(node.module)
                for alias in node.names:
                    if not hasattr(module, alias.name):
                        importlib.import_module(f"{node.module}.{alias.name}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    importlib.import_module(alias.name)


def test_every_document_with_code_is_found():
    names = {_name(p) for p in DOCUMENTS if python_blocks(p)}
    assert {"README.md", "docs/meta_learning.md"} <= names
    assert SLOW <= {_name(p) for p in DOCUMENTS}
