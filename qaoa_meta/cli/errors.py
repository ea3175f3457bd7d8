"""The command line's error type: bad input is one line and exit code 2, a bug is a traceback.

Only :class:`UserError` is turned into a one-line message by :func:`qaoa_meta.cli.main`. Library
functions raise ``ValueError``/``TypeError`` both for bad input and (by mistake) for bugs, so the
command line converts them only where the input is being read: inside :func:`user_input`
blocks around the calls that parse files and options. An exception anywhere else (during
training, evaluation or simulation) is a library bug and keeps its traceback.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


class UserError(ValueError):
    """An error caused by the user's input: printed as one clean line, no traceback."""


@contextlib.contextmanager
def user_input(what: str = "") -> Iterator[None]:
    """Re-raises ``ValueError``/``TypeError``/``FileNotFoundError`` inside as :class:`UserError`.

    Args:
        what: names the input being read (e.g. ``"--dataset datasets.json"``), prefixed to the
            message; empty when the library's message already names it.

    Raises:
        UserError: with the original message (the original stays chained as ``__cause__``).
    """
    try:
        yield
    except UserError:
        raise
    except (ValueError, TypeError, FileNotFoundError) as error:
        message = f"{what}: {error}" if what else str(error)
        raise UserError(message) from error


def one_line(message: object) -> str:
    """An error message on one line (multi-line messages are folded).

    Args:
        message: the message, or anything ``str()`` accepts (e.g. an exception).

    Returns:
        The non-blank lines, stripped and joined by single spaces.
    """
    return " ".join(part.strip() for part in str(message).splitlines() if part.strip())


__all__ = ("UserError", "one_line", "user_input")
