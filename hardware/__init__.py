"""hardware: devices, routing, compilation, noise models, qsim simulation and export.

Works on Cirq circuits and interaction graphs only; it never imports ``qaoa_meta``.
"""
