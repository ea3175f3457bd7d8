"""Every public function and method of ``qaoa_meta`` and ``hardware`` documents its arguments.

Public means: a name without a leading underscore, at module level or inside a public class.
A function that takes arguments (besides ``self``/``cls``) needs an ``Args:`` section in its
Google-style docstring; every public class needs a docstring.
"""

from __future__ import annotations

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = ("qaoa_meta", "hardware")


def undocumented(source: str, where: str) -> list[str]:
    """``where:line name`` of each public function without ``Args:`` or class without a docstring."""
    missing = []

    def visit(body, prefix):
        for node in body:
            if not isinstance(node, (ast.FunctionDef, ast.ClassDef)) or node.name[0] == "_":
                continue
            doc = ast.get_docstring(node) or ""
            name = f"{where}:{node.lineno} {prefix}{node.name}"
            if isinstance(node, ast.ClassDef):
                if not doc:
                    missing.append(name)
                visit(node.body, f"{prefix}{node.name}.")
                continue
            arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
            named = [a for a in arguments if a.arg not in ("self", "cls")]
            if (named or node.args.vararg or node.args.kwarg) and "Args:" not in doc:
                missing.append(name)

    visit(ast.parse(source).body, "")
    return missing


def test_public_functions_document_their_arguments():
    missing = [
        entry
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for entry in undocumented(path.read_text(), path.relative_to(ROOT).as_posix())
    ]
    assert not missing, "Add Google-style Args: sections (and class docstrings) to:\n" + "\n".join(
        missing
    )


def test_the_rule_sees_a_missing_args_section_and_a_missing_class_docstring():
    source = '''
def documented(x):
    """Summary.

    Args:
        x: a value.
    """

def bare(x):
    """Summary only."""

def no_arguments():
    """Nothing to document."""

class Public:
    def method(self, y):
        """Summary only."""

    def _private(self, z):
        pass

class _Private:
    def method(self, y):
        pass
'''
    assert undocumented(source, "m.py") == [
        "m.py:9 bare",
        "m.py:15 Public",
        "m.py:16 Public.method",
    ]
