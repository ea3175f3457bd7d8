"""Meta-training: the one home of every training loop, its callbacks and its schedule.

* :func:`train` runs one :class:`~qaoa_meta.meta.MetaOptimizer` through Keras ``fit`` with
  the callbacks set up in one fixed order: the published schedule (:class:`Schedule`:
  :class:`PlateauScheduler`, :class:`ConvergenceStop`, Keras' ``EarlyStopping`` with
  :class:`BestWeights`, an optional :class:`TimeBudget`), an optional :class:`JsonHistory`
  log and crash-safe :class:`TrainingCheckpoint` (resumed runs end bit-identical). The
  command line (``qaoa-meta train``), the reproduction, the noise study, tuning and the demo
  all train through it.
* :class:`StackedTrainer` trains K models with the same schedule side by side, one
  XLA-compiled computation per training graph (the reproduction's and the noise study's
  many-model runs).

The stacked trainer: each model sees the training graphs one at a time in the given order
(the paper's batch 1), with its own RMSprop state, learning rates and schedule, exactly as K
separate ``fit`` runs would (a test compares the weights); but one graph's K updates are a
single call of one ``tf.function(jit_compile=True)``, so the Python/TF dispatch cost per
update is shared by the K models and XLA fuses each model's small ops. That is what makes the
published schedule (≤ 50 epochs × 1008 graphs × 16 models) fit an hour on two cores.

The models' energies and circuits must be XLA-compilable: ``backend="p1"`` (the p=1 closed
form) or ``"exact"``, and ``circuit_backend="tf"`` for the quantum cells (TFQ's ops cannot be
compiled; ``jit_compile=False`` runs the same computation in graph mode, where TFQ works).
The schedule is applied per model after every epoch in the order of :func:`train`'s
callbacks: PyTorch's ReduceLROnPlateau on the validation loss, the convergence stop on the
training loss, Keras' EarlyStopping on the validation loss, and the best-validation weights
kept. A model that stops is frozen (its updates are masked) while the others go on.
"""

from __future__ import annotations

import dataclasses
import json
import math
import pathlib
import shutil
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from qaoa_meta._tf import keras, tf
from qaoa_meta.fileio import read_json, write_atomic
from qaoa_meta.meta import (
    SCHEMA_VERSION,
    WEIGHTS_FILE,
    MetaOptimizer,
    check_checkpoint,
    encode_problems,
    meta_loss,
)
from qaoa_meta.problems import MaxCutProblem

_RHO = 0.99  # PyTorch RMSprop's alpha (qaoa_meta.meta.torch_rmsprop)
_EPSILON = 1e-16
STOP_REASONS = ("early stopping", "converged", "time budget", "epoch cap")


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

    Raises:
        ValueError: for ``epochs`` not a positive integer, a learning rate or ``min_lr`` that
            is not a positive finite number, ``plateau_factor`` outside (0, 1), or a
            non-positive ``budget_s``.
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


# --- callbacks -------------------------------------------------------------------------------
def monitored(logs: dict | None, monitor: str, callback: str) -> float:
    """The value of ``monitor`` in an epoch's ``logs``.

    Args:
        logs: the metrics Keras passes to ``on_epoch_end``.
        monitor: the metric's name (``loss``, ``val_loss``, ...).
        callback: the callback's name, for the error message.

    Returns:
        The value.

    Raises:
        ValueError: when ``monitor`` is missing from ``logs`` (naming the metrics there are).
    """
    current = (logs or {}).get(monitor)
    if current is None:
        raise ValueError(
            f"{callback} monitors {monitor!r}, missing from logs {sorted(logs or {})}."
        )
    return current


