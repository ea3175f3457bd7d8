#!/usr/bin/env python
"""Noise study: initialisers under scaled weber noise, AR vs total shots.

Full grid (n = 8, 10, 12; p = 1..3; noise 0, 0.25, 0.5, 1, 2 x weber; shots 256, 1024, 4096;
five initialisers; 10 instances), resumable, on Ray::

    python scripts/noise_study.py --full --output runs/noise_study_full --backend ray

Reduced grid (what docs/noise_study.md reports)::

    python scripts/noise_study.py --output runs/noise_study --figures docs/figures

Same options as ``qaoa-meta noise-study --help``.
"""

import sys

from qaoa_meta.cli import main

if __name__ == "__main__":
    sys.exit(main(["noise-study", *sys.argv[1:]]))
