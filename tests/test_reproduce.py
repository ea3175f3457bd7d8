"""A reduced reproduction (few graphs, one epoch) end to end, and the evaluate command."""

from __future__ import annotations

import pytest

from qaoa_meta.cli import main
from qaoa_meta.evaluate import RunRecord
from qaoa_meta.studies import reproduce


def test_reduced_reproduction(paper_dataset_path, tmp_path):
    config = reproduce.ReproductionConfig(
        epochs=1,
        seeds=(0,),
        fixed_seeds=(),
        models=("lstm",),
        test_sizes=(10,),
        max_test_per_size=1,
        max_train=6,
        extra_optimizers=False,
        train_budget_s=3600.0,
    )
    record = reproduce.run(paper_dataset_path, tmp_path / "run", config)
    (training,) = record.config["trainings"]
    assert training["epochs_run"] == 1 and training["stopped_by"] == "epoch cap"
    names = [m.name for m in record.methods]
    assert {"paper-fixed-1", "paper-fixed-2", "fitted-fixed-angle", "regression"} <= set(names)
    assert "lstm/paper/seed0" in names and record.config["wall_time_s"] > 0
    learned = record.method("lstm/paper/seed0").instances[0]
    assert learned.phase1_values.shape == (10,)
    doc = tmp_path / "docs" / "reproduction.md"
    reproduce.write_document(RunRecord.load(tmp_path / "run" / "record.json"), doc)
    text = doc.read_text()
    assert "0.7855" in text and "LSTM" in text and "Wall time" in text
    assert "wall-time budget of 3600 s per model" in text and "| epoch cap |" in text
    assert (tmp_path / "docs" / "figures" / "reproduction_relative_error.png").exists()


def test_evaluate_command(paper_dataset_path, tmp_path, capsys):
    out = tmp_path / "e.json"
    argv = [
        "evaluate",
        "--dataset",
        str(paper_dataset_path),
        "--sizes",
        "10",
        "--max-graphs",
        "1",
        "--methods",
        "paper-fixed-2",
        "linear-ramp",
        "--optimizer",
        "l-bfgs-b",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    assert len(RunRecord.load(out).methods) == 2
    assert main([*argv[:-2], "--lr", "0.1", "--out", str(out)]) == 2
    assert "--lr applies" in capsys.readouterr().err


@pytest.mark.slow
def test_full_reproduction_smoke(paper_dataset_path, tmp_path):
    config = reproduce.ReproductionConfig(
        epochs=1,
        seeds=(0,),
        fixed_seeds=(0,),
        max_train=32,
        max_test_per_size=2,
        test_sizes=(10, 11),
    )
    record = reproduce.run(paper_dataset_path, tmp_path / "run", config)
    assert any("+ l-bfgs-b" in m.name for m in record.methods)
