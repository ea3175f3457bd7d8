"""Shared pieces of the meta-learner cells: the base class, variants and PyTorch-style inits."""

from __future__ import annotations

import contextlib
import math

import numpy as np

from qaoa_meta._tf import keras, tf

# "paper": the published code, its bugs included; "fixed": the model the paper describes.
VARIANTS = ("paper", "fixed")


def check_choice(value: str, choices: tuple[str, ...], what: str, meanings: str) -> str:
    """Returns ``value`` if it is one of ``choices``, else raises ``ValueError``.

    Args:
        value: the name to check.
        choices: the accepted names.
        what: what the name selects, for the message (e.g. ``"cell variant"``).
        meanings: what each choice means, for the message.

    Returns:
        ``value`` unchanged.

    Raises:
        ValueError: naming ``value``, the ``choices`` and their ``meanings``.
    """
    if value not in choices:
        raise ValueError(f"Unknown {what} {value!r}; expected one of {choices} ({meanings}).")
    return value


def check_variant(variant: str) -> str:
    """Returns ``variant`` if it is one of :data:`VARIANTS`, else raises ``ValueError``.

    Args:
        variant: the cell variant name.

    Returns:
        ``variant`` unchanged.

    Raises:
        ValueError: when ``variant`` is not ``"paper"`` or ``"fixed"``.
    """
    return check_choice(
        variant,
        VARIANTS,
        "cell variant",
        "'paper' reproduces the published code, 'fixed' is the model as the paper describes it",
    )


def sub_seeds(seed: int, count: int) -> list[int]:
    """``count`` independent 31-bit seeds derived from ``seed`` (one per initializer).

    Args:
        seed: the parent seed.
        count: how many seeds.

    Returns:
        ``count`` ints in ``[0, 2^31 - 2]``, the same for the same ``seed``.
    """
    return [int(s) for s in np.random.SeedSequence(int(seed)).generate_state(count) % (2**31 - 1)]


def torch_uniform(bound: float, seed: int) -> keras.initializers.Initializer:
    """``U(−bound, bound)``, the PyTorch default for ``nn.Linear`` and ``nn.LSTM`` weights.

    Args:
        bound: half-width of the interval.
        seed: initializer seed.

    Returns:
        A ``keras.initializers.RandomUniform``.
    """
    return keras.initializers.RandomUniform(-bound, bound, seed=seed)


def torch_linear(units: int, fan_in: int, seed: int, name: str) -> keras.layers.Dense:
    """A ``Dense`` layer initialised like PyTorch's ``nn.Linear(fan_in, units)``.

    Weight and bias are both ``U(−1/√fan_in, 1/√fan_in)``.

    Args:
        units: output size.
        fan_in: input size (sets the bound only: the layer is not built).
        seed: split by :func:`sub_seeds` into kernel and bias seeds.
        name: layer name.

    Returns:
        An unbuilt ``keras.layers.Dense``; the caller builds it with ``(None, fan_in)``.
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

    Subclass contract:

    - ``state_size``: list of the state vectors' sizes (e.g. ``[units, units]`` for h, c);
      ``output_size``: size of the step output (``units``).
    - ``build(input_shape)``: creates every weight from ``input_shape[-1]``, with
      initializer seeds drawn from ``self.seed`` by :func:`sub_seeds`, so that the same seed
      gives the same weights; sets ``self.built``.
    - ``call(inputs, states, training=None)``: ``inputs`` (B, input_dim) and one (B, size)
      tensor per state; returns ``(output, new_states)`` with output (B, output_size).
    - ``config_fields``: the names of every extra constructor argument, each stored as the
      attribute of the same name; :meth:`get_config` adds them, so that
      ``type(cell).from_config(cell.get_config())`` rebuilds the cell.
    - ``variant``: ``"paper"`` reproduces the published code, its bugs included;
      ``"fixed"`` is the model as the paper describes it. A cell where they coincide still
      accepts both.
    - Optionally ``rollout_scope()`` (see there).

    The base class validates ``units`` and ``variant``, stores ``units``, ``variant`` and
    ``seed``, gives all-zero initial states and a do-nothing :meth:`rollout_scope`.

    Args:
        units: output/hidden size, a positive int.
        variant: ``"paper"`` or ``"fixed"``.
        seed: seed of the initializers.
        **kwargs: passed to ``keras.layers.Layer`` (``name``, ...).

    Raises:
        ValueError: when ``units`` is not a positive int (bools rejected) or ``variant``
            is unknown.
    """

    config_fields: tuple[str, ...] = ()

    def __init__(self, units: int, variant: str = "fixed", seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, int | np.integer) or units < 1:
            raise ValueError(f"units must be a positive integer, got {units!r}.")
        self.units = int(units)
        self.variant = check_variant(variant)
        self.seed = int(seed)

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        """All-zero states, as in the published rollout.

        Args:
            inputs: a tensor whose first dimension is the batch size; read only when
                ``batch_size`` is None.
            batch_size: rows of each state.
            dtype: state dtype, default ``tf.float32``.

        Returns:
            One zero tensor ``(batch_size, size)`` per entry of ``state_size``.
        """
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

        Returns:
            A context manager; the base returns ``contextlib.nullcontext()``.
        """
        return contextlib.nullcontext()

    def get_config(self) -> dict:
        """The Keras layer config plus ``units``, ``variant``, ``seed`` and the
        :attr:`config_fields`.

        Returns:
            A dict that ``type(cell).from_config`` accepts.
        """
        config = super().get_config()
        config.update(units=self.units, variant=self.variant, seed=self.seed)
        config.update({name: getattr(self, name) for name in self.config_fields})
        return config


def lstm_update(
    forget: tf.Tensor, input_: tf.Tensor, update: tf.Tensor, output: tf.Tensor, c: tf.Tensor
) -> tuple[tf.Tensor, tf.Tensor]:
    """The LSTM state update from the four gates' pre-activations (every LSTM cell here).

    Args:
        forget, input_, update, output: ``(B, units)`` pre-activations of the gates.
        c: ``(B, units)`` cell state.

    Returns:
        ``(h, c)``: the new hidden and cell states.
    """
    c = tf.sigmoid(forget) * c + tf.sigmoid(input_) * tf.tanh(update)
    return tf.sigmoid(output) * tf.tanh(c), c


class LSTMStateCell(MetaCell):
    """An LSTM: state ``[h, c]`` (both ``units`` wide), output h.

    Subclass contract: implement :meth:`gate_preactivations` (the four gates'
    ``(B, units)`` pre-activations, in the order forget, input, update, output) and ``build``
    (which creates the weights it reads, as :class:`MetaCell` says). Do not override
    :attr:`state_size`, :attr:`output_size` or :meth:`call`: they are the same for every LSTM
    cell. A subclass may rely on :meth:`call` applying :func:`lstm_update` (sigmoid on the
    forget, input and output gates, tanh on the update) to its pre-activations, and on
    everything :class:`MetaCell` provides (``units``, ``variant``, ``seed``, zero initial
    states).
    """

    @property
    def state_size(self):
        """``[units, units]``: the hidden state h and the cell state c."""
        return [self.units, self.units]

    @property
    def output_size(self) -> int:
        """``units``: the step output is h."""
        return self.units

    def gate_preactivations(
        self, inputs: tf.Tensor, h: tf.Tensor
    ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
        """The pre-activations of the four gates; every subclass must implement it.

        Args:
            inputs: ``(B, input_dim)`` step input x.
            h: ``(B, units)`` hidden state of the previous step.

        Returns:
            ``(forget, input, update, output)``, each ``(B, units)``, before their
            nonlinearities (applied by :func:`lstm_update`).

        Raises:
            NotImplementedError: here, in the base class.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement gate_preactivations.")

    def call(self, inputs, states, training=None):
        """One LSTM step.

        Args:
            inputs: ``(B, input_dim)`` step input.
            states: ``[h, c]``, each ``(B, units)``.
            training: unused.

        Returns:
            ``(h, [h, c])``, the new hidden and cell states.
        """
        h, c = states[0], states[1]
        h, c = lstm_update(*self.gate_preactivations(inputs, h), c)
        return h, [h, c]


