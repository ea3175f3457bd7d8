"""Noise-aware meta-training and the noise-study pipeline (reduced)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from qaoa_meta import cli
from qaoa_meta.meta import MetaConfig, MetaOptimizer
from qaoa_meta.noise_study import (
    StudyConfig,
    noise_cell,
    noise_spec,
    noisy_meta_loss,
    run_study,
    summarize,
    train_meta,
)
from qaoa_meta.noisy import NoisySetup
from qaoa_meta.problems import generate
from qaoa_meta.sweep import TASKS, resolve_task


def test_noise_spec():
    assert noise_spec("weber", 0) == "none"
    assert noise_spec("weber", 1) == "weber"
    assert noise_spec("weber", 0.25) == "weber*0.25"
    with pytest.raises(ValueError, match="noise scale"):
        noise_spec("weber", -1)


def test_noise_aware_training_improves_noisy_meta_loss():
    problems = [generate("random_regular", 4, seed, d=3) for seed in range(2)]
    setup = NoisySetup(
        device="grid:2x3", gateset="cz", noise="depolarizing:0.01,0.05+readout:0.02,0.05"
    )
    config = MetaConfig(model="lstm", p=1, steps=3, seed=0)
    before = noisy_meta_loss(MetaOptimizer(config), problems, setup, repetitions=400)
    model, history = train_meta(
        problems, config, setup, epochs=6, batch_size=2, learning_rate=5e-2, repetitions=32
    )
    after = noisy_meta_loss(model, problems, setup, repetitions=400)
    assert len(history["loss"]) == 6
    # The weighted meta-loss is about -0.6 at the start; training lowers it well beyond the
    # trajectory noise of the estimate (~0.005 at 400 repetitions).
    assert after < before - 0.03, (before, after)
    assert model.energy_fn is None  # the configured backend is restored


def test_noise_cell_counts_and_records():
    result = noise_cell(
        {
            "n": 6,
            "p": 1,
            "initializer": "fixed-angle",
            "noise_scale": 1.0,
            "shots": 64,
            "iterations": 3,
            "trajectories": 4,
            "eval_trajectories": 16,
        },
        seed=0,
    )
    assert result["total_shots"] == result["counters"]["shots"] == 3 * 2 * 64
    assert result["shots_trace"][-1] == result["total_shots"]
    assert result["shots_trace"][0] == 0
    np.testing.assert_allclose(result["theta0"], [0.6155, 0.3927])
    assert result["ar_noisy_init"] < result["ar_ideal_init"]  # weber noise costs energy
    assert 0 < result["ar_ideal_final"] <= 1
    json.dumps(result)


def test_reduced_study_end_to_end(tmp_path):
    assert resolve_task(TASKS["noise"]) is noise_cell
    study = StudyConfig(
        ns=(4,),
        ps=(1,),
        noise_scales=(0.0, 1.0),
        shots=(32,),
        seeds=(0,),
        iterations=2,
        trajectories=2,
        train_n=4,
        train_size=2,
        train_epochs=1,
        train_repetitions=4,
    )
    result = run_study(study, tmp_path / "run", progress=False)
    assert result["cells_total"] == 2 * 5 and result["cells_failed"] == 0
    rows = summarize(json.loads((tmp_path / "run" / "run_record.json").read_text())["cells"])
    assert {r["initializer"] for r in rows} == set(study.initializers)
    learned = [r for r in rows if r["initializer"].startswith("learned")]
    assert all(r["phase1_shots"] == 5 * 32 for r in learned)  # Phase I: T = 5 estimates
    cells = json.loads((tmp_path / "run" / "run_record.json").read_text())["cells"]
    for cell in cells:
        result = cell["result"]
        assert result["shots_trace"][-1] == result["total_shots"]
        assert result["shots_trace"][0] == result["phase1_shots"]
        assert result["counters"]["evaluations"] * 32 == result["total_shots"]
    cells = json.loads((tmp_path / "run" / "run_record.json").read_text())["cells"]
    for cell in cells:
        result = cell["result"]
        assert result["shots_trace"][-1] == result["total_shots"]
        assert result["shots_trace"][0] == result["phase1_shots"]
    for name in (
        "summary.md",
        "summary.csv",
        "noise_ar_vs_noise.png",
        "noise_ar_vs_shots_p1_x1.png",
    ):
        assert (tmp_path / "run" / name).exists()
    # Resuming runs nothing new.
    again = run_study(study, tmp_path / "run", progress=False)
    assert again["sweep"]["ran"] == 0


def test_cli_rejects_bad_input(capsys):
    assert cli.main(["noise-study", "--n", "9", "--output", "/tmp/unused"]) == 2
    assert "even n" in capsys.readouterr().err
