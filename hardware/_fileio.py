"""Atomic file writes for :mod:`hardware` (a copy of ``qaoa_meta.fileio.write_atomic``).

``hardware`` never imports ``qaoa_meta``, so it keeps this tiny helper of its own: content
goes to a temporary file in the target's directory and replaces the target with
:func:`os.replace`, so a crash leaves the old file or the complete new one, never a torn one.
"""

from __future__ import annotations

import os
import pathlib
import tempfile


def write_atomic(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> pathlib.Path:
    """Writes ``text`` to ``path`` atomically (creating the parent directory).

    Args:
        path: the target file; it is replaced whole, never left half-written.
        text: the content.
        encoding: the text encoding.

    Returns:
        ``path`` as a :class:`pathlib.Path`.

    Raises:
        OSError: when the directory cannot be created or the file not written or renamed
            (the temporary file is removed first).
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        mask = os.umask(0o022)
        os.umask(mask)
        os.chmod(name, 0o666 & ~mask)  # mkstemp's 0600 would outlive the rename
        with os.fdopen(handle, "w", encoding=encoding) as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(name, path)
    except BaseException:
        pathlib.Path(name).unlink(missing_ok=True)
        raise
    return path
