"""Learned initialisations under NISQ noise: noise-aware meta-training and the noise study.

* Noise-aware meta-training (:func:`train_meta`, :func:`noisy_meta_loss`, the TFQ noisy
  energy) lives in :mod:`qaoa_meta.noise_aware`; its names are re-exported here.
* :func:`noise_cell` is one cell of the noise-study grid, a pure sweep task
  ``(params, seed) -> dict`` (registered as ``noise`` in :data:`qaoa_meta.sweep.TASKS`):
  one instance, one initialiser, one noise level and shot budget, Phase II with a
  gradient-free optimiser on the noisy device, the approximation ratio against shots spent.
* :func:`summarize`, :func:`write_outputs` turn cell records into tables, plots and a JSON
  run record.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import hashlib
import json
import pathlib
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

from hardware import serialization
from hardware.template import compile_template
from qaoa_meta import initializer_names as registry
from qaoa_meta import initializers as ini
from qaoa_meta import qaoa
from qaoa_meta._tf import tf
from qaoa_meta.evaluate import package_versions
from qaoa_meta.fileio import atomic_path, write_atomic
from qaoa_meta.initializers import fit_initializer
from qaoa_meta.meta import meta_loss
from qaoa_meta.noise_aware import (
    TFQNoisyEnergy,
    encode_noisy,
    noisy_energy,
    noisy_meta_loss,
    train_meta,
)
from qaoa_meta.noisy import NoisyObjective, NoisyQAOA, NoisySetup, ShotEnergy, optimize_noisy
from qaoa_meta.optimize import SPSA
from qaoa_meta.problems import MaxCutProblem, as_generator, generate, max_cut
from qaoa_meta.report import _pyplot, _style
from qaoa_meta.studies.study_models import (
    load_study_model,
    load_training_data,
    model_directory,
    saved_model_directory,
    train_study_models,
)
from qaoa_meta.sweep import SweepConfig, load_records, run_sweep

SCHEMA_VERSION = 2
# The study's initialisers, from the registry (qaoa_meta.initializer_names): the nine of the
# full grid, classical then learned; "<learned>+noise-aware" adds a noise-aware model.
CLASSICAL = registry.STUDY_CLASSICAL
LEARNED = registry.STUDY_LEARNED
INITIALIZERS = registry.STUDY
NOISE_AWARE_SUFFIX = registry.NOISE_AWARE_SUFFIX
NOISE_SCALES = (0.0, 0.5, 1.0, 2.0)
DEFAULT_MODELS = str(
    pathlib.Path(__file__).resolve().parents[2] / "docs/records/noise_study_models"
)
SHOTS = (256, 1024, 4096)


def check_initializer(name: str) -> str:
    """The study label of ``name``: one of :data:`INITIALIZERS` or ``<learned>+noise-aware``;
    an alias (``fixed-angle-table``, ``feature-regression``) gives its canonical label.

    Args:
        name: an initialiser name or alias.

    Returns:
        The canonical study label.

    Raises:
        ValueError: one line listing the study's initialisers, for any other name.
    """
    return registry.study_name(name)


# --- noise-aware meta-training ---------------------------------------------------------------
def noise_spec(base: str, scale_factor: float) -> str:
    """The :func:`hardware.noise_from_spec` string for ``base`` scaled by ``scale_factor``.

    Args:
        base: a noise specification (e.g. ``"weber"``); ``""`` or ``"none"`` for none.
        scale_factor: the multiplier of every error rate, >= 0.

    Returns:
        ``"none"`` for factor 0 or no base, ``base`` for factor 1, else ``"<base>*<factor>"``.

    Raises:
        ValueError: for a negative factor.
    """
    if scale_factor < 0:
        raise ValueError(f"noise scale must be >= 0, got {scale_factor}.")
    if scale_factor == 0 or base in ("", "none"):
        return "none"
    return base if scale_factor == 1 else f"{base}*{scale_factor:g}"


# --- one cell of the study -------------------------------------------------------------------
@functools.lru_cache(maxsize=64)
def _problem(family: str, n: int, seed: int, options: str) -> MaxCutProblem:
    return generate(family, n, seed, **json.loads(options))


@functools.lru_cache(maxsize=32)
def _template(key: tuple, p: int, device: str, gateset: str, routing: str, seed: int):
    """The routed template of one instance: shared by every noise level, shot budget and
    initialiser of that instance (routing is the slow part)."""
    return compile_template(
        qaoa.qaoa_circuit(_problem(*key), p),
        device,
        gateset,
        symbols=qaoa.parameter_symbols(p),
        routing=routing,
        seed=int(as_generator(seed).integers(2**31 - 1)),
    )


@functools.lru_cache(maxsize=16)
def _noisy_circuit(key: tuple, p: int, setup: Any, seed: int):
    """The noisy circuit of one instance (``key`` of :func:`_problem`) and noise level,
    cached across the cells that share them."""
    template = _template(key, p, setup.device, setup.gateset, setup.routing, seed)
    return NoisyQAOA(_problem(*key), p, setup, seed, template=template)


def _learned_model(models: str, name: str, p: int):
    """The saved model of study initialiser ``name``, loaded once per process and weights."""
    return _load_learned_model(models, name, p, _weights_digest(models, name, p))


@functools.lru_cache(maxsize=16)
def _load_learned_model(models: str, name: str, p: int, weights: str):
    # ``weights`` keys the cache, so a model saved again under the same name is reloaded.
    base = name.removesuffix(NOISE_AWARE_SUFFIX)
    return load_study_model(models, base, p, noise_aware=name.endswith(NOISE_AWARE_SUFFIX))


def _weights_digest(models: Any, name: str, p: int) -> str:
    """SHA-256 of a saved model's weights pointer and the files of its weights version."""
    base = name.removesuffix(NOISE_AWARE_SUFFIX)
    directory = model_directory(models, base, p, name.endswith(NOISE_AWARE_SUFFIX))
    digest = hashlib.sha256()
    for path in [directory / "weights.json", *sorted(directory.glob("weights-*/*"))]:
        if path.is_file():  # a missing model is reported by load_study_model
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _initializer(name: str, p: int, params: Mapping[str, Any], seed: int, objective):
    """The study initialiser ``name`` as an :class:`qaoa_meta.initializers.Initializer`,
    as the evaluation harness uses them; a learned one runs Phase I on ``objective``'s shot
    estimates (its queries are counted there)."""
    name = check_initializer(name)
    if name == "random":
        return ini.RandomInitializer(seed)
    if name == "fixed-angle":
        return ini.make_initializer("fixed-angle")
    if name in ("regression", "fitted-fixed-angle"):
        path = pathlib.Path(params["artifacts"]) / f"{name}_p{p}.json"
        if not path.exists():
            raise FileNotFoundError(
                f"{path} is missing; qaoa_meta.studies.noise_study.prepare_artifacts fits it "
                "(qaoa-meta noise-study does this first)."
            )
        return ini.initializer_from_config(json.loads(path.read_text()))
    model = _learned_model(str(params.get("models", DEFAULT_MODELS)), name, p)
    # One ShotEnergy stays on the cached model, its objective swapped per cell: installing
    # a new energy would retrace the model's rollout (seconds per cell).
    energy = model.energy_fn if isinstance(model.energy_fn, ShotEnergy) else ShotEnergy()
    energy.objective = objective
    return ini.LearnedInitializer(model, name=name, energy=energy, keep_energy=True)


