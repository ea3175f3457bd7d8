"""Every name table the command line offers, in one module that loads neither TF nor Cirq.

``qaoa-meta --help`` and every argument error must arrive in well under a second, so the CLI
cannot import the library modules that own these tables (they load TensorFlow or Cirq). The
tables are copied here once; tests/cli/test_cli.py and tests/cli/test_cli_checks.py keep each equal to
the library's own (``qaoa_meta.cells``, ``qaoa_meta.optimize``, ``hardware.devices``,
``hardware.routing``, ``hardware.noise``). The initialiser names are not copied: they come from
their TF-free registry, :mod:`qaoa_meta.initializer_names`, which the library uses too.
"""

from __future__ import annotations

from qaoa_meta import initializer_names

# qaoa_meta.cells.MODELS and VARIANTS: the meta-learners and their two variants.
MODELS = ("lstm", "qlstm", "qk-lstm", "qfwp")
VARIANTS = ("paper", "fixed")

# Initialiser names: the registry itself (TF-free), not a copy. DATA_FREE + FITTED are
# `evaluate --methods`; NOISE_STUDY_* the noise study's (a learned one may carry
# NOISE_AWARE_SUFFIX); aliases resolve with canonical()/study_name().
DATA_FREE = initializer_names.DATA_FREE
FITTED = initializer_names.FITTED
EVALUATE_METHODS = initializer_names.EVALUATE_METHODS
NOISE_STUDY_INITIALIZERS = initializer_names.STUDY
NOISE_STUDY_LEARNED = initializer_names.STUDY_LEARNED
NOISE_AWARE_SUFFIX = initializer_names.NOISE_AWARE_SUFFIX

# qaoa_meta.optimize.OPTIMIZERS: the Phase-II optimisers.
OPTIMIZER_NAMES = ("sgd", "adam", "l-bfgs-b", "cobyla", "nelder-mead", "spsa")

# hardware.devices.GATESETS and hardware.routing.ROUTERS.
GATESETS = ("cz", "sqrt_iswap", "sycamore")
ROUTERS = ("auto", "cqc", "swap_network")

# hardware.devices: qubits and gate sets of the named devices (grid:RxC and line:N take every
# gate set).
DEVICE_QUBITS = {"sycamore": 54, "sycamore23": 23, "rainbow": 23, "weber": 53}
DEVICE_GATESETS = {
    "sycamore": ("sqrt_iswap", "sycamore"),
    "sycamore23": ("sqrt_iswap", "sycamore"),
    "rainbow": ("cz", "sqrt_iswap", "sycamore"),
    "weber": ("cz", "sqrt_iswap", "sycamore"),
}

# The grammar of hardware.noise.noise_from_spec: part name -> number of arguments.
NOISE_PARTS = {"rainbow": 0, "weber": 0, "depolarizing": 2, "thermal": 2, "readout": 2}

# `qaoa-meta problem` kinds and the files networkx reads for `--file`.
PROBLEM_KINDS = ("er", "regular", "sk", "paper", "edges", "networkx")
NETWORKX_FORMATS = (".graphml", ".gml", ".json", ".adjlist", ".edgelist", ".txt", ".csv")
