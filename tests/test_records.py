"""Saved results and configs: every qaoa_meta class that is saved goes through
hardware.serialization (round trip, the one rule for unknown keys and schema versions), and
every committed record still loads through its class."""

from __future__ import annotations

import gzip
import json
import pathlib

import numpy as np
import pytest

from qaoa_meta.evaluate import InstanceRecord, MethodRecord, RunRecord
from qaoa_meta.optimize import OptimizeResult
from qaoa_meta.problems import MaxCutProblem, load_paper_dataset, sherrington_kirkpatrick
from qaoa_meta.sweep import Cell, SweepConfig, SweepSummary

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _optimize_result() -> OptimizeResult:
    return OptimizeResult(
        params=np.array([0.4, 0.3]),
        value=3.5,
        trace_params=np.array([[0.1, 0.2], [0.4, 0.3]]),
        trace_values=np.array([2.0, 3.5]),
        iterations=1,
        n_evaluations=2,
        n_gradients=1,
        shots=0,
        converged=True,
        trace_evaluations=np.array([0, 2]),
    )


def _run_record() -> RunRecord:
    problem = sherrington_kirkpatrick(5, "gaussian", seed=1)
    instance = InstanceRecord(
        problem=problem,
        max_cut=4.0,
        optimum=None,
        init_params=np.array([0.1, 0.2]),
        init_value=2.0,
        result=_optimize_result(),
        phase1_values=np.array([1.0, 2.0]),
        phase1_params=np.array([[0.0, 0.0], [0.1, 0.2]]),
    )
    method = MethodRecord("m", {"kind": "random"}, {"name": "sgd"}, [instance], 1.5, "g")
    return RunRecord(config={"p": 1, "n_problems": 1}, methods=[method], seeds={"optimizer": 0})


def _same(a, b) -> bool:
    """Dataclass equality with NumPy arrays compared by value."""
    return json.dumps(a.to_dict(), sort_keys=True) == json.dumps(b.to_dict(), sort_keys=True)


def _instances():
    """(class, instance, equal) for every class saved by qaoa_meta."""
    from qaoa_meta.meta import MetaConfig
    from qaoa_meta.noisy import NoisySetup
    from qaoa_meta.studies.noise_study import REDUCED_STUDY, StudyConfig
    from qaoa_meta.tune import TuneResult

    config = MetaConfig(model="qfwp", variant="paper", p=2, hidden=3, graph_features=True)
    record = _run_record()
    return [
        (MaxCutProblem, sherrington_kirkpatrick(5, "gaussian", seed=1), None),
        (MetaConfig, config, None),
        (NoisySetup, NoisySetup(device="grid:2x3", gateset="cz", shots=256), None),
        (OptimizeResult, _optimize_result(), _same),
        (InstanceRecord, record.methods[0].instances[0], _same),
        (MethodRecord, record.methods[0], _same),
        (RunRecord, record, _same),
        (
            TuneResult,
            TuneResult({"steps": 5}, config.to_dict(), -1.5, -0.5, [{"params": {"steps": 5}}]),
            None,
        ),
        (
            SweepConfig,
            SweepConfig("s", "smoke", "out", grid={"a": [1, 2]}, seeds=(0, 1), group_by=["a"]),
            None,
        ),
        (Cell, Cell("smoke", {"a": 1, "b": [1, 2]}, 3), None),
        (SweepSummary, SweepSummary(6, 1, 5, 1, 2.5, "local", 2, 0.5), None),
        (StudyConfig, REDUCED_STUDY, None),
    ]