class PlateauScheduler(keras.callbacks.Callback):
    """PyTorch's ``ReduceLROnPlateau`` (mode min, relative threshold) for every optimizer.

    Keras' own callback uses an absolute ``min_delta`` and touches ``model.optimizer`` only;
    this one reproduces ``torch.optim.lr_scheduler.ReduceLROnPlateau`` (including its
    ``best·(1 − threshold)`` test) and reduces the sequence and mapping learning rates alike.
    Stateful: :class:`TrainingCheckpoint` saves and restores it (``get_state``/``set_state``).

    Args:
        monitor: the log entry to watch (lower is better).
        factor: multiplies the learning rates after ``patience`` epochs without improvement.
        patience: epochs without a relative improvement of ``threshold`` that are tolerated.
        threshold: relative improvement that counts (PyTorch's ``rel`` mode).
        min_lr: floor of the reduced rates.
        verbose: print each reduction.

    Raises:
        ValueError: ``factor`` outside (0, 1); at an epoch end, ``monitor`` missing from the logs.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.5,
        patience: int = 3,
        threshold: float = 1e-3,
        min_lr: float = 1e-7,
        verbose: int = 0,
    ):
        super().__init__()
        if not 0 < factor < 1:
            raise ValueError(f"factor must be in (0, 1), got {factor}.")
        self.monitor, self.factor, self.patience = monitor, factor, patience
        self.threshold, self.min_lr, self.verbose = threshold, min_lr, verbose
        self.best = math.inf
        self.bad_epochs = 0

    def on_epoch_end(self, epoch, logs=None):
        """Keras hook: counts an epoch without relative improvement, reducing the rates after
        more than ``patience`` of them.

        Args:
            epoch: the 0-based index of the epoch that ended.
            logs: the epoch's metrics (``loss``, ``val_loss``, ...).

        Raises:
            ValueError: when ``monitor`` is missing from ``logs``.
        """
        current = monitored(logs, self.monitor, "PlateauScheduler")
        if current < self.best * (1.0 - self.threshold):
            self.best, self.bad_epochs = current, 0
        else:
            self.bad_epochs += 1
        if self.bad_epochs > self.patience:
            for optimizer in self.model.optimizers_in_use():
                old = float(optimizer.learning_rate.numpy())
                new = max(old * self.factor, self.min_lr)
                if old - new > 1e-8:  # PyTorch's eps
                    optimizer.learning_rate.assign(new)
                    if self.verbose:
                        print(f"\nEpoch {epoch + 1}: learning rate {old:.3g} -> {new:.3g}")
            self.bad_epochs = 0

    def get_state(self) -> dict[str, Any]:
        """best, bad_epochs and the learning rates: what a resumed run must restore.

        Returns:
            ``{"best", "bad_epochs", "learning_rates"}`` (one rate per optimizer in use).
        """
        rates = [float(o.learning_rate.numpy()) for o in self.model.optimizers_in_use()]
        return {
            "best": float(self.best),
            "bad_epochs": int(self.bad_epochs),
            "learning_rates": rates,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Restores what :meth:`get_state` returned (the model must be set and compiled).

        Args:
            state: a dict returned by :meth:`get_state`.

        Raises:
            KeyError: when an entry is missing.
            ValueError: when the number of learning rates differs from the optimizers in use.
        """
        self.best, self.bad_epochs = float(state["best"]), int(state["bad_epochs"])
        for optimizer, rate in zip(
            self.model.optimizers_in_use(), state["learning_rates"], strict=True
        ):
            optimizer.learning_rate.assign(rate)


