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
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import itertools
import json
import os
import pathlib
import platform
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from typing import Any

SCHEMA_VERSION = 1
BACKENDS = ("local", "ray")

# Built-in tasks by name; any "module:function" path works too.
TASKS: Mapping[str, str] = {
    "landscape": "qaoa_meta.sweep_tasks:landscape_cell",
    "noise": "qaoa_meta.noise_study:noise_cell",
}


@dataclasses.dataclass(frozen=True)
class SweepConfig:
    """A sweep: a task, a grid of parameters, seeds and where the results go."""

    name: str
    task: str
    output: str
    grid: Mapping[str, list[Any]] = dataclasses.field(default_factory=dict)
    fixed: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    seeds: tuple[int, ...] = (0,)
    threads_per_cell: int = 1

    def __post_init__(self) -> None:
        for key, values in self.grid.items():
            if not isinstance(values, list | tuple) or not values:
                raise ValueError(
                    f"grid[{key!r}] must be a non-empty list of values, got {values!r}."
                )
        overlap = set(self.grid) & set(self.fixed)
        if overlap:
            raise ValueError(f"Keys {sorted(overlap)} appear in both 'grid' and 'fixed'.")
        if not self.seeds:
            raise ValueError("A sweep needs at least one seed, got an empty 'seeds' list.")
        object.__setattr__(self, "seeds", tuple(int(s) for s in self.seeds))
        if self.threads_per_cell < 1:
            raise ValueError(f"threads_per_cell must be >= 1, got {self.threads_per_cell}.")
        resolve_task(self.task)  # fail early on an unknown task

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SweepConfig:
        allowed = {field.name for field in dataclasses.fields(cls)}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(
                f"Unknown sweep configuration keys {sorted(unknown)}; "
                f"expected some of {sorted(allowed)}."
            )
        missing = {"name", "task", "output"} - set(data)
        if missing:
            raise ValueError(f"The sweep configuration needs the keys {sorted(missing)}.")
        return cls(**{k: (tuple(v) if k == "seeds" else v) for k, v in data.items()})

    @classmethod
    def load(cls, path: str | pathlib.Path) -> SweepConfig:
        """Reads a YAML (or JSON) configuration file."""
        import yaml

        path = pathlib.Path(path)
        if not path.exists():
            raise FileNotFoundError(f"Sweep configuration {str(path)!r} does not exist.")
        data = yaml.safe_load(path.read_text())
        if not isinstance(data, dict):
            raise ValueError(f"{str(path)!r} must hold a mapping of configuration keys.")
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["seeds"] = list(self.seeds)
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SweepConfig:
        return cls.from_dict(json.loads(text))

    def cells(self) -> list[Cell]:
        """The grid's cells: every combination of grid values, for every seed."""
        keys = sorted(self.grid)
        cells = []
        for values in itertools.product(*(self.grid[k] for k in keys)):
            params = {**self.fixed, **dict(zip(keys, values, strict=True))}
            cells += [Cell(task=self.task, params=params, seed=seed) for seed in self.seeds]
        return cells


@dataclasses.dataclass(frozen=True)
class Cell:
    """One unit of work: a task applied to parameters with a seed."""

    task: str
    params: Mapping[str, Any]
    seed: int

    @property
    def cell_id(self) -> str:
        canonical = json.dumps(
            {"task": self.task, "params": self.params, "seed": self.seed}, sort_keys=True
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "params": dict(self.params), "seed": self.seed}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Cell:
        return cls(task=data["task"], params=dict(data["params"]), seed=int(data["seed"]))


def resolve_task(task: str) -> Callable[[dict[str, Any], int], dict[str, Any]]:
    """Returns the task function for a registered name or a ``module:function`` path."""
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


def limit_threads(threads: int) -> None:
    """Caps the threads of TF, BLAS and qsim in this process so cells do not oversubscribe.

    Effective for TensorFlow only before its first op runs (a fresh worker process); the
    environment variables also bind libraries loaded later.
    """
    for variable in (
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "TF_NUM_INTRAOP_THREADS",
        "TF_NUM_INTEROP_THREADS",
        "QAOA_META_THREADS",
    ):
        os.environ[variable] = str(threads)
    from qaoa_meta._tf import tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # TF already initialised in this process: keep its pools
        pass


def run_cell(cell: Mapping[str, Any], threads: int = 1) -> dict[str, Any]:
    """Runs one cell (given as a dict) and returns its record; never raises.

    The record holds the cell, ``status`` ("ok" or "failed"), the task's ``result`` or the
    ``error`` and ``traceback``, the wall time, host and package versions.
    """
    limit_threads(threads)
    start = time.perf_counter()
    record: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "cell": dict(cell),
        "cell_id": Cell.from_dict(cell).cell_id,
        "host": platform.node(),
        "pid": os.getpid(),
        "versions": _versions(),
    }
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
    return record