def test_every_saved_class_round_trips():
    for cls, instance, equal in _instances():
        data = json.loads(json.dumps(instance.to_dict()))
        again = cls.from_dict(data)
        assert (equal or (lambda a, b: a == b))(again, instance), cls.__name__
        if hasattr(cls, "from_json"):
            assert (equal or (lambda a, b: a == b))(cls.from_json(instance.to_json()), instance)
    # Nested dataclasses come back as their classes, arrays with their dtypes.
    record = RunRecord.from_json(_run_record().to_json())
    instance = record.methods[0].instances[0]
    assert isinstance(instance.problem, MaxCutProblem) and isinstance(
        instance.result, OptimizeResult
    )
    assert instance.result.trace_params.shape == (2, 2)
    assert instance.result.trace_evaluations.dtype == np.int64
    assert instance.phase1_params.shape == (2, 2) and instance.optimum is None


def test_every_saved_class_refuses_unknown_keys_and_newer_schemas():
    for cls, instance, _ in _instances():
        data = instance.to_dict()
        with pytest.raises(ValueError) as info:
            cls.from_dict({**data, "bogus_key": 1})
        message = str(info.value)
        assert f"Unknown {cls.__name__} keys ['bogus_key']" in message, message
        assert "expected some of [" in message
        with pytest.raises(ValueError, match=f"{cls.__name__} schema_version 99 is newer"):
            cls.from_dict({**data, "schema_version": 99})
        # A missing schema_version is version 1.
        old = {k: v for k, v in data.items() if k != "schema_version"}
        assert cls.from_dict(old).to_dict() == data, cls.__name__


def test_old_lenient_readers_now_name_what_is_wrong():
    problem = {"n": 3, "edges": [[0, 1], [1, 2, 2.5]]}  # the paper's bare form still loads
    assert MaxCutProblem.from_dict(problem).edges == ((0, 1, 1.0), (1, 2, 2.5))
    with pytest.raises(ValueError, match=r"Unknown MaxCutProblem keys \['nodes'\]"):
        MaxCutProblem.from_dict({**problem, "nodes": 3})
    with pytest.raises(ValueError, match="Not a MaxCutProblem record: type is 'RunRecord'"):
        MaxCutProblem.from_dict({**problem, "type": "RunRecord"})
    with pytest.raises(ValueError, match=r"needs the keys \['edges'\]"):
        MaxCutProblem.from_dict({"n": 3})
    # A run record without a version (refused before) is version 1; missing versions and
    # creation time stay empty instead of taking the reader's.
    data = _run_record().to_dict()
    for key in ("schema_version", "versions", "created"):
        del data[key]
    record = RunRecord.from_dict(data)
    assert (record.versions, record.created) == ({}, "")
    with pytest.raises(ValueError, match=r"Unknown OptimizeResult keys \['evals'\]"):
        OptimizeResult.from_dict({**_optimize_result().to_dict(), "evals": 3})


def test_a_model_directory_with_a_bad_config_names_the_file(tmp_path):
    from qaoa_meta.meta import MetaConfig, MetaOptimizer

    (tmp_path / "config.json").write_text(json.dumps({**MetaConfig().to_dict(), "lr": 0.1}))
    with pytest.raises(ValueError, match=r"config.json: Unknown MetaConfig keys \['lr'\]"):
        MetaOptimizer.load_model(tmp_path)


# --- the committed records -------------------------------------------------------------------
def _load(relative: str):
    path = ROOT / relative
    raw = path.read_bytes()
    return json.loads(gzip.decompress(raw) if path.suffix == ".gz" else raw)


def _cells(record: dict) -> int:
    from qaoa_meta.noisy import NoisySetup

    for cell in record["cells"]:
        assert Cell.from_dict(cell["cell"]).cell_id == cell["cell_id"]
        result = cell.get("result") or {}
        assert MaxCutProblem.from_dict(result["problem"]).n == cell["cell"]["params"]["n"]
        NoisySetup.from_dict(result["setup"])
    return len(record["cells"])