class QuantumGateLSTMCell(LSTMStateCell):
    """An LSTM whose four gates read features of quantum circuits (QLSTM, QK-LSTM).

    Subclass contract:

    - set ``self.n_qubits`` (the width of the circuit inputs y) in ``__init__``;
    - ``build`` creates ``clayer_in`` (concat(h, x) → circuit inputs y) and
      ``clayer_out`` (one gate's features → ``units`` pre-activations), normally by
      calling :meth:`build_linear_layers`, then the cell's own circuit weights from the seed
      it returns, and sets ``self.built``;
    - :meth:`gate_features` maps y to the ``(4, B, features)`` features of the gates in the
      order forget, input, update, output (``features`` as passed to
      :meth:`build_linear_layers`).

    :meth:`gate_preactivations` (``clayer_out`` shared by the four gates) and everything of
    :class:`LSTMStateCell` are the same for every such cell: do not override them.
    """

    def build_linear_layers(self, input_shape, features: int) -> int:
        """Creates and builds ``clayer_in`` Linear(input_dim + units → n_qubits) and the shared
        ``clayer_out`` Linear(features → units), PyTorch-initialised.

        Args:
            input_shape: shape of the step input; its last entry is input_dim.
            features: circuit features per gate.

        Returns:
            The seed left for the cell's own weights (the third of :func:`sub_seeds`).
        """
        input_dim = int(input_shape[-1])
        seeds = sub_seeds(self.seed, 3)
        self.clayer_in = torch_linear(self.n_qubits, input_dim + self.units, seeds[0], "clayer_in")
        self.clayer_in.build((None, input_dim + self.units))
        self.clayer_out = torch_linear(self.units, features, seeds[1], "clayer_out")
        self.clayer_out.build((None, features))
        return seeds[2]

    def gate_features(self, y: tf.Tensor) -> tf.Tensor:
        """The four gates' circuit features; every subclass must implement it.

        Args:
            y: ``(B, n_qubits)`` circuit inputs, the output of ``clayer_in``.

        Returns:
            ``(4, B, features)`` float32 features, gates in the order forget, input,
            update, output.

        Raises:
            NotImplementedError: here, in the base class.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement gate_features(y).")

    def gate_preactivations(self, inputs, h):
        """``clayer_out`` of each gate's :meth:`gate_features` of ``clayer_in([h, x])``.

        Args: as :meth:`LSTMStateCell.gate_preactivations`.
        """
        z = self.gate_features(self.clayer_in(tf.concat([h, inputs], axis=-1)))
        return tuple(self.clayer_out(z[gate]) for gate in range(4))
