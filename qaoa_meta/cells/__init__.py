"""Meta-learner cells: classical LSTM, QLSTM, QK-LSTM and QFWP as Keras RNN cells.

:func:`build_cell` builds the cell of a named model for QAOA depth p, with the sizes of the
published code: input x_t = [y_{t-1}, θ_{t-1}] has 1 + 2p numbers (+3 graph features when
enabled); LSTM hidden 2p (h_t is θ_t); QLSTM/QK-LSTM hidden 2p + 1 and a Linear(2p+1 → 2p)
mapping head; QFWP 2p outputs on 2p qubits.
"""

from __future__ import annotations

import dataclasses

from qaoa_meta.cells.base import VARIANTS, MetaCell, check_variant
from qaoa_meta.cells.circuits import CIRCUIT_BACKENDS, check_circuit_backend
from qaoa_meta.cells.lstm import LSTMCell
from qaoa_meta.cells.qfwp import QFWPCell
from qaoa_meta.cells.qk_lstm import QKLSTMCell
from qaoa_meta.cells.qlstm import QLSTMCell


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """How a named model is sized, and the parameter counts the paper's code reports (p=1).

    Attributes:
        name: the model's key in :data:`MODELS`.
        default_mapping: ``"linear"`` (the cell has 2p + 1 outputs and
            :class:`~qaoa_meta.meta.MetaOptimizer`'s Linear(2p+1 → 2p) head maps them to
            the angles) or ``"identity"`` (the cell's 2p outputs are the angles).
        paper_sequence_params: trainable parameters of the cell in the published code.
        paper_mapping_params: parameters of the mapping head in the published code.
    """

    name: str
    default_mapping: str  # "linear" or "identity"
    paper_sequence_params: int
    paper_mapping_params: int

    def units(self, p: int) -> int:
        """Cell output size for depth p.

        Args:
            p: QAOA depth.

        Returns:
            ``2p + 1`` for a ``"linear"`` mapping, else ``2p``.
        """
        return 2 * p + 1 if self.default_mapping == "linear" else 2 * p


MODELS: dict[str, ModelSpec] = {
    "lstm": ModelSpec("lstm", "identity", 56, 0),
    "qlstm": ModelSpec("qlstm", "linear", 43, 8),
    "qk-lstm": ModelSpec("qk-lstm", "linear", 43, 8),
    "qfwp": ModelSpec("qfwp", "identity", 31, 0),
}


def model_spec(model: str) -> ModelSpec:
    """The :class:`ModelSpec` of ``model`` (one of :data:`MODELS`).

    Args:
        model: ``"lstm"``, ``"qlstm"``, ``"qk-lstm"`` or ``"qfwp"``.

    Returns:
        Its :class:`ModelSpec`.

    Raises:
        ValueError: for an unknown model.
    """
    if model not in MODELS:
        raise ValueError(f"Unknown model {model!r}; expected one of {tuple(MODELS)}.")
    return MODELS[model]


def build_cell(
    model: str,
    p: int = 1,
    variant: str = "fixed",
    n_qubits: int = 4,
    seed: int = 0,
    units: int | None = None,
    circuit_backend: str = "tfq",
) -> MetaCell:
    """The cell of ``model`` for QAOA depth ``p`` (n_qubits applies to QLSTM and QK-LSTM);
    ``units`` overrides the published hidden size; ``circuit_backend`` ("tfq" or "tf")
    simulates the quantum cells' circuits with TFQ or with XLA-compilable TF ops.

    Args:
        model: ``"lstm"``, ``"qlstm"``, ``"qk-lstm"`` or ``"qfwp"``.
        p: QAOA depth.
        variant: ``"paper"`` or ``"fixed"`` (see :class:`~qaoa_meta.cells.base.MetaCell`).
        n_qubits: qubits of the QLSTM and QK-LSTM circuits; ignored by LSTM and QFWP (QFWP
            always has 2p qubits).
        seed: seed of the cell's initializers.
        units: cell output size; default :meth:`ModelSpec.units` of ``p``. For QFWP it
            sets the outputs only, not the qubits.
        circuit_backend: ``"tfq"`` or ``"tf"``; checked for every model, unused by LSTM.

    Returns:
        An unbuilt cell (built on its first call), named ``lstm_cell``, ``qlstm_cell``,
        ``qk_lstm_cell`` or ``qfwp_cell``.

    Raises:
        ValueError: for an unknown model, variant or circuit backend, or a size < 1.
    """
    spec = model_spec(model)
    check_variant(variant)
    units = spec.units(p) if units is None else units
    check_circuit_backend(circuit_backend)
    quantum = {"variant": variant, "seed": seed, "circuit_backend": circuit_backend}
    if model == "lstm":
        return LSTMCell(units, double_bias=True, variant=variant, seed=seed, name="lstm_cell")
    if model == "qlstm":
        return QLSTMCell(units, n_qubits=n_qubits, name="qlstm_cell", **quantum)
    if model == "qk-lstm":
        return QKLSTMCell(units, n_qubits=n_qubits, name="qk_lstm_cell", **quantum)
    return QFWPCell(units, n_qubits=2 * p, name="qfwp_cell", **quantum)


__all__ = [
    "CIRCUIT_BACKENDS",
    "MODELS",
    "VARIANTS",
    "LSTMCell",
    "MetaCell",
    "ModelSpec",
    "QFWPCell",
    "QKLSTMCell",
    "QLSTMCell",
    "build_cell",
    "check_variant",
    "model_spec",
]