def _versions() -> dict[str, str]:
    from importlib import metadata

    versions = {}
    for package in ("qaoa-meta", "tensorflow", "tensorflow-quantum", "cirq-core", "numpy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "missing"
    return versions


def write_atomic(path: pathlib.Path, text: str) -> None:
    """Writes a file so that readers see either the old or the complete new content."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        pathlib.Path(temporary).unlink(missing_ok=True)
        raise


def cell_path(output: str | pathlib.Path, cell: Cell) -> pathlib.Path:
    return pathlib.Path(output) / "cells" / f"{cell.cell_id}.json"


def load_records(output: str | pathlib.Path) -> list[dict[str, Any]]:
    """All cell records of a sweep directory, sorted by cell id."""
    folder = pathlib.Path(output) / "cells"
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]


@dataclasses.dataclass(frozen=True)
class SweepSummary:
    """What a run of a sweep did."""

    total: int
    skipped: int
    ran: int
    failed: int
    wall_s: float
    backend: str
    workers: int

    @property
    def cells_per_minute(self) -> float:
        return 60.0 * self.ran / self.wall_s if self.wall_s > 0 else float("nan")

    def to_json(self) -> str:
        return json.dumps({**dataclasses.asdict(self), "cells_per_minute": self.cells_per_minute})


def pending_cells(config: SweepConfig, retry_failed: bool = False) -> tuple[list[Cell], int]:
    """Cells still to run (no result file, or a failed one when ``retry_failed``)."""
    todo, skipped = [], 0
    for cell in config.cells():
        path = cell_path(config.output, cell)
        if path.exists():
            status = json.loads(path.read_text()).get("status")
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
        workers: Ray only: number of local worker CPUs (default: all cores); ignored when
            connecting to a cluster with ``address``.
        address: Ray only: address of an existing cluster (e.g. "ray://head:10001" or "auto").
        retry_failed: also re-run cells recorded as failed.
        progress: show a live progress bar.
    """
    if backend not in BACKENDS:
        raise ValueError(f"Unknown sweep backend {backend!r}; expected one of {BACKENDS}.")
    output = pathlib.Path(config.output)
    write_atomic(
        output / "sweep.json",
        json.dumps({"schema_version": SCHEMA_VERSION, "config": config.to_dict()}, indent=1),
    )
    todo, skipped = pending_cells(config, retry_failed)
    start = time.perf_counter()
    bar = _progress_bar(len(todo), skipped, progress)
    failed = 0

    def finish(cell: Cell, record: dict[str, Any]) -> None:
        nonlocal failed
        failed += record["status"] != "ok"
        write_atomic(cell_path(output, cell), json.dumps(record, indent=1))
        bar.update(1)
        bar.set_postfix(failed=failed, refresh=False)

    if backend == "local":
        used_workers = 1
        for cell in todo:
            finish(cell, run_cell(cell.to_dict(), config.threads_per_cell))
    else:
        used_workers = _run_on_ray(config, todo, finish, workers, address)
    bar.close()
    return SweepSummary(
        total=len(todo) + skipped,
        skipped=skipped,
        ran=len(todo),
        failed=failed,
        wall_s=time.perf_counter() - start,
        backend=backend,
        workers=used_workers,
    )


def _progress_bar(total: int, skipped: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        desc=f"cells ({skipped} already done)",
        unit="cell",
        disable=not enabled,
        dynamic_ncols=True,
    )


def _run_on_ray(
    config: SweepConfig,
    todo: Iterable[Cell],
    finish: Callable[[Cell, dict[str, Any]], None],
    workers: int | None,
    address: str | None,
) -> int:
    try:
        import ray
    except ImportError:
        raise ValueError(
            "The 'ray' backend needs Ray: pip install 'qaoa-meta[ray]' (or use --backend local)."
        ) from None
    threads = config.threads_per_cell
    env = {
        "env_vars": {
            "OMP_NUM_THREADS": str(threads),
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "TF_USE_LEGACY_KERAS": "1",
        }
    }
    started_here = not ray.is_initialized()
    if started_here:
        if address:
            ray.init(address=address, runtime_env=env, log_to_driver=False)
        else:
            ray.init(
                num_cpus=workers or os.cpu_count(),
                runtime_env=env,
                log_to_driver=False,
                include_dashboard=False,
            )
    try:
        remote = ray.remote(num_cpus=threads, max_retries=0)(run_cell)
        pending = {remote.remote(cell.to_dict(), threads): cell for cell in todo}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for reference in done:
                cell = pending.pop(reference)
                try:
                    record = ray.get(reference)
                except Exception as error:  # noqa: BLE001 - a dead worker fails its cell only
                    record = {
                        "schema_version": SCHEMA_VERSION,
                        "cell": cell.to_dict(),
                        "cell_id": cell.cell_id,
                        "status": "failed",
                        "error": f"{type(error).__name__}: {error}",
                        "traceback": traceback.format_exc(),
                    }
                finish(cell, record)
        return int(ray.cluster_resources().get("CPU", 0)) // threads
    finally:
        if started_here:
            ray.shutdown()
