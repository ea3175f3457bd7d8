"""qaoa-meta: Max-Cut QAOA problems, circuits, energies and meta-learned initialisations.

Importing the package is cheap: TensorFlow is loaded only by the modules that need it
(through :mod:`qaoa_meta._tf`, which keeps its console output quiet).
"""

__version__ = "0.1.0"
