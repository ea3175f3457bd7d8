"""Crash-safe training: SIGKILLed ``qaoa-meta train`` runs resume bit-identically; damaged
files give one-line errors; learning rates are validated; result files are written atomically.

The kills are deterministic: ``$QAOA_META_TEST_KILL`` makes the training process SIGKILL
itself at a named point (mid-epoch, between the log and the checkpoint commit, after the last
epoch), so the verdicts depend neither on timing nor on machine load.
"""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys

import numpy as np
import pytest

from qaoa_meta import cli
from qaoa_meta.fileio import atomic_path, read_json, write_atomic
from qaoa_meta.problems import erdos_renyi, save_dataset

ROOT = pathlib.Path(__file__).resolve().parents[1]
VOLATILE = {"train_seconds", "resumed_from_epoch"}  # differ between sessions by design


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> pathlib.Path:
    rng = np.random.default_rng(5)
    graphs = [erdos_renyi(n, 0.7, rng, name=f"g{i}") for i, n in enumerate([4, 5, 4, 5, 4, 5, 4])]
    graphs = [g for g in graphs if g.num_edges]
    path = tmp_path_factory.mktemp("data") / "datasets.json"
    save_dataset(path, graphs[:5], graphs[5:7], graphs[5:7])
    return path


def _args(dataset: pathlib.Path, output: pathlib.Path, *extra: str) -> list[str]:
    return [
        "train",
        "--model",
        "lstm",
        "--dataset",
        str(dataset),
        "--output",
        str(output),
        "--epochs",
        "5",
        "--batch-size",
        "2",
        "--steps",
        "3",
        "--lr-sequence",
        "0.05",
        "--lr-mapping",
        "0.05",
        "--plateau-patience",
        "0",
        "--patience",
        "3",
        "--steps-per-execution",
        "1",
        "--shuffle",
        "--verbose",
        "0",
        *extra,
    ]


def _run(args: list[str], kill: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "QAOA_META_TEST_KILL"}
    if kill:
        env["QAOA_META_TEST_KILL"] = kill
    code = "import sys; from qaoa_meta import cli; sys.exit(cli.main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture(scope="module")
def reference(dataset, tmp_path_factory) -> pathlib.Path:
    """An uninterrupted run (in this process)."""
    output = tmp_path_factory.mktemp("reference") / "run"
    assert cli.main(_args(dataset, output)) == 0
    return output


def _weights(directory: pathlib.Path) -> list[np.ndarray]:
    from qaoa_meta.meta import MetaOptimizer

    return MetaOptimizer.load_model(directory).get_weights()


def _assert_identical_runs(ours: pathlib.Path, reference: pathlib.Path) -> None:
    for name in ("final", "best"):
        for mine, theirs in zip(_weights(ours / name), _weights(reference / name), strict=True):
            np.testing.assert_array_equal(mine, theirs)  # bit for bit
    log, ref = (
        json.loads((ours / "log.json").read_text()),
        json.loads((reference / "log.json").read_text()),
    )
    assert log["epochs"] == ref["epochs"]  # every loss and learning rate, exactly

    def strip(summary):
        return {k: v for k, v in summary.items() if k not in VOLATILE | {"final_model"}}

    assert strip(log["summary"]) == strip(ref["summary"])


def test_reference_run_exercises_the_restored_state(reference):
    log = json.loads((reference / "log.json").read_text())
    epochs = log["epochs"]
    summary = log["summary"]
    assert summary["epochs_run"] == len(epochs) >= 3
    # The plateau scheduler halved the learning rate at least once, and the best epoch is
    # not the last one, so a resume that lost either would end with different weights.
    rates = [e["lr_sequence"] for e in epochs]
    assert min(rates) < 0.05
    val = [e["val_loss"] for e in epochs]
    assert summary["best_val_loss"] == min(val)
    assert summary["best_epoch"] == 1 + val.index(min(val))


def test_killed_training_resumes_bit_identical(dataset, reference, tmp_path):
    output = tmp_path / "run"
    args = _args(dataset, output)
    # Killed mid-epoch 2 (CI's reduced version: one killed subprocess, each costs a TensorFlow
    # import); the second run (in this process) resumes and finishes. The slow test below
    # kills at five more points, between the log entry and the checkpoint commit among them.
    result = _run(args, kill="batch:2")
    assert result.returncode == -signal.SIGKILL, result.stderr[-2000:]
    assert cli.main(args) == 0
    _assert_identical_runs(output, reference)
    assert json.loads((output / "log.json").read_text())["summary"]["resumed_from_epoch"] == 1
    # Re-running a finished run reports it again without training.
    assert cli.main(args) == 0
    _assert_identical_runs(output, reference)


@pytest.mark.slow
@pytest.mark.parametrize(
    "points",
    [
        ("checkpoint:1", "batch:3", "end"),
        ("history:1", "checkpoint:4", "batch:5"),
        ("batch:2", "history:3"),
    ],
)
def test_killed_training_resumes_bit_identical_at_more_points(dataset, reference, tmp_path, points):
    output = tmp_path / "run"
    args = _args(dataset, output)
    for point in points:
        assert _run(args, kill=point).returncode == -signal.SIGKILL, point
    result = _run(args)
    assert result.returncode == 0, result.stderr[-2000:]
    _assert_identical_runs(output, reference)


def _damaged_run(dataset, reference, tmp_path) -> pathlib.Path:
    import shutil

    output = tmp_path / "run"
    shutil.copytree(reference, output)
    return output


