"""The study modules moved to qaoa_meta.studies; the old import paths stay as warned aliases."""

import gzip
import importlib
import json
import pathlib
import sys

import pytest

from qaoa_meta import sweep

OLD = ("reproduce", "noise_study", "study_models")
RECORDS = pathlib.Path(__file__).resolve().parents[1] / "docs/records"


@pytest.mark.parametrize("name", OLD)
def test_old_import_path_warns_and_is_the_new_module(name, monkeypatch):
    new = importlib.import_module(f"qaoa_meta.studies.{name}")
    monkeypatch.delitem(sys.modules, f"qaoa_meta.{name}", raising=False)
    with pytest.warns(DeprecationWarning, match=f"qaoa_meta.studies.{name}"):
        old = importlib.import_module(f"qaoa_meta.{name}")
    assert old is new
    for public in new.__all__ if hasattr(new, "__all__") else ():
        assert getattr(old, public) is getattr(new, public)


def test_old_noise_task_string_resolves_to_the_same_function():
    from qaoa_meta.studies.noise_study import noise_cell

    with pytest.warns(DeprecationWarning):
        sys.modules.pop("qaoa_meta.noise_study", None)
        assert sweep.resolve_task("qaoa_meta.noise_study:noise_cell") is noise_cell
    assert sweep.resolve_task("noise") is noise_cell
    assert sweep.resolve_task("qaoa_meta.studies.noise_study:noise_cell") is noise_cell


@pytest.mark.skipif(
    not (RECORDS / "noise_study_rainbow.json.gz").exists(), reason="no committed record"
)
def test_committed_noise_records_name_a_task_that_resolves():
    with gzip.open(RECORDS / "noise_study_rainbow.json.gz", "rt") as handle:
        record = json.load(handle)
    tasks = {cell["task"] for cell in _cells(record)}
    assert tasks
    for task in tasks:
        assert callable(sweep.resolve_task(task))


def _cells(node):
    if isinstance(node, dict):
        if "task" in node and "params" in node:
            yield node
        else:
            for value in node.values():
                yield from _cells(value)
    elif isinstance(node, list):
        for value in node:
            yield from _cells(value)
