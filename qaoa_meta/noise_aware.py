"""Noise-aware meta-training: the TFQ tensors of noisy circuits, their energies, the training.

* :func:`encode_noisy` adds to a meta-learner's batch the serialized device-compiled QAOA
  circuits carrying the TFQ-compatible approximation of the target noise
  (:func:`hardware.to_tfq_compatible`, readout included) and their ZZ operators.
* :class:`TFQNoisyEnergy` is a rollout energy for :meth:`MetaOptimizer.set_energy` on them:
  TFQ's noisy backend (Monte-Carlo trajectories), differentiated by parameter shift;
  :func:`noisy_energy` picks it or the exact density-matrix energy.
* :func:`train_meta` trains a meta-learner noiselessly (exact energy) or noise-aware (that
  noisy energy); :func:`noisy_meta_loss` scores a model's rollout under the noisy energy.

The noise study (:mod:`qaoa_meta.studies.noise_study`) and its trained models
(:mod:`qaoa_meta.studies.study_models`) both build on this module.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

import hardware
from hardware import simulate
from hardware.noise import to_tfq_compatible
from qaoa_meta import qaoa
from qaoa_meta._tf import tf, tfq
from qaoa_meta.energy import tfq_qaoa_inputs
from qaoa_meta.meta import MetaOptimizer, encode_problems, make_dataset, meta_loss, torch_rmsprop
from qaoa_meta.noisy import NoisyQAOA
from qaoa_meta.noisy_exact import ExactNoisyEnergy
from qaoa_meta.problems import MaxCutProblem
from qaoa_meta.training import train


def encode_noisy(
    problems: Sequence[MaxCutProblem], config: Any, setup: Any, seed: int = 0
) -> dict[str, np.ndarray]:
    """:func:`qaoa_meta.meta.encode_problems` plus the TFQ tensors of the noisy energy.

    Args:
        problems: the batch.
        config: the meta-learner's :class:`qaoa_meta.meta.MetaConfig` (``p`` and the
            encoding).
        setup: the :class:`qaoa_meta.noisy.NoisySetup` (device, noise); compiled with the
            symbolic engine, as TFQ needs exponents linear in the symbols.
        seed: seed of the compilation (:class:`qaoa_meta.noisy.NoisyQAOA`).

    Returns:
        :func:`qaoa_meta.meta.encode_problems`'s dict plus ``noisy_circuit`` (B,) serialized
        compiled circuits with the TFQ-compatible noise channels (none when ``setup`` is
        noiseless), ``noisy_operator`` (B, 1) ZZ operators on the read-out device qubits,
        ``offset`` (B,) = W/2 (encoded by :func:`qaoa_meta.energy.tfq_qaoa_inputs`) and
        ``problem_index`` (B,) int32 ``0..B-1``.
    """
    data = encode_problems(problems, config)
    model = setup.noise_model()
    tfq_model = to_tfq_compatible(model) if model is not None else None
    circuits, qubits = [], []
    # TFQ needs exponents linear in the symbols: the symbolic compile, not the template
    symbolic = dataclasses.replace(setup, engine="symbolic")
    for problem in problems:
        noisy = NoisyQAOA(problem, config.p, symbolic, seed)
        body = hardware.tfq_safe(noisy.compiled.circuit)
        if tfq_model is not None:
            body = simulate.noisy_circuit(body, tfq_model, noisy.qubits)
        circuits.append(body)
        qubits.append(noisy.qubits)
    data["noisy_circuit"], data["noisy_operator"], data["offset"] = tfq_qaoa_inputs(
        problems, config.p, qubits=qubits, circuits=circuits
    )
    data["problem_index"] = np.arange(len(problems), dtype=np.int32)
    return data


class TFQNoisyEnergy:
    """⟨C⟩ from TFQ's noisy backend with parameter-shift gradients (a rollout energy).

    The estimate is random and cannot be seeded (TFQ's noisy op seeds itself from OS entropy
    on every call); :class:`qaoa_meta.noisy_exact.ExactNoisyEnergy` is the exact,
    deterministic alternative for small registers (``repetitions=None`` below).

    Args:
        p: QAOA depth (names the symbols).
        repetitions: Monte-Carlo trajectories per expectation.
    """

    def __init__(self, p: int, repetitions: int = 64):
        self.repetitions = int(repetitions)
        self.symbols = tf.constant([s.name for s in qaoa.parameter_symbols(p)])
        self.layer = tfq.layers.Expectation(
            backend="noisy", differentiator=tfq.differentiators.ParameterShift()
        )

    def __call__(self, batch: Mapping[str, tf.Tensor], theta: tf.Tensor) -> tf.Tensor:
        rows = tf.shape(theta)[0]
        values = self.layer(
            batch["noisy_circuit"],
            symbol_names=self.symbols,
            symbol_values=theta,
            operators=batch["noisy_operator"],
            repetitions=tf.fill([rows, 1], self.repetitions),
        )[:, 0]
        return values + batch["offset"]


def noisy_energy(data: Mapping[str, np.ndarray], p: int, repetitions: int | None):
    """The rollout energy of noise-aware training on the tensors of :func:`encode_noisy`.

    Args:
        data: :func:`encode_noisy`'s dict.
        p: QAOA depth.
        repetitions: TFQ trajectories per expectation (:class:`TFQNoisyEnergy`), or None for
            the exact density-matrix energy (:class:`qaoa_meta.noisy_exact.ExactNoisyEnergy`).

    Returns:
        A callable ``(batch, theta) -> (B,) energies`` for :meth:`MetaOptimizer.set_energy`.
    """
    if repetitions is None:
        return ExactNoisyEnergy(data, p)
    return TFQNoisyEnergy(p, repetitions)


def train_meta(
    problems: Sequence[MaxCutProblem],
    config: Any,
    setup: Any | None = None,
    *,
    epochs: int = 5,
    batch_size: int = 4,
    learning_rate: float = 1e-2,
    repetitions: int | None = 64,
    seed: int = 0,
    verbose: int = 0,
):
    """Trains a meta-learner noiselessly (``setup`` None or noiseless) or noise-aware.

    Noise-aware: every rollout energy is :class:`TFQNoisyEnergy` on circuits compiled for
    ``setup.device`` with the TFQ-compatible ``setup.noise``; gradients by parameter shift.
    ``repetitions`` trajectories per energy make the run irreproducible (TFQ's noisy op cannot
    be seeded); ``repetitions=None`` trains on the exact noisy energy
    (:class:`qaoa_meta.noisy_exact.ExactNoisyEnergy`), bit-identical per seed, for registers
    of at most 8 qubits.

    Args:
        problems: the training problems.
        config: the :class:`qaoa_meta.meta.MetaConfig` of the model to train.
        setup: a :class:`qaoa_meta.noisy.NoisySetup`, or None for noiseless training.
        epochs: training epochs.
        batch_size: problems per batch.
        learning_rate: of the PyTorch-style RMSprop (both optimisers of the model).
        repetitions: TFQ trajectories per noisy expectation, or None for the exact noisy
            energy; unused when noiseless.
        seed: TensorFlow's global seed and the compilation seed.
        verbose: Keras verbosity.

    Returns:
        ``(model, history)``: the trained :class:`qaoa_meta.meta.MetaOptimizer` (its energy
        reset to its configured backend) and the per-epoch logs
        (:attr:`qaoa_meta.training.TrainingResult.history`).
    """
    tf.random.set_seed(seed)
    model = MetaOptimizer(config)
    model.compile(torch_rmsprop(learning_rate), torch_rmsprop(learning_rate))
    noisy = setup is not None and setup.noise_model() is not None
    if noisy:
        data = encode_noisy(problems, config, setup, seed)
        dataset = tf.data.Dataset.from_tensor_slices(data).batch(batch_size)
        model.set_energy(noisy_energy(data, config.p, repetitions))
    else:
        dataset = make_dataset(problems, config, batch_size=batch_size)
    result = train(model, dataset, epochs=epochs, verbose=verbose)
    model.set_energy(None)
    return model, result.history


def noisy_meta_loss(
    model: Any,
    problems: Sequence[MaxCutProblem],
    setup: Any,
    repetitions: int | None = 256,
    seed: int = 0,
) -> float:
    """Mean meta-loss of ``model``'s rollout under the TFQ noisy energy of ``setup``.

    ``repetitions=None``: the exact noisy energy (density matrix in TF), a deterministic score.

    Args:
        model: a trained :class:`qaoa_meta.meta.MetaOptimizer`; its energy is reset to its
            configured backend afterwards, also on error.
        problems: the problems to score.
        setup: the :class:`qaoa_meta.noisy.NoisySetup` whose noise the energy carries.
        repetitions: TFQ trajectories per expectation, or None for the exact noisy energy.
        seed: seed of the compilation.

    Returns:
        The mean of the meta-loss (``model.config.loss``) over the rollout's costs.
    """
    data = encode_noisy(problems, model.config, setup, seed)
    model.set_energy(noisy_energy(data, model.config.p, repetitions))
    try:
        costs = model.rollout_tensors({k: tf.constant(v) for k, v in data.items()}).cost
        return float(tf.reduce_mean(meta_loss(costs, model.config.loss)))
    finally:
        model.set_energy(None)


__all__ = ["TFQNoisyEnergy", "encode_noisy", "noisy_energy", "noisy_meta_loss", "train_meta"]
