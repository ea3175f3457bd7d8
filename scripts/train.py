"""Meta-train a sequence model (Keras-style entry point; same options as ``qaoa-meta train``).

Example (the paper's QK-LSTM setup):
    python scripts/train.py --model qk-lstm --variant paper \
        --dataset ../shared/paper_data/datasets.json --epochs 50 --output runs/qk_paper
"""

from __future__ import annotations

import argparse
import json
import sys

from qaoa_meta.cli.train import add_train_arguments, train_from_args


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_train_arguments(parser)
    args = parser.parse_args(argv)
    try:
        summary = train_from_args(args)["summary"]
    except (ValueError, FileNotFoundError) as error:
        print(f"train.py: error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
