import json
import os
import re
import signal
import subprocess
import sys

import pytest
import yaml

from qaoa_meta import cli, sweep
from qaoa_meta.energy import Energy
from qaoa_meta.problems import generate, max_cut
from qaoa_meta.qaoa import parameter_grid
from qaoa_meta.sweep import Cell, SweepConfig, load_records, run_sweep


def config(tmp_path, **overrides):
    data = {
        "name": "test",
        "task": "landscape",
        "output": str(tmp_path / "out"),
        "seeds": [0, 1],
        "fixed": {"family": "erdos_renyi", "p": 0.6, "points": 4},
        "grid": {"n": [4, 5]},
    }
    data.update(overrides)
    return SweepConfig.from_dict(data)


def results_by_cell(output):
    return {r["cell_id"]: (r["status"], r.get("result")) for r in load_records(output)}


def assert_same_results(first, second, path="records"):
    """Equal records, floats to float32 round-off as an optimiser carries it.

    The two backends run the same code in different processes. Their energies agree bit for
    bit (tests/test_energy.py checks the kernel compiled fresh against the one numba loads from
    its cache, which was not always so), but a record should not fail on a last bit that
    L-BFGS-B carries to ~1e-3 in the angles of a flat optimum and ~1e-7 in its value.
    """
    if isinstance(first, dict) and isinstance(second, dict):
        assert first.keys() == second.keys(), path
        for key in first:
            assert_same_results(first[key], second[key], f"{path}[{key!r}]")
    elif isinstance(first, (list, tuple)) and isinstance(second, (list, tuple)):
        assert len(first) == len(second), path
        for i, (a, b) in enumerate(zip(first, second, strict=True)):
            assert_same_results(a, b, f"{path}[{i}]")
    elif isinstance(first, float) or isinstance(second, float):
        tolerance = 2e-3 if path.endswith(("gamma']", "beta']")) else 1e-5
        assert first == pytest.approx(second, rel=tolerance, abs=tolerance), path
    elif not path.endswith("['evaluations']"):  # the optimiser's count can differ by a step
        assert first == second, path


def test_same_results_tolerates_round_off_and_nothing_else():
    record = {"c": ("ok", {"optimum_gamma": 0.599084, "optimum_ar": 0.7, "max_cut": 5.0})}
    near = {"c": ("ok", {"optimum_gamma": 0.598653, "optimum_ar": 0.7000001, "max_cut": 5.0})}
    assert_same_results(record, near)
    for key, value in [("optimum_gamma", 0.59), ("optimum_ar", 0.701), ("max_cut", 6.0)]:
        with pytest.raises(AssertionError, match=key):
            assert_same_results(record, {"c": ("ok", {**record["c"][1], key: value})})
    with pytest.raises(AssertionError):
        assert_same_results(record, {"c": ("failed", record["c"][1])})


def test_cells_expand_the_grid_and_ids_are_stable(tmp_path):
    sweep_config = config(tmp_path)
    cells = sweep_config.cells()
    assert len(cells) == 4
    assert {(c.params["n"], c.seed) for c in cells} == {(4, 0), (4, 1), (5, 0), (5, 1)}
    assert Cell.from_dict(cells[0].to_dict()).cell_id == cells[0].cell_id
    assert len({c.cell_id for c in cells}) == 4
    assert SweepConfig.from_json(sweep_config.to_json()) == sweep_config


def test_example_configuration_loads():
    example = SweepConfig.load(os.path.join(os.path.dirname(__file__), "..", sweep.EXAMPLE))
    assert example.task == "landscape" and len(example.cells()) == 6


def test_smoke_task_echoes_and_fails_on_request(tmp_path):
    sweep_config = config(tmp_path, task="smoke", fixed={}, grid={"fail": [False, True]})
    summary = run_sweep(sweep_config, progress=False)
    assert (summary.ran, summary.failed) == (4, 2)
    records = load_records(sweep_config.output)
    assert {r["status"] for r in records if r["cell"]["params"]["fail"]} == {"failed"}
    ok = sorted((r["cell"]["seed"], r["result"]["value"]) for r in records if r["status"] == "ok")
    assert ok[0][1] != ok[1][1]


