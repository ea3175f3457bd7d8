"""Meta-learner hyperparameter search with Ray Tune.

Each trial trains a :class:`~qaoa_meta.meta.MetaOptimizer` for a few epochs and reports, after
every epoch, the validation meta-loss (the trial's own loss on the validation graphs) and the
validation final cost y_T = −⟨C⟩ at the last rollout step. Trials are ranked by the final cost:
meta-losses of different kinds (weighted, observed improvement, final) have different scales,
so only y_T compares trials that search over the loss. The best configuration is written to
``OUTPUT/best_config.json`` (a :class:`MetaConfig` plus learning rates) and every trial's
result to ``OUTPUT/trials.json``.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
from collections.abc import Mapping, Sequence
from typing import Any

from hardware import serialization
from qaoa_meta.fileio import write_atomic
from qaoa_meta.problems import MaxCutProblem
from qaoa_meta.sweep import limit_threads, ray_session

SCHEMA_VERSION = 1
# Searchable keys: MetaConfig fields plus the two learning rates of MetaOptimizer.compile.
LEARNING_RATE_KEYS = ("lr_sequence", "lr_mapping")
DEFAULT_SPACE: Mapping[str, Mapping[str, Any]] = {
    "lr_sequence": {"loguniform": [1e-4, 3e-2]},
    "lr_mapping": {"loguniform": [1e-4, 3e-2]},
    "steps": {"choice": [5, 10, 15]},
    "loss": {"choice": ["weighted", "observed_improvement", "final"]},
    "hidden": {"choice": [2, 3, 4, 6]},
}
# MetaConfig fields that are bookkeeping, not hyperparameters.
NOT_SEARCHABLE = ("schema_version",)


@dataclasses.dataclass(frozen=True)
class TuneResult(serialization.Serializable):
    """Outcome of a search: the best trial's settings and metrics, and every trial's.

    Saved with ``schema_version`` (:class:`hardware.serialization.Serializable`).
    """

    best_params: dict[str, Any]
    best_config: dict[str, Any]
    best_val_final_cost: float
    best_val_meta_loss: float
    trials: list[dict[str, Any]]
    metric: str = "val_final_cost"
    schema_version: int = SCHEMA_VERSION

    _json_indent = 1
    _schema = serialization.Schema(version=SCHEMA_VERSION)


def search_space(spec: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Turns a plain spec (``{"key": {"choice": [...]}}``, ``loguniform``, ``uniform``) into Tune's.

    Args:
        spec: ``{key: {sampler: arguments}}`` with exactly one sampler per key:
            ``choice`` or ``grid`` (a list of values: ``tune.choice``/``tune.grid_search``),
            ``loguniform`` or ``uniform`` (``[low, high]``, unpacked into the Tune call).

    Returns:
        ``{key: Tune search-space object}``.

    Raises:
        ValueError: for an entry that is not a one-key mapping of a known sampler.
        ImportError: when Ray Tune is not installed.
    """
    from ray import tune  # lazy: Ray is optional (the [ray] extra)

    samplers = {
        "choice": tune.choice,
        "loguniform": tune.loguniform,
        "uniform": tune.uniform,
        "grid": tune.grid_search,
    }
    space = {}
    for key, entry in spec.items():
        if not isinstance(entry, Mapping) or len(entry) != 1 or next(iter(entry)) not in samplers:
            raise ValueError(
                f"Search space entry {key!r} must be one of {sorted(samplers)} with its "
                f"arguments, e.g. {{'choice': [1, 2]}}; got {entry!r}."
            )
        kind, arguments = next(iter(entry.items()))
        space[key] = (
            samplers[kind](arguments) if kind in ("choice", "grid") else samplers[kind](*arguments)
        )
    return space


def _trial(
    params: dict[str, Any],
    *,
    train: Sequence[MaxCutProblem],
    val: Sequence[MaxCutProblem],
    base: dict[str, Any],
    epochs: int,
    batch_size: int,
    threads: int,
) -> None:
    from ray import tune  # lazy: Ray is optional (the [ray] extra)

    # TensorFlow must load after the thread cap: it sizes its pools once, when it starts.
    limit_threads(threads)
    from qaoa_meta._tf import keras
    from qaoa_meta.meta import MetaConfig, MetaOptimizer, make_dataset
    from qaoa_meta.training import train as fit

    config = MetaConfig.from_options({**base, **params})
    model = MetaOptimizer(config)
    model.compile(**{k: params[k] for k in LEARNING_RATE_KEYS if k in params})
    report = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: tune.report(
            {
                "epoch": epoch + 1,
                "val_final_cost": float(logs["val_final_cost"]),
                "val_meta_loss": float(logs["val_meta_loss"]),
                "meta_config": config.to_json(None),
            }
        )
    )
    fit(
        model,
        make_dataset(train, config, batch_size=batch_size),
        make_dataset(val, config, batch_size=len(val)),
        epochs=epochs,
        callbacks=[report],
    )