def noise_cell(params: dict[str, Any], seed: int) -> dict[str, Any]:
    """One noise-study cell: instance ``seed`` of the family, one initialiser and noise level.

    The noisy circuit is the route-once template (the resolved compile's native count)
    with numba trajectories; compiled circuits are cached across the cells of an instance.

    Args:
        params: ``n``, ``p``, ``initializer`` (see :func:`check_initializer`),
            ``noise_scale`` (× ``noise``, default ``weber``), ``shots`` per evaluation,
            ``iterations`` (SPSA iterations, default 10), ``family`` (default
            ``random_regular``, ``d`` 3), ``device``, ``gateset``, ``trajectories``,
            ``eval_trajectories``, ``artifacts`` (fitted classical initialisers), ``models``
            (trained meta-learners, :mod:`qaoa_meta.studies.study_models`).
        seed: the instance seed (the generated graph) and the seed of the cell's
            randomness.

    Returns:
        A JSON-ready dict: the AR (noiseless ⟨C⟩/max-cut of the current θ, and the noisy
        ⟨C⟩/max-cut at the start and end, raw and readout-mitigated from the same noisy
        distribution) against cumulative shots, plus every counter.

    Raises:
        KeyError: when ``n``, ``p`` or ``initializer`` is missing.
        ValueError: for an unknown initialiser or a bad noise scale.
        FileNotFoundError: when a fitted initialiser or trained model is missing.
    """
    start = time.perf_counter()
    options = dict(params)
    n, p = int(options["n"]), int(options["p"])
    name = check_initializer(options["initializer"])
    family = options.get("family", "random_regular")
    family_options = json.dumps(dict(options.get("family_options", {"d": 3})), sort_keys=True)
    key = (family, n, int(seed), family_options)
    problem = _problem(*key)
    cut = max_cut(problem).value
    setup = NoisySetup(
        device=options.get("device", "weber"),
        gateset=options.get("gateset", "sqrt_iswap"),
        noise=noise_spec(options.get("noise", "weber"), float(options["noise_scale"])),
        shots=int(options["shots"]),
        mitigate_readout=bool(options.get("mitigate_readout", False)),
        trajectories=int(options.get("trajectories", 16)),
    )
    built = time.perf_counter()
    circuit = _noisy_circuit(key, p, dataclasses.replace(setup, shots=1), int(seed))
    built = time.perf_counter() - built
    objective = NoisyObjective(circuit, shots=setup.shots, seed=seed + 7919)
    initializer = _initializer(name, p, options, seed, objective)
    theta0 = initializer(problem, p)
    trajectory = initializer.phase1([problem], p)
    phase1 = [] if trajectory is None else trajectory.theta[0].astype(float).tolist()
    if trajectory is not None:
        initializer.energy.objective = None  # Phase I is over: no later query may count
    phase1_shots = objective.shots_used
    optimizer = SPSA(max_iter=int(options.get("iterations", 10)), a=0.1, c=0.1)
    result = optimize_noisy(optimizer, objective, theta0, seed)
    # The objective counted Phase I too: the trace's costs already include its estimates.
    costs = np.asarray(result.trace_evaluations) * setup.shots
    noisy_trajectories = int(options.get("eval_trajectories", 64))
    ends = {}
    for label, theta in (("init", theta0), ("final", result.params)):
        # raw and mitigated from the same trajectories (what two seeded calls gave, at half cost)
        raw, mitigated = circuit.expectations(theta, noisy_trajectories)
        ends[f"ar_noisy_{label}"] = raw / cut
        ends[f"ar_noisy_{label}_mitigated"] = mitigated / cut
    return {
        "schema_version": SCHEMA_VERSION,
        "problem": problem.to_dict(),
        "max_cut": cut,
        "setup": dataclasses.asdict(setup),
        "compiled": circuit.summary(),
        "theta0": np.asarray(theta0, float).tolist(),
        "theta": np.asarray(result.params, float).tolist(),
        "phase1_theta": phase1,
        "phase1_shots": int(phase1_shots),
        "ar_ideal_trace": (np.asarray(result.trace_values) / cut).tolist(),
        "shots_trace": costs.astype(int).tolist(),
        "ar_ideal_init": float(result.trace_values[0] / cut),
        "ar_ideal_final": float(result.value / cut),
        **ends,
        "counters": objective.counters(),
        "total_shots": int(objective.shots_used),
        "optimizer": optimizer.config(),
        "setup_s": built,
        "wall_s": time.perf_counter() - start,
    }


# --- artifacts: fitted and learned initialisers ----------------------------------------------
def _say(line: str) -> None:
    """A progress line, flushed at once (a log file shows it while the study runs)."""
    print(line, flush=True)


