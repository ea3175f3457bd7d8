"""What this machine can still give: one home for the memory check of the CLI and the kernels.

Standard library only, so the command line can call it before TensorFlow or Cirq load: the
reader itself lives in :mod:`hardware.system` (``hardware`` never imports ``qaoa_meta``, so the
shared copy sits on that side), which imports no Cirq either.
"""

from __future__ import annotations

from hardware.system import available_memory

__all__ = ["available_memory"]
