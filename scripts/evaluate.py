"""Evaluate initialisers with a Phase-II optimiser and write a run record.

Usage:
    python scripts/evaluate.py --dataset ../shared/paper_data/datasets.json \
        --methods paper-fixed-1 paper-fixed-2 fitted-fixed-angle --optimizer sgd --out run.json
    python scripts/evaluate.py ... --model runs/models/qk-lstm   # a trained meta-learner

Same as ``qaoa-meta evaluate``; ``qaoa-meta report run.json`` makes tables and plots.
"""

import sys

from qaoa_meta.cli import main

if __name__ == "__main__":
    sys.exit(main(["evaluate", *sys.argv[1:]]))