def test_landscape_task_finds_the_p1_grid_optimum(tmp_path):
    run_sweep(config(tmp_path, grid={"n": [5]}, seeds=[3]), progress=False)
    (record,) = load_records(tmp_path / "out")
    assert record["status"] == "ok"
    assert record["finished_unix"] >= record["started_unix"]
    # Independent check: a fine grid scan never beats the refined optimum by more than noise.
    problem = generate("erdos_renyi", 5, 3, p=0.6)
    fine = Energy([problem], 1)(parameter_grid(40)).numpy().max() / max_cut(problem).value
    assert record["result"]["optimum_ar"] >= fine - 1e-4


def test_failing_cell_is_recorded_and_others_complete(tmp_path, capsys):
    sweep_config = config(
        tmp_path,
        grid={"family": ["erdos_renyi", "no_such_family"]},
        seeds=[0],
        fixed={"n": 4, "points": 3},
    )
    summary = run_sweep(sweep_config, progress=True)
    assert (summary.ran, summary.failed) == (2, 1)
    records = {r["cell"]["params"]["family"]: r for r in load_records(sweep_config.output)}
    assert records["erdos_renyi"]["status"] == "ok"
    assert records["no_such_family"]["status"] == "failed"
    assert "Unknown problem family" in records["no_such_family"]["error"]
    assert "Traceback" in records["no_such_family"]["traceback"]
    assert "generate" in records["no_such_family"]["traceback"]  # where it was raised
    # The live bar shows cells done of total, failures and what is left.
    bar = capsys.readouterr().err
    assert "2/2 cells, 1 failed, 0 remaining" in bar and "ETA" in bar
    # Re-running skips both; --retry-failed re-runs only the failed one.
    assert run_sweep(sweep_config, progress=False).ran == 0
    assert run_sweep(sweep_config, retry_failed=True, progress=False).ran == 1


def test_bad_configurations_have_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="Unknown task"):
        config(tmp_path, task="nope")
    with pytest.raises(ValueError, match="non-empty list"):
        config(tmp_path, grid={"n": []})
    with pytest.raises(ValueError, match="write e.g. n: \\[8\\]"):
        config(tmp_path, grid={"n": 8})
    with pytest.raises(ValueError, match="both 'grid' and 'fixed'"):
        config(tmp_path, grid={"points": [3]})
    with pytest.raises(ValueError, match="'seeds' must be a non-empty list of integers"):
        config(tmp_path, seeds=3)
    with pytest.raises(ValueError, match="'threads_per_cell' must be an integer"):
        config(tmp_path, threads_per_cell="two")
    with pytest.raises(ValueError, match="did you mean 'seed' -> 'seeds'"):
        SweepConfig.from_dict({"name": "x", "task": "landscape", "output": "o", "seed": [1]})
    with pytest.raises(ValueError, match="needs the keys \\['output'\\]"):
        SweepConfig.from_dict({"name": "x", "task": "landscape"})
    with pytest.raises(ValueError, match="Unknown sweep backend"):
        run_sweep(config(tmp_path), backend="dask")
    with pytest.raises(ValueError, match="workers must be at least 1"):
        run_sweep(config(tmp_path), backend="ray", workers=0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\ntask: [landscape\n", "is not valid YAML .* at line 3"),
        ("- 1\n- 2\n", "must hold a mapping"),
        ("name: x\ntask: landscape\noutput: o\nfixed: {d: 2020-01-01}\n", "plain JSON values"),
        (None, "does not exist; pass a YAML file"),
    ],
)
def test_bad_files_give_one_line_errors_on_the_command_line(tmp_path, capsys, text, message):
    path = tmp_path / "sweep.yaml"
    if text is not None:
        path.write_text(text)
    assert cli.main(["sweep", str(path)]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "Traceback" not in error
    assert error.startswith("qaoa-meta sweep: error:")
    assert re.search(message, error)


def write_config(tmp_path, **overrides):
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(config(tmp_path, **overrides).to_dict()))
    return path


