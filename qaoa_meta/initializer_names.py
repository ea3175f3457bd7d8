"""The one registry of initialiser names; imports only the standard library (no TF, no Cirq).

Every initialiser the library, ``qaoa-meta evaluate --methods`` and the noise study
(``qaoa-meta noise-study --initializers``) know is declared here once, with its kind
(``data-free``: built from nothing; ``fitted``: fitted on a training split; ``learned``: a
trained meta-learner), a one-line description and the other spellings it accepts.
:mod:`qaoa_meta.initializers` maps the names to factories,
:mod:`qaoa_meta.studies.noise_study` and the CLI (:mod:`qaoa_meta.cli.names`,
:mod:`qaoa_meta.cli.checks`) take their lists, help texts and error messages from here.

Canonical names are the labels written in records; an alias (the older spelling of
:mod:`qaoa_meta.initializers`: ``fixed-angle-table``, ``feature-regression``) resolves to its
canonical name silently, so records written under either spelling keep loading.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

DATA_FREE_KIND, FITTED_KIND, LEARNED_KIND = "data-free", "fitted", "learned"
KINDS = (DATA_FREE_KIND, FITTED_KIND, LEARNED_KIND)
# "<learned>+noise-aware": the noise study's noise-aware copy of a learned initialiser
NOISE_AWARE_SUFFIX = "+noise-aware"


@dataclasses.dataclass(frozen=True)
class InitializerName:
    """One registry entry.

    Attributes:
        name: the canonical name (the label records carry).
        kind: ``data-free``, ``fitted`` or ``learned``.
        description: one line.
        aliases: other accepted spellings, resolved to ``name``.
        evaluate: offered by ``qaoa-meta evaluate --methods`` (learned ones come from
            ``--model`` directories instead).
        study: one of the noise study's initialisers.
    """

    name: str
    kind: str
    description: str
    aliases: tuple[str, ...] = ()
    evaluate: bool = True
    study: bool = False


# Older spellings (of qaoa_meta.initializers) -> canonical name; records may carry either.
ALIASES: dict[str, str] = {"fixed-angle-table": "fixed-angle", "feature-regression": "regression"}

# Each kind's names in registry order, with their descriptions.
_DESCRIPTIONS: dict[str, dict[str, str]] = {
    DATA_FREE_KIND: {
        "random": "per-instance uniform random angles (seeded)",
        "paper-fixed-1": "the paper's first fixed random point",
        "paper-fixed-2": "the paper's second fixed random point",
        "fixed-angle": "Wurtz-Lykov fixed-angle table by degree (rounded mean degree if irregular)",
        "linear-ramp": "linear annealing schedule (TQA)",
        "interp": "INTERP depth-by-depth heuristic (Zhou et al.)",
        "fourier": "FOURIER depth-by-depth heuristic (Zhou et al.)",
    },
    FITTED_KIND: {
        "fitted-fixed-angle": "one angle maximising the mean AR on the training graphs",
        "regression": "angles linear in (mean degree, density), fitted on training optima",
    },
    LEARNED_KIND: {
        "lstm": "trained LSTM meta-learner",
        "qlstm": "trained QLSTM meta-learner",
        "qk-lstm": "trained QK-LSTM meta-learner",
        "qfwp": "trained QFWP meta-learner",
        "qk-lstm-paper": "trained QK-LSTM meta-learner, the paper's variant",
    },
}

# The noise study compares every learned initialiser with two data-free and both fitted ones.
_IN_STUDY = {"random", "fixed-angle", *_DESCRIPTIONS[FITTED_KIND], *_DESCRIPTIONS[LEARNED_KIND]}

REGISTRY: tuple[InitializerName, ...] = tuple(
    InitializerName(
        name,
        kind,
        description,
        aliases=tuple(alias for alias, target in ALIASES.items() if target == name),
        evaluate=kind != LEARNED_KIND,  # evaluate takes learned ones from --model directories
        study=name in _IN_STUDY,
    )
    for kind, described in _DESCRIPTIONS.items()
    for name, description in described.items()
)

BY_NAME: dict[str, InitializerName] = {entry.name: entry for entry in REGISTRY}


def names(
    kind: str | None = None, *, evaluate: bool | None = None, study: bool | None = None
) -> tuple[str, ...]:
    """Canonical names in registry order, optionally of one kind / offered by one front end.

    Args:
        kind: only names of this kind (``data-free``, ``fitted``, ``learned``); None for all.
        evaluate: only names whose :attr:`InitializerName.evaluate` equals this; None for
            all.
        study: only names whose :attr:`InitializerName.study` equals this; None for all.

    Returns:
        The matching canonical names (aliases are not included).
    """
    return tuple(
        entry.name
        for entry in REGISTRY
        if (kind is None or entry.kind == kind)
        and (evaluate is None or entry.evaluate == evaluate)
        and (study is None or entry.study == study)
    )


DATA_FREE = names(DATA_FREE_KIND)
FITTED = names(FITTED_KIND)
LEARNED = names(LEARNED_KIND)
EVALUATE_METHODS = names(evaluate=True)
STUDY = names(study=True)
STUDY_CLASSICAL = tuple(name for name in STUDY if BY_NAME[name].kind != LEARNED_KIND)
STUDY_LEARNED = tuple(name for name in STUDY if BY_NAME[name].kind == LEARNED_KIND)


def listing(choices: Iterable[str], separator: str = ", ") -> str:
    """``choices`` for a help text or an error, each with its aliases, e.g.
    ``"random, fixed-angle (or fixed-angle-table)"``.

    Args:
        choices: canonical names; a name not in the registry is listed without aliases.
        separator: what joins the entries.

    Returns:
        The joined text.
    """
    parts = []
    for name in choices:
        aliases = BY_NAME[name].aliases if name in BY_NAME else ()
        parts.append(f"{name} (or {', '.join(aliases)})" if aliases else name)
    return separator.join(parts)


def canonical(name: str, choices: Iterable[str] | None = None, what: str = "initializer") -> str:
    """The canonical name of ``name`` (itself or an alias's target).

    Args:
        name: a canonical name or an alias.
        choices: the canonical names accepted here (default: every registered one).
        what: how the error names the thing (e.g. ``--methods``).

    Returns:
        The canonical name.

    Raises:
        ValueError: one line naming ``name`` and listing the accepted names, for a name that is
            not registered or not among ``choices``.
    """
    choices = tuple(REGISTRY_NAMES if choices is None else choices)
    resolved = ALIASES.get(name, name)
    if resolved not in choices:
        raise ValueError(f"Unknown {what} {name!r}; expected one of {listing(choices)}.")
    return resolved


def study_name(name: str) -> str:
    """The noise study's label for ``name``: a canonical :data:`STUDY` name, or a learned one
    followed by :data:`NOISE_AWARE_SUFFIX`; aliases resolve.

    Args:
        name: a name or alias of :data:`STUDY`, or a learned study name followed by
            :data:`NOISE_AWARE_SUFFIX` (the suffix is not resolved through aliases).

    Returns:
        The canonical study label.

    Raises:
        ValueError: one line listing the study's names, for any other name.
    """
    if name.endswith(NOISE_AWARE_SUFFIX):
        base = name.removesuffix(NOISE_AWARE_SUFFIX)
        if base in STUDY_LEARNED:
            return name
    elif ALIASES.get(name, name) in STUDY:
        return ALIASES.get(name, name)
    raise ValueError(
        f"Unknown initializer {name!r}; expected one of {listing(STUDY)}, or a learned one "
        f"followed by {NOISE_AWARE_SUFFIX!r} (e.g. 'qk-lstm{NOISE_AWARE_SUFFIX}')."
    )


REGISTRY_NAMES = tuple(BY_NAME)

__all__ = [
    "ALIASES",
    "BY_NAME",
    "DATA_FREE",
    "EVALUATE_METHODS",
    "FITTED",
    "InitializerName",
    "KINDS",
    "LEARNED",
    "NOISE_AWARE_SUFFIX",
    "REGISTRY",
    "REGISTRY_NAMES",
    "STUDY",
    "STUDY_CLASSICAL",
    "STUDY_LEARNED",
    "canonical",
    "listing",
    "names",
    "study_name",
]
