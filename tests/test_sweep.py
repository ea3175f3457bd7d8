import json
import os
import signal
import subprocess
import sys
import time

import pytest
import yaml

from qaoa_meta import cli
from qaoa_meta.demo import parameter_grid
from qaoa_meta.energy import Energy
from qaoa_meta.problems import generate, max_cut
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


def test_cells_expand_the_grid_and_ids_are_stable(tmp_path):
    sweep = config(tmp_path)
    cells = sweep.cells()
    assert len(cells) == 4
    assert {(c.params["n"], c.seed) for c in cells} == {(4, 0), (4, 1), (5, 0), (5, 1)}
    assert Cell.from_dict(cells[0].to_dict()).cell_id == cells[0].cell_id
    assert len({c.cell_id for c in cells}) == 4
    assert SweepConfig.from_json(sweep.to_json()) == sweep


def test_landscape_task_finds_the_p1_grid_optimum(tmp_path):
    run_sweep(config(tmp_path, grid={"n": [5]}, seeds=[3]), progress=False)
    (record,) = load_records(tmp_path / "out")
    assert record["status"] == "ok"
    # Independent check: a fine grid scan never beats the refined optimum by more than noise.
    problem = generate("erdos_renyi", 5, 3, p=0.6)
    fine = Energy([problem], 1)(parameter_grid(40)).numpy().max() / max_cut(problem).value
    assert record["result"]["optimum_ar"] >= fine - 1e-4


def test_failing_cell_is_recorded_and_others_complete(tmp_path, capsys):
    sweep = config(
        tmp_path,
        grid={"family": ["erdos_renyi", "no_such_family"]},
        seeds=[0],
        fixed={"n": 4, "points": 3},
    )
    summary = run_sweep(sweep, progress=False)
    assert (summary.ran, summary.failed) == (2, 1)
    records = {r["cell"]["params"]["family"]: r for r in load_records(sweep.output)}
    assert records["erdos_renyi"]["status"] == "ok"
    assert records["no_such_family"]["status"] == "failed"
    assert "Unknown problem family" in records["no_such_family"]["error"]
    assert "Traceback" in records["no_such_family"]["traceback"]
    # Re-running skips both; --retry-failed re-runs only the failed one.
    assert run_sweep(sweep, progress=False).ran == 0
    assert run_sweep(sweep, retry_failed=True, progress=False).ran == 1


def test_bad_configurations_have_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="Unknown task"):
        config(tmp_path, task="nope")
    with pytest.raises(ValueError, match="non-empty list"):
        config(tmp_path, grid={"n": []})
    with pytest.raises(ValueError, match="both 'grid' and 'fixed'"):
        config(tmp_path, grid={"points": [3]})
    with pytest.raises(ValueError, match="Unknown sweep configuration keys"):
        SweepConfig.from_dict({"name": "x", "task": "landscape", "output": "o", "extra": 1})
    with pytest.raises(ValueError, match="Unknown sweep backend"):
        run_sweep(config(tmp_path), backend="dask")


def write_config(tmp_path, **overrides):
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(config(tmp_path, **overrides).to_dict()))
    return path


def test_killed_sweep_resumes_with_only_the_missing_cells(tmp_path):
    path = write_config(tmp_path, grid={"n": [4, 5, 6, 7, 8, 9]}, seeds=[0, 1])
    out = tmp_path / "out" / "cells"
    process = subprocess.Popen(
        [sys.executable, "-m", "qaoa_meta.cli", "sweep", str(path), "--no-progress"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline and len(list(out.glob("*.json"))) < 2:
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done_before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.json")}
    assert 2 <= len(done_before) < 12, "the sweep should have been killed midway"
    summary = run_sweep(SweepConfig.load(path), progress=False)
    assert summary.skipped == len(done_before)
    assert summary.ran == 12 - len(done_before)
    for name, mtime in done_before.items():
        assert (out / name).stat().st_mtime_ns == mtime
    assert all(r["status"] == "ok" for r in load_records(tmp_path / "out"))


def test_cli_sweep_reports_and_exit_code(tmp_path, capsys):
    path = write_config(
        tmp_path, grid={"family": ["erdos_renyi", "bogus"]}, seeds=[0], fixed={"n": 4, "points": 3}
    )
    assert cli.main(["sweep", str(path), "--no-progress"]) == 1
    printed = capsys.readouterr().out
    assert "1 ok, 1 failed" in printed and "Unknown problem family" in printed
    assert cli.main(["sweep", str(tmp_path / "missing.yaml")]) == 2


def test_local_and_ray_backends_give_identical_records(tmp_path):
    pytest.importorskip("ray")
    local = config(tmp_path, output=str(tmp_path / "local"))
    on_ray = config(tmp_path, output=str(tmp_path / "ray"))
    run_sweep(local, "local", progress=False)
    summary = run_sweep(on_ray, "ray", workers=2, progress=False)
    assert summary.ran == 4 and summary.failed == 0
    assert results_by_cell(local.output) == results_by_cell(on_ray.output)
    pids = {r["pid"] for r in load_records(on_ray.output)}
    assert os.getpid() not in pids
    assert json.loads((tmp_path / "ray" / "sweep.json").read_text())["config"]["name"] == "test"
