"""Shared fixtures. The paper's dataset is read from ../shared beside the repository.

pytest puts ``tests/`` on ``sys.path``, where the folder ``tests/hardware`` would shadow the
real ``hardware`` package as a namespace package for any test that imports it first; the
repository root goes in front so ``import hardware`` always finds the package.
"""

from __future__ import annotations

import atexit
import os
import pathlib
import sys

import pytest

_ROOT = str(pathlib.Path(__file__).resolve().parents[1])
if sys.path[0] != _ROOT:
    sys.path.insert(0, _ROOT)
if getattr(sys.modules.get("hardware"), "__file__", "") is None:
    del sys.modules["hardware"]

PAPER_DATASET = (
    pathlib.Path(__file__).resolve().parents[1].parent / "shared/paper_data/datasets.json"
)


@pytest.fixture(scope="session")
def paper_dataset_path() -> pathlib.Path:
    if not PAPER_DATASET.exists():
        pytest.skip(f"paper dataset not found at {PAPER_DATASET}")
    return PAPER_DATASET


@pytest.fixture(scope="session")
def ray_local():
    """One local Ray instance (2 CPUs) shared by every test that needs Ray.

    Starting Ray costs about 10 s on a small machine; the tests start it once.
    """
    pytest.importorskip("ray")
    from qaoa_meta.sweep import ray_session

    with ray_session(workers=2, address=None, threads=1) as ray:
        yield ray


# --- parallel runs ---------------------------------------------------------------------------
# `make test` runs the suite on two pytest-xdist workers with `--dist loadgroup`: tests are
# handed out one at a time, except those given an xdist_group here, which run in one worker in
# file order. Tests that use Ray share one group, so Ray starts once (``ray_local``) and never
# in two workers at once; a file whose tests share a module-scoped fixture (e.g. the reference
# training run in test_train_resume.py) is one group, so the fixture is built once.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        if item.get_closest_marker("xdist_group") is not None:
            continue
        fixtures = getattr(item, "_fixtureinfo", None)
        definitions = fixtures.name2fixturedefs.values() if fixtures else ()
        scopes = {d.scope for defs in definitions for d in defs}
        if "ray_local" in item.fixturenames or item.path.name in RAY_FILES:
            item.add_marker(pytest.mark.xdist_group("ray"))
        elif item.path.name in NUMBA_FILES:
            # One worker compiles the file's numba kernels (and writes numba's cache) instead
            # of both compiling the same kernels at the same time on a fresh clone.
            item.add_marker(pytest.mark.xdist_group(item.path.name))
        elif "module" in scopes:
            item.add_marker(pytest.mark.xdist_group(item.path.relative_to(_ROOT).as_posix()))
    items.sort(key=lambda item: not item.nodeid.startswith(LONG_FIRST))


# Files whose tests start Ray themselves (besides those using the ray_local fixture).
RAY_FILES = {"test_sweep.py", "test_tune.py"}
# Files whose tests compile numba kernels (hardware/trajectories.py, qaoa_meta/energy_kernel.py):
# one worker compiles each kernel once instead of both at the same time on a fresh clone.
NUMBA_FILES = {"test_trajectories.py", "test_energy.py"}

# The longest single tests (about 15-40 s each on the 2-core machine) are handed out first, so
# neither worker starts one of them while the other is finishing: with --dist loadgroup the
# scheduler keeps the collection order for tests outside groups.
LONG_FIRST = (
    "tests/test_demo.py::test_demo_meta_and_hardware_stages_save_reloadable_results",
    "tests/test_reproduce.py::test_reduced_reproduction",
    "tests/test_noise_study.py::test_noise_aware_training_improves_noisy_meta_loss",
    "tests/test_noise_study.py::test_reduced_study_end_to_end",
    "tests/test_meta.py::test_training_lowers_held_out_meta_loss",
    "tests/test_noise_study.py::test_exact_noisy_energy_matches_cirq_density_matrix",
)


class _GroupCheck:
    """Fails the run where ``--dist loadgroup`` would silently ignore the groups above.

    pytest-xdist tags a grouped test by appending ``@group`` to its node id in each worker; with
    pytest 9.2 that tag no longer reaches the id (pytest-xdist issue 1386), and the groups are
    dropped without a word: Ray starts in both workers and each compiles the same kernels.
    Runs after xdist's own hook, in each worker.
    """

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config, items):
        _check_groups_reach_the_scheduler(config, items)


def pytest_configure(config):
    if config.getoption("dist", "no") == "loadgroup" and pytest.version_tuple[:2] >= (9, 2):
        # Said here, in the controller: a worker's error reaches the terminal only as an
        # INTERNALERROR without its message.
        raise pytest.UsageError(
            f"pytest {pytest.__version__} drops --dist loadgroup's groups (pytest-xdist issue "
            "1386); install the versions setup.cfg pins: pip install -e '.[test]'"
        )
    config.pluginmanager.register(_GroupCheck(), "qaoa-meta-group-check")


def _check_groups_reach_the_scheduler(config, items) -> None:
    if not getattr(config.option, "loadgroup", False):
        return
    untagged = [
        item.nodeid
        for item in items
        if item.get_closest_marker("xdist_group") is not None and "@" not in item.nodeid
    ]
    if untagged:
        raise pytest.UsageError(
            f"--dist loadgroup did not tag {len(untagged)} grouped tests (e.g. {untagged[0]}): "
            f"pytest {pytest.__version__} is not supported by this pytest-xdist; install the "
            "versions setup.cfg pins (pip install -e '.[test]')"
        )


# --- worker exit -----------------------------------------------------------------------------
# After its last test an xdist worker's interpreter spent about 6 s tearing down TensorFlow,
# Ray and numba objects while the controller waited for it (measured: the worker's atexit
# handlers ran 6.4 s before the controller's sessionfinish). Every report has been sent by
# then, so a worker leaves as soon as its other atexit handlers (registered later, so run
# earlier: last in, first out) are done.
def _leave_now() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if os.environ.get("PYTEST_XDIST_WORKER"):
    atexit.register(_leave_now)
