"""Classical LSTM cell with PyTorch's layout (gates i, f, g, o) and optional double bias."""

from __future__ import annotations

import math

from qaoa_meta._tf import tf
from qaoa_meta.cells.base import LSTMStateCell, sub_seeds, torch_uniform


class LSTMCell(LSTMStateCell):
    """``torch.nn.LSTM`` as a Keras cell: output h_t, states [h_t, c_t].

    With ``double_bias=True`` (PyTorch's ``b_ih`` and ``b_hh``) an LSTM(3→2) has 56
    parameters, the count reported by the paper; Keras' own LSTM has one bias (48). All
    weights are ``U(−1/√units, 1/√units)`` as in PyTorch. ``variant`` is accepted for a
    uniform interface; both variants are the same classical model.

    Args:
        units: hidden size (the paper: 2p; h_t is used directly as the QAOA angles).
        double_bias: keep PyTorch's two bias vectors.
        variant: "paper" or "fixed" (identical for this cell).
        seed: seed of the initializers.
        **kwargs: passed to :class:`~qaoa_meta.cells.base.MetaCell`.

    Raises:
        ValueError: when ``units`` is not a positive int or ``variant`` is unknown.
    """

    config_fields = ("double_bias",)

    def __init__(
        self, units: int, double_bias: bool = True, variant: str = "fixed", seed: int = 0, **kwargs
    ):
        super().__init__(units, variant, seed, **kwargs)
        self.double_bias = bool(double_bias)

    def build(self, input_shape):
        """Creates the weights, ``U(−1/√units, 1/√units)``, gate blocks in order i, f, g, o.

        ``kernel`` (input_dim, 4·units), ``recurrent_kernel`` (units, 4·units), ``bias``
        and, with ``double_bias``, ``recurrent_bias`` (4·units).

        Args:
            input_shape: shape of the step input; its last entry is input_dim.
        """
        input_dim = int(input_shape[-1])
        bound = 1.0 / math.sqrt(self.units)
        seeds = sub_seeds(self.seed, 4)
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_dim, 4 * self.units),
            initializer=torch_uniform(bound, seeds[0]),
        )
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel",
            shape=(self.units, 4 * self.units),
            initializer=torch_uniform(bound, seeds[1]),
        )
        self.bias = self.add_weight(
            name="bias", shape=(4 * self.units,), initializer=torch_uniform(bound, seeds[2])
        )
        self.recurrent_bias = None
        if self.double_bias:
            self.recurrent_bias = self.add_weight(
                name="recurrent_bias",
                shape=(4 * self.units,),
                initializer=torch_uniform(bound, seeds[3]),
            )
        self.built = True

    def gate_preactivations(self, inputs, h):
        """``x W + h U + b (+ b_hh)`` split into PyTorch's gate blocks i, f, g, o.

        Args: as :meth:`LSTMStateCell.gate_preactivations`.
        """
        z = tf.matmul(inputs, self.kernel) + tf.matmul(h, self.recurrent_kernel) + self.bias
        if self.recurrent_bias is not None:
            z = z + self.recurrent_bias
        i, f, g, o = tf.split(z, 4, axis=-1)
        return f, i, g, o
