"""``hardware`` is a package of its own: it and its tests never import ``qaoa_meta``."""

from __future__ import annotations

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _imported_modules(path: pathlib.Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_hardware_and_its_tests_never_import_qaoa_meta():
    files = [*(ROOT / "hardware").glob("*.py"), *(ROOT / "tests" / "hardware").glob("*.py")]
    assert len(files) > 20
    offenders = [
        f.relative_to(ROOT).as_posix() for f in files if "qaoa_meta" in _imported_modules(f)
    ]
    assert offenders == []
