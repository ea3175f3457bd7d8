"""Learning to learn QAOA parameters: the closed-loop rollout, meta-losses and training model.

A :class:`MetaOptimizer` rolls a meta-learner cell (:mod:`qaoa_meta.cells`) out for T steps
against a batch of Max-Cut problems, as in arXiv 2512.05058 (after Verdon et al. 2019):

* x_1 = 0; at step t the cell reads x_t = [y_{t-1}, θ_{t-1}] (plus optional graph features),
  its output goes through the mapping head to θ_t = [γ_PL, α] (PennyLane's ``qml.qaoa``
  convention), and y_t = −⟨C⟩ at textbook θ = (−γ_PL, α) is the PennyLane cost.
  Gradients flow through y_t into later inputs (no stop-gradient), as in the published code.
* Meta-losses: ``weighted`` (1/T) Σ_t 0.1·t·y_t; ``observed_improvement`` (1/T)
  Σ_{t≥2} min(y_t − min_{j<t} y_j, 0); ``final`` y_T. Averaged over the batch.

Energies come from the exact TF state-vector path on padded cost diagonals (default) or
from TFQ (``backend="tfq"``). The whole rollout and its gradient run in one ``tf.function``
(Keras' ``train_step``), so ``compile()`` + ``fit()`` work on a ``tf.data`` dataset of
problems built by :func:`make_dataset`, with any Keras callbacks;
:func:`qaoa_meta.training.train` runs ``fit`` with the published schedule's callbacks, a log
and crash-safe checkpoints. :meth:`MetaOptimizer.rollout_tensors` is the differentiable
rollout for custom steps and scores, :meth:`MetaOptimizer.rollout` the NumPy one.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import pathlib
import shutil
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from hardware import serialization
from qaoa_meta import qaoa
from qaoa_meta._tf import keras, tf, tfq
from qaoa_meta.cells import CIRCUIT_BACKENDS, VARIANTS, build_cell, model_spec
from qaoa_meta.energy import (
    exact_expectation,
    p1_coefficients,
    p1_expectation,
    pad_diagonals,
    tfq_qaoa_inputs,
)
from qaoa_meta.fileio import read_json, write_atomic
from qaoa_meta.problems import MaxCutProblem

SCHEMA_VERSION = 1
LOSSES = ("weighted", "observed_improvement", "final")
MAPPINGS = ("auto", "linear", "identity")
BACKENDS = ("exact", "p1", "tfq")
VALIDATION_LOSSES = ("final", "meta")
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights"
WEIGHTS_POINTER = "weights.json"  # names the committed weights version of a model directory


@dataclasses.dataclass(frozen=True)
class MetaConfig(serialization.Serializable):
    """Everything that defines a meta-optimizer; saved beside its weights.

    Saved with ``schema_version`` (:class:`hardware.serialization.Serializable`); keys a file
    lacks take their defaults.

    Attributes:
        model: "lstm", "qlstm", "qk-lstm" or "qfwp".
        variant: "paper" (the published code's behaviour) or "fixed".
        p: QAOA depth; the cell emits 2p angles.
        steps: rollout length T.
        loss: "weighted", "observed_improvement" or "final".
        mapping: head from cell output to angles: "auto" (the paper's choice per model),
            "linear" or "identity".
        graph_features: append (y/W, mean degree, density) to every input (our extension).
        backend: energy path: "exact" (state vector), "p1" (the p=1 closed form on
            unweighted graphs: same values, O(edges) per energy, XLA-compilable) or "tfq".
        circuit_backend: how the quantum cells' circuits are simulated: "tfq" (TFQ ops) or
            "tf" (the same circuits as TF ops; needed for XLA-compiled stacked training).
        n_qubits: qubits of the QLSTM / QK-LSTM gate circuits.
        hidden: cell hidden size (outputs); None keeps the published size (2p for LSTM and
            QFWP, 2p + 1 for QLSTM and QK-LSTM). A size other than 2p needs the linear
            mapping head, which ``mapping="auto"`` then picks.
        validation_loss: what ``evaluate``/``val_loss`` reports: "final" (the paper's mean
            final-step cost y_T) or "meta" (the training meta-loss).
        seed: seed of every initializer.
        schema_version: the config's JSON schema.

    Raises:
        ValueError: for an unknown model, variant, loss, mapping, backend, circuit backend or
            validation loss; ``p``, ``steps`` or ``n_qubits`` not a positive integer;
            ``hidden`` neither None nor a positive integer; or ``backend="p1"`` with p > 1.
    """

    model: str = "qk-lstm"
    variant: str = "fixed"
    p: int = 1
    steps: int = 10
    loss: str = "weighted"
    mapping: str = "auto"
    graph_features: bool = False
    backend: str = "exact"
    circuit_backend: str = "tfq"
    n_qubits: int = 4
    hidden: int | None = None
    validation_loss: str = "final"
    seed: int = 42
    schema_version: int = SCHEMA_VERSION

    _json_indent = 2
    _schema = serialization.Schema(version=SCHEMA_VERSION)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> MetaConfig:
        """The config set by the entries of ``options`` named after its fields; the rest are
        ignored, and the fields they do not name keep their defaults.

        Settings that travel with other options name them after these fields: the
        ``qaoa-meta train`` options (``--model``, ``--steps``, ``--graph-features``, ...) and
        the samples of ``qaoa-meta tune``.

        Args:
            options: e.g. ``vars()`` of parsed arguments, or a tuning sample.

        Returns:
            The :class:`MetaConfig`.

        Raises:
            ValueError: for a value the config refuses (see :class:`MetaConfig`).
        """
        fields = {field.name for field in dataclasses.fields(cls)}
        return cls(**{name: value for name, value in options.items() if name in fields})

    def __post_init__(self) -> None:
        model_spec(self.model)
        for name, value, allowed in (
            ("variant", self.variant, VARIANTS),
            ("loss", self.loss, LOSSES),
            ("mapping", self.mapping, MAPPINGS),
            ("backend", self.backend, BACKENDS),
            ("circuit_backend", self.circuit_backend, CIRCUIT_BACKENDS),
            ("validation_loss", self.validation_loss, VALIDATION_LOSSES),
        ):
            if value not in allowed:
                raise ValueError(f"Unknown {name} {value!r}; expected one of {allowed}.")
        for name in ("p", "steps", "n_qubits"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}.")
        if self.hidden is not None and (
            isinstance(self.hidden, bool) or not isinstance(self.hidden, int) or self.hidden < 1
        ):
            raise ValueError(f"hidden must be a positive integer or None, got {self.hidden!r}.")
        if self.backend == "p1" and self.p != 1:
            raise ValueError(
                f"backend='p1' is the p=1 closed form; got p={self.p}. Use backend='exact'."
            )

    @property
    def resolved_mapping(self) -> str:
        """ "linear" or "identity" ("auto" resolved per model as in the published code, and
        "linear" when ``hidden`` is not 2p)."""
        if self.mapping != "auto":
            return self.mapping
        if self.units != 2 * self.p:
            return "linear"
        return model_spec(self.model).default_mapping

    @property
    def units(self) -> int:
        """Cell output (hidden) size: ``hidden``, or the published size for the model."""
        return self.hidden if self.hidden is not None else model_spec(self.model).units(self.p)

    @property
    def input_dim(self) -> int:
        """Size of the cell input x_t: 1 + 2p (+3 with graph features)."""
        return 1 + 2 * self.p + (3 if self.graph_features else 0)


class RolloutTensors(NamedTuple):
    """The unrolled T steps of a batch, as tensors (what the meta-loss and its gradient need).

    Attributes:
        params: (B, T, 2p) the mapping head's outputs θ_PL = [γ_PL, α] (PennyLane's sign).
        theta: (B, T, 2p) the same angles in the textbook convention (γ_1..γ_p, β_1..β_p).
        cost: (B, T) the PennyLane cost y_t = −⟨C⟩ (what :func:`meta_loss` takes).
        expectation: (B, T) ⟨C⟩ (a cut value).
    """

    params: tf.Tensor
    theta: tf.Tensor
    cost: tf.Tensor
    expectation: tf.Tensor


@dataclasses.dataclass(frozen=True)
class RolloutResult:
    """Phase-I trajectory of a batch: θ_t in the textbook convention and the costs.

    Attributes:
        theta: (B, T, 2p) θ_t, textbook (γ_1..γ_p, β_1..β_p).
        cost: (B, T) the PennyLane cost y_t = −⟨C⟩.
        expectation: (B, T) ⟨C⟩ (a cut value).
    """

    theta: np.ndarray  # (B, T, 2p) textbook (γ_1..γ_p, β_1..β_p)
    cost: np.ndarray  # (B, T) PennyLane cost y_t = −⟨C⟩
    expectation: np.ndarray  # (B, T) ⟨C⟩ (a cut value)

    @property
    def final_theta(self) -> np.ndarray:
        """(B, 2p) θ_T, the proposed initial point for Phase II."""
        return self.theta[:, -1]


# --- data ------------------------------------------------------------------------------------
class _TracedRollouts:
    """Traced rollout functions by row shape; not a dict so Keras does not track (save) it."""

    def __init__(self) -> None:
        self.by_shape: dict[tuple, tf.types.experimental.GenericFunction] = {}


def _tf_dtype(array: np.ndarray) -> tf.DType:
    # Serialized TFQ circuits and operators come back from ``.numpy()`` as object arrays.
    return tf.string if array.dtype == object else tf.as_dtype(array.dtype)


def encode_problems(
    problems: Sequence[MaxCutProblem], config: MetaConfig, n_qubits: int | None = None
) -> dict[str, np.ndarray]:
    """The per-problem arrays a rollout needs (one row per problem).

    Keys: ``diagonal`` (B, 2^n) padded cut diagonals; ``features`` (B, 3) = (1/W, mean
    degree, density); with ``backend="p1"`` also ``p1_edges``, ``p1_linear`` and
    ``p1_quadratic`` (:func:`~qaoa_meta.energy.p1_coefficients`); with ``backend="tfq"`` also ``circuit`` (B,), ``operator`` (B, 1)
    serialized QAOA circuits (padded to one width) and ZZ operators, and ``offset`` (B,) = W/2
    (:func:`~qaoa_meta.energy.tfq_qaoa_inputs`).

    Args:
        problems: the problems.
        config: the model config (its ``backend`` and ``p`` choose the arrays).
        n_qubits: register size to pad to (default: the largest n).

    Returns:
        The arrays by key.

    Raises:
        ValueError: for no problems, a problem without edges, ``n_qubits`` below the
            largest n, or (``p1``) a weighted problem.
        TypeError: for an item that is not a :class:`MaxCutProblem`.
    """
    problems = list(problems)
    if not problems:
        raise ValueError("Expected at least one problem, got an empty sequence.")
    for problem in problems:
        if not isinstance(problem, MaxCutProblem):
            raise TypeError(f"Expected MaxCutProblem items, got {type(problem).__name__}.")
        if problem.num_edges == 0:
            raise ValueError(f"Problem {problem.name!r} has no edges; its cost is identically 0.")
    data = {
        "diagonal": pad_diagonals(problems, n_qubits),
        "features": np.array(
            [[1.0 / pr.total_weight, pr.mean_degree, pr.density] for pr in problems], np.float32
        ),
    }
    if config.backend == "p1":
        data["p1_edges"], data["p1_linear"], data["p1_quadratic"] = p1_coefficients(
            problems, n_qubits
        )
    if config.backend == "tfq":
        # Padded to one width (n_qubits or the largest n): a batch may mix sizes.
        data["circuit"], data["operator"], data["offset"] = tfq_qaoa_inputs(
            problems, config.p, n_qubits=n_qubits
        )
    return data


def make_dataset(
    problems: Sequence[MaxCutProblem],
    config: MetaConfig,
    batch_size: int = 1,
    shuffle: bool = False,
    seed: int | None = None,
    n_qubits: int | None = None,
) -> tf.data.Dataset:
    """A batched ``tf.data`` dataset of encoded problems for ``MetaOptimizer.fit``.

    Diagonals are computed once here. Problems of different n share a batch (padded to the
    largest n, or ``n_qubits``). ``shuffle=False`` keeps the published fixed order.

    Args:
        problems: the problems.
        config: the model config.
        batch_size: problems per batch.
        shuffle: reshuffle every epoch.
        seed: seed of the shuffle.
        n_qubits: register size to pad to (default: the largest n).

    Returns:
        The batched, prefetched dataset of :func:`encode_problems` rows.

    Raises:
        ValueError: for no problems, ``batch_size`` not a positive integer, or what
            :func:`encode_problems` refuses.
        TypeError: as :func:`encode_problems`.
    """
    problems = list(problems)
    if not problems:
        # Checked before batch_size: the usual call batch_size=len(val) would otherwise fail
        # as "batch_size ... got 0", which names neither the empty split nor the fix.
        raise ValueError(
            "make_dataset got no problems: the split is empty (an empty validation split with "
            "batch_size=len(val) is the usual case). Give every split at least one graph: "
            "`qaoa-meta dataset` writes val with --val-graphs >= 1, or move a few problems "
            "from train to val."
        )
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
    data = encode_problems(problems, config, n_qubits)
    dataset = tf.data.Dataset.from_tensor_slices(data)
    if shuffle:
        dataset = dataset.shuffle(len(problems), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


# --- losses ----------------------------------------------------------------------------------
def meta_loss(costs: tf.Tensor, kind: str = "weighted") -> tf.Tensor:
    """Per-row meta-loss of a cost trajectory ``costs`` (B, T): shape (B,).

    Args:
        costs: (B, T) PennyLane costs y_t = −⟨C⟩.
        kind: ``weighted`` (Σ_t 0.1 (t + 1) y_t / T), ``observed_improvement``
            (Σ_{t≥1} min(y_t − min_{s<t} y_s, 0) / T) or ``final`` (y_T).

    Returns:
        (B,) losses.

    Raises:
        ValueError: for an unknown ``kind``.
    """
    steps = costs.shape[-1]
    if kind == "weighted":
        weights = tf.constant([0.1 * (t + 1) for t in range(steps)], costs.dtype)
        return tf.reduce_sum(costs * weights, axis=-1) / steps
    if kind == "observed_improvement":
        terms = [
            tf.minimum(costs[:, t] - tf.reduce_min(costs[:, :t], axis=-1), 0.0)
            for t in range(1, steps)
        ]
        total = tf.add_n(terms) if terms else tf.zeros_like(costs[:, 0])
        return total / steps
    if kind == "final":
        return costs[:, -1]
    raise ValueError(f"Unknown meta-loss {kind!r}; expected one of {LOSSES}.")


# --- optimiser and checkpoints ---------------------------------------------------------------
def torch_rmsprop(learning_rate: float) -> keras.optimizers.Optimizer:
    """RMSprop with PyTorch's defaults (α = 0.99, ε = 1e-8 outside the square root).

    Keras puts ε inside the root, so ε_keras = 1e-16 matches PyTorch at v → 0 and is
    indistinguishable elsewhere.

    Args:
        learning_rate: the learning rate.

    Returns:
        A Keras ``RMSprop`` optimizer.
    """
    return keras.optimizers.RMSprop(learning_rate=learning_rate, rho=0.99, epsilon=1e-16)


def check_checkpoint(prefix: str | os.PathLike, fix: str = "delete it and re-create it") -> None:
    """Reads every tensor of the TF checkpoint ``prefix``; a missing or damaged one raises.

    Args:
        prefix: the checkpoint prefix.
        fix: what the error message tells the user to do.

    Raises:
        ValueError: one line naming the checkpoint, the reason and ``fix`` (instead of a
            TensorFlow traceback at load time).
    """
    try:
        reader = tf.train.load_checkpoint(str(prefix))
        for name in reader.get_variable_to_shape_map():
            reader.get_tensor(name)
    except (tf.errors.OpError, ValueError, OSError, IndexError, RuntimeError) as error:
        reason = str(getattr(error, "message", error)).strip().splitlines()[0][:200]
        raise ValueError(f"Checkpoint {prefix} is damaged or missing ({reason}); {fix}.") from None


# --- the model -------------------------------------------------------------------------------
class MetaOptimizer(keras.Model):
    """A meta-learner cell plus mapping head, trained by unrolling it against QAOA energies.

    Example:
        >>> config = MetaConfig(model="qk-lstm", variant="paper")
        >>> model = MetaOptimizer(config)
        >>> model.compile()  # RMSprop, lr 6e-6 (sequence) and 1e-4 (mapping), as published
        >>> model.fit(make_dataset(train, config), validation_data=make_dataset(val, config))
        >>> result = model.rollout(test)  # θ_t trajectories and costs

    Args:
        config: a :class:`MetaConfig` (default ``MetaConfig()``).
        **kwargs: passed to ``keras.Model``.

    Attributes:
        config: the config.
        cell: the meta-learner cell (:func:`qaoa_meta.cells.build_cell`).
        mapping: the mapping head (a ``Dense`` layer or the identity).
        mapping_optimizer: the mapping head's optimizer (None until :meth:`compile`).
        energy_fn: the custom energy of :meth:`set_energy`, or None.

    Raises:
        ValueError: for ``mapping="identity"`` with a cell whose output size is not 2p, or
            cell settings :func:`qaoa_meta.cells.build_cell` refuses.
    """

    def __init__(self, config: MetaConfig | None = None, **kwargs):
        super().__init__(**kwargs)
        self.config = config or MetaConfig()
        c = self.config
        self.cell = build_cell(
            c.model,
            c.p,
            c.variant,
            c.n_qubits,
            c.seed,
            units=c.hidden,
            circuit_backend=c.circuit_backend,
        )
        self.cell.build((None, c.input_dim))
        units = c.units
        if c.resolved_mapping == "linear":
            bound = 1.0 / math.sqrt(units)
            seeds = np.random.SeedSequence(c.seed + 1).generate_state(2) % (2**31 - 1)
            self.mapping = keras.layers.Dense(
                2 * c.p,
                kernel_initializer=keras.initializers.RandomUniform(-bound, bound, int(seeds[0])),
                bias_initializer=keras.initializers.RandomUniform(-bound, bound, int(seeds[1])),
                name="mapping",
            )
            self.mapping.build((None, units))
        else:
            if units != 2 * c.p:
                raise ValueError(
                    f"mapping='identity' needs a cell with 2p = {2 * c.p} outputs; {c.model} "
                    f"has {units}. Use mapping='linear'."
                )
            self.mapping = keras.layers.Identity(name="mapping")
            self.mapping.build((None, units))
        if c.backend == "tfq":
            self._qaoa_expectation = tfq.layers.Expectation(
                differentiator=tfq.differentiators.Adjoint()
            )
            self._qaoa_symbols = [s.name for s in qaoa.parameter_symbols(c.p)]
        self.mapping_optimizer = None
        self._trackers = {
            name: keras.metrics.Mean(name)
            for name in ("loss", "meta_loss", "final_cost", "final_cut")
        }
        self._rollout_functions = _TracedRollouts()
        self.energy_fn = None
        self.built = True

    def set_energy(self, energy_fn=None) -> None:
        """Plugs a custom energy into the rollout (``None`` restores the configured backend).

        ``energy_fn(batch, theta) -> (B,)`` ⟨C⟩ for the batch dict and textbook ``theta``
        (B, 2p); e.g. a TFQ noisy expectation (noise-aware training,
        :mod:`qaoa_meta.noise_aware`) or shot estimates on a device
        (:func:`qaoa_meta.noisy.noisy_phase1`). Traced training, test and rollout functions
        are dropped so the next call uses the new energy.

        Args:
            energy_fn: the energy, or None for the configured backend.
        """
        self.energy_fn = energy_fn
        self._rollout_functions = _TracedRollouts()
        self.train_function = self.test_function = self.predict_function = None

    # -- optimisers ---------------------------------------------------------------------------
    def compile(
        self,
        optimizer: keras.optimizers.Optimizer | None = None,
        mapping_optimizer: keras.optimizers.Optimizer | None = None,
        lr_sequence: float = 6e-6,
        lr_mapping: float = 1e-4,
        **kwargs,
    ) -> None:
        """Sets the sequence-model and mapping-head optimizers (default: PyTorch RMSprop).

        ``optimizer`` trains the cell (``model.optimizer``, seen by Keras callbacks);
        ``mapping_optimizer`` trains the mapping head. Other keywords go to ``Model.compile``
        (e.g. ``steps_per_execution``, ``jit_compile`` is not supported with TFQ).

        Args:
            optimizer: the cell's optimizer (default :func:`torch_rmsprop` at ``lr_sequence``).
            mapping_optimizer: the mapping head's optimizer (default :func:`torch_rmsprop` at
                ``lr_mapping``).
            lr_sequence: learning rate of the default cell optimizer.
            lr_mapping: learning rate of the default mapping optimizer.
            **kwargs: passed to ``keras.Model.compile``.
        """
        super().compile(optimizer=optimizer or torch_rmsprop(lr_sequence), **kwargs)
        self.mapping_optimizer = mapping_optimizer or torch_rmsprop(lr_mapping)
        # Slot variables now, not in the first train step: a tf.function whose first call
        # creates variables is traced twice, and a trace of the rollout's gradient costs
        # seconds (half of a short fit).
        self.optimizer.build(self.cell.trainable_variables)
        self.mapping_optimizer.build(self.mapping.trainable_variables)

    def optimizers_in_use(self) -> list[keras.optimizers.Optimizer]:
        """[sequence optimizer, mapping optimizer] (the latter only with a linear head).

        Returns:
            The optimizers that update weights, cell first.
        """
        found = [self.optimizer]
        if self.mapping.trainable_weights and self.mapping_optimizer is not None:
            found.append(self.mapping_optimizer)
        return found

    def count_params(self) -> int:
        """Parameters of the cell and the mapping head (metric state excluded).

        Returns:
            The number of weights.
        """
        return self.cell.count_params() + self.mapping.count_params()

    @property
    def metrics(self):
        """The metric trackers: ``loss``, ``meta_loss``, ``final_cost``, ``final_cut``."""
        return list(self._trackers.values())

    # -- rollout ------------------------------------------------------------------------------
    def _energy(self, batch: dict[str, tf.Tensor], theta: tf.Tensor) -> tf.Tensor:
        if self.energy_fn is not None:
            return self.energy_fn(batch, theta)
        if self.config.backend == "exact":
            return exact_expectation(batch["diagonal"], theta)
        if self.config.backend == "p1":
            return p1_expectation(
                batch["p1_edges"], batch["p1_linear"], batch["p1_quadratic"], theta
            )
        values = self._qaoa_expectation(
            batch["circuit"],
            symbol_names=tf.constant(self._qaoa_symbols),
            symbol_values=theta,
            operators=batch["operator"],
        )[:, 0]
        return values + batch["offset"]

    def rollout_tensors(
        self, batch: dict[str, tf.Tensor], training: bool = False
    ) -> RolloutTensors:
        """The unrolled T-step loop on an encoded batch, differentiable (the public rollout).

        Use it inside a ``tf.GradientTape`` or a ``tf.function`` (a custom training step, a
        noisy score of the rollout); :meth:`rollout` is the NumPy path for problems.

        Args:
            batch: an encoded batch (:func:`encode_problems`, as tensors; or the batch dict
                of a custom energy installed with :meth:`set_energy`).
            training: passed to the cell (dropout and the like).

        Returns:
            A :class:`RolloutTensors` ``(params, theta, cost, expectation)``.
        """
        p = self.config.p
        rows = tf.shape(batch["features"])[0]
        states = self.cell.get_initial_state(batch_size=rows, dtype=tf.float32)
        cost = tf.zeros([rows, 1])
        params = tf.zeros([rows, 2 * p])
        raw, thetas, costs, cuts = [], [], [], []
        with self.cell.rollout_scope():  # weight-only cell work done once per rollout
            for _ in range(self.config.steps):
                parts = [cost, params]
                if self.config.graph_features:
                    features = batch["features"]
                    parts += [cost * features[:, :1], features[:, 1:]]
                output, states = self.cell(tf.concat(parts, axis=-1), states, training=training)
                params = self.mapping(output)
                theta = tf.concat([-params[:, :p], params[:, p:]], axis=-1)
                cut = self._energy(batch, theta)
                cost = -cut[:, None]
                raw.append(params)
                thetas.append(theta)
                cuts.append(cut)
                costs.append(-cut)
        return RolloutTensors(
            tf.stack(raw, 1), tf.stack(thetas, 1), tf.stack(costs, 1), tf.stack(cuts, 1)
        )

    def call(self, inputs: dict[str, tf.Tensor], training: bool = False) -> dict[str, tf.Tensor]:
        """Keras forward pass: :meth:`rollout_tensors` as a dict.

        Args:
            inputs: an encoded batch.
            training: passed to the cell.

        Returns:
            ``{"theta": (B, T, 2p), "cost": (B, T), "expectation": (B, T)}``.
        """
        _, theta, cost, cut = self.rollout_tensors(inputs, training=training)
        return {"theta": theta, "cost": cost, "expectation": cut}

    def _update_trackers(self, loss, meta, costs, cuts) -> dict[str, tf.Tensor]:
        self._trackers["loss"].update_state(loss)
        self._trackers["meta_loss"].update_state(meta)
        self._trackers["final_cost"].update_state(tf.reduce_mean(costs[:, -1]))
        self._trackers["final_cut"].update_state(tf.reduce_mean(cuts[:, -1]))
        return {name: tracker.result() for name, tracker in self._trackers.items()}

    def train_step(self, data):
        """One meta-training step on an encoded batch (Keras ``fit``).

        The batch's mean meta-loss is differentiated through the rollout; the cell and the
        mapping head are updated by their own optimizers.

        Args:
            data: an encoded batch.

        Returns:
            The metric values (``loss``, ``meta_loss``, ``final_cost``, ``final_cut``).

        Raises:
            ValueError: when :meth:`compile` has not been called.
            tf.errors.InvalidArgumentError: for a NaN/inf meta-loss or gradient.
        """
        if self.mapping_optimizer is None:
            raise ValueError("MetaOptimizer.compile() must be called before fit().")
        with tf.GradientTape() as tape:
            _, _, costs, cuts = self.rollout_tensors(data, training=True)
            loss = tf.debugging.check_numerics(
                tf.reduce_mean(meta_loss(costs, self.config.loss)),
                "MetaOptimizer: the meta-loss is NaN or inf (diverging angles or cell states). "
                "Lower the learning rates, check the input problems, or resume from the last "
                "checkpoint",
            )
        cell_vars = self.cell.trainable_variables
        map_vars = self.mapping.trainable_variables
        grads = tape.gradient(loss, cell_vars + map_vars)
        checked = []
        for grad, var in zip(grads, cell_vars + map_vars, strict=True):
            if grad is not None:
                grad = tf.debugging.check_numerics(
                    grad,
                    f"MetaOptimizer: NaN/inf gradient for {var.name}; lower the learning rates",
                )
            checked.append((grad, var))
        seq = [(g, v) for g, v in checked[: len(cell_vars)] if g is not None]
        head = [(g, v) for g, v in checked[len(cell_vars) :] if g is not None]
        if seq:
            self.optimizer.apply_gradients(seq)
        if head:
            self.mapping_optimizer.apply_gradients(head)
        return self._update_trackers(loss, loss, costs, cuts)

    def test_step(self, data):
        """One validation step (Keras ``evaluate``): ``loss`` per ``config.validation_loss``.

        Args:
            data: an encoded batch.

        Returns:
            The metric values (``loss``, ``meta_loss``, ``final_cost``, ``final_cut``).
        """
        _, _, costs, cuts = self.rollout_tensors(data, training=False)
        meta = tf.reduce_mean(meta_loss(costs, self.config.loss))
        loss = tf.reduce_mean(costs[:, -1]) if self.config.validation_loss == "final" else meta
        return self._update_trackers(loss, meta, costs, cuts)

    def rollout(
        self,
        problems: Sequence[MaxCutProblem],
        batch_size: int = 256,
        n_qubits: int | None = None,
    ) -> RolloutResult:
        """Phase I on ``problems``: θ_1..θ_T (textbook convention) and their costs.

        Args:
            problems: the graphs (any sizes; smaller ones are padded with idle qubits).
            batch_size: problems per traced call.
            n_qubits: register size to pad to (default: the largest problem's). Each register
                size traces the rollout once, so a fixed size saves retracing for new sizes;
                padding changes nothing but float32 round-off.

        Returns:
            A :class:`RolloutResult` with one row per problem.
        """
        if isinstance(problems, MaxCutProblem):
            problems = [problems]
        problems = list(problems)
        largest = max(pr.n for pr in problems)
        if n_qubits is not None and n_qubits < largest:
            raise ValueError(
                f"Expected n_qubits >= {largest} (the largest problem's size), got {n_qubits}."
            )
        n_qubits = n_qubits or largest
        parts = []
        for start in range(0, len(problems), batch_size):
            data = encode_problems(problems[start : start + batch_size], self.config, n_qubits)
            parts.append([t.numpy() for t in self._rollout_function(data)(data)])
        theta, cost, cut = (np.concatenate(arrays) for arrays in zip(*parts, strict=True))
        return RolloutResult(theta=theta, cost=cost, expectation=cut)

    def _rollout_function(self, data: dict[str, np.ndarray]):
        """The traced rollout for batches shaped like ``data``, any number of rows."""
        # One trace per row shape (the register size): the exact energy needs a static 2^n, so
        # only the batch dimension is left open (reduce_retracing would turn 2^n into None
        # too), and a batch of a new size (the last, smaller one; one problem) reuses it.
        key = tuple((name, array.shape[1:], array.dtype.str) for name, array in data.items())
        function = self._rollout_functions.by_shape.get(key)
        if function is None:
            signature = {
                name: tf.TensorSpec((None, *array.shape[1:]), _tf_dtype(array))
                for name, array in data.items()
            }
            function = tf.function(
                lambda batch: self.rollout_tensors(batch)[1:], input_signature=[signature]
            )
            self._rollout_functions.by_shape[key] = function
        return function

    # -- persistence --------------------------------------------------------------------------
    def get_config(self) -> dict:
        """Keras config: ``{"config": MetaConfig fields}``.

        Returns:
            The config dict; :meth:`from_config` rebuilds the (untrained) model from it.
        """
        return {"config": dataclasses.asdict(self.config)}

    @classmethod
    def from_config(cls, config: dict, custom_objects=None) -> MetaOptimizer:
        """Inverse of :meth:`get_config` (new weights).

        Args:
            config: a dict from :meth:`get_config`.
            custom_objects: unused (Keras' signature).

        Returns:
            A new model.

        Raises:
            ValueError: for invalid settings.
        """
        return cls(MetaConfig(**config["config"]))

    def save_model(self, directory: str | pathlib.Path) -> pathlib.Path:
        """Writes ``config.json`` and the weights (TF checkpoint) into ``directory``.

        Crash-safe: the weights go to a new ``weights-NNNN/`` folder, then ``weights.json``
        (naming it) and ``config.json`` are replaced atomically, then older folders are
        deleted; a kill at any point leaves the previous or the new model, complete.

        Args:
            directory: the model directory (created when missing).

        Returns:
            The directory.
        """
        directory = pathlib.Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        versions = [int(d.name[8:]) for d in directory.glob("weights-*") if d.name[8:].isdigit()]
        name = f"weights-{max(versions, default=0) + 1:04d}"
        self.save_weights(str(directory / name / WEIGHTS_FILE))
        write_atomic(directory / WEIGHTS_POINTER, json.dumps({"weights": f"{name}/{WEIGHTS_FILE}"}))
        write_atomic(directory / CONFIG_FILE, self.config.to_json())
        for old in directory.glob("weights-*"):
            if old.name != name and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
        for legacy in [
            *directory.glob(f"{WEIGHTS_FILE}.*-of-*"),
            directory / f"{WEIGHTS_FILE}.index",
        ]:
            legacy.unlink(missing_ok=True)  # the single-prefix layout of older versions
        return directory

    @classmethod
    def load_model(cls, directory: str | pathlib.Path, weights: str | None = None) -> MetaOptimizer:
        """Rebuilds a model saved by :meth:`save_model` (or ``weights``: a checkpoint prefix).

        Args:
            directory: a directory written by :meth:`save_model`.
            weights: a checkpoint prefix to load instead of the directory's weights.

        Returns:
            The model with its weights.

        Raises:
            FileNotFoundError: when the directory has no ``config.json``.
            ValueError: for a damaged config, weights pointer or checkpoint (one line naming
                the file and the fix), or a config of another schema version.
        """
        directory = pathlib.Path(directory)
        config_path = directory / CONFIG_FILE
        if not config_path.exists():
            raise FileNotFoundError(
                f"No {CONFIG_FILE} in {directory}; expected a directory written by save_model()."
            )
        fix = f"delete {directory} and save or train the model again"
        try:
            config = MetaConfig.from_json(config_path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError, TypeError) as error:
            raise ValueError(f"{config_path} is damaged ({error}); {fix}.") from None
        except ValueError as error:  # a newer schema, an unknown key, an invalid setting
            raise ValueError(f"{config_path}: {error}") from None
        if weights is None:
            pointer = directory / WEIGHTS_POINTER
            weights = str(directory / WEIGHTS_FILE)  # the layout of older versions
            if pointer.exists():
                entry = read_json(pointer, fix)
                if not isinstance(entry, dict) or not isinstance(entry.get("weights"), str):
                    raise ValueError(f"{pointer} names no weights; {fix}.")
                weights = str(directory / entry["weights"])
        check_checkpoint(weights, fix)
        model = cls(config)
        model.load_weights(weights).expect_partial()
        return model


__all__ = [
    "BACKENDS",
    "LOSSES",
    "MetaConfig",
    "MetaOptimizer",
    "RolloutResult",
    "RolloutTensors",
    "check_checkpoint",
    "encode_problems",
    "make_dataset",
    "meta_loss",
    "torch_rmsprop",
]
