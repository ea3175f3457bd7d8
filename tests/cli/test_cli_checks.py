"""Bad command-line input: one line on stderr, exit code 2, before TensorFlow or Cirq load.

Every case runs in one fresh interpreter (the driver below) that calls
``qaoa_meta.cli.main`` once per case and records, right after each error, whether
``tensorflow`` or ``cirq`` is in ``sys.modules``: that is the robust form of "the error comes
before the heavy imports" (no wall-clock assertion).
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

from qaoa_meta.problems import MaxCutProblem, erdos_renyi, random_regular

DRIVER = r"""
import contextlib, io, json, sys
from qaoa_meta.cli import main
out = []
for argv in json.loads(sys.argv[1]):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            rc = main(argv)
        except SystemExit as exit:
            rc = exit.code
    heavy = sorted(m for m in ("tensorflow", "cirq", "tensorflow_quantum") if m in sys.modules)
    out.append({"argv": argv, "rc": rc, "stderr": err.getvalue(), "heavy": heavy})
print(json.dumps(out))
"""


def run_cases(cases: list[list[str]], cwd: pathlib.Path) -> list[dict]:
    # this checkout's qaoa_meta, not whichever one is installed
    root = str(pathlib.Path(__file__).resolve().parents[2])
    path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", DRIVER, json.dumps(cases)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": path},
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> pathlib.Path:
    """A folder of good and bad input files."""
    folder = tmp_path_factory.mktemp("inputs")
    random_regular(8, 3, seed=1).save(folder / "graph.json")
    erdos_renyi(40, 0.1, seed=1).save(folder / "n40.json")
    MaxCutProblem(n=4, edges=()).save(folder / "empty.json")
    record = {"n": 6, "edges": [[0, 1], [1, 2]]}
    good = {"train_data": [record] * 3, "val_data": [record], "test_data": [record]}
    (folder / "good.json").write_text(json.dumps(good))
    (folder / "noval.json").write_text(json.dumps({**good, "val_data": []}))
    (folder / "noedges.json").write_text(json.dumps({**good, "train_data": [{"n": 6}]}))
    (folder / "splitdict.json").write_text(json.dumps({**good, "train_data": record}))
    (folder / "listoflists.json").write_text(json.dumps({**good, "test_data": [[0, 1], [1, 2]]}))
    (folder / "truncated.json").write_text(json.dumps(good)[:40])
    (folder / "record_truncated.json").write_text('{"schema_version": 1, "type": "RunRe')
    fixed = "name: s\ntask: noise\noutput: {out}\nfixed: {{{key}: 3}}\ngrid: {{n: [8], p: [1], initializer: [random], noise_scale: [1], shots: [64]}}\n"
    for key in ("iteration", "trajectorie"):
        (folder / f"sweep_{key}.yaml").write_text(fixed.format(out=folder / "s", key=key))
    (folder / "sweep_landscape.yaml").write_text(
        f"name: l\ntask: landscape\noutput: {folder / 'l'}\nfixed: {{family: erdos_renyi, pointz: 4}}\ngrid: {{n: [6]}}\n"
    )
    return folder


CASES: list[tuple[list[str], str]] = [
    # (argv, a phrase the one-line message must contain)
    (["train", "--dataset", "missing.json"], "qaoa-meta dataset --out datasets.json"),
    (["train", "--dataset", "good.json", "--epochs", "0"], "--epochs must be >= 1"),
    (["train", "--dataset", "noval.json"], "empty 'val_data'"),
    (["train", "--dataset", "truncated.json"], "'truncated.json' is not valid JSON"),
    (["train", "--dataset", "noedges.json"], "train_data[0] has no 'edges'"),
    (["train", "--dataset", "splitdict.json"], "'train_data' must be a list of graph records"),
    (["train", "--dataset", "listoflists.json"], "got a list of list"),
    (["train", "--dataset", "good.json", "--no-such-option"], "unrecognized arguments"),
    (["train", "--dataset", "good.json", "--model", "nope"], "invalid choice"),
    (["evaluate", "--dataset", "missing.json"], "qaoa-meta dataset"),
    (["evaluate", "--problems", "missing.json"], "qaoa-meta problem"),
    (["evaluate", "--dataset", "good.json", "--lr", "nan"], "--lr must be a finite number"),
    (["evaluate", "--dataset", "good.json", "--model", "nodir"], "not a directory"),
    (["evaluate", "--dataset", "good.json", "--methods", "bogus"], "Unknown --methods"),
    (["evaluate", "--problems", "graph.json", "--methods", "fitted-fixed-angle"], "--dataset"),
    (["evaluate", "--dataset", "good.json", "--sizes", "99"], "No problem has n in --sizes"),
    (["evaluate", "--problems", "empty.json"], "its max cut is 0"),
    (["reproduce", "--dataset", "good.json", "--models", "bogus"], "Unknown --models"),
    (["tune", "--dataset", "good.json", "--model", "bogus"], "Unknown --model"),
    (["noise-study", "--initializers", "bogus"], "Unknown --initializers"),
    (["noise-study", "--device", "moon"], "unknown device 'moon'"),
    (["noise-study", "--n", "7"], "need even n"),
    (["report", "graph.json"], "is a MaxCutProblem file, not a run record"),
    (["report", "missing.json"], "does not exist"),
    (["report", "record_truncated.json"], "not valid JSON"),
    (["reproduce", "--dataset", "good.json", "--epochs", "0"], "--epochs must be >= 1"),
    (["tune", "--dataset", "missing.json"], "qaoa-meta dataset"),
    (["compile", "--problem", "graph.json", "--device", "line:4"], "has only 4"),
    (["compile", "--problem", "graph.json", "--device", "moon"], "unknown device 'moon'"),
    (["compile", "--problem", "missing.json"], "qaoa-meta problem"),
    (["compile", "--problem", "good.json"], "not a Max-Cut problem"),
    (["simulate", "--problem", "graph.json", "--params", "0.1"], "needs 2p = 2 numbers"),
    (["simulate", "--problem", "graph.json", "--params", "nan,0.1"], "finite"),
    (
        [
            "simulate",
            "--problem",
            "graph.json",
            "--params",
            "0.1,0.2",
            "--noise",
            "thermal:20,30*nan",
        ],
        "finite",
    ),
    (
        ["simulate", "--problem", "graph.json", "--params", "0.1,0.2", "--noise", "thermal:nan,30"],
        "finite",
    ),
    (
        ["simulate", "--problem", "graph.json", "--params", "0.1,0.2", "--noise", "depol:0.1"],
        "unknown noise part",
    ),
    (["simulate", "--problem", "n40.json", "--params", "0.1,0.2"], "of memory but"),
    (["simulate", "--problem", "empty.json", "--params", "0.1,0.2"], "has no edges"),
    (["sweep", "sweep_iteration.yaml"], "did you mean 'iteration' -> 'iterations'"),
    (["sweep", "sweep_trajectorie.yaml"], "'trajectorie' -> 'trajectories'"),
    (["sweep", "sweep_landscape.yaml"], "'pointz' -> 'points'"),
    (["noise-study", "--noise-scales", "nan"], "--noise-scales must be a finite number"),
    (["problem", "er"], "needs --n"),
    (["problem", "edges", "--edges", "0-x"], "is not u-v or u-v:w"),
    (["dataset", "--per-density", "0"], "--per-density must be >= 1"),
    (["dataset", "--from", "missing.pkl"], "does not exist"),
]


def test_every_bad_input_is_one_line_exit_2_before_heavy_imports(files):
    results = run_cases([argv for argv, _ in CASES], files)
    for (argv, phrase), result in zip(CASES, results, strict=True):
        lines = result["stderr"].splitlines()
        assert result["rc"] == 2, (argv, result)
        assert len(lines) == 1, (argv, result["stderr"])
        assert phrase in lines[0], (argv, lines[0])
        assert result["heavy"] == [], (argv, "imported", result["heavy"])


def test_compile_too_small_device_names_the_error_once(files):
    (result,) = run_cases([["compile", "--problem", "graph.json", "--device", "line:4"]], files)
    assert result["stderr"].count("has only 4") == 1


def test_the_library_refuses_too_few_qubits_once():
    import cirq

    from hardware import compile_circuit, get_device

    qubits = cirq.LineQubit.range(6)
    circuit = cirq.Circuit(cirq.CZ(a, b) for a in qubits for b in qubits if a < b)
    with pytest.raises(ValueError) as info:
        compile_circuit(circuit, get_device("line:4"), "cz")
    assert str(info.value).count("has only 4") == 1


def test_literal_tables_match_the_library():
    from hardware.devices import get_device
    from hardware.simulate import memory_estimate
    from qaoa_meta import initializers
    from qaoa_meta.cli import checks as cli_checks
    from qaoa_meta.cli import evaluate as cli_eval
    from qaoa_meta.cli import train as cli_train
    from qaoa_meta.studies import noise_study, reproduce

    assert cli_checks.NOISE_STUDY_INITIALIZERS == noise_study.INITIALIZERS
    assert set(cli_eval.EVALUATE_METHODS) == set(initializers.INITIALIZERS) | set(
        initializers.FITTED_INITIALIZERS
    )
    assert set(reproduce.MODELS) == set(cli_train.MODELS)

    for name, qubits in cli_checks.DEVICE_QUBITS.items():
        device = get_device(name)
        assert len(device.qubits) == qubits
        assert set(cli_checks.DEVICE_GATESETS[name]) == set(device.gatesets)
    for n in (4, 10, 20):
        for method in ("exact", "trajectories", "sampling", "density_matrix"):
            assert cli_checks.simulation_bytes(n, method) == memory_estimate(n, method)


@pytest.mark.parametrize(
    "spec",
    [
        "none",
        "weber",
        "rainbow*0.5",
        "depolarizing:0.001,0.01",
        "depolarizing:0.001,0.01+readout:0.02,0.05*2",
        "thermal:20,30",
        "thermal:20,30*nan",
        "thermal:nan,30",
        "readout:0.02,inf",
        "depolarizing:0.1",
        "weber+readout:0.1,0.1",
        "bogus:1,2",
        "depolarizing:0.1,0.1*x",
        "depolarizing:0.1,0.1*-1",
        "+",
        "none*2",
        "none+readout:0.1,0.1",
    ],
)
def test_noise_spec_check_agrees_with_the_library(spec):
    from hardware.noise import noise_from_spec
    from qaoa_meta.cli import UserError
    from qaoa_meta.cli.checks import noise_spec

    try:
        noise_from_spec(spec)
        library_ok = True
    except (ValueError, TypeError):
        library_ok = False
    try:
        noise_spec(spec)
        check_ok = True
    except UserError:
        check_ok = False
    assert check_ok == library_ok, spec
    if any(bad in spec for bad in ("nan", "inf")):
        assert not library_ok


def test_report_runs_without_tensorflow(tmp_path):
    """A record written elsewhere is reported in a process that never loads TensorFlow."""
    from qaoa_meta import initializers as inits
    from qaoa_meta.evaluate import evaluate
    from qaoa_meta.optimize import SGD

    problems = [erdos_renyi(5, 0.6, seed=5, name="g5")]
    record = evaluate(problems, inits.paper_fixed_points(), SGD(max_iter=5), 1, optima=False)
    path = record.save(tmp_path / "run.json")
    code = (
        "import sys; from qaoa_meta.cli import main; "
        f"rc = main(['report', {str(path)!r}, '--out', {str(tmp_path / 'rep')!r}]); "
        "print(rc, sorted(m for m in ('tensorflow', 'cirq') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "0 []"
    assert (tmp_path / "rep" / "landscape.png").stat().st_size > 1000
    from qaoa_meta.report import COLUMNS, markdown_table, summary_rows

    rows = summary_rows(record)
    assert all(row["reached_target"] is None for row in rows)  # no optimum was computed
    table = markdown_table(rows).splitlines()
    assert "evaluations (energy+gradient calls)" in table[0]
    column = COLUMNS.index("reached_target")
    assert {line.strip("| ").split(" | ")[column] for line in table[2:]} == {"—"}
