"""Deprecated alias of :mod:`qaoa_meta.studies.noise_study`; import that instead.

Importing this module warns and hands back the new module itself (the same object, the same
functions), so old imports and stored ``qaoa_meta.noise_study:...`` paths keep working.
"""

import sys
import warnings

from qaoa_meta.studies import noise_study as _new

warnings.warn(
    "qaoa_meta.noise_study moved to qaoa_meta.studies.noise_study; import that instead.",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = _new
