"""``qaoa-meta compile`` and ``qaoa-meta simulate``: QAOA circuits on devices, with noise.

Examples::

    qaoa-meta compile --problem graph.json --device weber --gateset sqrt_iswap --p 2
    qaoa-meta simulate --problem graph.json --device weber --gateset sqrt_iswap --p 1 \\
        --params 0.4,0.35 --noise weber --shots 2000
"""

from __future__ import annotations

import argparse
import json
import pathlib

import numpy as np

from qaoa_meta.cli.errors import UserError, user_input
from qaoa_meta.cli.names import GATESETS, ROUTERS
from qaoa_meta.fileio import write_atomic
from qaoa_meta.problems import MaxCutProblem, cost_diagonal, max_cut

# hardware's compiler, noise and simulator and qaoa_meta.qaoa (Cirq) are imported in the
# commands that use them: `qaoa-meta --help` imports every sub-command module, and it must
# stay fast and Cirq-free.


def add_parser(subparsers) -> None:
    """Registers the ``compile`` and ``simulate`` sub-commands.

    Args: as :meth:`CommandModule.add_parser`.
    """

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--problem", required=True, help="MaxCutProblem JSON file")
        p.add_argument(
            "--device",
            default="weber",
            help="sycamore, sycamore23, rainbow, weber, grid:RxC or line:N (default weber)",
        )
        p.add_argument("--gateset", default="sqrt_iswap", choices=GATESETS)
        p.add_argument("--p", type=int, default=1, help="QAOA depth")
        p.add_argument(
            "--params",
            default=None,
            help="comma-separated gamma_1..gamma_p,beta_1..beta_p (omit to keep symbols)",
        )
        p.add_argument("--routing", default="auto", choices=ROUTERS)
        p.add_argument("--seed", type=int, default=0)

    comp = subparsers.add_parser(
        "compile", help="place, route and compile a QAOA circuit for a device; write JSON"
    )
    common(comp)
    comp.add_argument("--out", default=None, help="output JSON (default: next to the problem)")
    comp.set_defaults(func=run_compile)

    sim = subparsers.add_parser(
        "simulate", help="compile and simulate a QAOA circuit with noise; print the energy"
    )
    common(sim)
    sim.add_argument(
        "--noise",
        default="none",
        help="none, rainbow, weber, depolarizing:P1,P2, thermal:T1_US,T2_US, readout:P01,P10 "
        "(join with '+', scale with '*F')",
    )
    sim.add_argument(
        "--method",
        default="sampling",
        choices=("exact", "trajectories", "sampling", "density_matrix"),
    )
    sim.add_argument("--shots", type=int, default=2000)
    sim.add_argument("--repetitions", type=int, default=200, help="trajectories")
    sim.add_argument("--mitigate", action="store_true", help="undo modelled readout errors")
    sim.add_argument("--out", default=None, help="optional result JSON")
    sim.set_defaults(func=run_simulate)


def _load(args):
    from qaoa_meta.qaoa import qaoa_circuit

    path = pathlib.Path(args.problem)
    if not path.exists():
        raise UserError(f"problem file {path} not found")
    with user_input(f"problem file {path}"):
        problem = MaxCutProblem.load(path)
    if args.p < 1:
        raise UserError(f"--p must be >= 1, got {args.p}")
    params = None
    if args.params is not None:
        try:
            params = np.array([float(x) for x in args.params.split(",")])
        except ValueError as error:
            raise UserError(
                f"--params must be comma-separated numbers, got {args.params!r}"
            ) from error
        if params.size != 2 * args.p:
            raise UserError(
                f"--params needs 2p = {2 * args.p} numbers (gamma_1..gamma_p, beta_1..beta_p), "
                f"got {params.size}"
            )
    return problem, qaoa_circuit(problem, args.p, params=params), params


def _compile(args, circuit):
    from hardware import compile_circuit, get_device

    with user_input("--device"):
        device = get_device(args.device)
    return compile_circuit(circuit, device, args.gateset, routing=args.routing, seed=args.seed)


def run_compile(args) -> int:
    """``qaoa-meta compile``: compiles the problem's QAOA circuit for the device and saves it.

    Without ``--out`` the file goes beside the problem, named after the device, gate set and
    depth. Refuses an unreadable problem, bad ``--params`` and bad device options.

    Args: as :meth:`CommandModule.run`.
    """
    problem, circuit, params = _load(args)
    compiled = _compile(args, circuit)
    compiled.metadata.update(
        {
            "problem": problem.to_dict(),
            "p": args.p,
            "params": None if params is None else params.tolist(),
        }
    )
    out = (
        args.out
        or str(pathlib.Path(args.problem).with_suffix(""))
        + f".{compiled.device.replace(':', '_')}.{args.gateset}.p{args.p}.json"
    )
    compiled_path = pathlib.Path(out)
    from hardware import save_compiled

    save_compiled(compiled, str(compiled_path))
    s = compiled.summary()
    print(
        f"{problem.n} qubits on {s['device']} ({s['gateset']}, routing {s['routing']}, "
        f"{'symbolic' if s['symbolic'] else 'resolved'}): depth {s['depth']}, "
        f"two-qubit gates {s['two_qubit_count']}, {s['compile_seconds']:.2f} s"
    )
    print(f"wrote {compiled_path}")
    return 0


def run_simulate(args) -> int:
    """``qaoa-meta simulate``: compiles the circuit, estimates ⟨C⟩ under the noise model and prints it (and writes a JSON record with ``--out``).

    Refuses a missing ``--params``, a bad ``--noise``, ``--method exact`` with noise, and
    what :func:`run_compile` refuses.

    Args: as :meth:`CommandModule.run`.
    """
    from hardware import energy, noise_from_spec, to_device_form
    from hardware.noise import readout_errors

    problem, circuit, params = _load(args)
    if params is None:
        raise UserError(
            f"simulate needs numbers for the angles: pass --params with 2p = {2 * args.p} values"
        )
    with user_input("--noise"):
        model = noise_from_spec(args.noise)
    compiled = _compile(args, circuit)
    native = to_device_form(compiled.circuit)
    logical = sorted(compiled.initial_map)
    qubits = [compiled.final_map[q] for q in logical]
    mitigation = readout_errors(model, qubits) if (args.mitigate and model is not None) else None
    method = args.method
    if method == "exact" and model is not None:
        raise UserError("--method exact is noiseless; drop --noise or choose another method")
    est = energy(
        native,
        cost_diagonal(problem),
        method=method,
        noise=model,
        qubits=qubits,
        shots=args.shots,
        repetitions=args.repetitions,
        seed=args.seed,
        mitigate_readout=mitigation,
    )
    best = max_cut(problem).value
    ratio = est.value / best if best > 0 else float("nan")
    print(
        f"{problem.n} qubits on {compiled.device} ({compiled.gateset}, {compiled.two_qubit_count} "
        f"two-qubit gates), noise {args.noise}, {est.method}"
        + (f" ({est.samples} samples)" if est.samples else "")
    )
    print(f"energy <C> = {est.value:.4f} +/- {est.stderr:.4f}")
    print(f"approximation ratio = {ratio:.4f} (max cut {best:g})")
    if args.out:
        record = {
            "schema_version": 1,
            "config": vars(args) | {"func": None},
            "energy": json.loads(est.to_json()),
            "max_cut": best,
            "approximation_ratio": ratio,
            "compile": compiled.summary(),
        }
        write_atomic(args.out, json.dumps(record, indent=1, default=str))
        print(f"wrote {args.out}")
    return 0