def tune_meta(
    train: Sequence[MaxCutProblem],
    val: Sequence[MaxCutProblem],
    base_config: Mapping[str, Any],
    output: str | pathlib.Path,
    *,
    space: Mapping[str, Mapping[str, Any]] | None = None,
    samples: int = 8,
    epochs: int = 3,
    batch_size: int = 8,
    threads_per_trial: int = 1,
    workers: int | None = None,
    address: str | None = None,
    seed: int = 0,
) -> TuneResult:
    """Runs a Ray Tune search over meta-learner hyperparameters.

    Args:
        train: training problems.
        val: validation problems.
        base_config: :class:`MetaConfig` fields fixed for every trial (e.g. model, variant, p).
        output: folder for Ray's trial logs, ``best_config.json`` and ``trials.json``.
        space: plain search-space spec; default :data:`DEFAULT_SPACE`.
        samples: number of trials.
        epochs: training epochs per trial (a report after each).
        batch_size: problems per training step.
        threads_per_trial: CPU threads per trial.
        workers: local CPUs for Ray (default: all cores); ignored with ``address``.
        address: address of an existing Ray cluster.
        seed: seed of the search algorithm's sampling.
    """
    try:  # lazy: Ray is optional (the [ray] extra)
        from ray import tune
    except ImportError:
        raise ValueError("Hyperparameter search needs Ray: pip install 'qaoa-meta[ray]'.") from None
    # Lazy, like _trial's: Ray workers import this module, and TensorFlow must start there
    # only after limit_threads.
    from qaoa_meta.meta import MetaConfig

    if not train or not val:
        raise ValueError(f"Need training and validation problems, got {len(train)} and {len(val)}.")
    space = dict(DEFAULT_SPACE if space is None else space)
    allowed = ({f.name for f in dataclasses.fields(MetaConfig)} | set(LEARNING_RATE_KEYS)) - set(
        NOT_SEARCHABLE
    )
    unknown = set(space) - allowed
    if unknown:
        raise ValueError(
            f"Cannot search over {sorted(unknown)}; searchable keys: {sorted(allowed)}."
        )
    MetaConfig(**base_config)  # fail early on a bad base configuration
    param_space = search_space(space)
    output = pathlib.Path(output).resolve()
    with ray_session(workers, address, threads_per_trial):
        trainable = tune.with_resources(
            tune.with_parameters(
                _trial,
                train=list(train),
                val=list(val),
                base=dict(base_config),
                epochs=epochs,
                batch_size=batch_size,
                threads=threads_per_trial,
            ),
            {"cpu": threads_per_trial},
        )
        tuner = tune.Tuner(
            trainable,
            param_space=param_space,
            tune_config=tune.TuneConfig(
                metric="val_final_cost",
                mode="min",
                num_samples=samples,
                search_alg=tune.search.BasicVariantGenerator(random_state=seed),
            ),
            run_config=tune.RunConfig(
                name="meta_search", storage_path=str(output / "ray"), verbose=1
            ),
        )
        grid = tuner.fit()
    trials = []
    for result in grid:
        if result.error or not result.metrics:
            trials.append({"params": result.config, "error": str(result.error)})
            continue
        trials.append(
            {
                "params": result.config,
                "epochs": result.metrics["epoch"],
                "val_final_cost": result.metrics["val_final_cost"],
                "val_meta_loss": result.metrics["val_meta_loss"],
                "config": json.loads(result.metrics["meta_config"]),
            }
        )
    finished = [t for t in trials if "error" not in t]
    if not finished:
        raise RuntimeError(f"every trial failed; the first error: {trials[0]['error']}")
    best = min(finished, key=lambda t: t["val_final_cost"])
    outcome = TuneResult(
        best_params=best["params"],
        best_config=best["config"],
        best_val_final_cost=best["val_final_cost"],
        best_val_meta_loss=best["val_meta_loss"],
        trials=trials,
    )
    write_atomic(output / "trials.json", outcome.to_json())
    write_atomic(
        output / "best_config.json",
        json.dumps(
            {
                **best["config"],
                **{k: best["params"][k] for k in LEARNING_RATE_KEYS if k in best["params"]},
            },
            indent=1,
        ),
    )
    return outcome
