"""The old module paths of the study modules (``qaoa_meta.reproduce`` and friends)."""

from __future__ import annotations

import importlib
import sys
import warnings


def replace_with_moved_module(old_name: str) -> None:
    """Makes ``old_name`` (a module being imported) the module it moved to, with a warning.

    The old module becomes the new one itself (the same object, the same functions), so old
    imports and stored ``module:function`` paths keep working.

    Args:
        old_name: the old module's ``__name__``, ``qaoa_meta.<name>``; the module now lives at
            ``qaoa_meta.studies.<name>``.
    """
    new_name = "qaoa_meta.studies." + old_name.rsplit(".", 1)[-1]
    warnings.warn(
        f"{old_name} moved to {new_name}; import that instead.", DeprecationWarning, stacklevel=3
    )
    sys.modules[old_name] = importlib.import_module(new_name)
