"""Shared pieces of the meta-learner cells: the base class, variants and PyTorch-style inits."""

from __future__ import annotations

import contextlib
import math

import numpy as np

from qaoa_meta._tf import keras, tf

VARIANTS = ("paper", "fixed")


def check_variant(variant: str) -> str:
    """Returns ``variant`` if it is one of :data:`VARIANTS`, else raises ``ValueError``."""
    if variant not in VARIANTS:
        raise ValueError(
            f"Unknown cell variant {variant!r}; expected one of {VARIANTS} ('paper' reproduces "
            "the published code, 'fixed' is the model as the paper describes it)."
        )
    return variant


def sub_seeds(seed: int, count: int) -> list[int]:
    """``count`` independent 31-bit seeds derived from ``seed`` (one per initializer)."""
    return [int(s) for s in np.random.SeedSequence(int(seed)).generate_state(count) % (2**31 - 1)]


def torch_uniform(bound: float, seed: int) -> keras.initializers.Initializer:
    """``U(−bound, bound)``, the PyTorch default for ``nn.Linear`` and ``nn.LSTM`` weights."""
    return keras.initializers.RandomUniform(-bound, bound, seed=seed)


def torch_linear(units: int, fan_in: int, seed: int, name: str) -> keras.layers.Dense:
    """A ``Dense`` layer initialised like PyTorch's ``nn.Linear(fan_in, units)``.

    Weight and bias are both ``U(−1/√fan_in, 1/√fan_in)``.
    """
    bound = 1.0 / math.sqrt(fan_in)
    kernel_seed, bias_seed = sub_seeds(seed, 2)
    return keras.layers.Dense(
        units,
        kernel_initializer=torch_uniform(bound, kernel_seed),
        bias_initializer=torch_uniform(bound, bias_seed),
        name=name,
    )


class MetaCell(keras.layers.AbstractRNNCell):
    """Base of the meta-learner cells: a Keras RNN cell with a variant and an explicit seed.

    Subclasses define ``state_size``, ``output_size``, ``build`` and ``call``. Every cell
    works inside ``keras.layers.RNN`` as well as in :class:`qaoa_meta.meta.MetaOptimizer`'s
    closed-loop rollout.
    """

    def __init__(self, units: int, variant: str = "fixed", seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, int | np.integer) or units < 1:
            raise ValueError(f"units must be a positive integer, got {units!r}.")
        self.units = int(units)
        self.variant = check_variant(variant)
        self.seed = int(seed)

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        """All-zero states, as in the published rollout."""
        if batch_size is None:
            batch_size = tf.shape(inputs)[0]
        dtype = dtype or tf.float32
        sizes = self.state_size if isinstance(self.state_size, list | tuple) else [self.state_size]
        return [tf.zeros([batch_size, size], dtype) for size in sizes]

    def rollout_scope(self) -> contextlib.AbstractContextManager:
        """Context for one closed-loop rollout with fixed weights (entered by ``MetaOptimizer``).

        Inside it a cell may compute weight-only quantities once and reuse them at every
        step (the QK-LSTM's reference states). The weights must not change inside it. The
        base cell does nothing.
        """
        return contextlib.nullcontext()

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(units=self.units, variant=self.variant, seed=self.seed)
        return config
