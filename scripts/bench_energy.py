"""Benchmark: exact QAOA energies (and energy + gradient) per second vs QOKit's C simulator and TFQ.

Usage:
    python scripts/bench_energy.py [--n 8 10 ... 26] [--p 1 4] [--batch 1 32] [--seconds 1.0]
        [--threads 1] [--qokit-python /tmp/qokit-venv/bin/python] [--out docs/bench/energy.json]

For every (n, p, batch) cell the engines run interleaved (one sample of each in turn, the
median of the samples kept), so the ratios hold even on a loaded machine:

* ``kernel``: the compiled numba step (``Energy.kernel``, float64 θ in, NumPy out);
* ``api``: the public ``Energy.__call__`` and ``Energy.value_and_gradient`` on NumPy θ;
* ``tfq``: ``tfq.layers.Expectation`` with the adjoint differentiator (``Energy(backend='tfq')``);
* ``qokit``: QOKit's C simulator (float64), an optional peer run in its own Python
  (``--qokit-python``; see ../shared/peers/qokit-csim/README.md). It records which simulator
  ran ('c' or 'python'). QOKit has no gradient: its energy + gradient rate is derived as
  forward differences, 2p + 1 energies per gradient.

Rates are circuits per second (rows x calls / time). Problems are G(n, 0.5) graphs, one per
row for n <= 20; above, one graph with ``batch`` parameter rows (32 diagonals at n = 26 would
be 2 GiB of codes per engine). A call that would run past ``--seconds`` times fewer rows
(``rows_timed``): the engines loop over circuits at those sizes, so the rate per circuit is the
same. The machine's single-thread copy bandwidth is measured too, and each cell's memory-traffic
bound (bytes the kernel's sweeps move / bandwidth, see ``traffic_bytes``) is compared with the
kernel's time. The load average is recorded before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

DEFAULT_QOKIT = "/tmp/qokit-venv/bin/python"


# --- QOKit worker (runs in QOKit's own environment: numpy and qokit only) ----------------------


def qokit_worker() -> None:
    """Reads one JSON request per line on stdin, answers one JSON line on stdout."""
    from qokit.fur import choose_simulator, get_available_simulator_names

    names = get_available_simulator_names("x")
    name = "c" if "c" in names else "python"
    simulator_class = choose_simulator(name)
    simulators: dict[str, object] = {}
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("load"):
            simulators.clear()
            for key, path in request["load"].items():
                costs = np.load(path)
                simulators[key] = simulator_class(int(request["n"]), costs=costs)
            print(json.dumps({"simulator": name}), flush=True)
            continue
        params = np.asarray(request["params"], float)
        keys = request["keys"]
        p = params.shape[1] // 2
        start = time.perf_counter()
        values = []
        for key, theta in zip(keys, params, strict=True):
            sim = simulators[key]
            result = sim.simulate_qaoa(list(theta[:p]), list(theta[p:]))
            values.append(float(sim.get_expectation(result)))
        elapsed = time.perf_counter() - start
        print(json.dumps({"seconds": elapsed, "values": values, "simulator": name}), flush=True)


class QOKit:
    """A QOKit worker process; ``None``-like when its Python is missing."""

    def __init__(self, python: str, threads: int):
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        self.process = subprocess.Popen(
            [python, os.path.abspath(__file__), "--qokit-worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        self.simulator = None

    def ask(self, request: dict) -> dict:
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the QOKit worker stopped; run it by hand to see why")
        answer = json.loads(line)
        self.simulator = answer.get("simulator", self.simulator)
        return answer

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


# --- measurements -------------------------------------------------------------------------------


def copy_bandwidth(megabytes: int = 256, repeats: int = 5) -> float:
    """Single-thread copy bandwidth in bytes/s (bytes read + bytes written, best of repeats)."""
    source = np.ones(megabytes << 18, np.float32)
    target = np.empty_like(source)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        np.copyto(target, source)
        best = min(best, time.perf_counter() - start)
    return 2 * source.nbytes / best


def traffic_bytes(n: int, p: int, grad: bool, code_bytes: int, state_bytes: int = 4) -> int:
    """Bytes the kernel's sweeps move for one circuit with n > BLOCK_BITS (its memory bound).

    Energy: p + 1 sweeps; the first writes ψ (2 floats) reading only the codes, the middle ones
    read and write ψ, the last reads ψ and reduces. Gradient: the p forward sweeps, a sweep that
    reads ψ and writes ψ and λ, p - 1 sweeps reading and writing both, and one reading both.
    """
    s, b = 2 * state_bytes, code_bytes
    if not grad:
        per_amplitude = (s + b) + (p - 1) * (2 * s + b) + (s + b)
    else:
        per_amplitude = (s + b) + (p - 1) * (2 * s + b)  # forward
        per_amplitude += (s + b + 2 * s) + (p - 1) * (4 * s + b) + (2 * s + b)  # adjoint
    return per_amplitude << n


def _timed(function, seconds: float) -> float:
    """Seconds per call: repeats ``function`` for ``seconds`` (one call if it is slower)."""
    calls, start = 0, time.perf_counter()
    while True:
        function()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return elapsed / calls


def _paired_ratio(kernel, api, seconds: float, min_pairs: int) -> float:
    """API time / kernel time: the median, over pairs of calls, of one call's ratio; the two are
    called alternately, call by call (in turn first), for ``seconds`` and at least ``min_pairs``
    pairs, so a slow moment of a shared machine falls on one pair, not on one engine."""
    ratios = []
    start = time.perf_counter()
    while len(ratios) < min_pairs or time.perf_counter() - start < seconds:
        first, second = (kernel, api) if len(ratios) % 2 == 0 else (api, kernel)
        t0 = time.perf_counter()
        first()
        t1 = time.perf_counter()
        second()
        t2 = time.perf_counter()
        kernel_time, api_time = (t1 - t0, t2 - t1) if first is kernel else (t2 - t1, t1 - t0)
        ratios.append(api_time / kernel_time)
    return statistics.median(ratios)


_PEER_SECONDS: dict[tuple[str, int, bool], tuple[int, float]] = {}  # (peer, p, grad) -> (n, s)


def _peer_too_slow(args, row: dict, peer: str, n: int, p: int, grad: bool = False) -> bool:
    """Skips a peer whose call at this n is predicted (from its time at a smaller n, scaled by
    n 2^n) to take longer than ``--peer-max-seconds``; records why in ``row``."""
    known = _PEER_SECONDS.get((peer, p, grad))
    if known is None:
        return False
    smaller, seconds = known
    predicted = seconds * (n << n) / (smaller << smaller)
    if predicted <= args.peer_max_seconds:
        return False
    key = f"{peer}_{'grad' if grad else 'energy'}_skipped"
    row[key] = f"predicted {predicted:.0f} s per circuit > --peer-max-seconds"
    return True


def bench_cell(args, n: int, p: int, batch: int, qokit: QOKit | None, rng) -> dict:
    from qaoa_meta import energy_kernel
    from qaoa_meta._tf import tf
    from qaoa_meta.energy import Energy
    from qaoa_meta.problems import cost_diagonal, erdos_renyi

    distinct = batch if n <= 20 else 1
    problems = [erdos_renyi(n, 0.5, rng) for _ in range(distinct)]
    theta = rng.uniform(0, np.pi / 2, size=(batch, 2 * p))
    energy = Energy(problems, p)
    code_bytes = energy.codes.codes.itemsize
    row = {"n": n, "p": p, "batch": batch, "problems": distinct, "code_bytes": code_bytes}

    # Rows per timed call: all of them unless one kernel call of the batch is too slow.
    start = time.perf_counter()
    energy.kernel(theta if distinct > 1 else theta[:1], True)
    one = (time.perf_counter() - start) / (distinct if distinct > 1 else 1)
    rows = batch if n <= 20 else max(1, min(batch, int(args.seconds / max(one, 1e-9))))
    row["rows_timed"] = rows
    part = theta[:rows]
    sub = energy if rows == batch or distinct == 1 else Energy(problems[:rows], p)
    engines = {
        "kernel_energy": lambda: sub.kernel(part, False),
        "api_energy": lambda: sub(part),  # NumPy θ in, NumPy out (an EnergyValues array)
        "kernel_grad": lambda: sub.kernel(part, True),
        "api_grad": lambda: sub.value_and_gradient(part),
    }
    if n >= 16:  # the copy bandwidth at this size, interleaved with the engines
        state = np.ones(2 << n, np.float32)
        copy = np.empty_like(state)
        np.copyto(copy, state)  # faulted in once, as the kernel's kept planes are
        engines["copy"] = lambda: np.copyto(copy, state)
    tfq_rows = rows
    if n <= args.tfq_max_n and not _peer_too_slow(args, row, "tfq", n, p):
        if n >= 18:  # time as many circuits as fit in --seconds (one call of one first)
            probe = Energy(problems[:1], p, backend="tfq")
            start = time.perf_counter()
            probe(theta[:1].astype(np.float32)).numpy()
            probe_seconds = time.perf_counter() - start
            _PEER_SECONDS[("tfq", p, False)] = (n, probe_seconds)
            tfq_rows = max(1, min(batch, int(args.seconds / probe_seconds)))
        tfq_energy = Energy(problems[: min(tfq_rows, distinct)], p, backend="tfq")
        tfq_theta = tf.Variable(theta[:tfq_rows].astype(np.float32))

        def tfq_grad():
            with tf.GradientTape() as tape:
                values = tfq_energy(tfq_theta)
            return tape.gradient(values, tfq_theta).numpy()

        engines["tfq_energy"] = lambda: tfq_energy(tfq_theta).numpy()
        if not _peer_too_slow(args, row, "tfq", n, p, grad=True):
            engines["tfq_grad"] = tfq_grad
    row["tfq_rows_timed"] = tfq_rows

    qokit_rows = rows
    if qokit is not None and not _peer_too_slow(args, row, "qokit", n, p):
        paths = {}
        for index, problem in enumerate(problems[: min(qokit_rows, distinct)]):
            path = f"/tmp/bench_energy_costs_{os.getpid()}_{index}.npy"
            np.save(path, cost_diagonal(problem, np.float64))
            paths[str(index)] = path
        qokit.ask({"load": paths, "n": n})
        for path in paths.values():
            os.remove(path)
        # QOKit's phase is e^{-iγC/2} (ours e^{-iγC}) and its mixer e^{-iβX} (as ours).
        qokit_theta = np.concatenate([2 * theta[:, :p], theta[:, p:]], axis=1)
        answer = qokit.ask({"params": qokit_theta[:1].tolist(), "keys": ["0"]})  # check, probe
        ours, _ = energy_kernel.run(energy.codes, np.zeros(1, np.int64), theta[:1], False)
        row["qokit_abs_diff"] = abs(answer["values"][0] - float(ours[0]))
        if row["qokit_abs_diff"] > 1e-4 * max(1.0, abs(float(ours[0]))):
            raise RuntimeError(
                f"QOKit and the kernel disagree at n = {n}, p = {p}: {answer['values'][0]} vs "
                f"{float(ours[0])}; the two engines must compute the same circuit to be timed "
                "side by side."
            )
        row["qokit_simulator"] = qokit.simulator
        _PEER_SECONDS[("qokit", p, False)] = (n, answer["seconds"])
        if n >= 18:
            qokit_rows = max(1, min(batch, int(args.seconds / answer["seconds"])))
        keys = [str(i % distinct) for i in range(qokit_rows)]
        request = {"params": qokit_theta[:qokit_rows].tolist(), "keys": keys}
        engines["qokit_energy"] = lambda: qokit.ask(request)["seconds"]
        row["qokit_rows_timed"] = qokit_rows

    if n <= 20:  # warm-up (tracing, first-call allocations)
        for function in engines.values():
            function()
    samples: dict[str, list[float]] = {name: [] for name in engines}
    rounds = 5 if n <= 14 else 3 if n <= 18 else 1
    for _ in range(rounds):
        for name, function in engines.items():
            if name == "qokit_energy":  # QOKit's own timing of its calls (no pipe overhead)
                times, start = [], time.perf_counter()
                while not times or time.perf_counter() - start < args.seconds / rounds:
                    times.append(function())
                per_call = statistics.median(times)
            else:
                per_call = _timed(function, args.seconds / rounds)
            count = {"tfq": tfq_rows, "qok": qokit_rows, "cop": 1}.get(name[:3], rows)
            samples[name].append(count / per_call)
    for name, values in samples.items():
        row[f"{name}_per_s"] = statistics.median(values)
    if "tfq_grad" in engines:
        _PEER_SECONDS[("tfq", p, True)] = (n, 1.0 / row["tfq_grad_per_s"])
    if "qokit_energy" in engines:
        row["qokit_grad_per_s"] = row["qokit_energy_per_s"] / (2 * p + 1)
    for kind in ("energy", "grad"):
        kernel = row[f"kernel_{kind}_per_s"]
        # Call by call: ratios of rates timed one engine after the other (single 2-s calls, or
        # the least of 3-5 windows of 60 ms) read 1.2-1.27 in cells where the API adds
        # microseconds; this machine's speed moves by 20-50 % on that scale.
        row[f"api_over_kernel_{kind}"] = _paired_ratio(
            engines[f"kernel_{kind}"], engines[f"api_{kind}"], args.seconds, 5 if n <= 22 else 3
        )
        if f"tfq_{kind}" in engines:
            row[f"vs_tfq_{kind}"] = row[f"api_{kind}_per_s"] / row[f"tfq_{kind}_per_s"]
        if "qokit_energy" in engines:
            row[f"vs_qokit_{kind}"] = row[f"api_{kind}_per_s"] / row[f"qokit_{kind}_per_s"]
        if n > 14:
            row["copy_bandwidth_bytes_per_s"] = row["copy_per_s"] * 2 * (8 << n)
            bound = (
                traffic_bytes(n, p, kind == "grad", code_bytes) / row["copy_bandwidth_bytes_per_s"]
            )
            row[f"traffic_bound_{kind}_s"] = bound
            row[f"over_traffic_bound_{kind}"] = (1.0 / kernel) / bound
    return row


def precision_rows(sizes: list[int], depths: list[int], seed: int) -> list[dict]:
    """float32 kernel energies against float64 ones: largest absolute and relative error."""
    from qaoa_meta._tf import tf
    from qaoa_meta.energy import Energy
    from qaoa_meta.problems import erdos_renyi

    rng = np.random.default_rng(seed + 1)
    rows = []
    for n in sizes:
        problem = erdos_renyi(n, 0.5, rng)
        for p in depths:
            theta = rng.uniform(0, np.pi / 2, size=(2, 2 * p))
            single32, double64 = Energy([problem], p), Energy([problem], p, dtype=tf.float64)
            if n < 24:
                single, single_grad = single32.value_and_gradient(theta)
                double, double_grad = double64.value_and_gradient(theta)
                grad_error = np.abs(single_grad.astype(float) - double_grad)
            else:  # energies only: the float64 gradient at n = 26 takes minutes here
                single, double = single32(theta), double64(theta)
                grad_error = np.full(1, np.nan)
            error = np.abs(single.astype(float) - double)
            rows.append(
                {
                    "n": n,
                    "p": p,
                    "edges": problem.num_edges,
                    "max_abs_error": float(error.max()),
                    "max_rel_error": float((error / np.abs(double)).max()),
                    "max_abs_grad_error": None if n >= 24 else float(grad_error.max()),
                }
            )
            print(f"precision n={n} p={p}: |E32 - E64| <= {error.max():.1e}", flush=True)
    return rows


def merge(paths: list[str], out: str) -> None:
    """Joins records of runs over disjoint sizes into one; each run's command, machine state
    (load averages, bandwidth) and completeness are kept under ``runs``."""
    records = [json.loads(pathlib.Path(path).read_text()) for path in paths]
    merged = dict(next(record for record in records if record.get("rows")))
    merged["rows"] = sorted(
        (row for record in records for row in record["rows"]),
        key=lambda row: (row["n"], row["p"], row["batch"]),
    )
    merged["precision"] = sorted(
        (row for record in records for row in record.get("precision", [])),
        key=lambda row: (row["n"], row["p"]),
    )
    merged["runs"] = [
        {key: record.get(key) for key in ("command", "machine", "complete", "config")}
        for record in records
    ]
    merged["command"] = " ; ".join(record["command"] for record in records)
    merged["complete"] = all(record.get("complete") for record in records)
    from qaoa_meta.fileio import write_atomic

    write_atomic(out, json.dumps(merged, indent=1))
    print(f"wrote {out} ({len(merged['rows'])} cells from {len(records)} runs)")


def report(record: dict) -> str:
    """Markdown tables of a saved record (the numbers the docs quote)."""
    rows = record["rows"]
    lines = [
        "| n | p | batch | E/s | ×QOKit | ×TFQ | API/step | E+g/s | ×QOKit | ×TFQ | API/step "
        "| step/bound E | step/bound E+g |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        cells = [str(row["n"]), str(row["p"]), str(row["batch"])]
        for kind in ("energy", "grad"):
            cells += [
                f"{row[f'api_{kind}_per_s']:.4g}",
                _fmt(row, f"vs_qokit_{kind}"),
                _fmt(row, f"vs_tfq_{kind}"),
                _fmt(row, f"api_over_kernel_{kind}", 2),
            ]
        cells += [_fmt(row, "over_traffic_bound_energy"), _fmt(row, "over_traffic_bound_grad")]
        lines.append("| " + " | ".join(cells) + " |")

    def extreme(key, pick, sizes=None):
        values = [r[key] for r in rows if key in r and (sizes is None or r["n"] in sizes)]
        return pick(values) if values else float("nan")

    big = range(20, 27)
    lines += [
        "",
        f"Least ratio over all cells: ×QOKit {extreme('vs_qokit_energy', min):.1f} (energy), "
        f"{extreme('vs_qokit_grad', min):.1f} (energy+gradient); ×TFQ "
        f"{extreme('vs_tfq_energy', min):.1f}, {extreme('vs_tfq_grad', min):.1f}. "
        f"API/step at most {extreme('api_over_kernel_energy', max):.2f} (energy), "
        f"{extreme('api_over_kernel_grad', max):.2f} (energy+gradient). Step/bound at "
        f"n = 20–26: {extreme('over_traffic_bound_energy', min, big):.1f}–"
        f"{extreme('over_traffic_bound_energy', max, big):.1f} (energy), "
        f"{extreme('over_traffic_bound_grad', min, big):.1f}–"
        f"{extreme('over_traffic_bound_grad', max, big):.1f} (energy+gradient).",
    ]
    if record.get("precision"):
        lines += ["", "| n | p | max abs error E32 | max rel error | max abs error ∇ |"]
        lines += ["|---|---|---|---|---|"]
        for row in record["precision"]:
            lines.append(
                f"| {row['n']} | {row['p']} | {row['max_abs_error']:.1e} | "
                f"{row['max_rel_error']:.1e} | {_fmt(row, 'max_abs_grad_error', '.1e')} |"
            )
    return "\n".join(lines)


def _fmt(row: dict, key: str, digits: int | str = 1) -> str:
    value = row.get(key)
    spec = digits if isinstance(digits, str) else f".{digits}f"
    return "-" if value is None else f"{value:{spec}}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=list(range(8, 27, 2)))
    parser.add_argument("--p", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--seconds", type=float, default=1.0, help="time per engine and cell")
    parser.add_argument("--threads", type=int, default=1, help="threads of every engine")
    parser.add_argument("--tfq-max-n", type=int, default=26)
    parser.add_argument(
        "--peer-max-seconds",
        type=float,
        default=120.0,
        help="skip a peer (TFQ, QOKit) predicted to take longer per circuit than this",
    )
    parser.add_argument("--qokit-python", default=os.environ.get("QOKIT_PYTHON", DEFAULT_QOKIT))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-precision", dest="precision", action="store_false")
    parser.add_argument("--out", default="docs/bench/energy.json")
    parser.add_argument("--qokit-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--report", metavar="JSON", help="print the Markdown tables of a record")
    parser.add_argument(
        "--merge",
        nargs="+",
        metavar="JSON",
        help="join records of runs over disjoint sizes (run side by side) into --out",
    )
    args = parser.parse_args()
    if args.merge:
        merge(args.merge, args.out)
        return
    if args.report:
        print(report(json.loads(pathlib.Path(args.report).read_text())))
        return
    if args.qokit_worker:
        qokit_worker()
        return
    for name in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        os.environ[name] = str(args.threads)  # qsim (TFQ) and TensorFlow, before they load
    from qaoa_meta import energy_kernel
    from qaoa_meta._tf import tf, tfq
    from qaoa_meta.fileio import write_atomic

    energy_kernel.set_threads(args.threads)
    load_before = os.getloadavg()
    args.bandwidth = copy_bandwidth()
    print(f"single-thread copy bandwidth {args.bandwidth / 1e9:.1f} GB/s", flush=True)
    qokit = None
    if args.qokit_python and os.path.exists(args.qokit_python):
        qokit = QOKit(args.qokit_python, args.threads)
    else:
        print(f"QOKit not run: no python at {args.qokit_python!r}", flush=True)

    header = (
        f"{'n':>3} {'p':>2} {'B':>3} | {'E/s':>9} {'xQOKit':>6} {'xTFQ':>6} {'api':>4} | "
        f"{'E+g/s':>9} {'xQOKit':>6} {'xTFQ':>6} {'api':>4} | {'/bound E':>8} {'E+g':>5}"
    )
    print(header)
    print("-" * len(header), flush=True)
    rng = np.random.default_rng(args.seed)
    rows = []
    out = pathlib.Path(args.out)

    def save(rows: list[dict], precision: list[dict], complete: bool) -> None:
        """Writes the record (after every cell, so an interrupted run keeps what it measured)."""
        record = {
            "benchmark": "energy",
            "schema_version": 2,
            "units": "circuits per second; ratios vs_* = ours / peer (> 1: ours faster); "
            "api_over_kernel = API time / kernel time; over_traffic_bound = kernel time / "
            "memory-traffic bound",
            "command": "python scripts/bench_energy.py " + " ".join(sys.argv[1:]),
            "machine": {
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
                "copy_bandwidth_bytes_per_s": args.bandwidth,
                "load_average_before": load_before,
                "load_average_after": os.getloadavg(),
            },
            "threads": args.threads,
            "qokit": {"simulator": None if qokit is None else qokit.simulator},
            "versions": {
                "tensorflow": tf.__version__,
                "tensorflow_quantum": tfq.__version__,
                "numba": __import__("numba").__version__,
            },
            "kernel": {
                "block_bits": energy_kernel.BLOCK_BITS,
                "tile_width": energy_kernel.TILE_WIDTH,
            },
            "config": {
                k: v for k, v in vars(args).items() if k not in ("bandwidth", "qokit_worker")
            },
            "rows": rows,
            "precision": precision,
        }
        record["complete"] = complete
        out.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(out, json.dumps(record, indent=1))

    try:
        for n in args.n:
            for p in args.p:
                for batch in args.batch:
                    if n > 20 and rows and rows[-1]["n"] == n and rows[-1]["p"] == p:
                        previous = rows[-1]  # one graph, rows timed one circuit at a time
                        if max(previous["rows_timed"], previous["tfq_rows_timed"]) == 1:
                            row = dict(previous, batch=batch, same_as_batch=previous["batch"])
                            rows.append(row)
                            print(f"{n:>3} {p:>2} {batch:>3} | as batch {previous['batch']}")
                            continue
                    row = bench_cell(args, n, p, batch, qokit, rng)
                    rows.append(row)
                    save(rows, [], False)
                    print(
                        f"{n:>3} {p:>2} {batch:>3} | {row['api_energy_per_s']:>9.1f} "
                        f"{_fmt(row, 'vs_qokit_energy'):>6} {_fmt(row, 'vs_tfq_energy'):>6} "
                        f"{_fmt(row, 'api_over_kernel_energy', 2):>4} | "
                        f"{row['api_grad_per_s']:>9.1f} {_fmt(row, 'vs_qokit_grad'):>6} "
                        f"{_fmt(row, 'vs_tfq_grad'):>6} {_fmt(row, 'api_over_kernel_grad', 2):>4} | "
                        f"{_fmt(row, 'over_traffic_bound_energy'):>8} "
                        f"{_fmt(row, 'over_traffic_bound_grad'):>5}",
                        flush=True,
                    )
    finally:
        if qokit is not None:
            qokit.close()
    precision = precision_rows(args.n, args.p, args.seed) if args.precision else []
    save(rows, precision, True)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
