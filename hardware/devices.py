"""Named devices, their qubit graphs and native gate sets, and placement of interaction graphs.

A :class:`Device` is a connectivity graph of ``cirq.GridQubit``s plus the names of the native
two-qubit gate sets it runs (``"cz"``, ``"sqrt_iswap"``, ``"sycamore"``) and, for the Google
processors with stored calibrations (``rainbow``, ``weber``), per-qubit and per-coupler error
rates used by :func:`place` to prefer good qubits.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field

import cirq
import networkx as nx
import numpy as np

GATESETS: tuple[str, ...] = ("cz", "sqrt_iswap", "sycamore")
NAMED_DEVICES: tuple[str, ...] = ("sycamore", "sycamore23", "rainbow", "weber")
CALIBRATED_DEVICES: tuple[str, ...] = ("rainbow", "weber")

SeedLike = int | np.random.Generator | None


@dataclass(frozen=True, eq=False)
class Device:
    """A device: coupling graph of grid qubits, native gate sets, optional error rates.

    Attributes:
        name: device name (``get_device(name)`` rebuilds it).
        graph: undirected coupling graph on ``cirq.GridQubit`` nodes.
        gatesets: native two-qubit gate sets, a subset of :data:`GATESETS`.
        qubit_error: per-qubit error (1q Pauli error + mean readout error), if calibrated.
        pair_error: per-coupler two-qubit Pauli error keyed by ``frozenset({q0, q1})``.
        cirq_device: the ``cirq.Device`` for the Google processors (for cross-validation).
        readout_error: per-qubit readout errors ``(p01, p10)`` (P(read 1 | 0), P(read 0 | 1)),
            if calibrated.
    """

    name: str
    graph: nx.Graph
    gatesets: tuple[str, ...]
    qubit_error: Mapping[cirq.GridQubit, float] | None = None
    pair_error: Mapping[frozenset, float] | None = None
    cirq_device: cirq.Device | None = field(default=None, repr=False)
    readout_error: Mapping[cirq.GridQubit, tuple[float, float]] | None = None

    @property
    def qubits(self) -> tuple[cirq.GridQubit, ...]:
        """The device qubits, sorted (row, then column)."""
        return tuple(sorted(self.graph.nodes))

    @property
    def n_qubits(self) -> int:
        """The number of device qubits."""
        return self.graph.number_of_nodes()

    def is_coupled(self, a: cirq.Qid, b: cirq.Qid) -> bool:
        """Whether two qubits share a coupler.

        Args:
            a: a qubit.
            b: another qubit.

        Returns:
            True when ``a`` and ``b`` are joined by an edge of ``graph`` (False for qubits
            not on the device).
        """
        return self.graph.has_edge(a, b)

    @property
    def is_calibrated(self) -> bool:
        """Whether the device has calibrated error rates (``qubit_error`` is set)."""
        return self.qubit_error is not None


def grid(rows: int, cols: int) -> Device:
    """A ``rows`` x ``cols`` square-grid test device supporting every gate set.

    Args:
        rows: grid rows, >= 1.
        cols: grid columns, >= 1.

    Returns:
        The uncalibrated device ``grid:RxC`` on ``cirq.GridQubit.rect(rows, cols)``, nearest
        neighbours coupled.

    Raises:
        ValueError: when ``rows`` or ``cols`` is < 1.
    """
    if rows < 1 or cols < 1:
        raise ValueError(f"grid needs rows, cols >= 1, got {rows}x{cols}")
    qubits = cirq.GridQubit.rect(rows, cols)
    return Device(f"grid:{rows}x{cols}", _grid_graph(qubits), GATESETS)


def line(n: int) -> Device:
    """An ``n``-qubit line test device (qubits ``GridQubit(0, i)``) supporting every gate set.

    Args:
        n: number of qubits, >= 1.

    Returns:
        The uncalibrated device ``line:N``, neighbours coupled.

    Raises:
        ValueError: when ``n`` < 1.
    """
    if n < 1:
        raise ValueError(f"line needs n >= 1, got {n}")
    qubits = cirq.GridQubit.rect(1, n)
    return Device(f"line:{n}", _grid_graph(qubits), GATESETS)


def _grid_graph(qubits) -> nx.Graph:
    g = nx.Graph()
    g.add_nodes_from(qubits)
    qs = set(qubits)
    for q in qubits:
        for nb in (q + (0, 1), q + (1, 0)):
            if nb in qs:
                g.add_edge(q, nb)
    return g


def get_device(name: str) -> Device:
    """Returns a device by name.

    Args:
        name: ``sycamore``, ``sycamore23``, ``rainbow``, ``weber``, ``grid:RxC`` or ``line:N``
            (case-insensitive, surrounding spaces ignored).

    Returns:
        The :class:`Device`; the Google processors come from cirq-google's device specs
        (cached, the same object for the same name), ``rainbow`` and ``weber`` with their
        stored calibration's error rates.

    Raises:
        ValueError: for an unknown name (the message lists the valid ones), a malformed
            ``grid:``/``line:`` size, or a size < 1.
    """
    key = name.strip().lower()
    if key.startswith("grid:"):
        try:
            rows, cols = (int(x) for x in key[5:].split("x"))
        except ValueError as error:
            raise ValueError(f"grid device must look like 'grid:3x4', got {name!r}") from error
        return grid(rows, cols)
    if key.startswith("line:"):
        try:
            n = int(key[5:])
        except ValueError as error:
            raise ValueError(f"line device must look like 'line:8', got {name!r}") from error
        return line(n)
    if key not in NAMED_DEVICES:
        raise ValueError(
            f"unknown device {name!r}; expected one of {', '.join(NAMED_DEVICES)}, "
            "'grid:RxC' or 'line:N'"
        )
    return _named_device(key)


@functools.cache
def _named_device(name: str) -> Device:
    cg = import_cirq_google()

    if name in ("sycamore", "sycamore23"):
        cdev = cg.Sycamore if name == "sycamore" else cg.Sycamore23
        gatesets: tuple[str, ...] = ("sqrt_iswap", "sycamore")
        qubit_error = pair_error = readout = None
    else:
        cdev = cg.engine.create_device_from_processor_id(name)
        gatesets = GATESETS
        qubit_error, pair_error = _calibration_errors(name)
        props = google_noise_properties(name)
        readout = {q: (float(e[0]), float(e[1])) for q, e in props.readout_errors.items()}
    graph = nx.Graph()
    graph.add_nodes_from(cdev.metadata.qubit_set)
    graph.add_edges_from(tuple(pair) for pair in cdev.metadata.qubit_pairs)
    return Device(name, graph, gatesets, qubit_error, pair_error, cdev, readout)


def _calibration_errors(processor_id: str):
    """Per-qubit and per-pair error rates from cirq-google's median calibration."""
    cg = import_cirq_google()

    props = google_noise_properties(processor_id)
    qubit_error: dict[cirq.GridQubit, float] = {}
    pair_error: dict[frozenset, float] = {}
    for op_id, err in props.gate_pauli_errors.items():
        if op_id.gate_type is cirq.PhasedXZGate and len(op_id.qubits) == 1:
            qubit_error[op_id.qubits[0]] = qubit_error.get(op_id.qubits[0], 0.0) + err
        if op_id.gate_type in (cirq.ISwapPowGate, cg.SycamoreGate) and len(op_id.qubits) == 2:
            key = frozenset(op_id.qubits)
            pair_error[key] = max(pair_error.get(key, 0.0), err)
    for q, (e0, e1) in props.readout_errors.items():
        qubit_error[q] = qubit_error.get(q, 0.0) + 0.5 * (e0 + e1)
    return qubit_error, pair_error


