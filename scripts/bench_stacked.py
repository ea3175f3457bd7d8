"""Benchmark: meta-training ms per graph update per model, one model vs K models stacked.

Usage:
    python scripts/bench_stacked.py [--dataset ../shared/paper_data/datasets.json]
        [--models lstm qlstm qk-lstm qfwp] [--stack 1 4] [--graphs 256]
        [--keras] [--out docs/bench/train_stacked.json]

For each model and stack size K it builds K fresh MetaOptimizers (the published p = 1, T = 10
settings, seeds 0..K-1; K = 4 mixes 3 "paper" seeds and 1 "fixed" as the reproduction does)
and times one epoch of :class:`qaoa_meta.training.StackedTrainer` over the first ``--graphs``
training graphs at batch 1, after a compile call (reported separately as ``compile_s``).
``--keras`` adds the single-model Keras ``fit`` path (TFQ circuits, state-vector energy, the
code path before stacking) on the same graphs. Reported per row: ms per graph update per model
(wall and process CPU), compile seconds, and the 1-minute load average when the row finished;
the table is printed and the rows saved as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import time

from qaoa_meta._tf import tf
from qaoa_meta.meta import MetaConfig, MetaOptimizer, make_dataset
from qaoa_meta.problems import load_paper_dataset
from qaoa_meta.training import Schedule, StackedTrainer

DEFAULT_DATASET = pathlib.Path(__file__).resolve().parents[2] / "shared/paper_data/datasets.json"


def stack_configs(model: str, size: int) -> list[MetaConfig]:
    variants = ["paper"] * size if size < 4 else ["paper"] * (size - 1) + ["fixed"]
    return [
        MetaConfig(model=model, variant=v, seed=k, backend="p1", circuit_backend="tf")
        for k, v in enumerate(variants)
    ]


def bench_stacked(model: str, size: int, problems, val) -> dict:
    trainer = StackedTrainer([MetaOptimizer(c) for c in stack_configs(model, size)], Schedule())
    data = trainer._encode(problems)
    graphs = [{k: tf.constant(v[i : i + 1]) for k, v in data.items()} for i in range(len(problems))]
    start = time.perf_counter()
    trainer._step(graphs[0])
    trainer._loss_total.numpy()
    compile_s = time.perf_counter() - start
    start, cpu = time.perf_counter(), time.process_time()
    for batch in graphs:
        trainer._step(batch)
    trainer._loss_total.numpy()
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    updates = len(graphs) * size
    return {
        "path": "stacked (XLA)",
        "model": model,
        "stack": size,
        "graphs": len(graphs),
        "compile_s": compile_s,
        "ms_per_update_per_model": 1e3 * wall / updates,
        "cpu_ms_per_update_per_model": 1e3 * cpu / updates,
        "load_average_1m": os.getloadavg()[0],
    }


def bench_keras(model: str, problems) -> dict:
    config = MetaConfig(model=model, variant="paper")
    meta = MetaOptimizer(config)
    meta.compile()
    options = tf.data.Options()
    options.autotune.enabled = False
    dataset = make_dataset(problems, config).with_options(options)
    start = time.perf_counter()
    meta.fit(dataset.take(1), epochs=1, verbose=0)
    compile_s = time.perf_counter() - start
    start, cpu = time.perf_counter(), time.process_time()
    meta.fit(dataset, epochs=1, verbose=0)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {
        "path": "keras fit (TFQ, state vector)",
        "model": model,
        "stack": 1,
        "graphs": len(problems),
        "compile_s": compile_s,
        "ms_per_update_per_model": 1e3 * wall / len(problems),
        "cpu_ms_per_update_per_model": 1e3 * cpu / len(problems),
        "load_average_1m": os.getloadavg()[0],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default=str(DEFAULT_DATASET))
    parser.add_argument("--models", nargs="+", default=["lstm", "qlstm", "qk-lstm", "qfwp"])
    parser.add_argument("--stack", nargs="+", type=int, default=[1, 4])
    parser.add_argument("--graphs", type=int, default=256)
    parser.add_argument("--keras", action="store_true", help="also time the Keras fit path")
    parser.add_argument("--out", default="docs/bench/train_stacked.json")
    args = parser.parse_args(argv)
    data = load_paper_dataset(args.dataset)
    problems = [pr for pr in data.train if pr.num_edges][: args.graphs]
    rows = []
    print(
        f"{'path':30} {'model':8} {'K':>2} {'compile s':>9} {'ms/update/model':>16} {'cpu ms':>7}"
    )
    for model in args.models:
        runs = [bench_keras(model, problems)] if args.keras else []
        for size in args.stack:
            runs.append(bench_stacked(model, size, problems, data.val))
        for row in runs:
            rows.append(row)
            print(
                f"{row['path']:30} {model:8} {row['stack']:2d} {row['compile_s']:9.1f} "
                f"{row['ms_per_update_per_model']:16.2f} {row['cpu_ms_per_update_per_model']:7.2f}",
                flush=True,
            )
    record = {
        "schema_version": 1,
        "benchmark": "meta-training ms per graph update per model (p=1, T=10, batch 1)",
        "command": "python scripts/bench_stacked.py " + " ".join(argv or []),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_1m": os.getloadavg()[0],
            "tensorflow": tf.__version__,
        },
        "rows": rows,
    }
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
