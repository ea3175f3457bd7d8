"""Grid sweeps whose unit of work is one serialisable cell, run locally or on Ray.

A sweep is a YAML/JSON configuration::

    name: p1-landscapes
    task: landscape               # a registered task, or "package.module:function"
    output: runs/p1-landscapes    # one JSON file per cell lands in output/cells/
    seeds: [0, 1, 2]
    fixed: {family: erdos_renyi, p: 0.5, points: 16}
    grid: {n: [8, 10, 12]}        # cartesian product of the listed values
    threads_per_cell: 1

Each cell is ``(task, params, seed)``; its id is a hash of that triple, so re-running a sweep
finds the cells already done (their files exist) and runs only the missing ones. A task is a
pure function ``task(params: dict, seed: int) -> dict`` returning a JSON-serialisable result; a
task that raises is recorded as failed, with its traceback, and the sweep goes on.
See ``docs/scaling.md`` and ``examples/sweep_small.yaml``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import functools
import hashlib
import importlib
import itertools
import json
import os
import pathlib
import platform
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from hardware import serialization
from qaoa_meta.fileio import write_atomic

# Imported in the functions that use them: yaml, tqdm, importlib.metadata and socket (this
# module is loaded by `qaoa-meta --help`, through qaoa_meta.cli.sweep) and ray (optional: the
# [ray] extra). Nothing here imports TensorFlow: run_cell caps the thread pools before a task
# loads it.

SCHEMA_VERSION = 1
BACKENDS = ("local", "ray")
EXAMPLE = "examples/sweep_small.yaml"

# Built-in tasks by name; any "module:function" path works too.
TASKS: Mapping[str, str] = {
    "landscape": "qaoa_meta.sweep_tasks:landscape_cell",
    "smoke": "qaoa_meta.sweep_tasks:smoke_cell",
    "noise": "qaoa_meta.studies.noise_study:noise_cell",
}

# The parameters (grid and fixed keys together) each built-in task reads: (required, optional).
# Any other key is refused up front, so a misspelt key cannot silently fall back to a default.
# The smoke task echoes extra keys back, so it takes anything. A "module:function" task may
# declare its own as a ``sweep_params = (required, optional)`` attribute of the function.
_FAMILY_OPTIONS = ("p", "d", "weights", "j", "name")
TASK_PARAMS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]] | None] = {
    "landscape": (("family", "n"), ("points", *_FAMILY_OPTIONS)),
    "smoke": None,
    "noise": (
        ("n", "p", "initializer", "noise_scale", "shots"),
        (
            "noise",
            "iterations",
            "family",
            "family_options",
            "device",
            "gateset",
            "mitigate_readout",
            "trajectories",
            "eval_trajectories",
            "models",
            "artifacts",
        ),
    ),
}


def check_task_params(task: str, keys: Sequence[str]) -> None:
    """Refuses parameter names the task does not read, and missing required ones.

    Tasks without a declared parameter list (``smoke``, or a ``module:function`` without
    ``sweep_params``) accept anything.

    Args:
        task: a registered task name or a ``module:function`` path.
        keys: the sweep's parameter names (grid and fixed keys).

    Raises:
        ValueError: for an unknown key (with close matches), a missing required key, or a
            ``module:function`` task that cannot be imported.
    """
    spec = (
        TASK_PARAMS.get(task)
        if task in TASKS
        else getattr(resolve_task(task), "sweep_params", None)
    )
    if spec is None:
        return
    required, optional = spec
    allowed = [*required, *optional]
    unknown = sorted(set(keys) - set(allowed))
    if unknown:
        hints = [
            f"{key!r} -> {close[0]!r}"
            for key in unknown
            if (close := difflib.get_close_matches(key, allowed, n=1))
        ]
        raise ValueError(
            f"Task {task!r} has no parameters {unknown}"
            + (f" (did you mean {', '.join(hints)}?)" if hints else "")
            + f"; its parameters are {allowed}. Fix the keys in 'fixed'/'grid'."
        )
    missing = [key for key in required if key not in keys]
    if missing:
        raise ValueError(
            f"Task {task!r} needs the parameters {missing} in 'fixed' or 'grid' "
            f"(required: {list(required)})."
        )


@dataclasses.dataclass(frozen=True)
class SweepConfig(serialization.Serializable):
    """A sweep: a task, a grid of parameters, seeds and where the results go.

    Read from a YAML file (:meth:`load`) or a mapping; its JSON lists the keys sorted
    (:class:`hardware.serialization.Serializable`).

    Attributes:
        name: the sweep's name.
        task: a registered task name (:data:`TASKS`) or a ``module:function`` path.
        output: folder of the results (one JSON file per cell in ``output/cells/``).
        grid: parameter name -> non-empty list of values (cartesian product).
        fixed: parameter name -> value shared by every cell.
        seeds: the seeds; every grid point runs once per seed.
        threads_per_cell: threads (and Ray CPUs) per cell.
        group_by: parameter names (or ``"seed"``) whose equal values run in one worker.

    Raises:
        ValueError: for an empty or non-string ``name``/``task``/``output``; ``grid`` or
            ``fixed`` that are not mappings of names, share a key or hold non-JSON values; a
            grid entry that is not a non-empty list; ``seeds`` not a non-empty list of
            integers; ``threads_per_cell`` < 1; ``group_by`` naming unknown parameters; an
            unknown task; or parameters the task refuses (:func:`check_task_params`).
    """

    name: str
    task: str
    output: str
    grid: Mapping[str, list[Any]] = dataclasses.field(default_factory=dict)
    fixed: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    seeds: tuple[int, ...] = (0,)
    threads_per_cell: int = 1
    # parameter names (grid or fixed keys, or "seed"): the cells that agree on them run one
    # after another in one worker (one Ray task per group), so a task's per-process caches
    # (compiled circuits, loaded models) serve the whole group; () runs cell by cell
    group_by: tuple[str, ...] = ()

    # A sweep file is the user's YAML (sweep.json wraps it with the version).
    _schema = serialization.Schema(write_version=False, hint=f"see {EXAMPLE}")
    _json_sort_keys = True

    def __post_init__(self) -> None:
        for key in ("name", "task", "output"):
            value = getattr(self, key)
            if not isinstance(value, str) or not value:
                raise ValueError(f"'{key}' must be a non-empty string, got {value!r}.")
        for key in ("grid", "fixed"):
            value = getattr(self, key)
            if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
                raise ValueError(
                    f"'{key}' must be a mapping of parameter names to values, got {value!r}; "
                    f"e.g. {key}: {{n: [8, 10]}}"
                    if key == "grid"
                    else "e.g. fixed: {p: 0.5}"
                )
        for key, values in self.grid.items():
            if not isinstance(values, list | tuple) or not values:
                raise ValueError(
                    f"grid[{key!r}] must be a non-empty list of values, got {values!r}; "
                    f"write e.g. {key}: [{values!r}], or move it to 'fixed'."
                )
        overlap = set(self.grid) & set(self.fixed)
        if overlap:
            raise ValueError(
                f"Keys {sorted(overlap)} appear in both 'grid' and 'fixed'; keep each in one."
            )
        try:
            json.dumps([self.grid, self.fixed], allow_nan=False)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"'grid' and 'fixed' must hold plain JSON values (numbers, strings, booleans, "
                f"lists, mappings); {error}. Quote dates and other special values."
            ) from None
        seeds = self.seeds
        if (
            not isinstance(seeds, list | tuple)
            or not seeds
            or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds)
        ):
            raise ValueError(
                f"'seeds' must be a non-empty list of integers, e.g. seeds: [0, 1, 2]; got {seeds!r}."
            )
        object.__setattr__(self, "seeds", tuple(int(s) for s in seeds))
        threads = self.threads_per_cell
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise ValueError(f"'threads_per_cell' must be an integer >= 1, got {threads!r}.")
        group_by = self.group_by
        if isinstance(group_by, str) or not isinstance(group_by, list | tuple):
            raise ValueError(f"'group_by' must be a list of parameter names, got {group_by!r}.")
        unknown = [
            k for k in group_by if k != "seed" and k not in self.grid and k not in self.fixed
        ]
        if unknown:
            raise ValueError(
                f"'group_by' names {unknown}, which are not parameters of this sweep; use keys "
                f"of 'grid' or 'fixed', or 'seed'."
            )
        object.__setattr__(self, "group_by", tuple(group_by))
        if self.task not in TASKS:  # built-in tasks import TensorFlow: checked by name
            resolve_task(self.task)  # fail early on an unknown task
        check_task_params(self.task, [*self.grid, *self.fixed])

    @classmethod
    def load(cls, path: str | pathlib.Path) -> SweepConfig:
        """Reads a YAML (or JSON) configuration file.

        Args:
            path: the file.

        Returns:
            The config.

        Raises:
            FileNotFoundError: when ``path`` is not a file.
            ValueError: for invalid YAML, a non-text file, a document that is not a mapping,
                or an invalid configuration.
        """
        import yaml

        path = pathlib.Path(path)
        if not path.is_file():
            raise FileNotFoundError(
                f"Sweep configuration {str(path)!r} "
                + ("is a directory" if path.is_dir() else "does not exist")
                + f"; pass a YAML file such as {EXAMPLE}."
            )
        try:
            data = yaml.safe_load(path.read_text())
        except yaml.YAMLError as error:
            raise ValueError(
                f"{str(path)!r} is not valid YAML ({yaml_error_line(error)}); fix the syntax "
                f"(compare {EXAMPLE})."
            ) from None
        except UnicodeDecodeError:
            raise ValueError(f"{str(path)!r} is not a text file; pass a YAML file.") from None
        if not isinstance(data, dict):
            raise ValueError(
                f"{str(path)!r} must hold a mapping of configuration keys (name, task, output, "
                f"...), got {type(data).__name__}; see {EXAMPLE}."
            )
        return cls.from_dict(data)

    def cells(self) -> list[Cell]:
        """The grid's cells: every combination of grid values, for every seed.

        Returns:
            The cells, grid points in sorted-key product order, seeds innermost.
        """
        keys = sorted(self.grid)
        cells = []
        for values in itertools.product(*(self.grid[k] for k in keys)):
            params = {**self.fixed, **dict(zip(keys, values, strict=True))}
            cells += [Cell(task=self.task, params=params, seed=seed) for seed in self.seeds]
        return cells


def yaml_error_line(error: Exception) -> str:
    """A one-line description of a YAML parse error: the problem and where it is.

    Args:
        error: the parse error.

    Returns:
        The problem, with its line and column when known.
    """
    where = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or type(error).__name__
    return problem + (f" at line {where.line + 1}, column {where.column + 1}" if where else "")


@dataclasses.dataclass(frozen=True)
class Cell(serialization.Serializable):
    """One unit of work: a task applied to parameters with a seed.

    Attributes:
        task: the task name or ``module:function`` path.
        params: the parameters passed to the task.
        seed: the seed passed to the task.
    """

    task: str
    params: Mapping[str, Any]
    seed: int

    # Part of its cell record, which carries the version.
    _schema = serialization.Schema(write_version=False)

    @property
    def cell_id(self) -> str:
        """16 hex digits of a SHA-256 of (task, params, seed): the cell's file name."""
        canonical = json.dumps(
            {"task": self.task, "params": self.params, "seed": self.seed}, sort_keys=True
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def resolve_task(task: str) -> Callable[[dict[str, Any], int], dict[str, Any]]:
    """Returns the task function for a registered name or a ``module:function`` path.

    Args:
        task: a name of :data:`TASKS` or a ``module:function`` path.

    Returns:
        The function ``task(params, seed) -> dict`` (imported).

    Raises:
        ValueError: for an unknown name, or a path that cannot be imported.
    """
    path = TASKS.get(task, task)
    if ":" not in path:
        raise ValueError(
            f"Unknown task {task!r}; use one of {sorted(TASKS)} or a 'module:function' path."
        )
    module_name, function_name = path.split(":", 1)
    try:
        function = getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"Cannot import task {path!r}: {error}.") from None
    return function


