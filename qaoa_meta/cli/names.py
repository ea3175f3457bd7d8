"""Every name table the command line offers, in one module that loads neither TF nor Cirq.

``qaoa-meta --help`` and every argument error must arrive in well under a second, so the CLI
cannot import the library modules that own these tables (they load TensorFlow or Cirq). The
tables are copied here once; tests/cli/test_cli.py and tests/cli/test_cli_checks.py keep each equal to
the library's own (``qaoa_meta.cells``, ``qaoa_meta.initializers``, ``qaoa_meta.optimize``,
``qaoa_meta.noise_study``, ``hardware.devices``, ``hardware.routing``, ``hardware.noise``).
"""

from __future__ import annotations

# qaoa_meta.cells.MODELS and VARIANTS: the meta-learners and their two variants.
MODELS = ("lstm", "qlstm", "qk-lstm", "qfwp")
VARIANTS = ("paper", "fixed")

# qaoa_meta.initializers.INITIALIZERS (data-free) and the two fitted on a training split.
DATA_FREE = (
    "random",
    "paper-fixed-1",
    "paper-fixed-2",
    "fixed-angle-table",
    "linear-ramp",
    "interp",
    "fourier",
)
FITTED = ("fitted-fixed-angle", "feature-regression")

# qaoa_meta.optimize.OPTIMIZERS: the Phase-II optimisers.
OPTIMIZER_NAMES = ("sgd", "adam", "l-bfgs-b", "cobyla", "nelder-mead", "spsa")

# qaoa_meta.noise_study.INITIALIZERS; the learned ones may carry NOISE_AWARE_SUFFIX.
NOISE_STUDY_INITIALIZERS = (
    "random",
    "fixed-angle",
    "fitted-fixed-angle",
    "regression",
    "lstm",
    "qlstm",
    "qk-lstm",
    "qfwp",
    "qk-lstm-paper",
)
NOISE_STUDY_LEARNED = NOISE_STUDY_INITIALIZERS[4:]
NOISE_AWARE_SUFFIX = "+noise-aware"

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