def prepare_artifacts(
    output: str | pathlib.Path,
    study: StudyConfig,
    *,
    progress: bool = True,
    log: Any = None,
) -> dict[str, Any]:
    """Fits the classical initialisers and makes sure the learned ones exist, per depth.

    What is made is what the study's ``initializers`` need, for each of its depths ``ps``.
    ``regression`` (:class:`~qaoa_meta.initializers.FeatureRegression`) and
    ``fitted-fixed-angle`` (:class:`~qaoa_meta.initializers.FittedFixedAngle`) are fitted on
    the paper's training graphs (the learned models' data; the study's ``train_size`` keeps
    the first graphs only) into ``output``; the learned models (and their noise-aware copies,
    on the study's ``device`` and ``noise``) come from
    :func:`qaoa_meta.studies.study_models.train_study_models` into the study's ``models``,
    which skips the ones already saved (``train_models=False``: use what is there).

    Args:
        output: directory for the fitted classical initialisers (``<name>_p<p>.json``;
            existing files are kept).
        study: the study whose initialisers are made (:class:`StudyConfig`).
        progress: log the learned models' training progress.
        log: where progress lines go (None: printed, flushed at once).

    Returns:
        ``{"timings_s", "models"}``, plus ``train_graphs`` when classical initialisers were
        fitted and ``learned`` (the manifest) when learned models were trained or loaded.

    Raises:
        ValueError: as :func:`~qaoa_meta.studies.study_models.train_study_models` (the
            study's initialisers were checked when it was made).
    """
    log = log or _say
    if not study.train_models:  # before minutes of fitting, not after them
        check_saved_models(study)
    output = pathlib.Path(output)
    output.mkdir(parents=True, exist_ok=True)
    info: dict[str, Any] = {"timings_s": {}, "models": str(study.models)}
    classical = [name for name in registry.FITTED if name in study.initializers]
    if classical:
        train = load_training_data()[0]
        train = train[: study.train_size] if study.train_size else train
        info["train_graphs"] = len(train)
        for p in study.ps:
            for name in classical:
                path = output / f"{name}_p{p}.json"
                if path.exists():
                    continue
                t0 = time.perf_counter()
                fitted = fit_initializer(name, train, p)
                write_atomic(path, json.dumps(fitted.config()))
                info["timings_s"][f"{name}_p{p}"] = time.perf_counter() - t0
                log(f"fitted {name} p={p} on {len(train)} training graphs")
    learned = sorted(
        {n.removesuffix(NOISE_AWARE_SUFFIX) for n in study.initializers if n not in CLASSICAL}
    )
    if learned and study.train_models:
        noise_aware = any(n.endswith(NOISE_AWARE_SUFFIX) for n in study.initializers)
        t0 = time.perf_counter()
        info["learned"] = train_study_models(
            study.models,
            study.ps,
            noise_aware=noise_aware,
            device=study.device,
            noise=study.noise,
            names=learned,
            progress=progress,
            log=log,
        )
        info["timings_s"]["learned"] = time.perf_counter() - t0
    return info


def check_saved_models(study: StudyConfig) -> None:
    """Checks that every learned initialiser of ``study`` is saved in its ``models``, at each
    of its depths (what ``train_models=False`` relies on), before any cell runs.

    Args:
        study: the study.

    Raises:
        FileNotFoundError: for the first model missing, naming it and the command that
            trains it (:func:`~qaoa_meta.studies.study_models.saved_model_directory`).
    """
    for name in study.initializers:
        if name in CLASSICAL:
            continue
        base = name.removesuffix(NOISE_AWARE_SUFFIX)
        for p in study.ps:
            saved_model_directory(study.models, base, p, name.endswith(NOISE_AWARE_SUFFIX))


def compare_models(
    models: str | pathlib.Path,
    ps: Sequence[int],
    problems: Sequence[MaxCutProblem],
    setup: Any,
    names: Sequence[str],
    repetitions: int | None = None,
    *,
    cache: str | pathlib.Path | None = None,
    log: Any = None,
) -> list[dict[str, Any]]:
    """Meta-loss and final ⟨C⟩/max-cut of learned models, noiseless and under ``setup``.

    The noisy numbers use the exact noisy energy of TFQ's approximation of the noise
    (``repetitions=None``, density matrix; registers of at most 8 qubits) or TFQ trajectories,
    i.e. the objective the noise-aware models were trained on, on problems no model saw.
    A model's noisy rollout takes about half a minute at n = 8, so each finished row is
    saved to ``cache`` at once and reused when the same model (same saved weights) is scored
    on the same problems and setup again: a re-run study does not repeat the comparison.

    Args:
        models: the study-model directory.
        ps: the depths.
        problems: the problems to score.
        setup: the :class:`qaoa_meta.noisy.NoisySetup` of the noisy numbers.
        names: study initialiser names of learned models (``<model>`` or
            ``<model>+noise-aware``); models not saved are skipped.
        repetitions: TFQ trajectories per expectation, or None for the exact noisy energy.
        cache: a JSON file of rows already scored (read if it exists, rewritten atomically
            after every new row), or None to score everything.
        log: called with one progress line per model (its row and seconds), or None.

    Returns:
        One row per saved (p, model): ``p``, ``model``, ``meta_loss_noiseless``,
        ``meta_loss_noisy``, ``final_ar_noiseless``, ``final_ar_noisy``.
    """
    cuts = np.array([max_cut(pr).value for pr in problems])
    cache = pathlib.Path(cache) if cache is not None else None
    scored = _read_cache(cache)
    setting = {
        "problems": [pr.to_dict() for pr in problems],
        "setup": setup.to_dict(),
        "repetitions": repetitions,
    }
    selected = [(p, name) for p in ps for name in names]
    rows = []
    for count, (p, name) in enumerate(selected, 1):
        weights = _weights_digest(models, name, p)
        key = _comparison_key(setting, name, p, weights)
        if key in scored:  # scored rows name saved weights: no model is loaded for them
            rows.append(scored[key])
            if log is not None:
                log(f"model comparison {count}/{len(selected)}: {name} p={p}, from {cache}")
            continue
        try:
            model = _load_learned_model(str(models), name, p, weights)
        except FileNotFoundError:
            continue
        start = time.perf_counter()
        model.set_energy(None)  # a study cell may have left its shot energy installed
        exact = model.rollout(list(problems))
        data = encode_noisy(problems, model.config, setup)
        model.set_energy(noisy_energy(data, p, repetitions))
        try:
            costs = model.rollout_tensors({k: tf.constant(v) for k, v in data.items()}).cost
        finally:
            model.set_energy(None)
        rows.append(
            {
                "p": p,
                "model": name,
                "meta_loss_noiseless": float(
                    tf.reduce_mean(meta_loss(tf.constant(exact.cost), model.config.loss))
                ),
                "meta_loss_noisy": float(tf.reduce_mean(meta_loss(costs, model.config.loss))),
                "final_ar_noiseless": float(np.mean(exact.expectation[:, -1] / cuts)),
                "final_ar_noisy": float(np.mean(-costs.numpy()[:, -1] / cuts)),
            }
        )
        if cache is not None:
            scored[key] = rows[-1]
            write_atomic(cache, json.dumps(scored, indent=1))
        if log is not None:
            log(
                f"model comparison {count}/{len(selected)}: {name} p={p}, noisy final AR "
                f"{rows[-1]['final_ar_noisy']:.4f} ({time.perf_counter() - start:.0f} s)"
            )
    return rows


