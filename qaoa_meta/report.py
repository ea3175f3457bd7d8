"""Tables (Markdown/CSV) and plots (PNG, matplotlib Agg) from :class:`RunRecord` s.

* :func:`summary_rows` / :func:`markdown_table` / :func:`write_csv`: one row per (method, n).
* :func:`plot_relative_error`: mean relative error vs iteration per n, with ±1 s.e. bands
  (the paper's figure; curves from :func:`qaoa_meta.evaluate.paper_curve`).
* :func:`plot_approximation_ratios`: AR after init and after Phase II per method.
* :func:`plot_landscape`: the p=1 landscape of one instance with the methods' trajectories.
* :func:`write_report`: all of it into a directory, with a ``report.md`` index.
"""

from __future__ import annotations

import csv
import math
import pathlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from qaoa_meta.evaluate import (
    MethodRecord,
    RunRecord,
    mean_curve,
    paper_curve,
    summarize,
)

COLUMNS = (
    "method",
    "n",
    "count",
    "ar_init",
    "ar_final",
    "ar_optimum",
    "iterations",
    "evaluations",
    "reached_target",
    "evaluations_to_target",
    "convergence_iteration",
)

# Column headers where the key alone is ambiguous. "evaluations" has one meaning everywhere
# (tables, CSV, ``qaoa-meta demo``): the optimiser's calls, energy evaluations plus gradient
# evaluations (``n_evaluations + n_gradients``); circuit executions are
# ``circuit_evaluations`` (1 per energy, 2·2p per parameter-shift gradient).
HEADERS = {"evaluations": "evaluations (energy+gradient calls)"}

# Metrics measured against the instance optimum: undefined ("—") when no optimum was computed.
TARGET_METRICS = ("reached_target", "iterations_to_target", "evaluations_to_target", "ar_optimum")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def sizes(record: RunRecord) -> list[int]:
    """Problem sizes present in the record."""
    return sorted({inst.problem.n for m in record.methods for inst in m.instances})


def summary_rows(
    record: RunRecord, eps: float = 1e-3, by_size: bool = True, all_sizes: bool = True
) -> list[dict[str, Any]]:
    """One summary dict per (method, n) (and per method over all n when ``all_sizes``)."""
    rows = []
    for method in record.methods:
        groups: list[tuple[str, list]] = []
        if by_size:
            for n in sizes(record):
                chosen = [i for i in method.instances if i.problem.n == n]
                if chosen:
                    groups.append((str(n), chosen))
        if all_sizes or not by_size:
            groups.append(("all", method.instances))
        for label, instances in groups:
            row = {"method": method.name, "n": label, **summarize(instances, eps)}
            if all(inst.optimum is None for inst in instances):
                row.update(dict.fromkeys(TARGET_METRICS))  # no optimum: nothing to reach
            rows.append(row)
    return rows


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "—"
    if isinstance(value, dict):
        mean, ci = value["mean"], value["ci"]
        if mean is None or (isinstance(mean, float) and math.isnan(mean)):
            return "—"
        return f"{mean:.{digits}f} ± {ci:.{digits}f}"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def markdown_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] = COLUMNS) -> str:
    """A Markdown table; ``{"mean", "ci"}`` cells print as ``mean ± ci``."""
    digits = {"iterations": 1, "evaluations": 1, "evaluations_to_target": 1, "reached_target": 2}
    header = " | ".join(HEADERS.get(c, c) for c in columns)
    lines = ["| " + header + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(_fmt(row.get(c), digits.get(c, 4)) for c in columns) + " |")
    return "\n".join(lines)


def write_csv(rows: Sequence[dict[str, Any]], path: str | pathlib.Path) -> pathlib.Path:
    """CSV with ``<metric>_mean``/``<metric>_ci`` columns for interval metrics."""
    path = pathlib.Path(path)
    flat = []
    for row in rows:
        item = {}
        for key, value in row.items():
            if isinstance(value, dict):
                item[f"{key}_mean"], item[f"{key}_ci"] = value["mean"], value["ci"]
            else:
                item[key] = value
        flat.append(item)
    fields = list(dict.fromkeys(k for item in flat for k in item))
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(flat)
    return path


