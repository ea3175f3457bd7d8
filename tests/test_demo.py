import json

import pytest

from qaoa_meta import cli, demo
from qaoa_meta.problems import max_cut


def test_demo_cli_prints_table_and_writes_results(tmp_path, capsys):
    out = tmp_path / "demo.json"
    assert cli.main(["demo", "--points", "6", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for problem in demo.default_problems():
        assert problem.name in printed
    records = json.loads(out.read_text())
    assert len(records) == 2 * len(demo.default_problems())
    for exact, tfq in zip(records[::2], records[1::2], strict=True):
        assert (exact["backend"], tfq["backend"]) == ("exact", "tfq")
        assert exact["approximation_ratio"] == pytest.approx(tfq["approximation_ratio"], abs=1e-5)
        assert 0 < exact["approximation_ratio"] <= 1


def test_demo_grid_beats_random_guessing_on_unweighted_graphs():
    problem = demo.default_problems()[0]
    result, values = demo.scan(problem, demo.parameter_grid(10), "exact", max_cut(problem).value)
    # gamma = 0 gives the uniform state with <C> = W/2; the best p=1 point must beat it.
    assert result.best_energy > problem.total_weight / 2 + 0.1
    assert values.shape == (100,)


def test_demo_rejects_bad_points(capsys):
    assert cli.main(["demo", "--points", "1"]) == 2
    assert "--points must be at least 2" in capsys.readouterr().err


def test_cli_without_command_prints_help(capsys):
    assert cli.main([]) == 2
    assert "demo" in capsys.readouterr().out