# TF's (intra-op, inter-op) pool sizes: those in the environment while TF was not loaded.
_TF_POOLS: tuple[int, int] | None = None


def limit_threads(threads: int) -> dict[str, Any]:
    """Caps the threads of TensorFlow (and TFQ's qsim, which runs on TF's intra-op pool),
    OpenMP and BLAS in this process so that cells running side by side do not oversubscribe
    the cores.

    TensorFlow sizes its pools once, when it starts, from ``TF_NUM_INTRAOP_THREADS`` and
    ``TF_NUM_INTEROP_THREADS``; so the cap holds in a fresh process (a Ray worker) and not in
    one that loaded TensorFlow earlier (e.g. the local backend after other TF work). Nothing
    is imported here: a task that never uses TensorFlow does not pay for loading it.
    ``QAOA_META_THREADS`` is set for custom tasks that size their own pools (e.g.
    ``qsimcirq.QSimOptions(cpu_threads=...)``; qsimcirq's default is already 1).

    Args:
        threads: the thread cap.

    Returns:
        ``{"requested": threads, "tf_intra_op": n, "tf_inter_op": m}`` with TF's pool sizes
        in this process, or None where TensorFlow was loaded before this function first ran.
    """
    global _TF_POOLS
    for variable in (
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "TF_NUM_INTRAOP_THREADS",
        "TF_NUM_INTEROP_THREADS",
        "QAOA_META_THREADS",
    ):
        os.environ[variable] = str(threads)
    if "tensorflow" not in sys.modules:  # TF will size its pools from the variables above
        _TF_POOLS = (threads, threads)
    intra, inter = _TF_POOLS if _TF_POOLS is not None else (None, None)
    return {"requested": threads, "tf_intra_op": intra, "tf_inter_op": inter}


