"""Crash-safe file output: every result and checkpoint file is written atomically.

A writer killed at any moment leaves either the old file or the complete new one, never a
truncated file: content goes to a temporary file in the same directory, is flushed to disk,
and replaces the target with :func:`os.replace` (an atomic rename on POSIX and Windows).

* :func:`write_atomic` writes text or bytes;
* :func:`atomic_path` yields a temporary path for writers that want a file name
  (``fig.savefig``, ``csv`` streams, ``np.savez``) and renames it into place on success;
* :func:`read_json` reads a JSON file and turns a damaged one into a one-line error naming
  the file and the fix.

Standard library only (no TensorFlow, no Cirq), so argument checks stay fast. The two
writers are :mod:`hardware.fileio`'s, re-exported: ``hardware`` never imports ``qaoa_meta``,
so the one implementation lives there and both packages use it.
"""

from __future__ import annotations

import json
import os
import pathlib
from typing import Any

from hardware.fileio import atomic_path, write_atomic


def read_json(path: str | os.PathLike, fix: str = "delete it and re-create it") -> Any:
    """Parses the JSON file ``path``; a damaged file raises a ValueError naming it and ``fix``.

    Args:
        path: the JSON file (UTF-8).
        fix: what the reader should do about a damaged file, ending the error message.

    Returns:
        The parsed JSON value.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file is not valid JSON (e.g. truncated by a crash).
    """
    path = pathlib.Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is damaged (not valid JSON: {error}); {fix}.") from None


__all__ = ["atomic_path", "read_json", "write_atomic"]
