"""Crash-safe file output: a file is replaced whole, never left half-written.

A writer killed at any moment leaves either the old file or the complete new one: content
goes to a temporary file in the target's directory, is flushed to disk, and replaces the
target with :func:`os.replace` (an atomic rename on POSIX and Windows).

* :func:`write_atomic` writes text or bytes;
* :func:`atomic_path` yields a temporary path for writers that want a file name
  (``fig.savefig``, ``csv`` streams, ``np.savez``) and renames it into place on success.

Standard library only (no Cirq, no NumPy), so importing it stays cheap. It lives in
``hardware`` so that both packages share the one implementation: ``hardware`` never imports
``qaoa_meta``, and :mod:`qaoa_meta.fileio` re-exports these two functions beside its
``read_json``.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import tempfile
from collections.abc import Iterator


def write_atomic(
    path: str | os.PathLike, data: str | bytes, encoding: str = "utf-8"
) -> pathlib.Path:
    """Writes ``data`` to ``path`` so that readers see the old or the complete new content.

    Creates the parent directory.

    Args:
        path: the target file.
        data: text (written with ``encoding``) or bytes (written as they are).
        encoding: the text encoding; unused for bytes.

    Returns:
        ``path`` as a :class:`pathlib.Path`.

    Raises:
        OSError: when the directory, the file or the rename fails (the temporary file is
            removed).
    """
    path = pathlib.Path(path)
    with atomic_path(path) as temporary:
        if isinstance(data, bytes):
            temporary.write_bytes(data)
        else:
            temporary.write_text(data, encoding=encoding)
    return path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[pathlib.Path]:
    """A temporary path beside ``path``; renamed onto ``path`` when the block succeeds.

    The parent directory is created; the temporary file exists (empty) on entry, is fsynced
    and renamed onto ``path`` when the block exits normally, and is deleted when the block
    raises (the exception propagates, ``path`` is left as it was).

    Args:
        path: the target file.

    Yields:
        The temporary :class:`pathlib.Path` (same directory, name ending in ``.tmp``).

    Example:
        >>> with atomic_path("runs/fig.png") as tmp:
        ...     fig.savefig(tmp, format="png")  # give the format: tmp ends in ".tmp"
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    temporary = pathlib.Path(name)
    os.chmod(temporary, 0o666 & ~_umask())  # mkstemp's 0600 would outlive the rename
    try:
        yield temporary
        with open(temporary, "rb+") as stream:
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _umask() -> int:
    # The only way to read the umask is to set it; put the old one straight back.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


__all__ = ["atomic_path", "write_atomic"]
