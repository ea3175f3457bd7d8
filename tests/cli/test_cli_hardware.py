import json

import pytest

from qaoa_meta.cli import main
from qaoa_meta.problems import random_regular


@pytest.fixture
def problem_file(tmp_path):
    path = tmp_path / "g6.json"
    random_regular(6, 3, seed=1).save(path)
    return path


def test_compile_prints_sizes_and_writes_json(problem_file, tmp_path, capsys):
    out = tmp_path / "c.json"
    code = main(
        [
            "compile",
            "--problem",
            str(problem_file),
            "--device",
            "weber",
            "--gateset",
            "sqrt_iswap",
            "--p",
            "2",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "two-qubit gates" in text and "depth" in text
    data = json.loads(out.read_text())
    assert data["kind"] == "hardware.CompiledCircuit" and data["symbolic"] is True


def test_simulate_prints_energy_and_ratio(problem_file, capsys):
    code = main(
        [
            "simulate",
            "--problem",
            str(problem_file),
            "--device",
            "rainbow",
            "--gateset",
            "cz",
            "--p",
            "1",
            "--params",
            "0.4,0.35",
            "--noise",
            "rainbow",
            "--shots",
            "500",
            "--mitigate",
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    ratio = float(text.split("approximation ratio = ")[1].split()[0])
    assert 0.3 < ratio <= 1.0


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--device", "nope"], "unknown device"),
        (["--noise", "depolarizing:2,0.1"], "probability"),
        (["--params", "0.1"], "2p = 2"),
    ],
)
def test_simulate_bad_input_is_a_clean_error(problem_file, capsys, extra, message):
    args = ["simulate", "--problem", str(problem_file), "--p", "1", "--params", "0.4,0.35"]
    code = main(args + extra)
    assert code == 2
    assert message in capsys.readouterr().err


def test_simulate_larger_than_device_is_a_clean_error(tmp_path, capsys):
    path = tmp_path / "big.json"
    random_regular(30, 3, seed=0).save(path)
    code = main(
        [
            "simulate",
            "--problem",
            str(path),
            "--device",
            "rainbow",
            "--p",
            "1",
            "--params",
            "0.1,0.2",
        ]
    )
    assert code == 2
    assert "has only 23" in capsys.readouterr().err
