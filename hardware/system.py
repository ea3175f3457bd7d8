"""What this machine can still give, read with the standard library only.

Importing this module loads neither Cirq nor NumPy (``hardware/__init__`` loads its
submodules lazily), so ``qaoa_meta``'s command line can check memory before any heavy import;
``qaoa_meta.system`` and :func:`hardware.simulate.check_memory` both read memory here.
"""

from __future__ import annotations

import os


def available_memory() -> int | None:
    """Bytes of memory the system can still give a new allocation (Linux ``MemAvailable``).

    Falls back to ``os.sysconf`` (available physical pages) where ``/proc/meminfo`` is missing.

    Returns:
        The available bytes, or None when neither source answers.
    """
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


__all__ = ["available_memory"]