@functools.cache
def google_noise_properties(processor_id: str):
    """``cirq_google.GoogleNoiseProperties`` from the stored median calibration.

    Cached: the same object is returned for the same processor; do not modify it.

    Args:
        processor_id: ``rainbow`` or ``weber`` (:data:`CALIBRATED_DEVICES`).

    Returns:
        The noise properties of cirq-google's stored median calibration.

    Raises:
        ValueError: for a processor without a stored calibration.
    """
    cg = import_cirq_google()

    if processor_id not in CALIBRATED_DEVICES:
        raise ValueError(
            f"no stored calibration for {processor_id!r}; expected one of "
            f"{', '.join(CALIBRATED_DEVICES)}"
        )
    cal = cg.engine.load_median_device_calibration(processor_id)
    return cg.engine.noise_properties_from_calibration(cal)


def import_cirq_google():
    """Imports cirq_google without google.api_core's Python-version FutureWarning.

    Returns:
        The ``cirq_google`` module.
    """
    # Lazy: cirq_google adds about 1.4 s to cirq's import and only Google devices and
    # calibrations need it; importing it here also keeps its warning inside this filter.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning)
        import cirq_google

    return cirq_google


def _rng(seed: SeedLike) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


@functools.lru_cache(maxsize=32)
def _distance_matrix(device: Device) -> tuple[tuple[cirq.GridQubit, ...], np.ndarray]:
    qubits = device.qubits
    index = {q: i for i, q in enumerate(qubits)}
    dist = np.full((len(qubits), len(qubits)), 10**6, dtype=np.int64)
    for src, lengths in nx.all_pairs_shortest_path_length(device.graph):
        for dst, d in lengths.items():
            dist[index[src], index[dst]] = d
    return qubits, dist


