"""Benchmark: meta-training time per graph update and per epoch, for every model.

Usage:
    python scripts/bench_train.py [--dataset ../shared/paper_data/datasets.json]
        [--models lstm qlstm qk-lstm qfwp] [--variants paper fixed] [--batch 1 32]
        [--graphs 1008] [--repeats 1] [--out docs/bench/train.json] [--merge]

For each (model, variant, batch) it builds a fresh MetaOptimizer (T = 10, p = 1, exact energy,
the published learning rates), runs one warm-up epoch on a few batches (tracing), then times
``fit`` for ``--repeats`` epochs over the first ``--graphs`` training graphs and keeps the
median epoch (all are recorded in ``epoch_s_all``; on a shared machine single epochs vary a
lot). tf.data autotuning is off for the timing (see ``bench_one``). Reported: ms per update
(one optimiser step on ``batch`` graphs), ms per graph, the median epoch time and the epoch
time scaled to the paper's 1008 training graphs (equal to the measured one when
``--graphs 1008``). Each row also records its settings, the 1-minute load average when it
finished and the process CPU time per update (``cpu_ms_per_update``, less sensitive to other
jobs than wall time; run with ``TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1`` to keep
idle threads' spinning out of it). ``--merge`` replaces only the benchmarked rows of an
existing ``--out`` file and keeps the others (older rows get their file's settings and load
stamped on).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import statistics
import time

from qaoa_meta._tf import tf
from qaoa_meta.meta import MetaConfig, MetaOptimizer, make_dataset
from qaoa_meta.problems import load_paper_dataset

DEFAULT_DATASET = pathlib.Path(__file__).resolve().parents[2] / "shared/paper_data/datasets.json"
PAPER_TRAIN_GRAPHS = 1008


def bench_one(model_name, variant, batch, problems, steps_per_execution, repeats=1) -> dict:
    config = MetaConfig(model=model_name, variant=variant)
    model = MetaOptimizer(config)
    model.compile(steps_per_execution=steps_per_execution)
    # tf.data's autotuning thread wakes after 10 ms, 20 ms, 40 ms, ... and fit() can wait for
    # it when an epoch ends, which rounds epoch times up to 10 ms·(2^k − 1); timing is done
    # without it (the dataset is a few in-memory arrays, prefetching does not matter here).
    options = tf.data.Options()
    options.autotune.enabled = False
    dataset = make_dataset(problems, config, batch_size=batch).with_options(options)
    start = time.perf_counter()
    model.fit(dataset.take(steps_per_execution), epochs=1, verbose=0)  # trace
    warmup = time.perf_counter() - start
    epochs, cpu = [], []
    for _ in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        model.fit(dataset, epochs=1, verbose=0)
        epochs.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
    seconds = statistics.median(epochs)
    updates = -(-len(problems) // batch)
    return {
        "model": model_name,
        "variant": variant,
        "batch": batch,
        "graphs": len(problems),
        "params": model.count_params(),
        "warmup_s": warmup,
        "epoch_s": seconds,
        "epoch_s_all": epochs,
        "ms_per_update": 1e3 * seconds / updates,
        "ms_per_graph": 1e3 * seconds / len(problems),
        "cpu_s_all": cpu,
        "cpu_ms_per_update": 1e3 * statistics.median(cpu) / updates,
        "epoch_s_1008": seconds * PAPER_TRAIN_GRAPHS / len(problems),
        "steps_per_execution": steps_per_execution,
        "repeats": repeats,
        "load_average_1m": os.getloadavg()[0],
    }


def merge_rows(old: dict, rows: list[dict]) -> list[dict]:
    """``old["rows"]`` with the rows of the same (model, variant, batch) replaced by ``rows``."""
    key = lambda row: (row["model"], row["variant"], row["batch"])  # noqa: E731
    new = {key(row): row for row in rows}
    stamp = {
        "steps_per_execution": old.get("steps_per_execution"),
        "repeats": old.get("repeats", 1),
        "load_average_1m": old.get("machine", {}).get("load_average_1m"),
    }
    merged = [new.pop(key(row), {**stamp, **row}) for row in old.get("rows", [])]
    return merged + list(new.values())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default=str(DEFAULT_DATASET))
    parser.add_argument("--models", nargs="+", default=["lstm", "qlstm", "qk-lstm", "qfwp"])
    parser.add_argument("--variants", nargs="+", default=["paper", "fixed"])
    parser.add_argument("--batch", nargs="+", type=int, default=[1, 32])
    parser.add_argument("--graphs", type=int, default=PAPER_TRAIN_GRAPHS)
    parser.add_argument("--steps-per-execution", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=1, help="timed epochs (median kept)")
    parser.add_argument("--out", default="docs/bench/train.json")
    parser.add_argument("--merge", action="store_true", help="keep the other rows of --out")
    args = parser.parse_args(argv)
    problems = load_paper_dataset(args.dataset).train[: args.graphs]
    rows = []
    header = f"{'model':8} {'variant':7} {'batch':>5} {'params':>6} {'ms/update':>10} {'ms/graph':>9} {'epoch s (1008)':>15}"
    print(header)
    for model_name in args.models:
        for variant in args.variants:
            for batch in args.batch:
                row = bench_one(
                    model_name, variant, batch, problems, args.steps_per_execution, args.repeats
                )
                rows.append(row)
                print(
                    f"{model_name:8} {variant:7} {batch:5d} {row['params']:6d} "
                    f"{row['ms_per_update']:10.2f} {row['ms_per_graph']:9.2f} {row['epoch_s_1008']:15.1f}",
                    flush=True,
                )
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.merge and out.exists():
        rows = merge_rows(json.loads(out.read_text()), rows)
    record = {
        "schema_version": 1,
        "benchmark": "meta-training time (T=10, p=1, exact energy)",
        "graphs": len(problems),
        "steps_per_execution": args.steps_per_execution,
        "repeats": args.repeats,
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_1m": os.getloadavg()[0],
            "tensorflow": tf.__version__,
        },
        "rows": rows,
    }
    out.write_text(json.dumps(record, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