# --- plots --------------------------------------------------------------------------------
def plot_relative_error(
    record: RunRecord,
    path: str | pathlib.Path,
    methods: Sequence[str] | None = None,
    max_iter: int = 300,
) -> pathlib.Path:
    """Mean relative error |y − y*|/|y*| vs iteration, one panel per n, ±1 s.e. bands."""
    plt = _pyplot()
    ns = sizes(record)
    chosen = [m for m in record.methods if methods is None or m.name in methods]
    cols = min(len(ns), 3)
    rows = math.ceil(len(ns) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.6 * rows), squeeze=False)
    for ax, n in zip(axes.flat, ns, strict=False):
        for method in chosen:
            curves = [paper_curve(i) for i in method.instances if i.problem.n == n]
            if not curves:
                continue
            length = min(max(len(c) for c in curves), max_iter + 12)
            padded = np.stack([_hold(c, length) for c in curves])
            mean = mean_curve(curves, length)
            se = padded.std(axis=0, ddof=1) / math.sqrt(len(curves)) if len(curves) > 1 else 0
            x = np.arange(length)
            ax.plot(x, mean, label=method.name, lw=1.4)
            ax.fill_between(x, mean - se, mean + se, alpha=0.2)
        ax.set_title(f"n = {n}")
        ax.set_xlabel("iteration")
        ax.set_ylabel("mean relative error")
        ax.set_yscale("log")
    for ax in list(axes.flat)[len(ns) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, path)


def _hold(curve: np.ndarray, length: int) -> np.ndarray:
    if len(curve) >= length:
        return curve[:length]
    return np.concatenate([curve, np.full(length - len(curve), curve[-1])])


def _save(fig, path) -> pathlib.Path:
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)
    return path


def plot_approximation_ratios(record: RunRecord, path: str | pathlib.Path) -> pathlib.Path:
    """Mean AR after init and after Phase II per method (95% CI error bars)."""
    plt = _pyplot()
    rows = summary_rows(record, by_size=False)
    names = [row["method"] for row in rows]
    x = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(max(5, 0.9 * len(rows) + 2), 3.8))
    for offset, key, label in (
        (-0.2, "ar_init", "after init"),
        (0.2, "ar_final", "after Phase II"),
    ):
        means = [row[key]["mean"] for row in rows]
        errors = [row[key]["ci"] for row in rows]
        ax.bar(x + offset, means, 0.4, yerr=errors, label=label, capsize=2)
    optimum = [row["ar_optimum"]["mean"] for row in rows if row["ar_optimum"] is not None]
    if optimum and not all(math.isnan(v) for v in optimum):
        ax.axhline(np.nanmean(optimum), color="k", ls="--", lw=1, label="p-level optimum")
    ax.set_xticks(x, names, rotation=35, ha="right", fontsize=8)
    ax.set_ylabel("approximation ratio")
    ax.set_ylim(0.5, 1.0)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def plot_landscape(
    record: RunRecord,
    path: str | pathlib.Path,
    instance: int = 0,
    methods: Sequence[str] | None = None,
    grid: int = 80,
) -> pathlib.Path:
    """p=1 landscape ⟨C⟩(γ, β)/max-cut of one instance with each method's trajectory."""
    from qaoa_meta.problems import cost_diagonal

    if record.config.get("p", 1) != 1:
        raise ValueError("The landscape plot is for p = 1 records.")
    plt = _pyplot()
    chosen: list[MethodRecord] = [m for m in record.methods if methods is None or m.name in methods]
    first = chosen[0].instances[instance]
    problem = first.problem
    trajectories = []
    for method in chosen:
        inst = method.instances[instance]
        points = [inst.result.trace_params]
        if inst.phase1_params is not None:
            points.insert(0, inst.phase1_params)
        trajectories.append((method.name, np.concatenate(points)))
    every = np.concatenate([t for _, t in trajectories])
    g_lo, g_hi = min(every[:, 0].min(), -0.2) - 0.2, max(every[:, 0].max(), 1.2) + 0.2
    b_lo, b_hi = min(every[:, 1].min(), -0.2) - 0.2, max(every[:, 1].max(), 1.0) + 0.2
    gammas, betas = np.linspace(g_lo, g_hi, grid), np.linspace(b_lo, b_hi, grid)
    G, B = np.meshgrid(gammas, betas, indexing="ij")
    values = p1_landscape(cost_diagonal(problem), gammas, betas) / first.max_cut
    fig, ax = plt.subplots(figsize=(6, 4.6))
    contour = ax.contourf(G, B, values, levels=30, cmap="viridis")
    fig.colorbar(contour, ax=ax, label="⟨C⟩ / max-cut")
    for name, points in trajectories:
        ax.plot(points[:, 0], points[:, 1], ".-", ms=2, lw=1, label=name)
        ax.plot(points[-1, 0], points[-1, 1], "x", ms=6, color="w")
    ax.set_xlabel("γ")
    ax.set_ylabel("β")
    ax.set_title(f"{problem.name or 'instance'} (n = {problem.n}, |E| = {problem.num_edges})")
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return _save(fig, path)


