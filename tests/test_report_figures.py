"""Figures stay readable: sizes, horizontal labels, legends, distinct styles, no clipping."""

from __future__ import annotations

import dataclasses

import matplotlib.image
import numpy as np
import pytest

from qaoa_meta import initializers as inits
from qaoa_meta import report
from qaoa_meta.evaluate import RunRecord, evaluate
from qaoa_meta.optimize import SGD
from qaoa_meta.problems import erdos_renyi

# the reproduction's 22 method names
NAMES = [
    "paper-fixed-1",
    "paper-fixed-2",
    "fitted-fixed-angle",
    "regression",
    "fixed-angle",
    "linear-ramp",
    *[f"{m}/paper/seed{s}" for s in range(3) for m in ("qk-lstm", "qlstm", "lstm", "qfwp")],
    *[f"{m}/fixed/seed0" for m in ("qk-lstm", "qlstm", "lstm", "qfwp")],
]


@pytest.fixture(scope="module")
def record():
    """22 methods on 3 sizes; several are identical, like QK-LSTM and QLSTM in the paper."""
    problems = [
        erdos_renyi(n, 0.6, seed=n + k, name=f"g{n}_{k}") for n in (4, 5, 6) for k in (0, 1)
    ]
    methods = {**inits.paper_fixed_points(), "linear-ramp": inits.LinearRamp()}
    base = evaluate(problems, methods, SGD(max_iter=40), 1)
    copies = [dataclasses.replace(base.methods[i % 3], name=name) for i, name in enumerate(NAMES)]
    return RunRecord(config=base.config, methods=copies)


@pytest.fixture()
def figures(monkeypatch):
    """Keeps each figure open for inspection (and still writes it)."""
    kept = []

    def keep(fig, path):
        kept.append(fig)
        fig.savefig(path, dpi=110)
        return path

    monkeypatch.setattr(report, "_save", keep)
    yield kept
    for fig in kept:
        report._pyplot().close(fig)


def _legend_labels(fig) -> list[str]:
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    return [text.get_text() for legend in legends for text in legend.get_texts()]


def _shape(path) -> tuple[int, int]:
    height, width = matplotlib.image.imread(path).shape[:2]
    return width, height


def test_ar_figure_horizontal_labels_and_no_clipping(record, figures, tmp_path):
    path = report.plot_approximation_ratios(record, tmp_path / "ar.png")
    width, height = _shape(path)
    assert width <= 1000 and 0.5 <= height / width <= 1.6, (width, height)
    (fig,) = figures
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == NAMES
    assert all(t.get_rotation() == 0 and t.get_fontsize() >= 8 for t in ax.get_yticklabels())
    lo, hi = ax.get_xlim()
    for row in report.summary_rows(record, by_size=False):
        for key in ("ar_init", "ar_final"):
            mean, ci = row[key]["mean"], np.nan_to_num(row[key]["ci"])
            assert lo < mean - ci and mean + ci < hi, (row["method"], key, lo, hi)
    assert {"after Phase II", "mean p-level optimum"} <= set(_legend_labels(fig))


def test_relative_error_one_legend_for_every_panel_distinct_styles(record, figures, tmp_path):
    chosen = NAMES[:2] + [n for n in NAMES if n.endswith("/paper/seed0")]
    path = report.plot_relative_error(record, tmp_path / "rel.png", methods=chosen)
    width, height = _shape(path)
    assert width <= 1100 and 0.4 <= height / width <= 1.2, (width, height)
    (fig,) = figures
    assert _legend_labels(fig)[-len(chosen) :] == chosen
    styles = {
        (line.get_color(), line.get_linestyle(), line.get_marker())
        for line in fig.axes[0].get_lines()
    }
    assert len(styles) == len(chosen)  # identical curves stay distinguishable


def test_landscape_explains_its_markers(record, figures, tmp_path):
    path = report.plot_landscape(record, tmp_path / "land.png", methods=NAMES[:5], grid=30)
    width, height = _shape(path)
    assert width <= 900 and 0.8 <= height / width <= 1.3, (width, height)
    (fig,) = figures
    labels = _legend_labels(fig)
    assert set(NAMES[:5]) <= set(labels)
    assert any(label.startswith("start") for label in labels)
    assert "end of Phase II" in labels


def test_landscape_names_the_methods_when_none_is_selected(record, tmp_path):
    with pytest.raises(ValueError, match=r"No method of the record is among \['nope'\]"):
        report.plot_landscape(record, tmp_path / "land.png", methods=["nope"])


def test_noise_study_figures_from_the_committed_record(tmp_path):
    import json
    import pathlib

    import matplotlib.pyplot as plt

    from qaoa_meta.studies import noise_study

    data = json.loads(
        (pathlib.Path(__file__).parents[1] / "docs/bench/noise_study.json").read_text()
    )
    cells = data["cells"]
    kept = []
    close = plt.close
    plt.close = kept.append  # keep the figures open for inspection
    try:
        shots = noise_study.plot_ar_vs_shots(cells, tmp_path / "shots.png", 1.0, 1)
        noise = noise_study.plot_ar_vs_noise(noise_study.summarize(cells), tmp_path / "noise.png")
    finally:
        plt.close = close
    for path, fig in zip((shots, noise), kept, strict=True):
        width, height = _shape(path)
        assert width <= 1200 and 0.4 <= height / width <= 1.0, (path.name, width, height)
        names = {c["cell"]["params"]["initializer"] for c in cells}
        assert set(_legend_labels(fig)) >= names
        styles = {(ln.get_color(), ln.get_linestyle(), ln.get_marker()) for ln in fig.axes[0].lines}
        assert len(styles) >= len(names)
        close(fig)
