"""The ``qaoa-meta`` entry point: fast help, and literal option lists that match the library."""

from __future__ import annotations

import subprocess
import sys

from qaoa_meta import cli_hardware, cli_train


def test_help_does_not_import_tensorflow_or_cirq():
    code = (
        "import sys; from qaoa_meta.cli import build_parser; build_parser(); "
        "print(sorted(m for m in ('tensorflow', 'cirq', 'tensorflow_quantum') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_cli_choices_match_the_library():
    import hardware.compile
    import hardware.devices
    from qaoa_meta import cells

    assert set(cli_hardware.GATESETS) == set(hardware.devices.GATESETS)
    assert set(cli_hardware.ROUTERS) == set(hardware.compile.ROUTERS)
    assert tuple(cli_train.MODELS) == tuple(cells.MODELS)
    assert set(cli_train.VARIANTS) == set(cells.VARIANTS)