def _truncate(path: pathlib.Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_damaged_log_checkpoint_and_state_give_one_line_errors(
    dataset, reference, tmp_path, capsys
):
    output = _damaged_run(dataset, reference, tmp_path)
    more = _args(dataset, output, "--epochs", "7")  # resume: reads the log and the checkpoint
    _truncate(output / "log.json")
    assert cli.main(more) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1
    assert str(output / "log.json") in error and "--restart" in error

    output = _damaged_run(dataset, reference, tmp_path / "b")
    (data_file,) = (output / "checkpoint").glob("epoch-*/weights.data-*")
    _truncate(data_file)
    assert cli.main(_args(dataset, output, "--epochs", "7")) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1
    assert "Checkpoint" in error and str(output / "checkpoint") in error and "--restart" in error

    _truncate(output / "checkpoint" / "state.json")
    assert cli.main(_args(dataset, output, "--epochs", "7")) == 2
    error = capsys.readouterr().err.strip()
    assert str(output / "checkpoint" / "state.json") in error and "--restart" in error

    # --restart recovers: trains from scratch and ends identical to the reference.
    assert cli.main(_args(dataset, output, "--restart")) == 0
    capsys.readouterr()
    _assert_identical_runs(output, reference)


def test_a_checkpoint_of_another_configuration_is_not_resumed(dataset, reference, tmp_path, capsys):
    output = _damaged_run(dataset, reference, tmp_path)
    assert cli.main(_args(dataset, output, "--lr-mapping", "0.01")) == 2
    error = capsys.readouterr().err
    assert "different run" in error and "lr_mapping" in error and "--restart" in error


def test_damaged_model_and_record_files_name_the_file(reference, tmp_path):
    import shutil

    from qaoa_meta.evaluate import RunRecord
    from qaoa_meta.meta import MetaOptimizer

    model = tmp_path / "final"
    shutil.copytree(reference / "final", model)
    (index,) = model.glob("weights-*/weights.index")
    _truncate(index)
    with pytest.raises(ValueError, match="damaged or missing") as info:
        MetaOptimizer.load_model(model)
    assert str(model) in str(info.value) and "\n" not in str(info.value)
    _truncate(model / "config.json")
    with pytest.raises(ValueError, match="config.json is damaged"):
        MetaOptimizer.load_model(model)
    record = tmp_path / "record.json"
    record.write_text('{"schema_version": 1, "config": {"a": ')
    with pytest.raises(ValueError, match="record.json"):
        RunRecord.load(record)


def test_save_model_is_atomic(reference, tmp_path, monkeypatch):
    """A save killed before its commit leaves the previous model, complete and loadable."""
    import shutil

    from qaoa_meta import meta
    from qaoa_meta.meta import MetaOptimizer

    directory = tmp_path / "m"
    shutil.copytree(reference / "best", directory)
    before = MetaOptimizer.load_model(directory)
    other = MetaOptimizer(before.config)  # the untrained model: other weights

    def crash(path, data, encoding="utf-8"):
        raise KeyboardInterrupt("killed before the commit")

    monkeypatch.setattr(meta, "write_atomic", crash)
    with pytest.raises(KeyboardInterrupt):
        other.save_model(directory)
    monkeypatch.undo()
    for a, b in zip(
        MetaOptimizer.load_model(directory).get_weights(), before.get_weights(), strict=True
    ):
        np.testing.assert_array_equal(a, b)
    other.save_model(directory)  # a completed save replaces it and removes the old version
    for a, b in zip(
        MetaOptimizer.load_model(directory).get_weights(), other.get_weights(), strict=True
    ):
        np.testing.assert_array_equal(a, b)
    assert len(list(directory.glob("weights-*"))) == 1


def test_write_atomic_keeps_the_old_file_when_the_writer_dies(tmp_path):
    path = tmp_path / "sub" / "result.json"
    write_atomic(path, '{"a": 1}')
    with pytest.raises(RuntimeError), atomic_path(path) as temporary:
        temporary.write_text('{"a": 2, "trunc')
        raise RuntimeError("killed mid-write")
    assert read_json(path) == {"a": 1}
    assert [p.name for p in path.parent.iterdir()] == ["result.json"]  # no temporary left
    assert path.stat().st_mode & 0o644 == 0o644  # readable like a plain open() file
    path.write_text('{"a": ')
    with pytest.raises(ValueError, match=r"result.json is damaged .*; delete it"):
        read_json(path, "delete it")


def test_learning_rates_are_validated_before_tensorflow_loads(dataset, tmp_path):
    code = (
        "import sys; from qaoa_meta import cli\n"
        "codes = [cli.main(['train', '--dataset', sys.argv[1], '--output', sys.argv[2], *a])\n"
        "         for a in (['--lr-sequence', 'nan'], ['--lr-mapping=-1e-2'],\n"
        "                   ['--lr-sequence', '0'], ['--lr-mapping', 'inf'])]\n"
        "print(codes, 'tensorflow' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(dataset), str(tmp_path / "out")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.stdout.strip() == "[2, 2, 2, 2] False", result.stderr
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 4
    for error, option in zip(errors, ["--lr-sequence", "--lr-mapping"] * 2, strict=True):
        assert error.startswith("qaoa-meta train: error: " + option)
        assert "positive finite" in error
    assert not (tmp_path / "out").exists()


def test_a_huge_learning_rate_warns(dataset, tmp_path, capsys):
    code = cli.main(_args(dataset, tmp_path / "run", "--lr-sequence", "1e3", "--epochs", "2"))
    error = capsys.readouterr().err
    assert "--lr-sequence 1000 is far above" in error and "diverge" in error
    assert code in (0, 2)  # finishes (with final/ = the best epoch) or stops on NaN with a hint
    if code == 2:
        assert "diverged" in error and "--restart" in error
