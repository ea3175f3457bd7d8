"""Deprecated alias of :mod:`qaoa_meta.studies.reproduce`; import that instead.

Importing this module warns and hands back the new module itself (the same object, the same
functions), so old imports and stored ``qaoa_meta.reproduce:...`` paths keep working.
"""

from qaoa_meta.studies.moved import replace_with_moved_module

replace_with_moved_module(__name__)
