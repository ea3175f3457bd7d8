import json

import cirq
import numpy as np
import pytest

from qaoa_meta import cli, demo
from qaoa_meta.problems import cost_diagonal, max_cut
from qaoa_meta.qaoa import parameter_grid, qaoa_circuit


def test_demo_cli_prints_table_and_writes_results(tmp_path, capsys):
    argv = ["demo", "--points", "6", "--stages", "energies", "--out", str(tmp_path)]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    for problem in demo.default_problems():
        assert problem.name in printed
    records = json.loads((tmp_path / "energies.json").read_text())
    assert len(records) == 2 * len(demo.default_problems())
    for exact, tfq in zip(records[::2], records[1::2], strict=True):
        assert (exact["backend"], tfq["backend"]) == ("exact", "tfq")
        assert exact["approximation_ratio"] == pytest.approx(tfq["approximation_ratio"], abs=1e-5)
        assert 0 < exact["approximation_ratio"] <= 1


def test_demo_grid_beats_random_guessing_on_unweighted_graphs():
    problem = demo.default_problems()[0]
    result, values = demo.scan(problem, parameter_grid(10), "exact", max_cut(problem).value)
    # gamma = 0 gives the uniform state with <C> = W/2; the best p=1 point must beat it.
    assert result.best_energy > problem.total_weight / 2 + 0.1
    assert values.shape == (100,)


def test_demo_rejects_bad_points(capsys):
    assert cli.main(["demo", "--points", "1"]) == 2
    assert "--points must be at least 2" in capsys.readouterr().err


def test_demo_rejects_unknown_stage(capsys):
    assert cli.main(["demo", "--stages", "energies,plots"]) == 2
    assert "expected a comma-separated subset of energies,meta,hardware" in capsys.readouterr().err


def test_demo_meta_and_hardware_stages_save_reloadable_results(tmp_path, capsys):
    from qaoa_meta.evaluate import RunRecord
    from qaoa_meta.meta import MetaOptimizer
    from qaoa_meta.problems import load_paper_dataset

    argv = ["demo", "--stages", "meta,hardware", "--epochs", "1", "--shots", "4000"]
    assert cli.main([*argv, "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    for label in ("random", "fitted-fixed-angle", "qk-lstm (learned)", "readout mitigation"):
        assert label in printed

    record = RunRecord.load(tmp_path / "evaluation.json")
    assert [m.name for m in record.methods] == ["random", "fitted-fixed-angle", "qk-lstm (learned)"]
    _, test = demo.demo_graphs()
    for method in record.methods:
        # L-BFGS-B never ends below its start, and no state beats the exact max-cut.
        for instance in method.instances:
            assert instance.ar_init - 1e-6 <= instance.ar_final <= 1 + 1e-9

    graphs = load_paper_dataset(tmp_path / "graphs.json")  # the demo's graphs, reloadable
    train, _ = demo.demo_graphs()
    assert [pr.edges for pr in graphs.train] == [pr.edges for pr in train]
    assert [pr.edges for pr in graphs.test] == [pr.edges for pr in test]

    model = MetaOptimizer.load_model(tmp_path / "qk_lstm")
    learned = record.method("qk-lstm (learned)")
    np.testing.assert_allclose(
        model.rollout(test).final_theta, [i.init_params for i in learned.instances], atol=1e-5
    )

    result = json.loads((tmp_path / "hardware.json").read_text())
    problem = demo.default_problems()[1]
    state = cirq.Simulator().simulate(qaoa_circuit(problem, 1, params=result["theta"]))
    exact = float(np.abs(state.final_state_vector) ** 2 @ cost_diagonal(problem))
    noiseless, noisy, mitigated = result["rows"]
    # 4000 shots: the cut value's spread is below 2, so 5 sigma is well under 0.2.
    assert noiseless["energy"] == pytest.approx(exact, abs=0.2)
    assert noisy["energy"] < exact - 0.3  # weber's noise on ~60 sqrt-iSWAPs is far from small
    assert mitigated["energy"] > noisy["energy"]


def test_cli_without_command_prints_help(capsys):
    assert cli.main([]) == 2
    assert "demo" in capsys.readouterr().out
