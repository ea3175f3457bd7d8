"""hardware: devices, routing, compilation, noise models, qsim simulation and export.

Works on Cirq circuits and interaction graphs only; it never imports ``qaoa_meta``.
Importing it silences two upstream FutureWarnings that fire on every compile (cirq 1.5's
``use_repetition_ids`` notice from its own transformers, google.api_core's Python-version
notice); all other warnings are untouched.
"""

import warnings

warnings.filterwarnings("ignore", message=r"(?s).*use_repetition_ids", category=FutureWarning)
warnings.filterwarnings("ignore", category=FutureWarning, module=r"google\.api_core")

# ruff: noqa: E402

from hardware.compile import (
    CompiledCircuit,
    RoutedCircuit,
    compile_circuit,
    interaction_graph,
    route,
    tfq_safe,
    to_gateset,
    to_gateset_symbolic,
    two_qubit_count,
    validate,
)
from hardware.devices import GATESETS, NAMED_DEVICES, Device, get_device, grid, line, place
from hardware.export import (
    load_compiled,
    save_compiled,
    to_device_form,
    virtual_engine,
    virtual_sampler,
)
from hardware.noise import (
    CalibratedNoise,
    DepolarizingNoise,
    NoiseStack,
    ReadoutNoise,
    ThermalNoise,
    google_noise,
    noise_from_spec,
    scale,
    to_tfq_compatible,
)
from hardware.simulate import EnergyEstimate, energy, sample

__all__ = [
    "GATESETS",
    "NAMED_DEVICES",
    "CalibratedNoise",
    "CompiledCircuit",
    "DepolarizingNoise",
    "Device",
    "EnergyEstimate",
    "NoiseStack",
    "ReadoutNoise",
    "RoutedCircuit",
    "ThermalNoise",
    "compile_circuit",
    "energy",
    "get_device",
    "google_noise",
    "grid",
    "interaction_graph",
    "line",
    "load_compiled",
    "noise_from_spec",
    "place",
    "route",
    "sample",
    "save_compiled",
    "scale",
    "tfq_safe",
    "to_device_form",
    "to_gateset",
    "to_gateset_symbolic",
    "to_tfq_compatible",
    "two_qubit_count",
    "validate",
    "virtual_engine",
    "virtual_sampler",
]
