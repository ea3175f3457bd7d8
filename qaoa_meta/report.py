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
from matplotlib.lines import Line2D

from qaoa_meta.evaluate import (
    MethodRecord,
    RunRecord,
    mean_curve,
    paper_curve,
    summarize,
)
from qaoa_meta.problems import cost_diagonal

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
    """Problem sizes present in the record.

    Args:
        record: the run record.

    Returns:
        The distinct ``n`` of every method's instances, ascending.
    """
    return sorted({inst.problem.n for m in record.methods for inst in m.instances})


def summary_rows(
    record: RunRecord, eps: float = 1e-3, by_size: bool = True, all_sizes: bool = True
) -> list[dict[str, Any]]:
    """One summary dict per (method, n) (and per method over all n when ``all_sizes``).

    Args:
        record: the run record.
        eps: relative tolerance of the targets (:func:`qaoa_meta.evaluate.summarize`).
        by_size: one row per (method, n) present.
        all_sizes: one row per method over all sizes; always given when not ``by_size``.

    Returns:
        Rows of ``method``, ``n`` (the size as a string, or ``"all"``) and the
        :func:`~qaoa_meta.evaluate.summarize` statistics; the target metrics are None where
        no instance has a known optimum.
    """
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
    """A Markdown table; ``{"mean", "ci"}`` cells print as ``mean ± ci``.

    Args:
        rows: rows of :func:`summary_rows` (missing keys print as empty cells).
        columns: the keys to show, in order; headers from ``HEADERS`` where known.

    Returns:
        The table text, without a trailing newline.
    """
    digits = {"iterations": 1, "evaluations": 1, "evaluations_to_target": 1, "reached_target": 2}
    header = " | ".join(HEADERS.get(c, c) for c in columns)
    lines = ["| " + header + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(_fmt(row.get(c), digits.get(c, 4)) for c in columns) + " |")
    return "\n".join(lines)