def run_cell(cell: Mapping[str, Any], threads: int = 1) -> dict[str, Any]:
    """Runs one cell (given as a dict) and returns its record; never raises.

    The record holds the cell, ``status`` ("ok" or "failed"), the task's ``result`` or the
    ``error`` and ``traceback``, the wall time (and start/finish Unix times), host, process,
    thread settings and package versions.

    Args:
        cell: a :meth:`Cell.to_dict` dict.
        threads: thread cap (:func:`limit_threads`).

    Returns:
        The record (plain JSON types).
    """
    thread_settings = limit_threads(threads)
    record: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "cell": dict(cell),
        "cell_id": Cell.from_dict(cell).cell_id,
        "host": platform.node(),
        "pid": os.getpid(),
        "threads": thread_settings,
        "versions": dict(_versions()),
        "started_unix": time.time(),
    }
    start = time.perf_counter()
    try:
        result = resolve_task(cell["task"])(dict(cell["params"]), int(cell["seed"]))
        json.dumps(result)  # a result that cannot be saved is a failure of the cell
        record.update(status="ok", result=result)
    except Exception as error:  # noqa: BLE001 - a failing cell must not stop the sweep
        record.update(
            status="failed",
            error=f"{type(error).__name__}: {error}",
            traceback=traceback.format_exc(),
        )
    record["wall_s"] = time.perf_counter() - start
    record["finished_unix"] = time.time()
    return record


