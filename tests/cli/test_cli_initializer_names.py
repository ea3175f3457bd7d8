"""Initialiser names on the command line: both spellings accepted, fast one-line errors that
list the registry's names, help texts generated from it (:mod:`qaoa_meta.initializer_names`)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import pathlib
import subprocess
import sys

import pytest

from qaoa_meta import cli
from qaoa_meta import initializer_names as reg
from qaoa_meta.cli import checks
from qaoa_meta.evaluate import RunRecord
from qaoa_meta.problems import random_regular

DRIVER = r"""
import contextlib, io, json, sys
from qaoa_meta.cli import main
out = []
for argv in json.loads(sys.argv[1]):
    err, std = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(std):
        try:
            rc = main(argv)
        except SystemExit as exit:
            rc = exit.code
    heavy = sorted(m for m in ("tensorflow", "cirq", "tensorflow_quantum") if m in sys.modules)
    out.append({"rc": rc, "stderr": err.getvalue(), "stdout": std.getvalue(), "heavy": heavy})
print(json.dumps(out))
"""


ROOT = str(pathlib.Path(__file__).resolve().parents[2])


def run_fresh(cases: list[list[str]], cwd) -> list[dict]:
    """Each argv through ``qaoa_meta.cli.main`` in one fresh interpreter (this checkout's)."""
    path = os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", DRIVER, json.dumps(cases)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": path, "COLUMNS": "1000"},  # help on one line
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    folder = tmp_path_factory.mktemp("names")
    random_regular(6, 3, seed=1).save(folder / "graph.json")
    return folder


def test_unknown_names_are_one_line_errors_listing_the_names_before_heavy_imports(graph):
    cases = [
        ["evaluate", "--problems", "graph.json", "--methods", "fixed-angle-table", "bogus"],
        ["noise-study", "--initializers", "fixed-angle-table,bogus,qk-lstm+noise-aware"],
        ["evaluate", "--problems", "graph.json", "--methods", "feature-regression"],
    ]
    bad_method, bad_study, fitted = run_fresh(cases, graph)
    for result in (bad_method, bad_study, fitted):
        assert result["rc"] == 2 and len(result["stderr"].splitlines()) == 1, result
        assert result["heavy"] == [], result
    assert "Unknown --methods ['bogus']" in bad_method["stderr"]
    assert reg.listing(reg.EVALUATE_METHODS) in bad_method["stderr"]
    assert "Unknown --initializers ['bogus']" in bad_study["stderr"]
    assert reg.listing(reg.STUDY) in bad_study["stderr"] and "+noise-aware" in bad_study["stderr"]
    assert "feature-regression is fitted" in fitted["stderr"] and "--dataset" in fitted["stderr"]


def test_help_texts_list_every_name_and_alias(graph):
    evaluate, study = run_fresh([["evaluate", "--help"], ["noise-study", "--help"]], graph)
    for result, names in ((evaluate, reg.EVALUATE_METHODS), (study, reg.STUDY)):
        assert result["rc"] == 0 and result["heavy"] == []
        text = " ".join(result["stdout"].split())
        for name in names:
            assert name in text
    assert "fixed-angle-table" in " ".join(evaluate["stdout"].split())
    assert "feature-regression" in " ".join(study["stdout"].split())


@pytest.mark.parametrize(
    "argv",
    [
        ["evaluate", "--problems", "graph.json", "--methods", "fixed-angle-table", "fixed-angle"],
        ["evaluate", "--problems", "graph.json", "--methods", *reg.DATA_FREE],
        ["noise-study", "--initializers", "fixed-angle-table,feature-regression,qk-lstm"],
        ["noise-study", "--initializers", ",".join(reg.STUDY)],
    ],
)
def test_both_spellings_pass_the_checks(graph, monkeypatch, argv):
    monkeypatch.chdir(graph)
    checks.check(cli.build_parser().parse_args(argv))


def test_noise_study_arguments_give_the_study_labels():
    from qaoa_meta.cli.noise_study import study_from_args

    args = cli.build_parser().parse_args(
        ["noise-study", "--initializers", "fixed-angle-table, feature-regression,lstm"]
    )
    assert study_from_args(args).initializers == ("fixed-angle", "regression", "lstm")


def test_evaluate_records_an_alias_under_its_canonical_name(graph, tmp_path):
    out = tmp_path / "run.json"
    argv = ["evaluate", "--problems", str(graph / "graph.json"), "--methods", "fixed-angle-table"]
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli.main([*argv, "linear-ramp", "--max-iter", "2", "--out", str(out)]) == 0
    record = RunRecord.load(out)
    assert [m.name for m in record.methods] == ["fixed-angle", "linear-ramp"]