def write_csv(rows: Sequence[dict[str, Any]], path: str | pathlib.Path) -> pathlib.Path:
    """CSV with ``<metric>_mean``/``<metric>_ci`` columns for interval metrics.

    Args:
        rows: rows of :func:`summary_rows`.
        path: the CSV file (overwritten; its directory must exist).

    Returns:
        ``path`` as a :class:`pathlib.Path`.
    """
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
    """Mean relative error |y − y*|/|y*| vs iteration, one panel per n, ±1 s.e. bands.

    Args:
        record: the run record.
        path: the image file (its directory is created; format from the suffix).
        methods: names of the methods to draw; None for all.
        max_iter: curves are cut after ``max_iter + 12`` points.

    Returns:
        ``path`` as a :class:`pathlib.Path`.
    """
    plt = _pyplot()
    ns = sizes(record)
    chosen = [m for m in record.methods if methods is None or m.name in methods]
    cols = 1 if len(ns) == 1 else 2
    rows = math.ceil(len(ns) / cols)
    spare = rows * cols > len(ns) and len(chosen) <= 10  # an empty panel holds the legend
    legend_rows = 0 if spare else math.ceil(len(chosen) / 2)
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(4.8 * cols, 3.3 * rows + 0.3 * legend_rows),
        squeeze=False,
        layout="constrained",
    )
    for ax, n in zip(axes.flat, ns, strict=False):
        for index, method in enumerate(chosen):
            curves = [paper_curve(i) for i in method.instances if i.problem.n == n]
            if not curves:
                continue
            length = min(max(len(c) for c in curves), max_iter + 12)
            padded = np.stack([_hold(c, length) for c in curves])
            mean = mean_curve(curves, length)
            se = padded.std(axis=0, ddof=1) / math.sqrt(len(curves)) if len(curves) > 1 else 0
            x = np.arange(length)
            style = _style(index)
            every = max(1, length // 8)  # staggered markers: overlapping lines stay visible
            ax.plot(
                x,
                mean,
                label=method.name,
                lw=1.5,
                ms=5,
                markevery=(index * every // max(1, len(chosen)), every),
                **style,
            )
            ax.fill_between(x, mean - se, mean + se, alpha=0.12, color=style["color"], lw=0)
        ax.set_title(f"n = {n}")
        ax.set_yscale("log")
        ax.grid(alpha=0.3, which="both")
    for ax in axes[:, 0]:
        ax.set_ylabel("mean relative error")
    for ax in axes.flat[: len(ns)]:
        ax.set_xlabel("iteration (Phase I steps, then Phase II)")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    title = "method (band: ±1 s.e. over instances)"
    for ax in list(axes.flat)[len(ns) :]:
        ax.axis("off")
    if spare:
        axes.flat[-1].legend(handles, labels, loc="center", fontsize=9, title=title)
    else:
        fig.legend(handles, labels, loc="outside lower center", ncol=2, fontsize=9, title=title)
    return _save(fig, path)


def _hold(curve: np.ndarray, length: int) -> np.ndarray:
    if len(curve) >= length:
        return curve[:length]
    return np.concatenate([curve, np.full(length - len(curve), curve[-1])])


_LINESTYLES = ("-", "--", "-.", ":")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def _style(index: int) -> dict[str, Any]:
    """Colour, line style and marker of the ``index``-th series (the first 40 all differ)."""
    return {
        "color": f"C{index % 10}",
        "ls": _LINESTYLES[index % len(_LINESTYLES)],
        "marker": _MARKERS[index % len(_MARKERS)],
    }


def _save(fig, path) -> pathlib.Path:
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)
    return path


def plot_approximation_ratios(record: RunRecord, path: str | pathlib.Path) -> pathlib.Path:
    """Mean AR after init and after Phase II per method (95% CI), one row per method.

    Methods are rows with horizontal labels (any number stays legible); the AR axis spans the
    data and its error bars, so nothing is clipped.

    Args:
        record: the run record.
        path: the image file (its directory is created).

    Returns:
        ``path`` as a :class:`pathlib.Path`.
    """
    plt = _pyplot()
    rows = summary_rows(record, by_size=False)
    names = [row["method"] for row in rows]
    y = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(7.2, 1.7 + 0.3 * len(rows)), layout="constrained")
    ends = []
    for offset, key, label, marker, color in (
        (-0.15, "ar_init", "after init (learned: end of Phase I)", "o", "C0"),
        (0.15, "ar_final", "after Phase II", "D", "C1"),
    ):
        means = np.array([row[key]["mean"] for row in rows], float)
        errors = np.nan_to_num(np.array([row[key]["ci"] for row in rows], float))
        ax.errorbar(
            means, y + offset, xerr=errors, fmt=marker, color=color, ms=5, capsize=2, label=label
        )
        ends.append((means, errors))
    (init, _), (final, _) = ends
    for row_y, start, stop in zip(y, init, final, strict=True):
        ax.plot([start, stop], [row_y - 0.15, row_y + 0.15], color="0.6", lw=0.8, zorder=0)
    optimum = [row["ar_optimum"]["mean"] for row in rows if row["ar_optimum"] is not None]
    values = [v for means, errors in ends for v in (*(means - errors), *(means + errors))]
    if optimum and not all(math.isnan(v) for v in optimum):
        values.append(float(np.nanmean(optimum)))
        ax.axvline(values[-1], color="k", ls="--", lw=1, label="mean p-level optimum")
    values = [v for v in values if math.isfinite(v)]
    if values:
        pad = 0.04 * (max(values) - min(values)) + 0.005
        ax.set_xlim(min(values) - pad, max(values) + pad)
    ax.set_yticks(y, names, fontsize=9)
    ax.set_ylim(len(rows) - 0.5, -0.5)  # first method on top
    ax.grid(axis="x", alpha=0.3)
    counts = sorted({row["count"] for row in rows})
    count = str(counts[0]) if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"
    ax.set_xlabel(f"approximation ratio (mean over {count} instances, 95% CI)")
    fig.legend(loc="outside lower center", ncol=3, fontsize=9)
    return _save(fig, path)


