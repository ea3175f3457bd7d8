"""The studies: the paper reproduction and the noise study, built on the rest of the package.

* :mod:`qaoa_meta.studies.reproduce`: the paper's tables and figures (``qaoa-meta reproduce``).
* :mod:`qaoa_meta.studies.noise_study`: learned vs fixed initialisers under device noise
  (``qaoa-meta noise-study``), with :mod:`qaoa_meta.studies.study_models`, its trained models.

Their reports reuse :mod:`qaoa_meta.report`'s tables and plots. ``qaoa_meta.reproduce``,
``qaoa_meta.noise_study`` and ``qaoa_meta.study_models`` are deprecated aliases of these.
"""
