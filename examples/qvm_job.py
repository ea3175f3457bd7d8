#!/usr/bin/env python
"""A learned QAOA initialisation, end to end, on cirq-google's noisy quantum virtual machine.

The same code path a Google device uses: the only line that changes for hardware is the
engine (``cirq_google.get_engine()`` instead of :func:`hardware.virtual_engine`).

1. Phase I: a meta-learner (``--model``: a directory written by ``MetaOptimizer.save_model``,
   e.g. ``runs/noise_study/artifacts/noise-aware_p1``; default: a small LSTM trained here in
   seconds on 3-regular graphs) proposes θ for the problem.
2. Compile: the resolved QAOA circuit is placed, routed and converted to weber's √iSWAP gate
   set (fewest two-qubit gates), then put in device form (PhasedXZ, virtual Z).
3. Run: the circuit is sent through the processor's ``cirq.Sampler`` of the noisy virtual
   engine (qsim with weber's median calibration); readout errors are calibrated on the same
   sampler and undone.
4. Report: ⟨C⟩ raw and mitigated against the exact noiseless value and the max cut.

Usage::

    python examples/qvm_job.py --n 8 --shots 4000 --output runs/qvm_job.json
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time
from typing import Any

import cirq
import numpy as np

import hardware
from hardware import simulate
from qaoa_meta import qaoa
from qaoa_meta.energy import Energy
from qaoa_meta.meta import MetaConfig, MetaOptimizer
from qaoa_meta.problems import MaxCutProblem, cost_diagonal, generate, max_cut


def learned_theta(problem: MaxCutProblem, model: MetaOptimizer) -> np.ndarray:
    """Phase I of a trained meta-learner (noiseless rollout): θ_T in the textbook convention."""
    return model.rollout([problem]).final_theta[0].astype(float)


def quick_model(p: int = 1, seed: int = 0, epochs: int = 20) -> MetaOptimizer:
    """A small LSTM meta-learner trained noiselessly on 3-regular graphs (seconds)."""
    from qaoa_meta.noise_aware import train_meta

    train = [generate("random_regular", 8, 1000 + i, d=3) for i in range(8)]
    config = MetaConfig(model="lstm", p=p, steps=5, seed=seed)
    model, _ = train_meta(train, config, None, epochs=epochs, learning_rate=1e-2, seed=seed)
    return model


def run_job(
    problem: MaxCutProblem,
    theta: np.ndarray,
    *,
    processor_id: str = "weber",
    shots: int = 4000,
    calibration_shots: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """Compiles θ's QAOA circuit for ``processor_id`` and samples it on the noisy QVM."""
    theta = np.asarray(theta, float)
    p = theta.size // 2
    logical = qaoa.qaoa_circuit(problem, p, params=theta)
    compiled = hardware.compile_circuit(logical, processor_id, "sqrt_iswap", seed=seed)
    native = hardware.to_device_form(compiled.circuit)
    qubits = [compiled.final_map[q] for q in qaoa.default_qubits(problem)]
    engine = hardware.virtual_engine(processor_id, noisy=True, seed=seed)
    sampler = engine.get_processor(processor_id).get_sampler()  # hardware: same call
    start = time.perf_counter()
    bits = simulate.sample_with_sampler(sampler, native, shots, qubits=qubits)
    run_s = time.perf_counter() - start
    errors = simulate.measure_readout_errors(qubits, shots=calibration_shots, sampler=sampler)
    readout = [errors[q] for q in qubits]
    cuts = simulate.observable_values(bits, cost_diagonal(problem))  # cut value of each shot
    exact = float(Energy([problem], p=p)(np.array([theta], np.float32)).numpy()[0])
    best = max_cut(problem).value
    raw = float(cuts.mean())
    mitigated = simulate.mitigated_expectation(bits, qaoa.cost_operator(problem), readout)
    return {
        "problem": problem.to_dict(),
        "theta": theta.tolist(),
        "processor_id": processor_id,
        "compiled": compiled.summary(),
        "qubits": [str(q) for q in qubits],
        "shots": shots,
        "calibration_shots": 2 * calibration_shots,
        "max_cut": best,
        "exact_energy": exact,
        "qvm_energy": raw,
        "qvm_energy_stderr": float(cuts.std(ddof=1) / np.sqrt(shots)),
        "qvm_energy_mitigated": float(mitigated),
        "ar_exact": exact / best,
        "ar_qvm": raw / best,
        "ar_qvm_mitigated": float(mitigated) / best,
        "best_sampled_cut": float(cuts.max()),
        "readout_errors": {str(q): list(e) for q, e in errors.items()},
        "run_seconds": run_s,
        "circuit_json": cirq.to_json(native),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--n", type=int, default=8, help="3-regular graph size (even)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default=None, help="saved MetaOptimizer directory")
    parser.add_argument("--processor", default="weber", choices=("weber", "rainbow"))
    parser.add_argument("--shots", type=int, default=4000)
    parser.add_argument("--output", default=None, help="write the job record (JSON) here")
    args = parser.parse_args(argv)
    problem = generate("random_regular", args.n, args.seed, d=3)
    model = MetaOptimizer.load_model(args.model) if args.model else quick_model(seed=args.seed)
    theta = learned_theta(problem, model)
    record = run_job(problem, theta, processor_id=args.processor, shots=args.shots, seed=args.seed)
    brief = {k: v for k, v in record.items() if k not in ("circuit_json", "problem")}
    print(json.dumps(brief, indent=1))
    if args.output:
        path = pathlib.Path(args.output)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