def placement_cost(
    interaction_graph: nx.Graph, mapping: Mapping[Hashable, cirq.GridQubit], device: Device
) -> float:
    """Estimated error of a placement: routing swaps plus (when calibrated) gate errors.

    Each interaction at device distance ``d`` costs ``3 (d - 1)`` two-qubit gates of swaps plus
    one gate; with a calibration every gate counts its coupler's Pauli error (the device mean
    for swapped pairs) and every qubit its own error; without one each gate counts 1.

    Args:
        interaction_graph: nodes are logical qubits, edges two-qubit interactions.
        mapping: logical qubit -> device qubit, for every node of ``interaction_graph``.
        device: the target device.

    Returns:
        The estimated cost (lower is better).
    """
    qubits, dist = _distance_matrix(device)
    index = {q: i for i, q in enumerate(qubits)}
    e2, qerr, perr = _error_tables(device)
    cost = 0.0
    for u, v in interaction_graph.edges:
        a, b = mapping[u], mapping[v]
        d = dist[index[a], index[b]]
        cost += 3 * (d - 1) * e2 + (perr.get(frozenset((a, b)), e2) if d == 1 else e2)
    cost += sum(qerr.get(mapping[u], 0.0) for u in interaction_graph.nodes)
    return float(cost)


def _error_tables(device: Device):
    if not device.is_calibrated:
        return 1.0, {}, {}
    perr = dict(device.pair_error or {})
    e2 = float(np.mean(list(perr.values()))) if perr else 0.01
    return e2, dict(device.qubit_error or {}), perr


def bad_readout_qubits(device: Device) -> frozenset:
    """Qubits whose readout error ``p01 + p10`` exceeds twice the device median.

    On weber: q(3, 2) (0.665), q(3, 5) (0.167), q(4, 7) (0.133); on rainbow q(7, 2) (0.397).
    Empty for devices without readout calibration.

    Args:
        device: the device.

    Returns:
        The qubits, as a frozenset.
    """
    if not device.readout_error:
        return frozenset()
    total = {q: p01 + p10 for q, (p01, p10) in device.readout_error.items()}
    limit = 2.0 * float(np.median(list(total.values())))
    return frozenset(q for q, t in total.items() if t > limit)


