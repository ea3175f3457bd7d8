"""Benchmark: the exact-energy kernel's in-cache compute floor against its memory-traffic bound.

Usage:
    python scripts/bench_kernel_parts.py [--n 20 22 24 26] [--p 1 4] [--record docs/bench/energy.json]
        [--out docs/bench/kernel_parts.json]

Times the kernel's own sweeps on one cache-resident block of 2^14 float32 amplitudes (one
thread, the loop inside compiled code, best of 7): a radix-4 mixer sweep pair over the 11
out-of-vector bits, and the three fused in-vector sweeps (|+⟩ with the first phase and mixer
bits; mixer bits, phase, mixer bits; mixer bits and ⟨C⟩). An energy at (n, p) does that work on
2^(n-14) blocks: p mixers of n - 3 out-of-vector bits, one first sweep, p - 1 middle ones and
one last one. That sum is the time the kernel would take if memory were free (its compute
floor). It is printed beside the memory-traffic bound of ``bench_energy.py`` (bytes the sweeps
move / the copy bandwidth measured here) and, given ``--record``, the kernel time recorded
there. With ``--threads 2`` the kernel is also timed here on that many threads (the sweeps'
tiles split between them) against the bound at the copy bandwidth of as many threads: how
close the machine, not one core, gets to its memory limit. The load average is recorded
before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from bench_energy import traffic_bytes  # noqa: E402

from qaoa_meta import energy_kernel as ek  # noqa: E402
from qaoa_meta.energy import Energy  # noqa: E402
from qaoa_meta.fileio import write_atomic  # noqa: E402
from qaoa_meta.problems import erdos_renyi  # noqa: E402

_BLOCK = 14


@numba.njit(**ek._JIT)
def _mix_sweeps(tr, ti, t, reps):
    for _ in range(reps):
        ek._mix(tr, ti, 3, _BLOCK, t)


@numba.njit(**ek._JIT)
def _fused(tr, ti, dc, cos_t, sin_t, levels, reps, before, phase, after, expect):
    total = 0.0
    for _ in range(reps):
        total += ek._inner_forward(
            tr, ti, dc, cos_t, sin_t, levels, 0.3, 2.0**-7, 0.0, before, phase, 1.0, 0.0, after,
            expect,
        )  # fmt: skip
    return total


def _best(function, reps: int) -> float:
    """Seconds per repetition, best of 7 timings of ``reps`` repetitions."""
    function(1)
    best = float("inf")
    for _ in range(7):
        start = time.perf_counter()
        function(reps)
        best = min(best, (time.perf_counter() - start) / reps)
    return best


def block_times(seed: int) -> dict[str, float]:
    """Seconds per 2^14-amplitude block of each kind of sweep (float32, one thread)."""
    codes = ek.cost_codes([erdos_renyi(_BLOCK, 0.5, seed=seed)], _BLOCK)
    _, _, cos_t, sin_t, levels = ek.layer_tables(codes, np.array([[0.3, 0.2]]), np.float32)
    dc, cos_t, sin_t, levels = codes.codes[0], cos_t[0, 0], sin_t[0, 0], levels[0]
    tr, ti = ek.state_planes(_BLOCK + 1, 2, np.float32)  # staggered, as the kernel's
    tr, ti = tr[: 1 << _BLOCK], ti[: 1 << _BLOCK]
    tr[:], ti[:] = 2.0**-7, 0.0
    reps = 400

    def fused(before, phase, after, expect):
        tr[:], ti[:] = 2.0**-7, 0.0
        return _best(
            lambda k: _fused(tr, ti, dc, cos_t, sin_t, levels, k, before, phase, after, expect),
            reps,
        )

    # tan β = 0 and scale 1: the values stay those of a state (repeated sweeps with other
    # constants grow or shrink them into infinities or subnormals, which time differently)
    times = {"mixer_11_bits": _best(lambda k: _mix_sweeps(tr, ti, 0.0, k), reps)}
    times["first_sweep"] = fused(False, 1, True, False)
    times["middle_sweep"] = fused(True, 2, True, False)
    times["last_sweep"] = fused(True, 0, False, True)
    return times


def copy_bandwidth(n: int, threads: int = 1) -> float:
    """Bytes per second of ``np.copyto`` of a 2^n float32 complex state (read + write), split
    in ``threads`` equal parts copied side by side."""
    state = np.ones(2 << n, np.float32)
    copy = np.empty_like(state)
    np.copyto(copy, state)
    part = state.size // threads
    chunks = [
        (copy[k * part : (k + 1) * part], state[k * part : (k + 1) * part]) for k in range(threads)
    ]
    best = float("inf")
    with ThreadPoolExecutor(threads) as pool:
        for _ in range(5):
            start = time.perf_counter()
            list(pool.map(lambda chunk: np.copyto(*chunk), chunks))
            best = min(best, time.perf_counter() - start)
    return 2 * state.nbytes / best


def kernel_seconds(n: int, p: int, threads: int, seed: int) -> float:
    """Least time of 3 energies (after one untimed) of a G(n, 0.5) graph on ``threads``."""
    before = ek.threads()
    ek.set_threads(threads)
    try:
        energy = Energy([erdos_renyi(n, 0.5, seed=seed)], p)
        theta = np.random.default_rng(seed).uniform(0, np.pi / 2, size=(1, 2 * p))
        energy.kernel(theta, False)
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            energy.kernel(theta, False)
            best = min(best, time.perf_counter() - start)
        return best
    finally:
        ek.set_threads(before)


def compute_floor(n: int, p: int, times: dict[str, float]) -> float:
    """Seconds of in-cache sweeps for one energy at (n, p) (see the module docstring)."""
    per_block = p * times["mixer_11_bits"] * (n - 3) / (_BLOCK - 3)
    per_block += times["first_sweep"] + (p - 1) * times["middle_sweep"] + times["last_sweep"]
    return per_block * 2 ** (n - _BLOCK)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[20, 22, 24, 26])
    parser.add_argument("--p", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--record", help="a bench_energy.py record, for its kernel times")
    parser.add_argument(
        "--threads", type=int, default=0, help="also time the kernel on this many threads (>= 2)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="docs/bench/kernel_parts.json")
    args = parser.parse_args()
    if args.threads == 1 or args.threads < 0:
        parser.error(f"--threads takes 2 or more (0: skip), got {args.threads}")
    for n in args.n:
        if not 15 <= n <= 26:
            parser.error(f"--n takes register sizes 15..26 (circuits over memory), got {n}")
    record = {}
    if args.record:
        try:
            rows = json.loads(pathlib.Path(args.record).read_text())["rows"]
        except (OSError, ValueError, KeyError) as error:
            parser.error(f"--record {args.record}: expected a bench_energy.py JSON ({error})")
        record = {(r["n"], r["p"]): r for r in rows if r["batch"] == 1}
    ek.set_threads(1)
    load_before = os.getloadavg()
    times = block_times(args.seed)
    print("per 2^14-amplitude block, float32, one thread:")
    for name, seconds in times.items():
        print(f"  {name:14s} {seconds * 1e6:8.2f} us")
    rows = []
    header = f"{'n':>3} {'p':>2} | {'floor ms':>9} {'bound ms':>9} {'floor/bound':>11}"
    header += f" | {'kernel ms':>9} {'kernel/floor':>12}"
    if args.threads:
        header += f" | {args.threads} threads: {'kernel ms':>9} {'GB/s':>5} {'kernel/bound':>12}"
    print(header)
    for n in args.n:
        bandwidth = copy_bandwidth(n)
        wide = copy_bandwidth(n, args.threads) if args.threads else None
        for p in args.p:
            floor = compute_floor(n, p, times)
            bound = traffic_bytes(n, p, False, 1) / bandwidth
            row = {
                "n": n,
                "p": p,
                "compute_floor_s": floor,
                "traffic_bound_s": bound,
                "copy_bandwidth_bytes_per_s": bandwidth,
                "floor_over_bound": floor / bound,
            }
            line = f"{n:>3} {p:>2} | {floor * 1e3:9.2f} {bound * 1e3:9.2f} {floor / bound:11.2f}"
            recorded = record.get((n, p))
            if recorded:
                kernel = 1.0 / recorded["kernel_energy_per_s"]
                row["recorded_kernel_s"] = kernel
                row["kernel_over_floor"] = kernel / floor
                line += f" | {kernel * 1e3:9.2f} {kernel / floor:12.2f}"
            else:
                line += f" | {'-':>9} {'-':>12}"
            if args.threads:
                seconds = kernel_seconds(n, p, args.threads, args.seed)
                wide_bound = traffic_bytes(n, p, False, 1) / wide
                row[f"kernel_{args.threads}_threads_s"] = seconds
                row[f"copy_bandwidth_{args.threads}_threads_bytes_per_s"] = wide
                row[f"kernel_{args.threads}_threads_over_bound"] = seconds / wide_bound
                line += f" | {'':>10} {seconds * 1e3:9.2f} {wide / 1e9:5.1f} {seconds / wide_bound:12.2f}"
            rows.append(row)
            print(line, flush=True)
    out = {
        "benchmark": "bench_kernel_parts",
        "command": " ".join([os.path.basename(sys.executable), *sys.argv]),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "cpus": os.cpu_count(),
            "load_average_before": load_before,
            "load_average_after": os.getloadavg(),
        },
        "threads": 1,
        "threads_also": args.threads or None,
        "block_seconds": times,
        "record": args.record,
        "rows": rows,
    }
    path = write_atomic(args.out, json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