def p1_landscape(diagonal: np.ndarray, gammas: np.ndarray, betas: np.ndarray) -> np.ndarray:
    """``(len(gammas), len(betas))`` p = 1 energies ⟨C⟩(γ, β) by NumPy state vectors.

    Batched over β, one γ at a time; no TensorFlow, so reports need only NumPy and matplotlib.
    Same convention as :func:`qaoa_meta.optimize.qaoa_probabilities` (e^{-iβX} per qubit).
    """
    diagonal = np.asarray(diagonal, np.float64)
    betas = np.asarray(betas, np.float64)
    n = int(diagonal.size).bit_length() - 1
    c, s = np.cos(betas)[:, None, None], -1j * np.sin(betas)[:, None, None]
    values = np.empty((len(gammas), len(betas)))
    for row, gamma in enumerate(gammas):
        phase = np.exp(-1j * gamma * diagonal) / math.sqrt(diagonal.size)
        state = np.repeat(phase[None, :], len(betas), axis=0)
        for qubit in range(n):
            view = state.reshape(len(betas), 2**qubit, 2, -1)
            zero, one = view[:, :, 0, :].copy(), view[:, :, 1, :]
            view[:, :, 0, :] = c * zero + s * one
            view[:, :, 1, :] = s * zero + c * one
        values[row] = (state.real**2 + state.imag**2) @ diagonal
    return values


def write_report(
    record: RunRecord, directory: str | pathlib.Path, eps: float = 1e-3, title: str = "Run report"
) -> pathlib.Path:
    """Writes ``summary.md``, ``summary.csv`` and the PNG figures into ``directory``."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    rows = summary_rows(record, eps)
    write_csv(rows, directory / "summary.csv")
    figures = [
        plot_relative_error(record, directory / "relative_error.png"),
        plot_approximation_ratios(record, directory / "approximation_ratio.png"),
    ]
    if record.config.get("p", 1) == 1:
        figures.append(plot_landscape(record, directory / "landscape.png"))
    lines = [
        f"# {title}",
        "",
        f"Config: `{record.config}`  ",
        f"Created: {record.created}; versions: `{record.versions}`",
        "",
        f"Means ± 95% CI across instances; target: within ε = {eps:g} of the instance optimum.",
        "",
        markdown_table(rows),
        "",
        *[f"![{f.stem}]({f.name})" for f in figures],
        "",
    ]
    path = directory / "summary.md"
    path.write_text("\n".join(lines))
    return path