def _read_cache(cache: pathlib.Path | None) -> dict[str, Any]:
    """The rows saved in ``cache``; an unreadable cache is ignored (it is only a cache)."""
    if cache is None or not cache.exists():
        return {}
    try:
        scored = json.loads(cache.read_text())
    except (OSError, json.JSONDecodeError) as error:
        warnings.warn(
            f"Ignoring the unreadable model-comparison cache {cache}: {error}", stacklevel=3
        )
        return {}
    return scored if isinstance(scored, dict) else {}


def _comparison_key(setting: Mapping[str, Any], name: str, p: int, weights: str) -> str:
    """Digest of what a comparison row depends on: problems, setup, model and its weights
    (:func:`_weights_digest`)."""
    text = json.dumps({**setting, "model": name, "p": p, "weights": weights}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


# --- summaries -------------------------------------------------------------------------------
AR_KEYS = (
    "ar_noisy_init",
    "ar_noisy_final",
    "ar_noisy_init_mitigated",
    "ar_noisy_final_mitigated",
    "ar_ideal_init",
    "ar_ideal_final",
)


def summarize(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per (n, p, noise scale, shots, initialiser): means and standard errors.

    Args:
        records: sweep cell records; only those with ``status == "ok"`` count.

    Returns:
        Rows sorted by that key, with the AR means and their ``_se`` standard errors.
    """
    groups: dict[tuple, list[Mapping[str, Any]]] = {}
    for record in records:
        if record.get("status") != "ok":
            continue
        cell = record["cell"]["params"]
        key = (
            cell["n"],
            cell["p"],
            float(cell["noise_scale"]),
            cell["shots"],
            cell["initializer"],
        )
        groups.setdefault(key, []).append(record["result"])
    rows = []
    for (n, p, scale_, shots, name), results in sorted(groups.items()):
        row = {
            "n": n,
            "p": p,
            "noise_scale": scale_,
            "shots": shots,
            "initializer": name,
            "runs": len(results),
        }
        for key in AR_KEYS:
            values = np.array([r.get(key, np.nan) for r in results], float)
            row[key] = float(values.mean())
            row[key + "_se"] = (
                float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0
            )
        row["total_shots"] = float(np.mean([r["total_shots"] for r in results]))
        row["phase1_shots"] = float(np.mean([r["phase1_shots"] for r in results]))
        rows.append(row)
    return rows


def paired_differences(
    records: Sequence[Mapping[str, Any]],
    first: str = "qk-lstm",
    second: str = "fitted-fixed-angle",
    keys: Sequence[str] = ("ar_noisy_init", "ar_noisy_final"),
) -> list[dict[str, Any]]:
    """``first − second`` per (n, p, noise scale, shots), paired by instance seed: mean ± s.e.

    Args:
        records: sweep cell records; only those with ``status == "ok"`` count.
        first: the initialiser subtracted from.
        second: the initialiser subtracted.
        keys: the result entries compared.

    Returns:
        One row per key tuple with at least one seed run by both initialisers.
    """
    table: dict[tuple, dict[str, dict[int, Mapping[str, Any]]]] = {}
    for record in records:
        if record.get("status") != "ok":
            continue
        cell = record["cell"]["params"]
        if cell["initializer"] not in (first, second):
            continue
        key = (cell["n"], cell["p"], float(cell["noise_scale"]), cell["shots"])
        table.setdefault(key, {}).setdefault(cell["initializer"], {})[record["cell"]["seed"]] = (
            record["result"]
        )
    rows = []
    for (n, p, scale_, shots), by_name in sorted(table.items()):
        seeds = sorted(set(by_name.get(first, {})) & set(by_name.get(second, {})))
        if not seeds:
            continue
        row = {
            "first": first,
            "second": second,
            "n": n,
            "p": p,
            "noise_scale": scale_,
            "shots": shots,
            "pairs": len(seeds),
        }
        for key in keys:
            diff = np.array([by_name[first][s][key] - by_name[second][s][key] for s in seeds])
            row[key] = float(diff.mean())
            row[key + "_se"] = (
                float(diff.std(ddof=1) / np.sqrt(diff.size)) if diff.size > 1 else 0.0
            )
            row[key + "_p"] = _paired_p_value(diff)
        rows.append(row)
    return rows


def _paired_p_value(diff: np.ndarray) -> float:
    """Two-sided paired t-test p-value of mean(diff) = 0 (NaN below two pairs)."""
    if diff.size < 2 or np.allclose(diff, diff[0]):
        return float("nan") if diff.size < 2 else (1.0 if abs(diff[0]) < 1e-15 else 0.0)
    return float(stats.ttest_1samp(diff, 0.0).pvalue)


def shots_to_target(
    records: Sequence[Mapping[str, Any]], fraction: float = 0.95
) -> list[dict[str, Any]]:
    """Shots each initialiser needs until the noiseless AR of its current θ reaches a target.

    The target of an instance is ``fraction`` × the best noiseless AR any cell reached on it
    (same n, p and seed, any initialiser, noise level or budget).

    Args:
        records: sweep cell records; only those with ``status == "ok"`` count.
        fraction: the target as a fraction of the instance's best noiseless AR.

    Returns:
        Rows of the mean shots over the runs that reached the target, how many did, and the
        mean target.
    """
    ok = [r for r in records if r.get("status") == "ok"]
    best: dict[tuple, float] = {}
    for r in ok:
        c = r["cell"]["params"]
        key = (c["n"], c["p"], r["cell"]["seed"])
        best[key] = max(best.get(key, 0.0), max(r["result"]["ar_ideal_trace"]))
    groups: dict[tuple, list[tuple[float, float]]] = {}
    for r in ok:
        c = r["cell"]["params"]
        target = fraction * best[(c["n"], c["p"], r["cell"]["seed"])]
        trace = np.asarray(r["result"]["ar_ideal_trace"])
        shots = np.asarray(r["result"]["shots_trace"])
        hit = np.flatnonzero(trace >= target)
        key = (c["n"], c["p"], float(c["noise_scale"]), c["shots"], c["initializer"])
        groups.setdefault(key, []).append((float(shots[hit[0]]) if hit.size else np.nan, target))
    rows = []
    for (n, p, scale_, shots, name), pairs in sorted(groups.items()):
        values = np.asarray([v for v, _ in pairs])
        reached = values[~np.isnan(values)]
        rows.append(
            {
                "n": n,
                "p": p,
                "noise_scale": scale_,
                "shots": shots,
                "initializer": name,
                "target_ar": float(np.mean([t for _, t in pairs])),
                "reached": int(reached.size),
                "runs": int(values.size),
                "mean_shots": float(reached.mean()) if reached.size else float("nan"),
            }
        )
    return rows


TABLE_COLUMNS = (
    "n",
    "p",
    "noise_scale",
    "shots",
    "initializer",
    "runs",
    "ar_noisy_init",
    "ar_noisy_final",
    "ar_noisy_final_mitigated",
    "ar_ideal_init",
    "ar_ideal_final",
    "total_shots",
)


def initializer_order(names) -> list[str]:
    """Study initialisers in table order: classical, learned, then noise-aware copies.

    Args:
        names: study labels (duplicates are dropped).

    Returns:
        The distinct names, in :data:`INITIALIZERS` order within each group; unknown names
        last, alphabetically.
    """
    rank = {name: i for i, name in enumerate(INITIALIZERS)}
    return sorted(
        set(names),
        key=lambda n: (
            n.endswith(NOISE_AWARE_SUFFIX),
            rank.get(n.removesuffix(NOISE_AWARE_SUFFIX), 99),
            n,
        ),
    )


def markdown_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """Markdown table of :func:`summarize` rows (AR as mean ± standard error).

    Args:
        rows: rows of :func:`summarize`.

    Returns:
        The table text, ending with a newline.

    Raises:
        KeyError: when a row lacks a column of ``TABLE_COLUMNS``.
    """
    head = "| " + " | ".join(TABLE_COLUMNS) + " |\n|" + "---|" * len(TABLE_COLUMNS) + "\n"
    lines = []
    for row in rows:
        cells = []
        for column in TABLE_COLUMNS:
            value = row[column]
            if column.startswith("ar_"):
                cells.append(f"{value:.3f} ± {row[column + '_se']:.3f}")
            elif column == "total_shots":
                cells.append(f"{value:.0f}")
            else:
                cells.append(str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return head + "\n".join(lines) + "\n"


def _curve(results: Sequence[Mapping[str, Any]], grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean ± s.e. of the ideal AR of the current θ against cumulative shots (held steps)."""
    curves = []
    for r in results:
        shots = np.asarray(r["shots_trace"], float)
        values = np.asarray(r["ar_ideal_trace"], float)
        index = np.searchsorted(shots, grid, side="right") - 1
        curves.append(np.where(index >= 0, values[np.clip(index, 0, None)], np.nan))
    curves = np.array(curves)
    count = np.sum(~np.isnan(curves), axis=0)
    with warnings.catch_warnings():  # columns before any run's first point are all NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(curves, axis=0)
        se = np.nanstd(curves, axis=0, ddof=1) / np.sqrt(np.maximum(count, 1))
    return mean, np.nan_to_num(se) if len(curves) > 1 else np.zeros_like(mean)


def _save_figure(fig, path: str | pathlib.Path) -> pathlib.Path:
    """Writes ``fig`` atomically (the format from the suffix, png without one), closes it."""
    path = pathlib.Path(path)
    with atomic_path(path) as temporary:
        fig.savefig(temporary, dpi=120, format=path.suffix.lstrip(".") or "png")
    _pyplot().close(fig)
    return path


def plot_ar_vs_shots(
    records: Sequence[Mapping[str, Any]],
    path: str | pathlib.Path,
    noise_scale: float,
    p: int,
    n: int | None = None,
) -> pathlib.Path:
    """AR of the current θ against total shots, one panel per shot budget, per initialiser
    (cells of size ``n`` only, when given).

    Args:
        records: sweep cell records; only those with ``status == "ok"`` count.
        path: the image file.
        noise_scale: the noise level of the cells drawn.
        p: the depth of the cells drawn.
        n: the size of the cells drawn; None for all.

    Returns:
        ``path`` as a :class:`pathlib.Path`.
    """
    plt = _pyplot()
    ok = [
        r
        for r in records
        if r.get("status") == "ok"
        and float(r["cell"]["params"]["noise_scale"]) == noise_scale
        and int(r["cell"]["params"]["p"]) == p
        and (n is None or int(r["cell"]["params"]["n"]) == n)
    ]
    budgets = sorted({r["cell"]["params"]["shots"] for r in ok})
    panels = max(1, len(budgets))
    cols = 1 if panels == 1 else 2
    rows = -(-panels // cols)
    spare = rows * cols > panels  # an empty panel holds the legend
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(4.8 * cols, 3.2 * rows + (0 if spare else 0.8)),
        squeeze=False,
        sharey=True,
        layout="constrained",
    )
    for ax, shots in zip(axes.flat, budgets, strict=False):
        chosen = [r for r in ok if r["cell"]["params"]["shots"] == shots]
        top = max(r["result"]["shots_trace"][-1] for r in chosen)
        grid = np.linspace(0, top, 60)
        names = initializer_order(r["cell"]["params"]["initializer"] for r in ok)
        for index, name in enumerate(names):
            results = [r["result"] for r in chosen if r["cell"]["params"]["initializer"] == name]
            if not results:
                continue
            mean, se = _curve(results, grid)
            style = _style(index)
            every = 10  # staggered markers: overlapping curves stay visible
            start = index * every // len(names)
            ax.plot(grid, mean, label=name, lw=1.5, ms=5, markevery=(start, every), **style)
            ax.fill_between(grid, mean - se, mean + se, alpha=0.12, color=style["color"], lw=0)
        ax.set_title(f"{shots} shots per evaluation")
        ax.set_xlabel("total shots (Phase I + Phase II)")
        ax.grid(alpha=0.3)
    for ax in axes[:, 0]:
        ax.set_ylabel("noiseless AR of current θ")
    size = "" if n is None else f"n = {n}, "
    fig.suptitle(f"noise {noise_scale:g}× weber, {size}p = {p} (mean, band ±1 s.e. over instances)")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if spare:
        for ax in list(axes.flat)[len(budgets) :]:
            ax.axis("off")
        axes.flat[-1].legend(handles, labels, loc="center", fontsize=9, title="initialiser")
    else:
        fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=9)
    return _save_figure(fig, path)


def plot_ar_vs_noise(
    rows: Sequence[Mapping[str, Any]],
    path: str | pathlib.Path,
    n: int | None = None,
    p: int | None = None,
) -> pathlib.Path:
    """Final noisy AR (measured on the noisy device) against noise scale, per initialiser
    (rows of size ``n`` and depth ``p`` only, when given; otherwise they must be one size
    and depth, or the means would mix them).

    Args:
        rows: rows of :func:`summarize`.
        path: the image file.
        n: the size drawn; None for all.
        p: the depth drawn; None for all.

    Returns:
        ``path`` as a :class:`pathlib.Path`.
    """
    rows = [r for r in rows if (n is None or r["n"] == n) and (p is None or r["p"] == p)]
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9.6, 4.4), sharey=True, layout="constrained")
    every_scale = sorted({float(r["noise_scale"]) for r in rows})
    # initialisers side by side at each noise level, so their error bars do not overlap
    span = every_scale[-1] - every_scale[0] if len(every_scale) > 1 else 1.0
    dodge = 0.018 * span
    names = initializer_order(r["initializer"] for r in rows)
    for ax, key, title in (
        (axes[0], "ar_noisy_final", "noisy AR after Phase II"),
        (axes[1], "ar_ideal_final", "noiseless AR of final θ"),
    ):
        for index, name in enumerate(names):
            chosen = [r for r in rows if r["initializer"] == name]
            scales = sorted({r["noise_scale"] for r in chosen})
            if not scales:
                continue
            mean = [np.mean([r[key] for r in chosen if r["noise_scale"] == s]) for s in scales]
            se = [
                np.sqrt(np.mean([r[key + "_se"] ** 2 for r in chosen if r["noise_scale"] == s]))
                for s in scales
            ]
            shift = (index - (len(names) - 1) / 2) * dodge
            x = np.asarray(scales, float) + shift
            ax.errorbar(x, mean, yerr=se, capsize=3, lw=1.5, ms=6, label=name, **_style(index))
        ax.set_xlabel("noise scale (× weber calibration)")
        ax.set_xticks(every_scale, [f"{s:g}" for s in every_scale])
        ax.set_title(title)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("approximation ratio (mean ± s.e. over instances)")
    if n is not None and p is not None:
        fig.suptitle(f"3-regular, n = {n}, p = {p}, weber noise")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=min(5, len(labels)), fontsize=9)
    return _save_figure(fig, path)


