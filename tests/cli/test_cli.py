"""The ``qaoa-meta`` entry point: fast help, and literal option lists that match the library."""

from __future__ import annotations

import subprocess
import sys

import pytest

from qaoa_meta import cli, problems
from qaoa_meta.cli import names
from qaoa_meta.cli.errors import UserError, user_input
from qaoa_meta.cli.sweep import sweep_options


def test_help_does_not_import_tensorflow_or_cirq():
    code = (
        "import sys; from qaoa_meta.cli import build_parser; build_parser(); "
        "print(sorted(m for m in ('tensorflow', 'cirq', 'tensorflow_quantum') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_cli_choices_match_the_library():
    import hardware.devices
    import hardware.routing
    from qaoa_meta import cells

    assert set(names.GATESETS) == set(hardware.devices.GATESETS)
    assert set(names.ROUTERS) == set(hardware.routing.ROUTERS)
    assert tuple(names.MODELS) == tuple(cells.MODELS)
    assert set(names.VARIANTS) == set(cells.VARIANTS)


@pytest.mark.parametrize("command", [["sweep", "grid.yaml"], ["noise-study"]])
def test_commands_running_a_sweep_share_its_options(command):
    parser = cli.build_parser()
    args = parser.parse_args([*command, "--backend", "ray", "--workers", "3", "--no-progress"])
    assert sweep_options(args) == {"backend": "ray", "workers": 3, "progress": False}
    assert sweep_options(parser.parse_args(command)) == {
        "backend": "local",
        "workers": None,
        "progress": True,
    }


def test_python_dash_m_runs_the_command_line():
    out = subprocess.run(
        [sys.executable, "-m", "qaoa_meta.cli", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0 and "noise-study" in out.stdout


def test_user_input_turns_library_value_errors_into_user_errors():
    with pytest.raises(UserError, match="--noise: bad probability") as caught:
        with user_input("--noise"):
            raise ValueError("bad probability")
    assert isinstance(caught.value.__cause__, ValueError)
    with pytest.raises(KeyError):  # not an input error: left alone
        with user_input():
            raise KeyError("x")


def test_bad_input_is_one_line_but_a_library_bug_keeps_its_traceback(tmp_path, monkeypatch, capsys):
    argv = ["problem", "regular", "--n", "7", "--d", "3", "--out", str(tmp_path / "g.json")]
    assert cli.main(argv) == 2  # no 3-regular graph on 7 nodes: the user's input
    assert len(capsys.readouterr().err.strip().splitlines()) == 1

    def broken(problem):  # a bug after the input was read: must not become "error: ..."
        raise ValueError("internal invariant violated")

    monkeypatch.setattr(problems, "max_cut", broken)
    argv = ["problem", "regular", "--n", "8", "--d", "3", "--out", str(tmp_path / "g.json")]
    with pytest.raises(ValueError, match="internal invariant"):
        cli.main(argv)


def test_an_unreachable_ray_address_is_one_line_not_a_traceback(tmp_path, capsys):
    pytest.importorskip("ray")
    config = tmp_path / "sweep.yaml"
    config.write_text(
        f"name: t\ntask: smoke\ngrid: {{n: [4]}}\nseeds: [0]\noutput: {tmp_path / 'out'}\n"
    )
    argv = ["sweep", str(config), "--backend", "ray", "--address", "127.0.0.1:1"]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Cannot reach the Ray cluster at '127.0.0.1:1'" in err[0]