def run_cells(cells: Sequence[Mapping[str, Any]], threads: int = 1) -> list[dict[str, Any]]:
    """Runs cells one after another in this process (one group of a grouped sweep).

    Args:
        cells: :meth:`Cell.to_dict` dicts.
        threads: thread cap (:func:`limit_threads`).

    Returns:
        One :func:`run_cell` record per cell, in order.
    """
    return [run_cell(cell, threads) for cell in cells]


def group_cells(cells: Sequence[Cell], keys: Sequence[str]) -> list[list[Cell]]:
    """``cells`` in groups that agree on ``keys`` (parameter names or "seed"), each group in
    the given order and the groups in order of their first cell; no keys: one cell a group.

    Args:
        cells: the cells.
        keys: parameter names or ``"seed"``; a missing parameter counts as None.

    Returns:
        The groups.
    """
    if not keys:
        return [[cell] for cell in cells]
    groups: dict[str, list[Cell]] = {}
    for cell in cells:
        values = [cell.seed if k == "seed" else cell.params.get(k) for k in keys]
        groups.setdefault(json.dumps(values, sort_keys=True), []).append(cell)
    return list(groups.values())


@functools.cache
def _versions() -> dict[str, str]:
    """The packages' versions (once per process: reading the metadata costs ~10 ms a cell)."""
    from importlib import metadata

    versions = {}
    for package in ("qaoa-meta", "tensorflow", "tensorflow-quantum", "cirq-core", "numpy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "missing"
    return versions


def cell_path(output: str | pathlib.Path, cell: Cell) -> pathlib.Path:
    """Where a cell's record lives: ``output/cells/<cell_id>.json``.

    Args:
        output: the sweep's output folder.
        cell: the cell.

    Returns:
        The path (which may not exist yet).
    """
    return pathlib.Path(output) / "cells" / f"{cell.cell_id}.json"


def load_records(
    output: str | pathlib.Path, config: SweepConfig | None = None
) -> list[dict[str, Any]]:
    """The cell records of a sweep directory, sorted by cell id.

    Args:
        output: the sweep's output folder (records are in ``output/cells/*.json``).
        config: keep only the records of this sweep's cells (a folder may also hold the
            cells of an earlier, different configuration with the same output).

    Returns:
        The parsed records (none when the folder does not exist).

    Raises:
        ValueError: for a record file that is not valid JSON.
    """
    folder = pathlib.Path(output) / "cells"
    records = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
    if config is not None:
        wanted = {cell.cell_id for cell in config.cells()}
        records = [r for r in records if r.get("cell_id") in wanted]
    return records


@dataclasses.dataclass(frozen=True)
class SweepSummary(serialization.Serializable):
    """What a run of a sweep did.

    Saved (:class:`hardware.serialization.Serializable`) with :attr:`cells_per_minute`, which
    is recomputed when read.

    Attributes:
        total: cells of the sweep.
        skipped: cells already done (not run).
        ran: cells run now.
        failed: cells of this run whose task raised.
        wall_s: wall time of the run, start-up included.
        backend: ``local`` or ``ray``.
        workers: cells that could run at once.
        startup_s: time to start (or connect to) Ray, within ``wall_s``.
    """

    total: int
    skipped: int
    ran: int
    failed: int
    wall_s: float  # everything: backend start-up, worker start-up and the cells
    backend: str
    workers: int
    startup_s: float = 0.0  # starting (or connecting to) Ray, within wall_s

    # Part of the run information of a study (which carries the version).
    _schema = serialization.Schema(
        write_version=False, derived={"cells_per_minute": lambda s: s.cells_per_minute}
    )

    @property
    def cells_per_minute(self) -> float:
        """Cells run per minute of wall time, start-up included."""
        return 60.0 * self.ran / self.wall_s if self.ran and self.wall_s > 0 else 0.0


def pending_cells(config: SweepConfig, retry_failed: bool = False) -> tuple[list[Cell], int]:
    """Cells still to run (no result file, or a failed one when ``retry_failed``).

    An unreadable record file counts as not done.

    Args:
        config: the sweep.
        retry_failed: also return the cells recorded as failed.

    Returns:
        ``(cells to run, number of cells skipped)``.
    """
    todo, skipped = [], 0
    for cell in config.cells():
        path = cell_path(config.output, cell)
        if path.exists():
            try:
                status = json.loads(path.read_text()).get("status")
            except (ValueError, AttributeError):  # unreadable (e.g. hand-edited): run again
                todo.append(cell)
                continue
            if status == "ok" or not retry_failed:
                skipped += 1
                continue
        todo.append(cell)
    return todo, skipped


def run_sweep(
    config: SweepConfig,
    backend: str = "local",
    *,
    workers: int | None = None,
    address: str | None = None,
    retry_failed: bool = False,
    progress: bool = True,
) -> SweepSummary:
    """Runs the cells of ``config`` that are not done yet; writes one file per cell.

    Args:
        config: the sweep.
        backend: "local" (in this process, one cell at a time) or "ray".
        workers: Ray only: the most cells running at once; also the CPUs of the Ray
            instance started on this machine when there is no ``address`` (default: all
            cores, or the whole cluster).
        address: Ray only: address of an existing cluster (e.g. "ray://head:10001" or "auto").
        retry_failed: also re-run cells recorded as failed.
        progress: show a live progress bar.

    Returns:
        The :class:`SweepSummary`. ``output/sweep.json`` holds the config; each cell's
        record (failed ones included) goes to :func:`cell_path`.

    Raises:
        ValueError: for an unknown backend, ``workers`` < 1, or (Ray) a missing Ray or an
            unreachable cluster.
    """
    if backend not in BACKENDS:
        raise ValueError(
            f"Unknown sweep backend {backend!r}; expected one of {BACKENDS} (default 'local')."
        )
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}.")
    output = pathlib.Path(config.output)
    write_atomic(
        output / "sweep.json",
        json.dumps({"schema_version": SCHEMA_VERSION, "config": config.to_dict()}, indent=1),
    )
    todo, skipped = pending_cells(config, retry_failed)
    start = time.perf_counter()
    failed = 0
    bar = None

    def finish(cell: Cell, record: dict[str, Any]) -> None:
        nonlocal failed
        failed += record["status"] != "ok"
        write_atomic(cell_path(output, cell), json.dumps(record, indent=1))
        bar.set_postfix_str(f"{failed} failed, {bar.total - bar.n - 1} remaining", refresh=False)
        bar.update(1)

    try:
        with contextlib.ExitStack() as stack:
            if backend == "ray" and todo:
                ray = stack.enter_context(ray_session(workers, address, config.threads_per_cell))
                used_workers = int(ray.cluster_resources().get("CPU", 0)) // config.threads_per_cell
            else:
                used_workers = 1 if backend == "local" else 0
            startup_s = time.perf_counter() - start
            bar = _progress_bar(config.name, len(todo), skipped, progress)
            groups = group_cells(todo, config.group_by)
            if backend == "local":
                for cell in (cell for group in groups for cell in group):
                    finish(cell, run_cell(cell.to_dict(), config.threads_per_cell))
            elif todo:
                in_flight = workers or len(groups)
                _run_on_ray(ray, config.threads_per_cell, groups, finish, in_flight)
    finally:
        if bar is not None:
            bar.close()
    return SweepSummary(
        total=len(todo) + skipped,
        skipped=skipped,
        ran=len(todo),
        failed=failed,
        wall_s=time.perf_counter() - start,
        backend=backend,
        workers=used_workers,
        startup_s=startup_s,
    )