KILLER_TASK = """
import os, signal
from qaoa_meta.sweep_tasks import smoke_cell

def cell(params, seed):
    if os.environ.get("KILL_SWEEP_AT") == f"{params['n']}:{seed}":
        os.kill(os.getpid(), signal.SIGKILL)  # the whole sweep dies here, like a kill -9
    return smoke_cell(params, seed)
"""


def test_killed_sweep_resumes_with_only_the_missing_cells(tmp_path, monkeypatch):
    # The sweep SIGKILLs itself when it reaches its fourth cell (no polling, no timing): the
    # verdict is the same on an idle and on a heavily loaded machine.
    (tmp_path / "killer_task.py").write_text(KILLER_TASK)
    monkeypatch.syspath_prepend(str(tmp_path))
    path = write_config(tmp_path, task="killer_task:cell", grid={"n": [4, 5, 6, 7]}, seeds=[0, 1])
    cells = SweepConfig.load(path).cells()
    killer = cells[3].params
    env = {
        **os.environ,
        "KILL_SWEEP_AT": f"{killer['n']}:{cells[3].seed}",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
    }
    process = subprocess.run(
        [sys.executable, "-m", "qaoa_meta.cli", "sweep", str(path), "--no-progress"],
        env=env,
        capture_output=True,
        timeout=600,
    )
    assert process.returncode == -signal.SIGKILL, process.stderr[-2000:]
    out = tmp_path / "out" / "cells"
    done_before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.json")}
    assert len(done_before) == 3  # the three cells before the killer, none after
    summary = run_sweep(SweepConfig.load(path), progress=False)
    assert (summary.skipped, summary.ran) == (3, 5)
    for name, mtime in done_before.items():
        assert (out / name).stat().st_mtime_ns == mtime
    assert all(r["status"] == "ok" for r in load_records(tmp_path / "out"))


def test_interrupted_sweep_tells_how_to_resume(tmp_path, capsys, monkeypatch):
    path = write_config(tmp_path, task="smoke", fixed={})
    calls = []
    run_cell = sweep.run_cell

    def interrupt_second(cell, threads=1):
        calls.append(cell)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return run_cell(cell, threads)

    monkeypatch.setattr(sweep, "run_cell", interrupt_second)
    assert cli.main(["sweep", str(path), "--no-progress"]) == 130
    error = capsys.readouterr().err
    assert "1 of 4 cells are saved" in error and "run the same command again" in error
    monkeypatch.setattr(sweep, "run_cell", run_cell)
    assert cli.main(["sweep", str(path), "--no-progress"]) == 0
    assert "3 cells run (0 failed), 1 already done" in capsys.readouterr().out


def test_cli_sweep_reports_and_exit_code(tmp_path, capsys):
    path = write_config(
        tmp_path, grid={"family": ["erdos_renyi", "bogus"]}, seeds=[0], fixed={"n": 4, "points": 3}
    )
    assert cli.main(["sweep", str(path), "--no-progress"]) == 1
    printed = capsys.readouterr().out
    assert "1 ok, 1 failed" in printed and "Unknown problem family" in printed
    assert "--retry-failed" in printed
    # Records of another configuration sharing the output folder are not counted.
    other = config(
        tmp_path, grid={"n": [4]}, seeds=[5], fixed={"family": "erdos_renyi", "points": 3}
    )
    run_sweep(other, progress=False)
    assert len(load_records(tmp_path / "out")) == 3
    assert len(load_records(tmp_path / "out", SweepConfig.load(path))) == 2


def test_unreachable_cluster_fails_fast_with_the_fix(tmp_path, monkeypatch):
    pytest.importorskip("ray")
    import ray

    def retry_forever(*args, **kwargs):  # what ray.init does for an unreachable address
        raise AssertionError("ray.init was called: an unreachable address must fail before it")

    # Fails fast = before ray.init, checked without a wall-clock bound (load-independent).
    monkeypatch.setattr(ray, "init", retry_forever)
    with pytest.raises(ValueError, match="Cannot reach the Ray cluster .*'ray start --head'"):
        run_sweep(config(tmp_path), "ray", address="127.0.0.1:1", progress=False)


