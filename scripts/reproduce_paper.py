"""Reproduce arXiv 2512.05058's Max-Cut results; writes docs/reproduction.md.

Usage:
    python scripts/reproduce_paper.py --dataset ../shared/paper_data/datasets.json
        [--epochs 10] [--seeds 0 1 2] [--fixed-seeds 0] [--max-graphs N] [--max-train N]

Same as ``qaoa-meta reproduce``; see ``docs/evaluation.md``.
"""

import sys

from qaoa_meta.cli import main

if __name__ == "__main__":
    sys.exit(main(["reproduce", *sys.argv[1:]]))