def place(
    interaction_graph: nx.Graph,
    device: Device,
    *,
    seed: SeedLike = 0,
    n_regions: int = 8,
    readout_aware: bool | None = None,
) -> dict[Hashable, cirq.GridQubit]:
    """Chooses an initial logical-to-physical qubit mapping that minimises routing.

    Tries compact connected regions of the device (the qubits nearest each centre, ties
    broken towards low error) and optimises the assignment inside each by local search
    (moves and swaps) on :func:`placement_cost`; returns the best mapping found.

    Args:
        interaction_graph: nodes are logical qubits (any hashable), edges two-qubit gates.
        device: target device.
        seed: seed for the search order.
        n_regions: number of candidate regions to optimise.
        readout_aware: never use :func:`bad_readout_qubits` (``p01 + p10`` above twice the
            device median, e.g. weber's q(3, 5) with p10 = 0.16) while at least ``n + 2``
            other qubits remain: when the readout-blind placement uses one, the search is
            rerun with them left out of every candidate region. Every other qubit's readout
            error counts in :func:`placement_cost` as before (the mean of p01 and p10).
            Default: whether the device has readout calibration (``rainbow``, ``weber``).

    Returns:
        ``{logical qubit: device qubit}``.

    Raises:
        ValueError: when the graph has more nodes than the device has qubits.
    """
    nodes = list(interaction_graph.nodes)
    n = len(nodes)
    if n > device.n_qubits:
        raise ValueError(
            f"the circuit needs {n} qubits but device {device.name!r} has only "
            f"{device.n_qubits}; choose a larger device (e.g. 'weber', 53 qubits, or "
            f"'grid:RxC') or a smaller problem"
        )
    if n == 0:
        return {}
    rng = _rng(seed)
    qubits, dist = _distance_matrix(device)
    m = len(qubits)
    e2, qerr_map, perr_map = _error_tables(device)
    qerr = np.array([qerr_map.get(q, 0.0) for q in qubits])
    pair_cost = 3.0 * (dist - 1) * e2 + e2
    for key, err in perr_map.items():
        a, b = (qubits.index(q) for q in key)
        pair_cost[a, b] = pair_cost[b, a] = err
    np.fill_diagonal(pair_cost, 0.0)
    node_index = {u: i for i, u in enumerate(nodes)}
    adj = [[node_index[v] for v in interaction_graph.neighbors(u) if v != u] for u in nodes]

    if readout_aware is None:
        readout_aware = bool(device.readout_error)
    avoid = np.zeros(m, dtype=bool)
    bad = bad_readout_qubits(device) if readout_aware else frozenset()
    if bad and m - len(bad) >= n + 2:
        blind = place(
            interaction_graph, device, seed=seed, n_regions=n_regions, readout_aware=False
        )
        if not set(blind.values()) & bad:
            return blind  # the readout-blind choice already avoids them: keep it
        avoid[[qubits.index(q) for q in bad]] = True
    slack = min(m - n - int(avoid.sum()), max(2, n // 4))
    centres = np.argsort(dist[:, :].sum(axis=1) + qerr * 1e-3)  # central qubits first
    regions = []
    for c in range(m):
        if avoid[c]:
            continue
        order = np.lexsort((qerr, dist[c], avoid))  # avoided qubits last, outside the region
        region = order[: n + slack]
        compact = dist[np.ix_(region[:n], region[:n])].sum() * e2 + qerr[region[:n]].sum()
        regions.append((compact, c, region))
    regions.sort(key=lambda r: (r[0], int(np.where(centres == r[1])[0][0])))

    best_cost, best = np.inf, None
    for _, _, region in regions[:n_regions]:
        assign = _initial_assignment(interaction_graph, nodes, node_index, region, dist)
        assign, cost = _local_search(assign, region, adj, pair_cost, qerr, rng, e2)
        if cost < best_cost - 1e-12:
            best_cost, best = cost, assign
    return {nodes[i]: qubits[int(best[i])] for i in range(n)}


def _initial_assignment(graph, nodes, node_index, region, dist) -> np.ndarray:
    """BFS order of the logical graph (high degree first) onto region qubits by distance."""
    order: list[int] = []
    seen: set = set()
    for start in sorted(graph.nodes, key=lambda u: -graph.degree(u)):
        if start in seen:
            continue
        for u in nx.bfs_tree(graph, start):
            seen.add(u)
            order.append(node_index[u])
    centre = region[0]
    phys = sorted(region, key=lambda p: dist[centre, p])
    assign = np.empty(len(nodes), dtype=np.int64)
    for k, i in enumerate(order):
        assign[i] = phys[k]
    return assign


def _local_search(assign, region, adj, pair_cost, qerr, rng, scale, sweeps: int = 400):
    """Simulated annealing over moves/swaps inside ``region``, then greedy polishing."""
    assign = assign.copy()
    n = len(assign)
    region = [int(p) for p in region]
    owner = {int(p): i for i, p in enumerate(assign)}

    def node_cost(i: int, p: int) -> float:
        return qerr[p] + sum(pair_cost[p, assign[j]] for j in adj[i])

    def delta(i: int, p: int) -> tuple[float, int | None]:
        pi = int(assign[i])
        j = owner.get(p)
        before = node_cost(i, pi) + (node_cost(j, p) if j is not None else 0.0)
        assign[i] = p
        if j is not None:
            assign[j] = pi
        after = node_cost(i, p) + (node_cost(j, pi) if j is not None else 0.0)
        assign[i] = pi
        if j is not None:
            assign[j] = p
        return after - before, j

    def apply(i: int, p: int, j: int | None) -> None:
        pi = int(assign[i])
        assign[i] = p
        owner[p] = i
        if j is not None:
            assign[j] = pi
            owner[pi] = j
        else:
            del owner[pi]

    steps = sweeps * n
    temps = scale * np.geomspace(2.0, 0.01, steps) if n > 1 else []
    picks_i = rng.integers(0, n, size=steps)
    picks_p = rng.integers(0, len(region), size=steps)
    accept = rng.random(steps)
    for t, i, k, u in zip(temps, picks_i, picks_p, accept, strict=False):
        p = region[k]
        if p == assign[i]:
            continue
        d, j = delta(int(i), p)
        if d <= 0 or u < np.exp(-d / t):
            apply(int(i), p, j)
    improved = True
    while improved:
        improved = False
        for i in range(n):
            for p in region:
                if p == assign[i]:
                    continue
                d, j = delta(i, p)
                if d < -1e-12:
                    apply(i, p, j)
                    improved = True
    total = qerr[assign].sum() + sum(
        pair_cost[assign[i], assign[j]] for i in range(n) for j in adj[i] if j > i
    )
    return assign, float(total)


def find_line(
    device: Device,
    n: int,
    *,
    seed: SeedLike = 0,
    max_steps: int = 200_000,
    readout_aware: bool | None = None,
):
    """A simple path of ``n`` connected device qubits (for swap networks), or ``None``.

    Depth-first search with backtracking from central, low-error qubits, neighbours ordered
    towards fewer onward options (Warnsdorff's rule), bounded by ``max_steps``.

    Args:
        device: the device.
        n: path length.
        seed: seed for tie breaking.
        max_steps: search budget per attempt.
        readout_aware: first search without :func:`bad_readout_qubits`, falling back to the
            whole device when no line avoids them; default: whether the device has readout
            calibration.

    Returns:
        The path as a list of device qubits, or ``None`` when none was found.
    """
    if n > device.n_qubits:
        return None
    if readout_aware is None:
        readout_aware = bool(device.readout_error)
    avoid = bad_readout_qubits(device) if readout_aware else frozenset()
    if avoid:
        sub = device.graph.subgraph(set(device.graph) - avoid)
        largest = max(nx.connected_components(sub), key=len)
        path = _find_line_in(device, nx.Graph(sub.subgraph(largest)), n, seed, max_steps)
        if path is not None:
            return path
    return _find_line_in(device, device.graph, n, seed, max_steps)


def _find_line_in(device: Device, graph: nx.Graph, n: int, seed: SeedLike, max_steps: int):
    if n > graph.number_of_nodes():
        return None
    rng = _rng(seed)
    _, qerr_map, _ = _error_tables(device)
    ecc = {q: sum(nx.single_source_shortest_path_length(graph, q).values()) for q in graph}
    starts = sorted(graph.nodes, key=lambda q: (ecc[q], qerr_map.get(q, 0.0), rng.random()))
    steps = 0
    for start in starts[: min(len(starts), 12)]:
        path = [start]
        on_path = {start}
        stack = [iter(_ordered_neighbours(graph, start, on_path))]
        while stack:
            if len(path) == n:
                return list(path)
            steps += 1
            if steps > max_steps:
                return None
            nxt = next(stack[-1], None)
            if nxt is None:
                stack.pop()
                on_path.discard(path.pop())
                continue
            if nxt in on_path:
                continue
            path.append(nxt)
            on_path.add(nxt)
            stack.append(iter(_ordered_neighbours(graph, nxt, on_path)))
    return None


def _ordered_neighbours(graph, q, on_path):
    free = [nb for nb in graph.neighbors(q) if nb not in on_path]
    return sorted(free, key=lambda nb: sum(1 for x in graph.neighbors(nb) if x not in on_path))
