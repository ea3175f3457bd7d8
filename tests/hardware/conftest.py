"""Hardware-test fixtures (``tests/conftest.py`` keeps ``import hardware`` on the package)."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
