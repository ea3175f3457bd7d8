"""Shared fixtures. The paper's dataset is read from ../shared beside the repository.

pytest puts ``tests/`` on ``sys.path``, where the folder ``tests/hardware`` would shadow the
real ``hardware`` package as a namespace package for any test that imports it first; the
repository root goes in front so ``import hardware`` always finds the package.
"""

from __future__ import annotations

import pathlib
import sys

import pytest

_ROOT = str(pathlib.Path(__file__).resolve().parents[1])
if sys.path[0] != _ROOT:
    sys.path.insert(0, _ROOT)
if getattr(sys.modules.get("hardware"), "__file__", "") is None:
    del sys.modules["hardware"]

PAPER_DATASET = (
    pathlib.Path(__file__).resolve().parents[1].parent / "shared/paper_data/datasets.json"
)


@pytest.fixture(scope="session")
def paper_dataset_path() -> pathlib.Path:
    if not PAPER_DATASET.exists():
        pytest.skip(f"paper dataset not found at {PAPER_DATASET}")
    return PAPER_DATASET


@pytest.fixture(scope="session")
def ray_local():
    """One local Ray instance (2 CPUs) shared by every test that needs Ray.

    Starting Ray costs about 10 s on a small machine; the tests start it once.
    """
    pytest.importorskip("ray")
    from qaoa_meta.sweep import ray_session

    with ray_session(workers=2, address=None, threads=1) as ray:
        yield ray
