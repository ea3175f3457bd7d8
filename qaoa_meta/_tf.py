"""Quiet, Keras-2-safe import of TensorFlow, tf_keras and TensorFlow Quantum.

Every module that needs TensorFlow imports it from here, so the environment is set up once
before TensorFlow loads: ``TF_USE_LEGACY_KERAS=1`` (TFQ layers are Keras 2 layers) and the
C++/CUDA start-up chatter (cuDNN/cuBLAS factory registration, absl pre-init warnings) is
silenced. Python-level warnings and real errors are untouched.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys


@contextlib.contextmanager
def _stderr_silenced():
    """Redirects the process-level stderr (fd 2) to /dev/null; C++ logs bypass sys.stderr."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real fd 2 (e.g. some notebook kernels)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

with _stderr_silenced():
    import tensorflow as tf  # noqa: E402
    import tensorflow_quantum as tfq  # noqa: E402
    import tf_keras as keras  # noqa: E402

tf.get_logger().setLevel(logging.ERROR)
logging.getLogger("absl").setLevel(logging.ERROR)

__all__ = ["tf", "tfq", "keras"]
