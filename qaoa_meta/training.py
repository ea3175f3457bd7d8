"""Meta-training with the published schedule, many models in one XLA-compiled computation.

:class:`StackedTrainer` trains K :class:`~qaoa_meta.meta.MetaOptimizer` s side by side. Each
model sees the training graphs one at a time in the given order (the paper's batch 1), with
its own RMSprop state, learning rates and schedule, exactly as K separate ``fit`` runs would
(a test compares the weights); but one graph's K updates are a single call of one
``tf.function(jit_compile=True)``, so the Python/TF dispatch cost per update is shared by
the K models and XLA fuses each model's small ops. That is what makes the published schedule
(≤ 50 epochs × 1008 graphs × 16 models) fit an hour on two cores.

The models' energies and circuits must be XLA-compilable: ``backend="p1"`` (the p=1 closed
form) or ``"exact"``, and ``circuit_backend="tf"`` for the quantum cells (TFQ's ops cannot be
compiled; ``jit_compile=False`` runs the same computation in graph mode, where TFQ works).

The schedule (:class:`Schedule`) is the published one, applied per model after every epoch in
the order of :func:`qaoa_meta.reproduce.train_model`'s Keras callbacks: PyTorch's
ReduceLROnPlateau on the validation loss, the convergence stop on the training loss, Keras'
EarlyStopping on the validation loss, and the best-validation weights kept. A model that
stops is frozen (its updates are masked) while the others go on.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from qaoa_meta._tf import tf
from qaoa_meta.meta import MetaOptimizer, encode_problems, meta_loss
from qaoa_meta.problems import MaxCutProblem

_RHO = 0.99  # PyTorch RMSprop's alpha (qaoa_meta.meta.torch_rmsprop)
_EPSILON = 1e-16


@dataclasses.dataclass(frozen=True)
class Schedule:
    """The published training schedule of arXiv 2512.05058 (its defaults).

    Attributes:
        epochs: epoch cap.
        lr_sequence: RMSprop learning rate of the cell.
        lr_mapping: RMSprop learning rate of the mapping head.
        plateau_factor: learning-rate factor of ReduceLROnPlateau (on ``val_loss``).
        plateau_patience: epochs without relative improvement ``plateau_threshold`` before
            the rates are multiplied by ``plateau_factor``.
        plateau_threshold: relative improvement that counts (PyTorch's ``rel`` mode).
        min_lr: floor of the reduced rates.
        early_stopping_patience: epochs without a lower ``val_loss`` before stopping.
        convergence_tolerance: stop when the mean training loss changes by at most this.
        budget_s: optional wall-time cap for the whole stack (stops at an epoch boundary).
    """

    epochs: int = 50
    lr_sequence: float = 6e-6
    lr_mapping: float = 1e-4
    plateau_factor: float = 0.5
    plateau_patience: int = 3
    plateau_threshold: float = 1e-3
    min_lr: float = 1e-7
    early_stopping_patience: int = 6
    convergence_tolerance: float = 1e-5
    budget_s: float | None = None

    def __post_init__(self) -> None:
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, int) or self.epochs < 1:
            raise ValueError(f"epochs must be a positive integer, got {self.epochs!r}.")
        for name in ("lr_sequence", "lr_mapping", "min_lr"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive finite number, got {value!r}.")
        if not 0 < self.plateau_factor < 1:
            raise ValueError(f"plateau_factor must be in (0, 1), got {self.plateau_factor!r}.")
        if self.budget_s is not None and not self.budget_s > 0:
            raise ValueError(f"budget_s must be positive seconds or None, got {self.budget_s!r}.")


@dataclasses.dataclass
class _ModelSchedule:
    """One model's schedule state (plateau, convergence, early stopping, best weights)."""

    plateau_best: float = math.inf
    bad_epochs: int = 0
    previous_loss: float | None = None
    converged: bool = False
    early_best: float = math.inf
    wait: int = 0
    early_stopped: bool = False
    best_val: float = math.inf
    best_weights: list[np.ndarray] | None = None
    losses: list[float] = dataclasses.field(default_factory=list)
    val_losses: list[float] = dataclasses.field(default_factory=list)
    learning_rates: list[list[float]] = dataclasses.field(default_factory=list)
    stopped_by: str | None = None


class StackedTrainer:
    """Trains K meta-optimizers side by side, one XLA call per training graph.

    Example:
        >>> configs = [MetaConfig(model="lstm", variant="paper", seed=s, backend="p1")
        ...            for s in (0, 1, 2)]
        >>> trainer = StackedTrainer([MetaOptimizer(c) for c in configs])
        >>> infos = trainer.fit(train_problems, val_problems)

    Args:
        models: the models (any mix of cells) sharing ``p``, ``steps`` and ``backend``.
        schedule: the training schedule (default: the published one).
        jit_compile: compile each step with XLA (needs XLA-compilable energies and circuits).
    """

    def __init__(
        self,
        models: Sequence[MetaOptimizer],
        schedule: Schedule | None = None,
        jit_compile: bool = True,
    ):
        self.models = list(models)
        if not self.models:
            raise ValueError("StackedTrainer needs at least one MetaOptimizer, got none.")
        self.schedule = schedule or Schedule()
        self.jit_compile = bool(jit_compile)
        first = self.models[0].config
        for model in self.models:
            if not isinstance(model, MetaOptimizer):
                raise TypeError(f"Expected MetaOptimizer models, got {type(model).__name__}.")
            c = model.config
            if (c.p, c.steps, c.backend, c.graph_features) != (
                first.p,
                first.steps,
                first.backend,
                first.graph_features,
            ):
                raise ValueError(
                    "Stacked models must share p, steps, backend and graph_features (one data "
                    f"encoding); got {c} beside {first}."
                )
            if self.jit_compile and (
                c.backend == "tfq" or (c.model != "lstm" and c.circuit_backend != "tf")
            ):
                raise ValueError(
                    f"{c.model}/{c.variant} (backend={c.backend!r}, circuit_backend="
                    f"{c.circuit_backend!r}) cannot be XLA-compiled: use backend='p1' or "
                    "'exact' and circuit_backend='tf', or jit_compile=False."
                )
        self._sequence_vars = [m.cell.trainable_variables for m in self.models]
        self._mapping_vars = [m.mapping.trainable_variables for m in self.models]
        with tf.init_scope():
            self._velocities = [
                [tf.Variable(tf.zeros_like(v), trainable=False) for v in seq + head]
                for seq, head in zip(self._sequence_vars, self._mapping_vars, strict=True)
            ]
            self._lr_sequence = tf.Variable(
                [self.schedule.lr_sequence] * len(self.models), dtype=tf.float32, trainable=False
            )
            self._lr_mapping = tf.Variable(
                [self.schedule.lr_mapping] * len(self.models), dtype=tf.float32, trainable=False
            )
            self._active = tf.Variable([True] * len(self.models), trainable=False)
            self._loss_total = tf.Variable(tf.zeros([len(self.models)]), trainable=False)
        self._step = tf.function(self._step_all, jit_compile=self.jit_compile, autograph=False)
        self._validate = tf.function(
            self._validate_all, jit_compile=self.jit_compile, autograph=False
        )

    # -- the compiled computation -------------------------------------------------------------
    def _update(self, k: int, batch: dict[str, tf.Tensor]) -> tf.Tensor:
        """One model's train step (MetaOptimizer.train_step with RMSprop written out)."""
        model = self.models[k]
        with tf.GradientTape() as tape:
            costs = model.rollout_tensors(batch, training=True).cost
            loss = tf.reduce_mean(meta_loss(costs, model.config.loss))
        variables = self._sequence_vars[k] + self._mapping_vars[k]
        grads = tape.gradient(loss, variables)
        active = self._active[k]
        split = len(self._sequence_vars[k])
        for index, (grad, variable, velocity) in enumerate(
            zip(grads, variables, self._velocities[k], strict=True)
        ):
            if grad is None:  # Keras skips variables without a gradient
                continue
            lr = self._lr_sequence[k] if index < split else self._lr_mapping[k]
            new_velocity = _RHO * velocity + (1 - _RHO) * tf.square(grad)
            increment = lr * grad * tf.math.rsqrt(new_velocity + _EPSILON)
            velocity.assign(tf.where(active, new_velocity, velocity))
            variable.assign(tf.where(active, variable + (-increment), variable))
        return loss

    def _step_all(self, batch: dict[str, tf.Tensor]) -> None:
        losses = tf.stack([self._update(k, batch) for k in range(len(self.models))])
        self._loss_total.assign_add(losses)

    def _validate_all(self, batch: dict[str, tf.Tensor]) -> tf.Tensor:
        finals = []
        for model in self.models:
            costs = model.rollout_tensors(batch).cost
            if model.config.validation_loss == "final":
                finals.append(tf.reduce_mean(costs[:, -1]))
            else:
                finals.append(tf.reduce_mean(meta_loss(costs, model.config.loss)))
        return tf.stack(finals)

    # -- data ---------------------------------------------------------------------------------
    def _encode(self, problems: Sequence[MaxCutProblem]) -> dict[str, np.ndarray]:
        config = self.models[0].config
        data = encode_problems(problems, config)
        keep = (
            {"features", "p1_edges", "p1_linear", "p1_quadratic"}
            if config.backend == "p1"
            else None
        )
        return {k: v for k, v in data.items() if keep is None or k in keep}

    # -- the schedule -------------------------------------------------------------------------
    def _end_epoch(
        self, k: int, state: _ModelSchedule, epoch: int, loss: float, val: float
    ) -> bool:
        """Applies the per-epoch rules to model k; returns True when it stops."""
        s = self.schedule
        state.losses.append(loss)
        state.val_losses.append(val)
        # ReduceLROnPlateau (PyTorch semantics, qaoa_meta.meta.PlateauScheduler).
        if val < state.plateau_best * (1.0 - s.plateau_threshold):
            state.plateau_best, state.bad_epochs = val, 0
        else:
            state.bad_epochs += 1
        if state.bad_epochs > s.plateau_patience:
            for rates, has_head in (
                (self._lr_sequence, True),
                (self._lr_mapping, bool(self._mapping_vars[k])),
            ):
                if not has_head:
                    continue
                old = float(rates[k].numpy())
                new = max(old * s.plateau_factor, s.min_lr)
                if old - new > 1e-8:
                    rates[k].assign(new)
            state.bad_epochs = 0
        state.learning_rates.append(
            [float(self._lr_sequence[k].numpy()), float(self._lr_mapping[k].numpy())]
        )
        # Convergence stop on the training loss (qaoa_meta.meta.ConvergenceStop).
        stop = False
        if state.previous_loss is not None and abs(loss - state.previous_loss) <= (
            s.convergence_tolerance
        ):
            state.converged = stop = True
        state.previous_loss = loss
        # Keras EarlyStopping(monitor="val_loss", patience).
        state.wait += 1
        if val < state.early_best:
            state.early_best, state.wait = val, 0
        elif state.wait >= s.early_stopping_patience and epoch > 0:
            state.early_stopped = stop = True
        # Best-validation weights (the paper's checkpoint).
        if val < state.best_val:
            state.best_val = val
            state.best_weights = self.models[k].get_weights()
        return stop

    # -- training -----------------------------------------------------------------------------
    def fit(
        self,
        train: Sequence[MaxCutProblem],
        val: Sequence[MaxCutProblem],
        progress: Callable[[str], None] | None = None,
    ) -> list[dict[str, Any]]:
        """Trains every model on ``train`` (in order, one graph per update) with the schedule.

        Args:
            train: training problems, visited in this order every epoch.
            val: validation problems (one batch).
            progress: called with a one-line summary after every epoch (e.g. ``print``).

        Returns:
            One training summary per model (epochs run, what stopped it, losses, learning
            rates, wall time of the stack); each model ends with its best-validation weights.
        """
        train, val = list(train), list(val)
        fixes = {
            "training": "pass at least one training problem (e.g. a dataset file's 'train' list)",
            "validation": "pass at least one validation problem (`qaoa-meta dataset "
            "--val-graphs 1` writes one, or hold out a few training problems as val)",
        }
        for split, problems in (("training", train), ("validation", val)):
            if not problems:
                raise ValueError(
                    f"StackedTrainer.fit got an empty {split} split ({len(train)} training, "
                    f"{len(val)} validation problems); the schedule needs both (the plateau, "
                    f"early stopping and best weights follow the validation loss): {fixes[split]}."
                )
        train_data = self._encode(train)
        graphs = [
            {key: tf.constant(value[i : i + 1]) for key, value in train_data.items()}
            for i in range(len(train))
        ]
        val_batch = {key: tf.constant(value) for key, value in self._encode(val).items()}
        states = [_ModelSchedule() for _ in self.models]
        self._active.assign([True] * len(self.models))
        start = time.perf_counter()
        slowest = 0.0
        epochs_run = [0] * len(self.models)
        for epoch in range(self.schedule.epochs):
            active_before = self._active.numpy().copy()
            if not active_before.any():
                break
            epoch_start = time.perf_counter()
            self._loss_total.assign(tf.zeros([len(self.models)]))
            for batch in graphs:
                self._step(batch)
            losses = self._loss_total.numpy() / np.float32(len(graphs))
            vals = self._validate(val_batch).numpy()
            active = active_before.copy()
            for k, state in enumerate(states):
                if not active_before[k]:
                    continue
                if not (np.isfinite(losses[k]) and np.isfinite(vals[k])):
                    c = self.models[k].config
                    raise FloatingPointError(
                        f"{c.model}/{c.variant}/seed{c.seed}: the meta-loss became NaN or inf in "
                        f"epoch {epoch + 1}; lower the learning rates or check the problems."
                    )
                epochs_run[k] = epoch + 1
                if self._end_epoch(k, state, epoch, float(losses[k]), float(vals[k])):
                    active[k] = False
            now = time.perf_counter()
            slowest = max(slowest, now - epoch_start)
            budget = self.schedule.budget_s
            if budget is not None and now - start + slowest > budget:
                for k in np.flatnonzero(active):
                    states[k].stopped_by = "time budget"
                active[:] = False
            self._active.assign(active.tolist())
            if progress is not None:
                progress(
                    f"epoch {epoch + 1}: {int(active.sum())}/{len(self.models)} models training, "
                    f"{now - epoch_start:.1f} s; val " + " ".join(f"{v:.4f}" for v in vals)
                )
        wall = time.perf_counter() - start
        infos = []
        for k, (model, state) in enumerate(zip(self.models, states, strict=True)):
            if state.best_weights is not None:
                model.set_weights(state.best_weights)
            if state.early_stopped:
                stopped_by = "early stopping"
            elif state.converged:
                stopped_by = "converged"
            else:
                stopped_by = state.stopped_by or "epoch cap"
            c = model.config
            infos.append(
                {
                    "model": c.model,
                    "variant": c.variant,
                    "seed": c.seed,
                    "epochs_run": epochs_run[k],
                    "stopped_by": stopped_by,
                    "loss": state.losses,
                    "val_loss": state.val_losses,
                    "learning_rates": state.learning_rates,
                    "train_time_s": wall / len(self.models),
                    "stack_time_s": wall,
                    "stack_size": len(self.models),
                    "graph_updates": epochs_run[k] * len(train),
                    "parameters": int(model.count_params()),
                }
            )
        return infos


__all__ = ["Schedule", "StackedTrainer"]