class ConvergenceStop(keras.callbacks.Callback):
    """Stops when |Δ monitor| between consecutive epochs is at most ``tolerance`` (paper: 1e-5).

    ``stopped`` tells whether it ended the run. Stateful, like :class:`PlateauScheduler`.

    Args:
        monitor: the log entry to watch (an epoch without it is skipped).
        tolerance: the largest change that counts as converged.
    """

    def __init__(self, monitor: str = "loss", tolerance: float = 1e-5):
        super().__init__()
        self.monitor, self.tolerance = monitor, tolerance
        self.previous: float | None = None
        self.stopped = False

    def on_epoch_end(self, epoch, logs=None):
        """Keras hook: stops training when ``monitor`` changed by at most ``tolerance``.

        Args:
            epoch: the 0-based index of the epoch that ended.
            logs: the epoch's metrics (``loss``, ``val_loss``, ...).
        """
        current = (logs or {}).get(self.monitor)
        if current is None:
            return
        if self.previous is not None and abs(current - self.previous) <= self.tolerance:
            self.model.stop_training = True
            self.stopped = True
        self.previous = float(current)

    def get_state(self) -> dict[str, Any]:
        """The previous value and whether it stopped: what a resumed run must restore.

        Returns:
            ``{"previous", "stopped"}``.
        """
        return {"previous": self.previous, "stopped": self.stopped}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restores what :meth:`get_state` returned.

        Args:
            state: a dict returned by :meth:`get_state`.

        Raises:
            KeyError: when an entry is missing.
        """
        self.previous, self.stopped = state["previous"], bool(state["stopped"])


class TimeBudget(keras.callbacks.Callback):
    """Stops training at an epoch boundary before the wall time would exceed ``seconds``.

    After each epoch it predicts the end of the next one from the slowest epoch so far and
    stops if that would pass the budget, so a run overshoots by at most one epoch's spread.
    ``stopped`` tells whether the budget ended the run.

    Args:
        seconds: the wall-time budget of the whole ``fit``.

    Raises:
        ValueError: ``seconds`` is not positive.
    """

    def __init__(self, seconds: float):
        super().__init__()
        if not seconds > 0:
            raise ValueError(f"The time budget must be positive seconds, got {seconds!r}.")
        self.seconds = float(seconds)
        self.stopped = False

    def on_train_begin(self, logs=None):
        """Keras hook: starts the clock and clears ``stopped``.

        Args:
            logs: unused.
        """
        self.start = self.epoch_start = time.perf_counter()
        self.slowest = 0.0
        self.stopped = False

    def on_epoch_begin(self, epoch, logs=None):
        """Keras hook: starts the epoch's clock.

        Args:
            epoch: the 0-based epoch index (unused).
            logs: unused.
        """
        self.epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        """Keras hook: stops training when the elapsed time plus the slowest epoch so far
        would exceed ``seconds``.

        Args:
            epoch: the 0-based epoch index (unused).
            logs: unused.
        """
        now = time.perf_counter()
        self.slowest = max(self.slowest, now - self.epoch_start)
        if now - self.start + self.slowest > self.seconds:
            self.model.stop_training = True
            self.stopped = True


class JsonHistory(keras.callbacks.Callback):
    """Writes the epoch logs (and learning rates) to a JSON file after every epoch.

    An existing file is extended, so a resumed run keeps one log; ``keep_epochs`` (set by
    :meth:`TrainingCheckpoint.restore`) drops entries after the restored epoch. The file is
    replaced atomically, and a damaged one is a one-line error naming it.

    Args:
        path: the JSON log file.
        run_info: entries written at the top of the log (the configuration, versions, ...).

    Raises:
        ValueError: at the start of training, an existing ``path`` that is not a training log.
    """

    def __init__(self, path: str | pathlib.Path, run_info: dict[str, Any] | None = None):
        super().__init__()
        self.path = pathlib.Path(path)
        self.run_info = dict(run_info or {})
        self.keep_epochs: int | None = None

    def on_train_begin(self, logs=None):
        """Keras hook: starts the record, keeping an existing log's entries up to
        ``keep_epochs`` (all when None, none when 0).

        Args:
            logs: unused.

        Raises:
            ValueError: when an existing ``path`` is damaged or is not a training log.
        """
        self.record = {"schema_version": SCHEMA_VERSION, **self.run_info, "epochs": []}
        if self.path.exists() and self.keep_epochs != 0:
            previous = read_json(self.path, "delete it or pass --restart")
            epochs = previous.get("epochs", []) if isinstance(previous, dict) else None
            if not isinstance(epochs, list):
                raise ValueError(f"{self.path} is not a training log; delete it or pass --restart.")
            self.record["epochs"] = [
                e for e in epochs if self.keep_epochs is None or e["epoch"] <= self.keep_epochs
            ]

    def on_epoch_end(self, epoch, logs=None):
        """Keras hook: appends the epoch (replacing an entry of the same number) and rewrites
        the file atomically.

        Args:
            epoch: the 0-based epoch index; the entry records ``epoch + 1``.
            logs: the epoch's metrics, stored as floats beside the learning rates.
        """
        entry = {"epoch": int(epoch) + 1, **{k: float(v) for k, v in (logs or {}).items()}}
        for name, optimizer in zip(
            ("lr_sequence", "lr_mapping"), self.model.optimizers_in_use(), strict=False
        ):
            entry[name] = float(optimizer.learning_rate.numpy())
        self.record["epochs"] = [e for e in self.record["epochs"] if e["epoch"] != entry["epoch"]]
        self.record["epochs"].append(entry)
        write_atomic(self.path, json.dumps(self.record, indent=2))


class TrainingCheckpoint(keras.callbacks.Callback):
    """Crash-safe training: after every epoch the whole training state is committed at once.

    A run killed at any moment and resumed with :meth:`restore` ends bit-identical to an
    uninterrupted one: the model and both optimizers (slots, iterations, learning rates),
    the best-so-far, the early-stopping counter and the state of the ``stateful`` callbacks
    (objects with ``get_state``/``set_state``: :class:`PlateauScheduler`,
    :class:`ConvergenceStop`) are saved together. This callback also keeps the best weights
    (lowest ``monitor``) in ``best_dir`` (a :meth:`MetaOptimizer.save_model` directory,
    written only on improvement, so never with worse weights) and stops after ``patience``
    epochs without improvement, like Keras' ``EarlyStopping``. Put it last in the callbacks.

    Layout of ``directory``: ``epoch-NNNN/weights.*`` (TF checkpoint of the model and its
    optimizers after epoch NNNN) and ``state.json``, the commit point, replaced atomically
    after the weights are complete; older epochs are deleted after the commit.

    Example:
        >>> checkpoint = TrainingCheckpoint("runs/x/checkpoint", best_dir="runs/x/best",
        ...                                 patience=6, stateful=[plateau], history=history)
        >>> start = checkpoint.restore(model)  # 0 on a fresh directory
        >>> train(model, data, val, epochs=50, plateau=plateau, history=history,
        ...       checkpoint=checkpoint, initial_epoch=start)

    Args:
        directory: where the epoch checkpoints and ``state.json`` go.
        best_dir: where the best weights go (a model directory), or None.
        monitor: the log entry of early stopping and the best weights (lower is better).
        patience: epochs without improvement before stopping (None: never stop early).
        stateful: callbacks whose ``get_state``/``set_state`` are saved with each epoch.
        history: the run's :class:`JsonHistory`, trimmed to the restored epoch on resume.
        run_info: what must match for a checkpoint to be resumed (JSON-serialisable).
        fix: the advice that ends the one-line errors about damaged files.
        on_commit: called with the epoch number after each commit (progress, or a test's
            kill switch between the commit and the next epoch).

    Raises:
        ValueError: ``patience`` is negative or not an integer.
    """

    STATE_FILE = "state.json"

    def __init__(
        self,
        directory: str | pathlib.Path,
        *,
        best_dir: str | pathlib.Path | None = None,
        monitor: str = "val_loss",
        patience: int | None = None,
        stateful: Sequence[Any] = (),
        history: JsonHistory | None = None,
        run_info: dict[str, Any] | None = None,
        fix: str = "delete it or pass --restart",
        on_commit: Callable[[int], None] | None = None,
    ):
        super().__init__()
        if patience is not None and (isinstance(patience, bool) or patience < 0):
            raise ValueError(f"patience must be a non-negative integer or None, got {patience!r}.")
        self.directory = pathlib.Path(directory)
        self.best_dir = pathlib.Path(best_dir) if best_dir is not None else None
        self.monitor, self.patience, self.fix = monitor, patience, fix
        self.stateful = list(stateful)
        self.history = history
        self.run_info = json.loads(json.dumps(run_info)) if run_info is not None else None
        self.epochs_done = 0
        self.best = math.inf
        self.best_epoch: int | None = None
        self.wait = 0
        self.stopped = False
        self.on_commit = on_commit

    @property
    def state_path(self) -> pathlib.Path:
        """The commit point, ``directory/state.json``."""
        return self.directory / self.STATE_FILE

    def restore(self, model: keras.Model | None = None) -> int:
        """Loads the committed state into ``model`` (default: the callback's model).

        The model must be compiled (its optimizers exist). Returns the number of completed
        epochs (``initial_epoch`` for ``fit``); 0 on a fresh directory, and then an old log of
        ``history`` is started afresh.

        Args:
            model: the compiled model to restore into (default: the callback's model).

        Returns:
            The number of completed epochs (0 when nothing is committed).

        Raises:
            ValueError: a damaged state or checkpoint (one line naming the file and the fix),
                or a checkpoint written by a run with other ``run_info``.
        """
        if model is not None:
            self.set_model(model)
        if not self.state_path.exists():
            if self.history is not None:
                self.history.keep_epochs = 0
            return 0
        state = read_json(self.state_path, self.fix)
        keys = {"epoch", "weights", "best", "best_epoch", "wait", "stopped", "callbacks"}
        if not isinstance(state, dict) or not keys <= set(state):
            raise ValueError(f"{self.state_path} is not a training state; {self.fix}.")
        if self.run_info is not None and state.get("run") != self.run_info:
            changed = sorted(
                k
                for k in set(self.run_info) | set(state.get("run") or {})
                if (state.get("run") or {}).get(k) != self.run_info.get(k)
            )
            raise ValueError(
                f"{self.directory} holds a checkpoint of a different run (differs in "
                f"{', '.join(changed)}); pass --restart to start over or choose another output."
            )
        if len(state["callbacks"]) != len(self.stateful):
            raise ValueError(f"{self.state_path} does not match these callbacks; {self.fix}.")
        prefix = self.directory / state["weights"]
        check_checkpoint(prefix, self.fix)
        self.model.load_weights(str(prefix))
        for callback, callback_state in zip(self.stateful, state["callbacks"], strict=True):
            callback.set_model(self.model)
            callback.set_state(callback_state)
        self.epochs_done = int(state["epoch"])
        self.best = float(state["best"])
        self.best_epoch = state["best_epoch"]
        self.wait = int(state["wait"])
        self.stopped = bool(state["stopped"])
        if self.history is not None:
            self.history.keep_epochs = self.epochs_done
        return self.epochs_done

    def on_epoch_end(self, epoch, logs=None):
        """Keras hook: tracks the best ``monitor`` (saving the best model to ``best_dir``),
        requests early stopping after ``patience`` epochs without improvement, then commits
        the epoch (:meth:`save`) and calls ``on_commit``.

        Args: as :meth:`PlateauScheduler.on_epoch_end`.
        """
        current = monitored(logs, self.monitor, "TrainingCheckpoint")
        self.wait += 1
        if current < self.best:
            self.best, self.best_epoch, self.wait = float(current), int(epoch) + 1, 0
            if self.best_dir is not None:
                self.model.save_model(self.best_dir)
        elif self.patience is not None and self.wait >= self.patience and epoch > 0:
            self.model.stop_training = True
        self.stopped = bool(self.model.stop_training)
        self.epochs_done = int(epoch) + 1
        self.save()
        if self.on_commit is not None:
            self.on_commit(self.epochs_done)

    def save(self) -> None:
        """Commits the current training state (weights first, then ``state.json``).

        The weights go to a new ``epoch-NNNN`` directory; ``state.json`` is replaced
        atomically and only then are older epoch directories removed.
        """
        name = f"epoch-{self.epochs_done:04d}"
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / name
        shutil.rmtree(target, ignore_errors=True)  # debris of a run killed before its commit
        self.model.save_weights(str(target / WEIGHTS_FILE))
        state = {
            "schema_version": SCHEMA_VERSION,
            "epoch": self.epochs_done,
            "weights": f"{name}/{WEIGHTS_FILE}",
            "best": self.best,
            "best_epoch": self.best_epoch,
            "wait": self.wait,
            "stopped": self.stopped,
            "callbacks": [callback.get_state() for callback in self.stateful],
            "run": self.run_info,
        }
        write_atomic(self.state_path, json.dumps(state, indent=1))
        for old in self.directory.glob("epoch-*"):
            if old.name != name:
                shutil.rmtree(old, ignore_errors=True)


class BestWeights(keras.callbacks.Callback):
    """Restores, when training ends, the weights of the epoch with the lowest score.

    The score is the log entry ``monitor`` (the paper's checkpoint: the lowest ``val_loss``),
    or ``score()`` when given (e.g. a noisy meta-loss computed outside the logs).
    ``scores`` lists every epoch's score, ``best`` the lowest and ``best_epoch`` its epoch
    (0: the starting weights, which count only with ``include_start``).

    Args:
        monitor: the log entry to minimise (an epoch without it scores ``inf``).
        score: a function of no arguments scoring the current weights, instead of ``monitor``.
        include_start: score the weights at the start of training as epoch 0, so the result
            is never worse than the start (needs ``score``).

    Raises:
        ValueError: ``include_start`` without ``score``.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        score: Callable[[], float] | None = None,
        include_start: bool = False,
    ):
        super().__init__()
        if include_start and score is None:
            raise ValueError("BestWeights(include_start=True) needs score=, a function.")
        self.monitor, self.score, self.include_start = monitor, score, include_start
        self.best, self.best_epoch, self.weights = np.inf, None, None
        self.scores: list[float] = []

    def on_train_begin(self, logs=None):
        """Keras hook: resets the scores; with ``include_start``, scores the starting weights
        as epoch 0.

        Args:
            logs: unused.
        """
        self.best, self.best_epoch, self.weights = np.inf, None, None
        self.scores = []
        if self.include_start:
            self.best, self.best_epoch = self.score(), 0
            self.weights = self.model.get_weights()
            self.scores.append(self.best)

    def on_epoch_end(self, epoch, logs=None):
        """Keras hook: scores the epoch and keeps a copy of the weights when it is the best.

        Args:
            epoch: the 0-based epoch index; the best is recorded as ``epoch + 1``.
            logs: the epoch's metrics (read for ``monitor`` when there is no ``score``).
        """
        if self.score is not None:
            value = self.score()
        else:
            value = (logs or {}).get(self.monitor, np.inf)
        self.scores.append(value)
        if value < self.best:
            self.best, self.best_epoch = value, int(epoch) + 1
            self.weights = self.model.get_weights()

    def on_train_end(self, logs=None):
        """Keras hook: sets the model's weights to the best epoch's (when there was one).

        Args:
            logs: unused.
        """
        if self.weights is not None:
            self.model.set_weights(self.weights)


# --- one model through Keras' fit ------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class TrainingResult:
    """What :func:`train` did.

    Attributes:
        history: this ``fit``'s per-epoch logs (``loss``, ``val_loss``, ...); empty when
            there was nothing left to train.
        epochs_run: epochs completed, resumed ones included.
        stopped_by: one of :data:`STOP_REASONS` ("early stopping", "converged",
            "time budget", "epoch cap").
        train_time_s: wall time of the call.
    """

    history: dict[str, list[float]]
    epochs_run: int
    stopped_by: str
    train_time_s: float


def train(
    model: MetaOptimizer,
    data: tf.data.Dataset | None,
    validation_data: tf.data.Dataset | None = None,
    *,
    epochs: int | None = None,
    schedule: Schedule | None = None,
    plateau: PlateauScheduler | None = None,
    convergence: ConvergenceStop | None = None,
    history: JsonHistory | None = None,
    checkpoint: TrainingCheckpoint | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    initial_epoch: int = 0,
    steps_per_epoch: int | None = None,
    verbose: int = 0,
) -> TrainingResult:
    """Trains a compiled ``model`` with Keras ``fit``, its callbacks in one fixed order.

    The order is: ``plateau``, ``convergence``, ``history``, ``callbacks``, then either
    ``checkpoint`` (which keeps the best weights and stops early itself) or Keras'
    ``EarlyStopping`` with :class:`BestWeights`, and last the :class:`TimeBudget`. With a
    ``schedule``, the plateau and convergence callbacks not passed in, the early stopping
    with best weights (unless ``checkpoint``) and the budget are made from it; the learning
    rates are the ones ``model.compile`` set. Without one, only the callbacks passed run.

    Example:
        >>> model = MetaOptimizer(MetaConfig(model="lstm", variant="paper"))
        >>> model.compile()  # the published learning rates, Schedule's defaults
        >>> result = train(model, make_dataset(train_set, model.config),
        ...                make_dataset(val_set, model.config, batch_size=len(val_set)),
        ...                schedule=Schedule(epochs=50))
        >>> result.stopped_by, result.history["val_loss"][-1]

    Args:
        model: a compiled :class:`~qaoa_meta.meta.MetaOptimizer`.
        data: the training batches (:func:`~qaoa_meta.meta.make_dataset` or any dataset of
            encoded batches); None only when nothing is left to train (a resumed run that
            finished or stopped).
        validation_data: the validation batches (the schedule watches ``val_loss``).
        epochs: the epoch cap (default: ``schedule.epochs``).
        schedule: the published schedule's settings, or None for a plain ``fit``.
        plateau: the learning-rate scheduler (stateful; made from ``schedule`` if None).
        convergence: the convergence stop (stateful; made from ``schedule`` if None).
        history: a JSON log of the epochs.
        checkpoint: crash-safe state after every epoch (restore it before the call and pass
            ``initial_epoch``; its ``stateful`` are ``plateau`` and ``convergence``).
        callbacks: more Keras callbacks, after the log and before the checkpoint commits.
        initial_epoch: epochs already completed (a resumed run).
        steps_per_epoch: batches per epoch, for a dataset that repeats.
        verbose: Keras' progress output (0, 1 or 2).

    Returns:
        A :class:`TrainingResult`; the model ends with the best weights when the schedule
        keeps them (:class:`BestWeights`), else with the last epoch's.

    Raises:
        ValueError: the model is not compiled, or ``data`` is None with epochs left.
        TypeError: neither ``epochs`` nor ``schedule`` given.
        tf.errors.InvalidArgumentError: a NaN/inf meta-loss or gradient (the message says so).
    """
    if epochs is None:
        if schedule is None:
            raise TypeError("train() needs epochs= or a schedule (Schedule(epochs=...)).")
        epochs = schedule.epochs
    if getattr(model, "mapping_optimizer", None) is None:
        raise ValueError("train() needs a compiled MetaOptimizer: call model.compile() first.")
    early = best = budget = None
    if schedule is not None:
        if plateau is None:
            plateau = PlateauScheduler(
                factor=schedule.plateau_factor,
                patience=schedule.plateau_patience,
                threshold=schedule.plateau_threshold,
                min_lr=schedule.min_lr,
                verbose=verbose,
            )
        if convergence is None:
            convergence = ConvergenceStop("loss", schedule.convergence_tolerance)
        if checkpoint is None:
            early = keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=schedule.early_stopping_patience
            )
            best = BestWeights("val_loss")
        if schedule.budget_s is not None:
            budget = TimeBudget(schedule.budget_s)
    ordered = [
        c
        for c in (plateau, convergence, history, *callbacks, checkpoint, early, best, budget)
        if c is not None
    ]
    start = time.perf_counter()
    logs: dict[str, list[float]] = {}
    if initial_epoch < epochs and not (checkpoint is not None and checkpoint.stopped):
        if data is None:
            raise ValueError(
                f"train() got no training data but epochs {initial_epoch + 1}..{epochs} remain."
            )
        fitted = model.fit(
            data,
            validation_data=validation_data,
            epochs=epochs,
            initial_epoch=initial_epoch,
            steps_per_epoch=steps_per_epoch,
            callbacks=ordered,
            verbose=verbose,
        )
        logs = {k: [float(v) for v in values] for k, values in fitted.history.items()}
    if early is not None and early.stopped_epoch > 0:
        stopped_by = "early stopping"
    elif convergence is not None and convergence.stopped:
        stopped_by = "converged"
    elif checkpoint is not None and checkpoint.stopped:
        stopped_by = "early stopping"
    elif budget is not None and budget.stopped:
        stopped_by = "time budget"
    else:
        stopped_by = "epoch cap"
    if checkpoint is not None:
        epochs_run = checkpoint.epochs_done
    else:
        epochs_run = initial_epoch + len(logs.get("loss", []))
    return TrainingResult(logs, epochs_run, stopped_by, time.perf_counter() - start)


# --- many models at once ---------------------------------------------------------------------
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

    Attributes:
        models: the models.
        schedule: the training schedule.
        jit_compile: whether the steps are XLA-compiled.

    Raises:
        ValueError: for no models, models that differ in ``p``, ``steps``, ``backend`` or
            ``graph_features``, or (with ``jit_compile``) a model that cannot be
            XLA-compiled (``backend="tfq"`` or a quantum cell without ``circuit_backend="tf"``).
        TypeError: for a model that is not a :class:`~qaoa_meta.meta.MetaOptimizer`.
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
        # ReduceLROnPlateau (PyTorch semantics, PlateauScheduler).
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
        # Convergence stop on the training loss (ConvergenceStop).
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

        Raises:
            ValueError: for an empty training or validation split.
            FloatingPointError: when a model's training or validation loss becomes NaN or inf.
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


__all__ = [
    "STOP_REASONS",
    "monitored",
    "BestWeights",
    "ConvergenceStop",
    "JsonHistory",
    "PlateauScheduler",
    "Schedule",
    "StackedTrainer",
    "TimeBudget",
    "TrainingCheckpoint",
    "TrainingResult",
    "train",
]