def test_every_committed_record_loads_through_its_class(paper_dataset_path):
    """Every committed JSON record a saved class reads (docs/records, docs/bench, the paper's
    dataset) loads with the strict rule; none needs a legacy key (see the last check)."""
    from qaoa_meta.meta import MetaConfig
    from qaoa_meta.noisy import NoisySetup
    from qaoa_meta.studies.noise_study import StudyConfig
    from qaoa_meta.tune import TuneResult

    # docs/records/reproduction.json.gz: RunRecord > MethodRecord > InstanceRecord >
    # MaxCutProblem, OptimizeResult; its learned initialisers hold MetaConfigs.
    record = RunRecord.load(ROOT / "docs/records/reproduction.json.gz")
    assert sum(len(m.instances) for m in record.methods) == 2520
    learned = [
        m.initializer["meta_config"] for m in record.methods if "meta_config" in m.initializer
    ]
    assert len(learned) == 18 and all(MetaConfig.from_dict(c) for c in learned)

    # Noise-study records: every cell's Cell (its id recomputed), problem and NoisySetup; the
    # parts' sweep file (SweepConfig) or study (StudyConfig) and SweepSummary.
    grid = _load("docs/records/noise_study_grid.json.gz")
    assert _cells(grid) == grid["cells_total"] == 10080
    assert _cells(_load("docs/records/noise_study_rainbow.json.gz")) == 180
    assert _cells(_load("docs/bench/noise_study.json")) == 225
    parts = [
        *grid["parts"],
        *_load("docs/records/noise_study_rainbow.json.gz")["parts"],
    ]
    for part in parts:
        study = part["study"]
        if "config" in study:  # the run's sweep.json
            assert SweepConfig.from_dict(study["config"]).task == "noise"
        else:
            assert StudyConfig.from_dict(study).cells == part["cells"]
        if part["sweep"] is not None:
            assert SweepSummary.from_dict(part["sweep"]).total == part["cells"]
    assert SweepSummary.from_dict(_load("docs/bench/noise_study.json")["sweep"]).total == 225

    # The committed models: config.json, training.json and the manifest.
    models = ROOT / "docs/records/noise_study_models"
    configs = sorted(models.glob("*/config.json"))
    assert len(configs) == 22  # 20 study models and the two of the reduced study
    for path in configs:
        MetaConfig.from_json(path.read_text())
    for path in models.glob("*/training.json"):
        training = json.loads(path.read_text())
        if isinstance(training.get("config"), dict):
            MetaConfig.from_dict(training["config"])
        if "setup" in training:
            NoisySetup.from_dict(training["setup"])
    for entry in json.loads((models / "manifest.json").read_text())["models"].values():
        MetaConfig.from_dict(entry["config"])
        if "setup" in entry:
            NoisySetup.from_dict(entry["setup"])

    # docs/records/tune_tiny.json: the trials.json of a search, and its MetaConfigs.
    tune = TuneResult.from_dict(_load("docs/records/tune_tiny.json")["trials_json"])
    assert MetaConfig.from_dict(tune.best_config).model == "lstm"
    assert all(MetaConfig.from_dict(trial["config"]) for trial in tune.trials)

    # docs/records/qvm_job.json: the problem of the QVM job.
    assert MaxCutProblem.from_dict(_load("docs/records/qvm_job.json")["problem"]).n == 8

    # The paper's graphs (bare {"n", "edges"} records) load as problems, the same ones
    # load_paper_dataset builds.
    paper = json.loads(paper_dataset_path.read_text())
    dataset = load_paper_dataset(paper_dataset_path)
    for split in ("train", "val", "test"):
        problems = [MaxCutProblem.from_dict(r) for r in paper[f"{split}_data"]]
        expected = getattr(dataset, split)  # named split_i there
        assert [(p.n, p.edges) for p in problems] == [(p.n, p.edges) for p in expected]

    # The one study record no class reads: docs/bench/noise_study.json's "study" is the first
    # (version 1) noise study's settings, with training keys and initialiser names that no
    # longer exist ('learned-noiseless'); it is kept as the benchmark's record, not loaded.
    old_study = _load("docs/bench/noise_study.json")["study"]
    with pytest.raises(ValueError, match="Unknown StudyConfig keys .*'train_repetitions'"):
        StudyConfig.from_dict(old_study)
