"""hardware: devices, routing, compilation, noise models, qsim simulation and export.

Works on Cirq circuits and interaction graphs only; it never imports ``qaoa_meta``.
Importing it silences two upstream FutureWarnings that fire on every compile (cirq 1.5's
``use_repetition_ids`` notice from its own transformers, google.api_core's Python-version
notice); all other warnings are untouched.

The names below load on first use (PEP 562), so ``import hardware`` itself is cheap and
modules that need only Cirq-free parts (:mod:`hardware.serialization`, the JSON helper that
``qaoa_meta`` also uses, and the standard-library-only :mod:`hardware.system`) can be imported
without loading Cirq, e.g. by a command line that must answer before Cirq or TensorFlow load. ``hardware.X`` and
``from hardware import X`` work as before; submodules load the same way.
"""

import importlib
import warnings

warnings.filterwarnings("ignore", message=r"(?s).*use_repetition_ids", category=FutureWarning)
warnings.filterwarnings("ignore", category=FutureWarning, module=r"google\.api_core")

# name -> the submodule that defines it
_EXPORTS = {
    **dict.fromkeys(
        (
            "CompiledCircuit",
            "compile_circuit",
            "json_resolver",
        ),
        "compile",
    ),
    **dict.fromkeys(("RoutedCircuit", "interaction_graph", "route"), "routing"),
    **dict.fromkeys(
        ("tfq_safe", "to_gateset", "to_gateset_symbolic", "two_qubit_count", "validate"),
        "gatesets",
    ),
    **dict.fromkeys(
        ("GATESETS", "NAMED_DEVICES", "Device", "get_device", "grid", "line", "place"), "devices"
    ),
    **dict.fromkeys(
        ("load_compiled", "save_compiled", "to_device_form", "virtual_engine", "virtual_sampler"),
        "export",
    ),
    **dict.fromkeys(
        (
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
        "noise",
    ),
    **dict.fromkeys(("EnergyEstimate", "energy", "sample"), "simulate"),
}

__all__ = sorted(_EXPORTS, key=lambda name: (not name.isupper(), not name[0].isupper(), name))


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"hardware.{_EXPORTS[name]}"), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    try:
        return importlib.import_module(f"hardware.{name}")  # a submodule, e.g. hardware.noise
    except ModuleNotFoundError as error:
        if error.name != f"hardware.{name}":
            raise
    raise AttributeError(f"module 'hardware' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
