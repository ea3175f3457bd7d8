import json

import pytest

from qaoa_meta.problems import erdos_renyi

ray = pytest.importorskip("ray")

from qaoa_meta.meta import MetaConfig  # noqa: E402
from qaoa_meta.tune import TuneResult, search_space, tune_meta  # noqa: E402


def test_bad_search_spaces_are_refused_before_starting_ray(tmp_path):
    train, val = [erdos_renyi(5, 0.6, seed=0)], [erdos_renyi(5, 0.6, seed=1)]
    with pytest.raises(ValueError, match="Cannot search over \\['units'\\]"):
        tune_meta(train, val, {"model": "lstm"}, tmp_path, space={"units": {"choice": [2]}})
    with pytest.raises(ValueError, match="must be one of"):
        search_space({"steps": {"normal": [0, 1]}})
    with pytest.raises(ValueError, match="Unknown model"):
        tune_meta(train, val, {"model": "gru"}, tmp_path, space={"steps": {"choice": [2]}})
    assert not ray.is_initialized()


def test_small_search_writes_the_best_configuration(tmp_path):
    train = [erdos_renyi(5, 0.6, seed=s) for s in range(2)]
    val = [erdos_renyi(5, 0.6, seed=10)]
    space = {"lr_sequence": {"choice": [1e-6, 5e-2]}, "steps": {"choice": [3]}}
    result = tune_meta(train, val, {"model": "lstm", "variant": "fixed"}, tmp_path, space=space,
                       samples=2, epochs=1, batch_size=2, workers=2)
    assert len(result.trials) == 2
    assert result.best_val_final_cost == min(t["val_final_cost"] for t in result.trials)
    best = json.loads((tmp_path / "best_config.json").read_text())
    lr = best.pop("lr_sequence")
    assert lr in (1e-6, 5e-2)
    config = MetaConfig(**best)
    assert (config.model, config.steps) == ("lstm", 3)
    again = TuneResult.from_json((tmp_path / "trials.json").read_text())
    assert again == result
