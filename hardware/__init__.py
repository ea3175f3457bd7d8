"""hardware: devices, routing, compilation, noise models, qsim simulation and export.

Works on Cirq circuits and interaction graphs only; it never imports ``qaoa_meta``.
Importing it silences two upstream FutureWarnings that fire on every compile (cirq 1.5's
``use_repetition_ids`` notice from its own transformers, google.api_core's Python-version
notice); all other warnings are untouched.

The names below load their submodule (and Cirq) on first use, not on ``import hardware``:
so the standard-library-only :mod:`hardware.system` can be imported by a command line that
must answer before Cirq or TensorFlow load.
"""

import importlib
import warnings

warnings.filterwarnings("ignore", message=r"(?s).*use_repetition_ids", category=FutureWarning)
warnings.filterwarnings("ignore", category=FutureWarning, module=r"google\.api_core")

# The public names and the submodule each comes from.
_EXPORTS = {
    "compile": (
        "CompiledCircuit",
        "RoutedCircuit",
        "compile_circuit",
        "interaction_graph",
        "route",
        "tfq_safe",
        "to_gateset",
        "to_gateset_symbolic",
        "two_qubit_count",
        "validate",
    ),
    "devices": ("GATESETS", "NAMED_DEVICES", "Device", "get_device", "grid", "line", "place"),
    "export": (
        "load_compiled",
        "save_compiled",
        "to_device_form",
        "virtual_engine",
        "virtual_sampler",
    ),
    "noise": (
        "CalibratedNoise",
        "DepolarizingNoise",
        "NoiseStack",
        "ReadoutNoise",
        "ThermalNoise",
        "google_noise",
        "noise_from_spec",
        "scale",
        "to_tfq_compatible",
    ),
    "simulate": ("EnergyEstimate", "energy", "sample"),
}
_SOURCE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_SOURCE)


def __getattr__(name: str):
    """Imports a public name's submodule on first use (PEP 562), or a submodule by name."""
    if name in _SOURCE:
        value = getattr(importlib.import_module(f"hardware.{_SOURCE[name]}"), name)
    else:
        try:
            value = importlib.import_module(f"hardware.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"hardware.{name}":
                raise
            raise AttributeError(f"module 'hardware' has no attribute {name!r}") from None
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
