"""Reports: tables and figures from a small run record."""

from __future__ import annotations

import csv

import pytest

from qaoa_meta import initializers as inits
from qaoa_meta.cli import main
from qaoa_meta.evaluate import evaluate
from qaoa_meta.optimize import SGD
from qaoa_meta.problems import erdos_renyi
from qaoa_meta.report import markdown_table, summary_rows, write_report


@pytest.fixture(scope="module")
def record():
    problems = [erdos_renyi(n, 0.6, seed=n, name=f"g{n}") for n in (5, 6)]
    methods = {**inits.paper_fixed_points(), "linear-ramp": inits.LinearRamp()}
    return evaluate(problems, methods, SGD(max_iter=30), 1)


def test_summary_rows_and_markdown(record):
    rows = summary_rows(record)
    assert len(rows) == 3 * 3  # 3 methods x (n=5, n=6, all)
    table = markdown_table(rows)
    assert table.count("\n") == len(rows) + 1 and "paper-fixed-1" in table and " ± " in table


def test_write_report_files(record, tmp_path):
    path = write_report(record, tmp_path / "rep")
    text = path.read_text()
    for name in ("relative_error.png", "approximation_ratio.png", "landscape.png"):
        assert (tmp_path / "rep" / name).stat().st_size > 1000
        assert name in text
    with (tmp_path / "rep" / "summary.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert {"method", "n", "ar_final_mean", "ar_final_ci", "convergence_iteration"} <= set(rows[0])


def test_report_command(record, tmp_path, capsys):
    path = record.save(tmp_path / "run.json")
    assert main(["report", str(path), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "summary.md").exists()
    assert main(["report", str(tmp_path / "missing.json")]) == 2
    assert "does not exist" in capsys.readouterr().err