def test_local_and_ray_backends_give_the_same_records(tmp_path, ray_local):
    grid = {"n": [4, 5], "family": ["erdos_renyi", "bogus"]}
    fixed = {"p": 0.6, "points": 3}
    local = config(tmp_path, output=str(tmp_path / "local"), grid=grid, fixed=fixed)
    on_ray = config(tmp_path, output=str(tmp_path / "ray"), grid=grid, fixed=fixed)
    run_sweep(local, "local", progress=False)
    # One cell at a time: one worker process loads TensorFlow (the slow part on 2 cores).
    summary = run_sweep(on_ray, "ray", workers=1, progress=False)
    assert (summary.ran, summary.failed) == (8, 4)
    assert_same_results(results_by_cell(local.output), results_by_cell(on_ray.output))
    records = load_records(on_ray.output)
    assert os.getpid() not in {r["pid"] for r in records}
    # Each worker capped its own TensorFlow pools before TensorFlow started.
    assert all(
        r["threads"] == {"requested": 1, "tf_intra_op": 1, "tf_inter_op": 1} for r in records
    )
    failed = [r for r in records if r["status"] == "failed"]
    assert all("Unknown problem family" in r["traceback"] for r in failed)
    assert json.loads((tmp_path / "ray" / "sweep.json").read_text())["config"]["name"] == "test"
    # Resuming on Ray with nothing left does not start Ray.
    again = run_sweep(on_ray, "ray", progress=False)
    assert (again.ran, again.skipped, again.startup_s < 1) == (0, 8, True)


def test_group_by_orders_cells_and_is_validated(tmp_path):
    grouped = config(
        tmp_path,
        grid={"n": [4, 5], "points": [3, 4]},
        fixed={"family": "erdos_renyi", "p": 0.6},
        group_by=["n", "seed"],
    )
    groups = sweep.group_cells(grouped.cells(), grouped.group_by)
    assert [len(g) for g in groups] == [2, 2, 2, 2]
    assert all(len({(c.params["n"], c.seed) for c in g}) == 1 for g in groups)
    assert sorted(c.cell_id for g in groups for c in g) == sorted(
        c.cell_id for c in grouped.cells()
    )
    assert sweep.group_cells(grouped.cells(), ()) == [[c] for c in grouped.cells()]
    assert SweepConfig.from_json(grouped.to_json()) == grouped
    with pytest.raises(ValueError, match="'group_by' names \\['shots'\\]"):
        config(tmp_path, group_by=["shots"])
    with pytest.raises(ValueError, match="list of parameter names"):
        config(tmp_path, group_by="n")


def test_grouped_sweep_runs_each_group_in_one_ray_task(tmp_path, ray_local):
    def smoke(output, group_by):
        return SweepConfig.from_dict(
            {
                "name": "grouped",
                "task": "smoke",
                "output": str(tmp_path / output),
                "seeds": [0, 1, 2],
                "grid": {"a": [1, 2], "fail": [False, True]},
                "group_by": group_by,
            }
        )

    plain, local, on_ray = smoke("plain", []), smoke("local", ["seed"]), smoke("ray", ["seed"])
    run_sweep(plain, "local", progress=False)
    run_sweep(local, "local", progress=False)
    summary = run_sweep(on_ray, "ray", workers=2, progress=False)
    assert (summary.ran, summary.failed) == (12, 6)
    expected = results_by_cell(plain.output)
    assert results_by_cell(local.output) == expected == results_by_cell(on_ray.output)
    records = load_records(on_ray.output)
    by_seed = {}
    for r in records:
        by_seed.setdefault(r["cell"]["seed"], set()).add(r["pid"])
    assert all(len(pids) == 1 for pids in by_seed.values())  # a group: one worker
    assert os.getpid() not in {r["pid"] for r in records}
