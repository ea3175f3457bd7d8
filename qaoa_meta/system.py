"""What this machine can still give: one home for the memory check of the CLI and the kernels.

Standard library only, so the command line can call it before TensorFlow or Cirq load.
(``hardware.simulate.available_memory`` is the hardware package's own copy: ``hardware`` never
imports ``qaoa_meta``.)
"""

from __future__ import annotations

import os
import pathlib


def available_memory() -> int | None:
    """Bytes the system can still give a new allocation (Linux ``MemAvailable``).

    Returns:
        The bytes available, from /proc/meminfo or else ``sysconf``; None when neither says.
    """
    try:
        for line in pathlib.Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
