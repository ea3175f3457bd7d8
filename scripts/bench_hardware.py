"""Benchmark of the hardware layer: compile cost per device/gate set, noisy-simulation throughput.

Part 1: for random 3-regular Max-Cut graphs (n = 8..20, QAOA p = 1) compile time, depth and
native two-qubit counts per device and gate set (routing ``auto``, resolved angles), plus the
symbolic (TFQ-compatible) two-qubit count.
Part 2: noisy-simulation throughput (trajectories per second) at n = 10, 12, 14 of qsim's
Monte-Carlo trajectories, cirq's density-matrix simulator (one exact run = one "trajectory";
skipped above ``--dm-max`` qubits) and TFQ's noisy backend, all on the same compiled circuit
and the same TFQ-compatible calibrated noise model (weber).

Usage::

    python scripts/bench_hardware.py --out docs/bench/hardware.json
    python scripts/bench_hardware.py --quick      # small CI version
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time

import cirq
import networkx as nx
import numpy as np
import sympy

import hardware
from hardware import noise as hn
from hardware import simulate as hs


def qaoa_p1(n: int, seed: int) -> tuple[cirq.Circuit, list[tuple[int, int, float]]]:
    graph = nx.random_regular_graph(3, n, seed=seed)
    qubits = cirq.LineQubit.range(n)
    gamma, beta = sympy.Symbol("gamma_1"), sympy.Symbol("beta_1")
    circuit = cirq.Circuit(cirq.H.on_each(*qubits))
    circuit.append(cirq.ZZ(qubits[u], qubits[v]) ** (-gamma / np.pi) for u, v in graph.edges)
    circuit.append(cirq.rx(2 * beta).on_each(*qubits))
    return circuit, [(u, v, 1.0) for u, v in graph.edges]


RESOLVER = {"gamma_1": 0.6, "beta_1": 0.35}


def bench_compile(sizes, devices, seed) -> list[dict]:
    rows = []
    for n in sizes:
        circuit, _ = qaoa_p1(n, seed)
        resolved = cirq.resolve_parameters(circuit, RESOLVER)
        for name in devices:
            device = hardware.get_device(name)
            if n > device.n_qubits:
                continue
            for gateset in device.gatesets:
                c = hardware.compile_circuit(resolved, device, gateset, seed=seed)
                s = hardware.compile_circuit(circuit, device, gateset, seed=seed)
                rows.append(
                    {
                        "n": n,
                        "device": name,
                        "gateset": gateset,
                        "routing": c.routing,
                        "logical_zz": 3 * n // 2,
                        "two_qubit": c.two_qubit_count,
                        "depth": c.depth,
                        "compile_s": round(c.compile_seconds, 3),
                        "symbolic_two_qubit": s.two_qubit_count,
                        "symbolic_compile_s": round(s.compile_seconds, 3),
                    }
                )
                print(
                    f"  n={n:2d} {name:10s} {gateset:10s} 2q={c.two_qubit_count:4d} "
                    f"depth={c.depth:4d} {c.compile_seconds:6.2f}s ({c.routing}); "
                    f"symbolic 2q={s.two_qubit_count}",
                    flush=True,
                )
    return rows


def bench_noisy(sizes, reps, dm_max, seed, with_tfq) -> list[dict]:
    rows = []
    model = hn.calibrated_noise("weber")
    for n in sizes:
        circuit, edges = qaoa_p1(n, seed)
        compiled = hardware.compile_circuit(
            circuit, "weber", "sqrt_iswap", symbolic=True, seed=seed
        )
        resolved = cirq.resolve_parameters(compiled.circuit, RESOLVER)
        qubits = [compiled.final_map[q] for q in sorted(circuit.all_qubits())]
        n_sim = len(resolved.all_qubits())
        row = {"n": n, "simulated_qubits": n_sim, "two_qubit": compiled.two_qubit_count}
        # qsim trajectories (first call warms the translation cache; not timed).
        hs.trajectory_probabilities(resolved, model, 1, qubits=qubits, seed=seed)
        t = time.perf_counter()
        probs = hs.trajectory_probabilities(resolved, model, reps, qubits=qubits, seed=seed)
        dt = time.perf_counter() - t
        vals = probs @ _cut_diagonal(n, edges)
        row.update(
            qsim_traj_per_s=reps / dt,
            qsim_energy=float(vals.mean()),
            qsim_stderr=float(vals.std(ddof=1) / np.sqrt(reps)),
        )
        if n_sim <= dm_max:
            t = time.perf_counter()
            e = hs.energy(
                resolved,
                _cut_diagonal(n, edges),
                qubits=qubits,
                method="density_matrix",
                noise=model,
            )
            dt = time.perf_counter() - t
            row.update(dm_runs_per_s=1.0 / dt, dm_seconds=dt, dm_energy=e.value)
        else:
            row.update(dm_runs_per_s=None, dm_seconds=None, dm_energy=None)
        if with_tfq:
            row.update(_tfq_noisy(compiled.circuit, model, edges, qubits, reps))
        print(
            "  n={n:2d} (sim {simulated_qubits}) qsim {qsim_traj_per_s:8.1f} traj/s  "
            "E={qsim_energy:.3f}+/-{qsim_stderr:.3f}".format(**row)
            + (
                f"  dm {row['dm_seconds']:.2f}s E={row['dm_energy']:.3f}"
                if row["dm_seconds"]
                else "  dm skipped"
            )
            + (
                f"  tfq {row['tfq_traj_per_s']:8.1f} traj/s E={row['tfq_energy']:.3f}"
                if row.get("tfq_traj_per_s")
                else ""
            ),
            flush=True,
        )
        rows.append(row)
    return rows


def _cut_diagonal(n: int, edges) -> np.ndarray:
    """Cut value of every basis state, big-endian (hardware.simulate takes a diagonal)."""
    bits = (np.arange(2**n)[:, None] >> (n - 1 - np.arange(n))[None, :]) & 1
    return sum(w * (bits[:, i] != bits[:, j]) for i, j, w in edges).astype(float)


def _tfq_noisy(symbolic_circuit, model, edges, qubits, reps) -> dict:
    from qaoa_meta._tf import tf, tfq

    noisy = hs.noisy_circuit(hardware.tfq_safe(symbolic_circuit), model, qubits)
    cost = sum(
        (
            0.5 * w * cirq.PauliString() - 0.5 * w * cirq.Z(qubits[i]) * cirq.Z(qubits[j])
            for i, j, w in edges
        ),
        cirq.PauliSum(),
    )
    names = sorted(RESOLVER)
    values = np.array([[RESOLVER[k] for k in names]], dtype=np.float32)
    args = (
        tfq.convert_to_tensor([noisy]),
        tf.constant(names),
        values,
        tfq.convert_to_tensor([[cost]]),
        np.array([[reps]], dtype=np.int32),
    )
    tfq.noise.expectation(*args[:4], np.array([[4]], dtype=np.int32))  # warm-up
    t = time.perf_counter()
    energy = float(tfq.noise.expectation(*args).numpy()[0, 0])
    dt = time.perf_counter() - t
    return {"tfq_traj_per_s": reps / dt, "tfq_energy": energy}


def markdown(compile_rows, noisy_rows) -> str:
    lines = [
        "| n | device | gate set | routing | 2q (resolved) | 2q (symbolic) | depth | compile s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in compile_rows:
        lines.append(
            f"| {r['n']} | {r['device']} | {r['gateset']} | {r['routing']} | {r['two_qubit']} | "
            f"{r['symbolic_two_qubit']} | {r['depth']} | {r['compile_s']:.2f} |"
        )
    lines += [
        "",
        "| n | simulated qubits | qsim traj/s | density matrix s/run | TFQ noisy traj/s | E qsim | E dm | E tfq |",
        "|---|---|---|---|---|---|---|---|",
    ]

    def fmt(x, spec):
        return "—" if x is None else format(x, spec)

    for r in noisy_rows:
        lines.append(
            f"| {r['n']} | {r['simulated_qubits']} | {r['qsim_traj_per_s']:.1f} | "
            f"{fmt(r['dm_seconds'], '.2f')} | {fmt(r.get('tfq_traj_per_s'), '.1f')} | "
            f"{r['qsim_energy']:.3f}±{r['qsim_stderr']:.3f} | {fmt(r['dm_energy'], '.3f')} | "
            f"{fmt(r.get('tfq_energy'), '.3f')} |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="8,12,16,20", help="compile sizes")
    parser.add_argument("--devices", default="rainbow,weber,sycamore")
    parser.add_argument("--noisy-sizes", default="10,12,14")
    parser.add_argument("--reps", type=int, default=200, help="trajectories per timing")
    parser.add_argument(
        "--dm-max", type=int, default=10, help="largest density-matrix run (n=10 takes minutes)"
    )
    parser.add_argument("--no-tfq", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="tiny CI configuration")
    parser.add_argument("--out", default=None, help="JSON output path")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.devices, args.noisy_sizes, args.reps = "8", "rainbow", "6", 20
    sizes = [int(x) for x in args.sizes.split(",")]
    noisy_sizes = [int(x) for x in args.noisy_sizes.split(",")]
    print("compile (QAOA p=1, random 3-regular):", flush=True)
    compile_rows = bench_compile(sizes, args.devices.split(","), args.seed)
    print("noisy simulation (weber calibration, TFQ-compatible model):", flush=True)
    noisy_rows = bench_noisy(noisy_sizes, args.reps, args.dm_max, args.seed, not args.no_tfq)
    table = markdown(compile_rows, noisy_rows)
    print(table)
    if args.out:
        import importlib.metadata as md

        record = {
            "schema_version": 1,
            "config": vars(args),
            "versions": {
                p: md.version(p)
                for p in ("cirq-core", "cirq-google", "qsimcirq", "tensorflow-quantum")
            },
            "machine": {"python": sys.version.split()[0], "platform": platform.platform()},
            "compile": compile_rows,
            "noisy": noisy_rows,
            "table_markdown": table,
        }
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(record, f, indent=1)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
