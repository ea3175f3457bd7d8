"""Deprecated alias of :mod:`qaoa_meta.studies.study_models`; import that instead.

Importing this module warns and hands back the new module itself (the same object, the same
functions), so old imports and stored ``qaoa_meta.study_models:...`` paths keep working.
"""

import sys
import warnings

from qaoa_meta.studies import study_models as _new

warnings.warn(
    "qaoa_meta.study_models moved to qaoa_meta.studies.study_models; import that instead.",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = _new
