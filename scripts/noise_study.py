#!/usr/bin/env python
"""Noise study: initialisers under scaled weber noise, AR vs total shots.

Full grid (n = 8, 10, 12; p = 1, 2; noise 0, 0.5, 1, 2 x weber; shots 256, 1024, 4096; nine
initialisers; 10 instances: 6,480 cells), resumable; parts of it with --n/--p/--seeds::

    python scripts/noise_study.py --full --output runs/noise_study_full
    python scripts/noise_study.py --full --n 8 --p 1 --seeds 3 --no-train --output runs/grid_n8_p1

Reduced grid (n = 8, p = 1, noise 0 and 1, 256 and 1024 shots, 3 instances: 108 cells)::

    python scripts/noise_study.py --output runs/noise_study

Same options as ``qaoa-meta noise-study --help``.
"""

import sys

from qaoa_meta.cli import main

if __name__ == "__main__":
    sys.exit(main(["noise-study", *sys.argv[1:]]))