def _progress_bar(name: str, total: int, skipped: int, enabled: bool):
    """A live bar: cells finished / to run, failed, remaining, elapsed, ETA and rate."""
    from tqdm.auto import tqdm

    bar = tqdm(
        total=total,
        desc=f"{name} ({skipped} already done)" if skipped else name,
        unit="cell",
        disable=not enabled,
        dynamic_ncols=True,
        mininterval=0.5,
        bar_format="{desc}: {n_fmt}/{total_fmt} cells{postfix} |{bar:20}| "
        "{elapsed} elapsed, ETA {remaining}, {rate_fmt}",
    )
    bar.set_postfix_str(f"0 failed, {total} remaining")
    return bar


class RayUnavailableError(ValueError):
    """Ray cannot be used as asked: not installed, or the cluster address cannot be reached.

    A problem of the user's setup, not of the code: the command line reports it in one line.
    """


@contextlib.contextmanager
def ray_session(workers: int | None, address: str | None, threads: int) -> Iterator[Any]:
    """Starts Ray on this machine (``workers`` CPUs) or connects to ``address``; yields ``ray``.

    Workers get ``OMP_NUM_THREADS=threads`` (and quiet TensorFlow); tasks cap TF's own pools
    with :func:`limit_threads`. A session that the caller already initialised is used as is
    and left running.

    Args:
        workers: CPUs of a Ray instance started here (default: all cores).
        address: address of an existing cluster, or None to start one here.
        threads: ``OMP_NUM_THREADS`` of the workers.

    Yields:
        The ``ray`` module, initialised; a session started here is shut down on exit.

    Raises:
        RayUnavailableError: when Ray is not installed or the cluster cannot be reached.
    """
    try:
        import ray
    except ImportError:
        raise RayUnavailableError(
            "Ray is not installed: pip install 'qaoa-meta[ray]' (or use --backend local)."
        ) from None
    env = {
        "env_vars": {
            "OMP_NUM_THREADS": str(threads),
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "TF_USE_LEGACY_KERAS": "1",
        }
    }
    if address:  # also beside a running session: a wrong address fails, not silently ignored
        _check_reachable(address)
    started_here = not ray.is_initialized()
    if started_here:
        if address:
            try:
                ray.init(address=address, runtime_env=env, log_to_driver=False)
            except ConnectionError as error:
                raise RayUnavailableError(
                    f"Cannot connect to the Ray cluster at {address!r} ({error}); start one "
                    "with 'ray start --head' (if it uses token authentication, export "
                    "RAY_AUTH_MODE=token here with its token in ~/.ray/auth_token), or drop "
                    "--address to start Ray on this machine."
                ) from None
        else:
            ray.init(
                num_cpus=workers or os.cpu_count(),
                runtime_env=env,
                log_to_driver=False,
                include_dashboard=False,
            )
    try:
        yield ray
    finally:
        if started_here:
            ray.shutdown()