def plot_landscape(
    record: RunRecord,
    path: str | pathlib.Path,
    instance: int = 0,
    methods: Sequence[str] | None = None,
    grid: int = 80,
) -> pathlib.Path:
    """p=1 landscape ⟨C⟩(γ, β)/max-cut of one instance with each method's trajectory.

    Args:
        record: a p = 1 run record.
        path: the image file (its directory is created).
        instance: index of the instance (the same in every method).
        methods: names of the methods to draw; None for all.
        grid: landscape points per axis.

    Returns:
        ``path`` as a :class:`pathlib.Path`.

    Raises:
        ValueError: when the record's ``p`` is not 1, or ``methods`` names none of its methods.
    """
    if record.config.get("p", 1) != 1:
        raise ValueError("The landscape plot is for p = 1 records.")
    plt = _pyplot()
    chosen: list[MethodRecord] = [m for m in record.methods if methods is None or m.name in methods]
    if not chosen:
        raise ValueError(
            f"No method of the record is among {sorted(methods or [])}; expected some of "
            f"{[m.name for m in record.methods]}."
        )
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

    fig, ax = plt.subplots(
        figsize=(6.4, 5.4 + 0.25 * math.ceil(len(chosen) / 2)), layout="constrained"
    )
    contour = ax.contourf(G, B, values, levels=30, cmap="viridis")
    fig.colorbar(contour, ax=ax, label="⟨C⟩ / max-cut (p = 1)")
    for index, (name, points) in enumerate(trajectories):
        style = _style(index)
        color = style["color"]
        # earlier trajectories are drawn wider and below, so identical ones stay visible
        wide = (len(trajectories) - 1 - index) / max(1, len(trajectories) - 1)
        ax.plot(
            points[:, 0],
            points[:, 1],
            ls=style["ls"],
            lw=1.4 + 2.2 * wide,
            color=color,
            label=name,
            zorder=2 + index,
        )
        ax.plot(*points[0], "o", ms=6 + 4 * wide, mfc="white", mec=color, mew=1.8, zorder=30)
        ax.plot(*points[-1], "X", ms=8 + 8 * wide, color=color, mec="white", zorder=30 + index)
    handles, labels = ax.get_legend_handles_labels()
    handles += [
        Line2D([], [], ls="none", marker="o", ms=7, mfc="white", mec="0.3", mew=1.8),
        Line2D([], [], ls="none", marker="X", ms=10, color="0.3", mec="white"),
    ]
    labels += ["start (learned: Phase-I step 1)", "end of Phase II"]
    ax.set_xlabel("γ")
    ax.set_ylabel("β")
    ax.set_title(f"{problem.name or 'instance'} (n = {problem.n}, |E| = {problem.num_edges})")
    fig.legend(handles, labels, loc="outside lower center", ncol=2, fontsize=9)
    return _save(fig, path)


def p1_landscape(diagonal: np.ndarray, gammas: np.ndarray, betas: np.ndarray) -> np.ndarray:
    """``(len(gammas), len(betas))`` p = 1 energies ⟨C⟩(γ, β) by NumPy state vectors.

    Batched over β, one γ at a time; no TensorFlow, so reports need only NumPy and matplotlib.
    Same convention as :func:`qaoa_meta.energy.qaoa_probabilities` (e^{-iβX} per qubit), kept
    here batched over β and free of TensorFlow and Cirq.

    Args:
        diagonal: ``(2^n,)`` cut values.
        gammas: the γ values.
        betas: the β values.

    Returns:
        ``(len(gammas), len(betas))`` float64 expectations.
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
    """Writes ``summary.md``, ``summary.csv`` and the PNG figures into ``directory``.

    The figures are the relative-error and approximation-ratio plots, plus the landscape
    of the first instance for p = 1 records.

    Args:
        record: the run record.
        directory: the output directory (created).
        eps: relative tolerance of the targets.
        title: the Markdown document's title.

    Returns:
        The path of ``summary.md``.
    """
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
