"""``hardware.system`` reads memory with the standard library; ``import hardware`` stays light."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

import hardware
import hardware.system

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_available_memory_reads_meminfo_or_sysconf():
    available = hardware.system.available_memory()
    assert available is None or (isinstance(available, int) and available > 0)


def test_available_memory_falls_back_to_sysconf(monkeypatch):
    def missing(*args, **kwargs):
        raise OSError("no /proc here")

    monkeypatch.setattr("builtins.open", missing)
    monkeypatch.setattr(os, "sysconf", {"SC_AVPHYS_PAGES": 3, "SC_PAGE_SIZE": 4096}.__getitem__)
    assert hardware.system.available_memory() == 3 * 4096


def test_available_memory_is_none_when_nothing_answers(monkeypatch):
    def missing(*args, **kwargs):
        raise OSError("unsupported")

    monkeypatch.setattr("builtins.open", missing)
    monkeypatch.setattr(os, "sysconf", missing)
    assert hardware.system.available_memory() is None


def test_importing_hardware_system_loads_no_cirq():
    code = (
        "import sys, hardware.system; hardware.system.available_memory(); "
        "print(sorted(m for m in ('cirq', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_every_public_name_and_submodule_resolves_lazily():
    for name in hardware.__all__:
        assert getattr(hardware, name) is not None
    assert hardware.noise_models.__name__ == "hardware.noise_models"
    assert set(hardware.__all__) <= set(dir(hardware))
    with pytest.raises(AttributeError, match="no_such_name"):
        hardware.no_such_name  # noqa: B018
