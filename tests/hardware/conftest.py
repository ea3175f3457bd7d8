"""Hardware-test setup: make ``import hardware`` find the package, not this test folder.

pytest puts ``tests/`` on ``sys.path`` (for ``tests/conftest.py``), where this folder,
``tests/hardware``, would shadow the real ``hardware`` package as a namespace package.
"""

from __future__ import annotations

import pathlib
import sys

import numpy as np
import pytest

_ROOT = str(pathlib.Path(__file__).resolve().parents[2])
if sys.path[0] != _ROOT:
    sys.path.insert(0, _ROOT)
if getattr(sys.modules.get("hardware"), "__file__", "") is None:
    del sys.modules["hardware"]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