def _check_reachable(address: str, timeout_s: float = 10.0) -> None:
    """Fails fast on an unreachable ``host:port`` (``ray.init`` would retry forever)."""
    import socket

    target = address.removeprefix("ray://")
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        return  # "auto", "local" or a form Ray resolves itself
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as error:
        raise RayUnavailableError(
            f"Cannot reach the Ray cluster at {address!r} ({error}); check that the head node "
            "runs 'ray start --head' and its port is open from here, or drop --address to "
            "start Ray on this machine."
        ) from None


def _run_on_ray(
    ray: Any,
    threads: int,
    groups: Sequence[Sequence[Cell]],
    finish: Callable[[Cell, dict[str, Any]], None],
    in_flight: int,
) -> None:
    """Runs ``groups`` of cells as Ray tasks, one task per group (``threads`` CPUs each, at
    most ``in_flight`` at a time); a group's cells run one after another in one worker."""
    remote = ray.remote(num_cpus=threads, max_retries=0)(run_cells)
    queue = [list(group) for group in groups]
    pending: dict[Any, list[Cell]] = {}
    while queue or pending:
        while queue and len(pending) < in_flight:
            group = queue.pop(0)
            pending[remote.remote([cell.to_dict() for cell in group], threads)] = group
        done, _ = ray.wait(list(pending), num_returns=1)
        for reference in done:
            group = pending.pop(reference)
            try:
                records = ray.get(reference)
            except Exception as error:  # noqa: BLE001 - a dead worker fails its cells only
                records = [
                    {
                        "schema_version": SCHEMA_VERSION,
                        "cell": cell.to_dict(),
                        "cell_id": cell.cell_id,
                        "status": "failed",
                        "error": f"{type(error).__name__}: {error}",
                        "traceback": traceback.format_exc(),
                    }
                    for cell in group
                ]
            for cell, record in zip(group, records, strict=True):
                finish(cell, record)