def shots_cell(mean: float) -> str:
    """A mean shot count as the tables show it.

    Args:
        mean: a ``mean_shots`` of :func:`shots_to_target` (NaN where no run reached the
            target).

    Returns:
        The count rounded to a whole shot, or a dash for NaN.
    """
    return "—" if np.isnan(mean) else f"{mean:.0f}"


def write_outputs(
    output: str | pathlib.Path,
    records: Sequence[Mapping[str, Any]],
    run_info: Mapping[str, Any],
    figures: str | pathlib.Path | None = None,
) -> dict[str, str]:
    """Writes ``summary.md``, ``summary.csv``, ``run_record.json`` and PNG plots.

    Args:
        output: directory of the tables and the run record.
        records: sweep cell records.
        run_info: entries of the run record (config, timings, ``model_comparison`` rows,
            which are added to the Markdown table).
        figures: directory of the PNG plots; None for ``output``.

    Returns:
        ``{"table", "csv", "run_record", <figure name>: path}`` as strings.
    """
    output = pathlib.Path(output)
    figures = pathlib.Path(figures) if figures else output
    rows = summarize(records)
    text = markdown_table(rows)
    comparison = run_info.get("model_comparison")
    if comparison:
        text += "\n| p | model | meta-loss noiseless | meta-loss noisy | final AR noiseless | final AR noisy |\n"
        text += "|---|---|---|---|---|---|\n"
        for row in comparison:
            text += (
                f"| {row['p']} | {row['model']} | {row['meta_loss_noiseless']:.4f} | "
                f"{row['meta_loss_noisy']:.4f} | {row['final_ar_noiseless']:.4f} | "
                f"{row['final_ar_noisy']:.4f} |\n"
            )
    names = initializer_order(
        r["cell"]["params"]["initializer"] for r in records if r.get("status") == "ok"
    )
    comparisons = [(name, "fitted-fixed-angle") for name in names if name not in CLASSICAL]
    comparisons += [
        (name, name.removesuffix(NOISE_AWARE_SUFFIX))
        for name in names
        if name.endswith(NOISE_AWARE_SUFFIX)
    ]
    pairs = [row for a, b in comparisons for row in paired_differences(records, a, b)]
    if pairs:
        text += (
            "\nPaired differences by instance (mean ± s.e., two-sided paired t-test p):\n\n"
            "| comparison | n | p | noise | shots | pairs | Δ noisy AR start | p | "
            "Δ noisy AR final | p |\n|---|---|---|---|---|---|---|---|---|---|\n"
        )
        for row in pairs:
            text += (
                f"| {row['first']} − {row['second']} | {row['n']} | {row['p']} | "
                f"{row['noise_scale']:g} | {row['shots']} | {row['pairs']} | "
                f"{row['ar_noisy_init']:+.3f} ± {row['ar_noisy_init_se']:.3f} | "
                f"{row['ar_noisy_init_p']:.2g} | "
                f"{row['ar_noisy_final']:+.3f} ± {row['ar_noisy_final_se']:.3f} | "
                f"{row['ar_noisy_final_p']:.2g} |\n"
            )
    budget = shots_to_target(records)
    if budget:
        text += (
            f"\nShots until the noiseless AR of the current θ reaches "
            f"{0.95:.0%} of the best AR seen on that instance (mean over the runs that "
            "reached it, — where none did; target: mean over instances):\n\n"
            "| n | p | noise | shots/eval | initializer | target AR | reached | "
            "mean shots |\n|---|---|---|---|---|---|---|---|\n"
        )
        for row in budget:
            text += (
                f"| {row['n']} | {row['p']} | {row['noise_scale']:g} | {row['shots']} | "
                f"{row['initializer']} | {row['target_ar']:.3f} | {row['reached']}/{row['runs']} | "
                f"{shots_cell(row['mean_shots'])} |\n"
            )
    write_atomic(output / "summary.md", text)
    with (
        atomic_path(output / "summary.csv") as temporary,
        open(temporary, "w", newline="") as stream,
    ):
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]) if rows else list(TABLE_COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
    paths = {"table": str(output / "summary.md"), "csv": str(output / "summary.csv")}
    cells = [r["cell"]["params"] for r in records if r.get("status") == "ok"]
    sizes = sorted({(c["n"], c["p"]) for c in cells})
    for n, p in sizes:
        # one size: the short names of the reduced study; several: n in every name
        tag = f"p{p}" if len(sizes) == 1 else f"n{n}_p{p}"
        for scale_ in sorted(
            {float(c["noise_scale"]) for c in cells if (c["n"], c["p"]) == (n, p)}
        ):
            name = f"noise_ar_vs_shots_{tag}_x{scale_:g}.png"
            paths[name] = str(plot_ar_vs_shots(records, figures / name, scale_, p, n))
        name = "noise_ar_vs_noise.png" if len(sizes) == 1 else f"noise_ar_vs_noise_{tag}.png"
        paths[name] = str(plot_ar_vs_noise(rows, figures / name, n, p))

    record = {
        "schema_version": SCHEMA_VERSION,
        **run_info,
        "versions": package_versions(),
        "summary": rows,
        "paired": pairs,
        "shots_to_target": budget,
        "cells": list(records),
    }
    write_atomic(output / "run_record.json", json.dumps(record, indent=1))
    paths["run_record"] = str(output / "run_record.json")
    return paths


__all__ = [
    "CLASSICAL",
    "INITIALIZERS",
    "LEARNED",
    "check_initializer",
    "initializer_order",
    "check_saved_models",
    "shots_cell",
    "shots_to_target",
    "NOISE_SCALES",
    "SHOTS",
    "FULL_STUDY",
    "REDUCED_STUDY",
    "StudyConfig",
    "busy_seconds",
    # from qaoa_meta.noise_aware, where they live
    "TFQNoisyEnergy",
    "compare_models",
    "encode_noisy",
    "markdown_table",
    "merge_studies",
    "noise_cell",
    "noise_spec",
    "noisy_meta_loss",
    "paired_differences",
    "plot_ar_vs_noise",
    "plot_ar_vs_shots",
    "prepare_artifacts",
    "run_study",
    "summarize",
    "train_meta",
    "write_outputs",
]


def _span(records: Sequence[Mapping[str, Any]]) -> float:
    """Seconds from the first cell's start to the last cell's end (0 without timestamps)."""
    starts = [r["started_unix"] for r in records if "started_unix" in r]
    ends = [r["finished_unix"] for r in records if "finished_unix" in r]
    return float(max(ends) - min(starts)) if starts and ends else 0.0


def busy_seconds(records: Sequence[Mapping[str, Any]]) -> float:
    """Seconds during which at least one cell ran: the length of the union of the cells'
    [start, end] intervals (parts run side by side count once, hours between parts not).

    Args:
        records: cell records; those without ``started_unix`` and ``finished_unix`` are
            skipped.

    Returns:
        The seconds (0.0 for no timed record).
    """
    intervals = sorted(
        (r["started_unix"], r["finished_unix"])
        for r in records
        if "started_unix" in r and "finished_unix" in r
    )
    total, current_start, current_end = 0.0, None, None
    for start, end in intervals:
        if current_end is None or start > current_end:
            if current_end is not None:
                total += current_end - current_start
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_end is not None:
        total += current_end - current_start
    return float(total)


def merge_studies(
    runs: Sequence[str | pathlib.Path],
    output: str | pathlib.Path,
    figures: str | pathlib.Path | None = None,
) -> dict[str, str]:
    """Tables, figures and one run record from several study outputs (parts of one grid).

    Each part is a :func:`run_study` output (its ``run_record.json``, or only its sweep
    configuration and cell records when the run has not written its outputs yet); the merged
    record lists the parts with their grids and spans, ``grid_wall_s`` is the wall clock during
    which cells ran (:func:`busy_seconds` of the cells' timestamps: parts run side by side
    count once, and parts run hours apart do not count the hours between them),
    ``grid_span_s`` the first cell's start to the last cell's end, and ``cell_seconds`` the
    sum of the cells' times.

    Args:
        runs: the study output directories.
        output: directory of the merged tables and run record.
        figures: directory of the plots; None for ``output``.

    Returns:
        The paths written, as :func:`write_outputs`.
    """
    records, parts, comparison = [], [], []
    for run in runs:
        run = pathlib.Path(run)
        path = run / "run_record.json"
        if path.exists():
            info = json.loads(path.read_text())
        elif (run / "sweep.json").exists():  # cells finished, outputs not written yet
            info = {"study": json.loads((run / "sweep.json").read_text())}
        else:
            raise FileNotFoundError(
                f"{path} is missing (and no sweep.json); run the study there first (run_study)."
            )
        part = load_records(run)
        records.extend(part)
        parts.append(
            {
                "output": str(run),
                "study": info["study"],
                "grid_wall_s": info.get("grid_wall_s"),
                "span_s": _span(part),
                "sweep": info.get("sweep"),
                "cells": info.get("cells_total"),
                "training": info.get("training"),
            }
        )
        comparison.extend(info.get("model_comparison") or [])
    run_info = {
        "parts": parts,
        # the cells' own timestamps are the truth: parts may run side by side, be resumed,
        # or run on different days
        "grid_wall_s": busy_seconds(records),
        "grid_span_s": _span(records),
        "cell_seconds": float(sum(r.get("wall_s", 0.0) for r in records)),
        "model_comparison": comparison,
        "cells_total": len(records),
        "cells_failed": sum(r.get("status") != "ok" for r in records),
    }
    output = pathlib.Path(output)
    output.mkdir(parents=True, exist_ok=True)
    return write_outputs(output, records, run_info, figures)


# --- the study -------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class StudyConfig(serialization.Serializable):
    """The noise-study grid and its fixed settings (:data:`FULL_STUDY`, :data:`REDUCED_STUDY`).

    ``models`` is where the learned initialisers live (trained by
    :func:`qaoa_meta.studies.study_models.train_study_models` when missing, unless
    ``train_models`` is False); ``train_size`` limits the classical fits to the first
    training graphs (None: all). Saved inside the study's run record
    (:class:`hardware.serialization.Serializable`); keys a record lacks take the full study's
    values.
    """

    ns: tuple[int, ...] = (8, 10, 12)
    ps: tuple[int, ...] = (1, 2)
    noise_scales: tuple[float, ...] = NOISE_SCALES
    shots: tuple[int, ...] = SHOTS
    initializers: tuple[str, ...] = INITIALIZERS
    seeds: tuple[int, ...] = tuple(range(10))
    iterations: int = 20
    device: str = "weber"
    gateset: str = "sqrt_iswap"
    noise: str = "weber"
    trajectories: int = 16
    eval_trajectories: int = 64
    mitigate_readout: bool = False
    models: str = DEFAULT_MODELS
    train_size: int | None = None
    train_models: bool = True

    # Part of the study's run record (which carries the version).
    _schema = serialization.Schema(write_version=False)

    def __post_init__(self) -> None:
        # aliases (e.g. fixed-angle-table) become the study's labels (fixed-angle)
        labels = tuple(check_initializer(name) for name in self.initializers)
        object.__setattr__(self, "initializers", labels)
        odd = [n for n in self.ns if n % 2]
        if odd:
            raise ValueError(f"3-regular instances need even n, got {odd}; use e.g. 8, 10, 12.")

    @property
    def cells(self) -> int:
        return (
            len(self.ns)
            * len(self.ps)
            * len(self.noise_scales)
            * len(self.shots)
            * len(self.initializers)
            * len(self.seeds)
        )

    def sweep_config(self, output: str | pathlib.Path, artifacts: str | pathlib.Path):
        """The :class:`qaoa_meta.sweep.SweepConfig` of this study (task ``noise``).

        The cells of one instance, depth and noise level (nine initialisers x three shot
        budgets) run as one group in one worker (``group_by``), so the worker builds that
        noisy circuit once and reuses it, and the instance's template across noise levels
        (:func:`noise_cell` caches them per process); the largest instances go first, so the
        last groups to finish are short ones.

        Args:
            output: the sweep's output directory.
            artifacts: the fitted initialisers' directory, passed to every cell.

        Returns:
            The :class:`qaoa_meta.sweep.SweepConfig`.
        """
        return SweepConfig(
            name="noise-study",
            task="noise",
            output=str(output),
            grid={
                "n": sorted(self.ns, reverse=True),
                "p": list(self.ps),
                "noise_scale": list(self.noise_scales),
                "shots": list(self.shots),
                "initializer": list(self.initializers),
            },
            fixed={
                "iterations": self.iterations,
                "device": self.device,
                "gateset": self.gateset,
                "noise": self.noise,
                "trajectories": self.trajectories,
                "eval_trajectories": self.eval_trajectories,
                "mitigate_readout": self.mitigate_readout,
                "artifacts": str(artifacts),
                "models": str(self.models),
            },
            seeds=self.seeds,
            group_by=("n", "p", "noise_scale", "seed"),
        )


FULL_STUDY = StudyConfig()
REDUCED_STUDY = StudyConfig(
    ns=(8,),
    ps=(1,),
    noise_scales=(0.0, 1.0),
    shots=(256, 1024),
    seeds=(0, 1, 2),
    iterations=8,
    trajectories=8,
    eval_trajectories=32,
)


def run_study(
    study: StudyConfig,
    output: str | pathlib.Path,
    *,
    backend: str = "local",
    workers: int | None = None,
    figures: str | pathlib.Path | None = None,
    progress: bool = True,
    log: Any = None,
) -> dict[str, Any]:
    """Fits/loads the initialisers, runs (or resumes) the grid with :func:`run_sweep`, writes
    the tables, figures and the run record (with the grid's wall time).

    Args:
        study: the study configuration.
        output: the study's output directory (artifacts, sweep records, tables).
        backend: the sweep backend, ``"local"`` or ``"ray"``.
        workers: Ray only: the most cells running at once (see
            :func:`qaoa_meta.sweep.run_sweep`); None for its default.
        figures: directory of the plots; None for ``output``.
        progress: log progress.
        log: where progress lines go (None: printed, flushed at once).

    Returns:
        ``paths`` (the files written, as :func:`write_outputs`) and the run information:
        ``study``, ``training``, ``grid_wall_s``, ``model_comparison``, ``sweep``,
        ``cells_total``, ``cells_failed``.
    """
    log = log or _say
    output = pathlib.Path(output)
    artifacts = output / "artifacts"
    t0 = time.perf_counter()
    log(f"noise study: {study.cells} cells; preparing initialisers")
    info = prepare_artifacts(artifacts, study, progress=progress, log=log)
    train_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    summary = run_sweep(
        study.sweep_config(output, artifacts), backend, workers=workers, progress=progress
    )
    grid_s = time.perf_counter() - t1
    records = load_records(output)

    learned = [n for n in study.initializers if n not in CLASSICAL]
    comparison = []
    if learned and min(study.ns) <= 8:  # the exact noisy energy holds at most 8 qubits
        n = min(study.ns)
        test_problems = [generate("random_regular", n, seed, d=3) for seed in study.seeds[:4]]
        target = NoisySetup(device=study.device, gateset=study.gateset, noise=study.noise)
        comparison = compare_models(
            study.models,
            study.ps,
            test_problems,
            target,
            learned,
            cache=output / "model_comparison.json",
            log=log if progress else None,
        )
    run_info = {
        "study": study.to_dict(),
        "training": {**info, "wall_s": train_s},
        "grid_wall_s": grid_s,
        "model_comparison": comparison,
        "sweep": json.loads(summary.to_json()),
        "cells_total": len(records),
        "cells_failed": sum(r.get("status") != "ok" for r in records),
    }
    paths = write_outputs(output, records, run_info, figures)
    return {"paths": paths, **run_info}
