"""Every public function and method of ``qaoa_meta`` and ``hardware`` documents its arguments.

Public means: a name without a leading underscore, at module level or inside a public class.
A function that takes arguments (besides ``self``/``cls``) needs an ``Args:`` section in its
Google-style docstring; every public class needs a docstring.

A function that takes the same arguments as another may document them by reference instead
of repeating them, with the one line ``Args: as :func:`name`.`` (or ``:meth:``, ``:class:``),
meaning "arguments, returns and raises as there". The reference must name exactly one
function in the two packages (a dotted suffix such as ``MomentNoise.before`` or
``qaoa_meta.cli.sweep.add_parser`` is enough), that function must document its own
arguments (no chains), and both must take the same named arguments, so a reference cannot
silently go stale when either signature changes.
"""

from __future__ import annotations

import ast
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = ("qaoa_meta", "hardware")

REFERENCE = re.compile(r"^\s*Args:\s+as\s+:(?:func|meth|class):`~?([\w.]+)`\.?\s*$", re.MULTILINE)


def _named_arguments(node: ast.FunctionDef) -> tuple[str, ...]:
    arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
    named = [a.arg for a in arguments if a.arg not in ("self", "cls")]
    if node.args.vararg:
        named.append("*" + node.args.vararg.arg)
    if node.args.kwarg:
        named.append("**" + node.args.kwarg.arg)
    return tuple(named)


def public_functions(source: str, module: str) -> dict[str, tuple[ast.FunctionDef, str]]:
    """Qualified name (``module.Class.method``) -> (node, docstring) of each public function."""
    found = {}

    def visit(body, prefix):
        for node in body:
            if not isinstance(node, (ast.FunctionDef, ast.ClassDef)) or node.name[0] == "_":
                continue
            if isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}.")
            else:
                found[f"{module}.{prefix}{node.name}"] = (node, ast.get_docstring(node) or "")

    visit(ast.parse(source).body, "")
    return found


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
            if _named_arguments(node) and "Args:" not in doc:
                missing.append(name)

    visit(ast.parse(source).body, "")
    return missing


def broken_references(functions: dict[str, tuple[ast.FunctionDef, str]]) -> list[str]:
    """Each ``Args: as :func:`X``` whose X is unknown, ambiguous, a reference itself or differs."""
    broken = []
    for name, (node, doc) in functions.items():
        match = REFERENCE.search(doc)
        if not match:
            continue
        target = match.group(1)
        hits = [other for other in functions if other == target or other.endswith("." + target)]
        if len(hits) != 1:
            broken.append(f"{name}: {target!r} names {len(hits)} functions, expected exactly 1")
            continue
        other_node, other_doc = functions[hits[0]]
        if REFERENCE.search(other_doc) or "Args:" not in other_doc:
            broken.append(f"{name}: {hits[0]} does not document its own arguments")
        elif _named_arguments(node) != _named_arguments(other_node):
            broken.append(
                f"{name}: takes {_named_arguments(node)} but {hits[0]} documents "
                f"{_named_arguments(other_node)}"
            )
    return broken


def _package_functions() -> dict[str, tuple[ast.FunctionDef, str]]:
    functions = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            functions.update(public_functions(path.read_text(), module.removesuffix(".__init__")))
    return functions


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


def test_arguments_documented_by_reference_point_at_a_matching_documented_function():
    broken = broken_references(_package_functions())
    assert not broken, "Fix these 'Args: as :func:`...`' references:\n" + "\n".join(broken)


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


def test_the_reference_rule_sees_unknown_chained_and_mismatched_references():
    source = '''
class Base:
    def hook(self, moment, qubits):
        """Summary.

        Args:
            moment: a moment.
            qubits: its qubits.
        """

class Child(Base):
    def hook(self, moment, qubits):
        """Child's hook.

        Args: as :meth:`Base.hook`.
        """

def chained(moment, qubits):
    """Summary.

    Args: as :meth:`Child.hook`.
    """

def stale(moment):
    """Summary.

    Args: as :meth:`Base.hook`.
    """

def unknown(x):
    """Summary.

    Args: as :func:`nowhere`.
    """
'''
    broken = broken_references(public_functions(source, "m"))
    assert [entry.split(":")[0] for entry in broken] == ["m.chained", "m.stale", "m.unknown"]
    assert "does not document its own arguments" in broken[0]
    assert "takes ('moment',)" in broken[1]
    assert "names 0 functions" in broken[2]
