import json

import pytest

import qaoa_meta.tune
from qaoa_meta import cli
from qaoa_meta.problems import erdos_renyi

ray = pytest.importorskip("ray")

from qaoa_meta.meta import MetaConfig, MetaOptimizer  # noqa: E402
from qaoa_meta.tune import DEFAULT_SPACE, TuneResult, search_space, tune_meta  # noqa: E402


def paper_format(problems):
    return [{"n": p.n, "edges": [[u, v] for u, v, _ in p.edges]} for p in problems]


@pytest.fixture
def tiny_dataset(tmp_path):
    """A dataset file in the paper's format: 2 training graphs, 1 validation, 1 test."""
    graphs = [erdos_renyi(5, 0.6, seed=s) for s in range(4)]
    path = tmp_path / "datasets.json"
    path.write_text(
        json.dumps(
            {
                "train_data": paper_format(graphs[:2]),
                "val_data": paper_format(graphs[2:3]),
                "test_data": paper_format(graphs[3:]),
            }
        )
    )
    return path


def test_default_space_is_searchable_and_hidden_size_builds():
    train, val = [erdos_renyi(5, 0.6, seed=0)], [erdos_renyi(5, 0.6, seed=1)]
    # Every default key is accepted (the check runs before Ray starts: steps=0 is refused after).
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        tune_meta(train, val, {"model": "lstm", "steps": 0}, "unused", space=DEFAULT_SPACE)
    assert set(DEFAULT_SPACE) == {"lr_sequence", "lr_mapping", "steps", "loss", "hidden"}
    for model in ("lstm", "qk-lstm"):
        model_ = MetaOptimizer(MetaConfig(model=model, hidden=3, steps=2))
        assert model_.cell.output_size == 3
        assert model_.config.resolved_mapping == "linear"  # 3 outputs -> 2 angles
    assert MetaConfig(model="lstm").resolved_mapping == "identity"  # published default kept
    with pytest.raises(ValueError, match="hidden must be a positive integer"):
        MetaConfig(hidden=0)


def test_bad_search_spaces_are_refused_before_starting_ray(tmp_path, tiny_dataset, capsys):
    running = ray.is_initialized()
    train, val = [erdos_renyi(5, 0.6, seed=0)], [erdos_renyi(5, 0.6, seed=1)]
    with pytest.raises(ValueError, match="Cannot search over \\['units'\\]"):
        tune_meta(train, val, {"model": "lstm"}, tmp_path, space={"units": {"choice": [2]}})
    with pytest.raises(ValueError, match="Cannot search over \\['schema_version'\\]"):
        tune_meta(
            train, val, {"model": "lstm"}, tmp_path, space={"schema_version": {"choice": [1]}}
        )
    with pytest.raises(ValueError, match="must be one of"):
        search_space({"steps": {"normal": [0, 1]}})
    with pytest.raises(ValueError, match="Unknown model"):
        tune_meta(train, val, {"model": "gru"}, tmp_path, space={"steps": {"choice": [2]}})
    bad = tmp_path / "space.yaml"
    bad.write_text("steps: {choice: [5, 10]\n")
    assert cli.main(["tune", "--dataset", str(tiny_dataset), "--space", str(bad)]) == 2
    error = capsys.readouterr().err.strip()
    assert "Cannot read the search space" in error and "\n" not in error
    assert cli.main(["tune", "--dataset", str(tmp_path / "none.json")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert ray.is_initialized() == running


def test_search_from_the_command_line_writes_the_best_configuration(
    tmp_path, tiny_dataset, capsys, monkeypatch, ray_local
):
    """The search machinery end to end, with a stand-in for training (no TensorFlow)."""

    def fake_trial(params, *, train, val, base, epochs, batch_size, threads):
        from ray import tune as ray_tune

        config = {**base, "steps": params["steps"], "hidden": params["hidden"]}
        for epoch in range(1, epochs + 1):
            cost = -10.0 - params["hidden"] + params["lr_sequence"] / epoch
            ray_tune.report(
                {
                    "epoch": epoch,
                    "val_final_cost": cost,
                    "val_meta_loss": cost / 2,
                    "meta_config": json.dumps(config),
                }
            )

    monkeypatch.setattr(qaoa_meta.tune, "_trial", fake_trial)
    space = tmp_path / "space.yaml"
    space.write_text(
        "lr_sequence: {choice: [1.0e-3, 1.0e-2]}\nsteps: {choice: [3]}\nhidden: {grid: [2, 5]}\n"
    )
    out = tmp_path / "tune"
    argv = ["tune", "--dataset", str(tiny_dataset), "--model", "lstm", "--space", str(space)]
    argv += ["--samples", "1", "--epochs", "2", "--output", str(out)]
    assert cli.main(argv) == 0
    assert "best of 2 trials" in capsys.readouterr().out
    result = TuneResult.from_json((out / "trials.json").read_text())
    assert len(result.trials) == 2 and all(t["epochs"] == 2 for t in result.trials)
    assert result.best_val_final_cost == min(t["val_final_cost"] for t in result.trials)
    assert result.best_val_meta_loss == result.best_val_final_cost / 2
    best = json.loads((out / "best_config.json").read_text())
    assert best.pop("lr_sequence") in (1e-3, 1e-2)
    assert MetaConfig(**best) == MetaConfig(model="lstm", steps=3, hidden=5)


@pytest.mark.slow
def test_small_search_trains_real_meta_learners(tmp_path, ray_local):
    train = [erdos_renyi(5, 0.6, seed=s) for s in range(2)]
    val = [erdos_renyi(5, 0.6, seed=10)]
    space = {"lr_sequence": {"choice": [1e-6, 5e-2]}, "steps": {"choice": [3]}}
    space["hidden"] = {"choice": [3]}
    result = tune_meta(
        train, val, {"model": "lstm"}, tmp_path, space=space, samples=2, epochs=1, batch_size=2
    )
    assert len(result.trials) == 2
    assert result.best_val_final_cost == min(t["val_final_cost"] for t in result.trials)
    best = json.loads((tmp_path / "best_config.json").read_text())
    assert best.pop("lr_sequence") in (1e-6, 5e-2)
    config = MetaConfig(**best)
    assert (config.model, config.steps, config.hidden) == ("lstm", 3, 3)
    assert TuneResult.from_json((tmp_path / "trials.json").read_text()) == result
