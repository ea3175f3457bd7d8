"""Shared fixtures. The paper's dataset is read from ../shared beside the repository."""

from __future__ import annotations

import pathlib

import pytest

PAPER_DATASET = (
    pathlib.Path(__file__).resolve().parents[1].parent / "shared/paper_data/datasets.json"
)


@pytest.fixture(scope="session")
def paper_dataset_path() -> pathlib.Path:
    if not PAPER_DATASET.exists():
        pytest.skip(f"paper dataset not found at {PAPER_DATASET}")
    return PAPER_DATASET
