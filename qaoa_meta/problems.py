"""Max-Cut problems: the problem object, seeded generators, the paper's dataset, exact solutions.

Conventions: nodes are ``0..n-1``; a cut assigns a bit ``x_i`` to each node and its value is
``C(x) = sum_{(i,j)} w_ij [x_i != x_j]``. Bitstrings are indexed the way Cirq orders state
vectors (big-endian): in basis index ``k``, node ``i`` has bit ``(k >> (n - 1 - i)) & 1``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import pathlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from hardware import serialization
from qaoa_meta.fileio import write_atomic

# networkx is imported in the functions that use it: it costs ~0.25 s, and the CLI (whose
# --help and argument errors must be fast) loads this module.
if TYPE_CHECKING:
    import networkx as nx

SCHEMA_VERSION = 1

# Brute force enumerates 2^(n-1) cuts; n = 24 takes about a second here, every extra node
# doubles that. The cost diagonal holds all 2^n values in memory (float64: 8 * 2^n bytes).
MAX_BRUTE_FORCE_NODES = 28
MAX_DIAGONAL_NODES = 26

Seed = int | np.random.Generator | None


def as_generator(seed: Seed) -> np.random.Generator:
    """Returns a NumPy generator from an int seed, a generator (used as is) or None.

    Args:
        seed: an int, a ``numpy.random.Generator`` or None (fresh entropy).

    Returns:
        The generator.

    Raises:
        TypeError: for any other type.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, int | np.integer):
        return np.random.default_rng(seed)
    raise TypeError(f"seed must be an int, a numpy.random.Generator or None, got {seed!r}.")


def _weighted_edges(edges: Iterable[Sequence[Any]]) -> tuple[tuple[Any, Any, Any], ...]:
    """``(u, v)`` and ``(u, v, w)`` edges as ``(u, v, w)`` tuples (missing weights are 1)."""
    weighted = []
    for edge in edges:
        edge = tuple(edge)
        if len(edge) not in (2, 3):
            raise ValueError(f"Each edge must be (u, v) or (u, v, w), got {edge!r}.")
        weighted.append(edge if len(edge) == 3 else (*edge, 1.0))
    return tuple(weighted)


@dataclasses.dataclass(frozen=True)
class MaxCutProblem(serialization.Serializable):
    """A weighted Max-Cut instance on nodes ``0..n-1``.

    Attributes:
        n: number of nodes (>= 2). Isolated nodes are allowed.
        edges: sorted tuple of ``(u, v, w)`` with ``u < v`` and finite float weight ``w``.
        name: a human-readable label.
        metadata: free-form JSON-serialisable information (generator, seed, ...). Not part of
            equality or hashing.

    Edges are normalised on construction (sorted, ``u < v``, float weights; a repeated edge
    with the same weight is kept once).

    Saved with its ``type`` and ``schema_version``
    (:class:`hardware.serialization.Serializable`); a bare ``{"n": .., "edges": ..}`` record
    reads too, its edges ``[u, v]`` or ``[u, v, w]``.

    Raises:
        TypeError: for a non-integer ``n`` or a non-numeric weight.
        ValueError: for ``n < 2``, an edge that is not ``(u, v, w)``, a node outside
            ``0..n-1``, a self-loop, a non-finite weight, or an edge repeated with different
            weights.
    """

    n: int
    edges: tuple[tuple[int, int, float], ...]
    name: str = ""
    metadata: Mapping[str, Any] = dataclasses.field(default_factory=dict, compare=False, hash=False)

    # How a problem is saved (hardware.serialization): a "type" tag, and edges read as [u, v] or
    # [u, v, w] lists (the paper's records have no weights).
    _schema = serialization.Schema(
        version=SCHEMA_VERSION,
        tag=("type", "MaxCutProblem"),
        decode={"edges": _weighted_edges},
    )

    def __post_init__(self) -> None:
        if isinstance(self.n, bool) or not isinstance(self.n, int | np.integer):
            raise TypeError(f"n must be an int, got {self.n!r}.")
        if self.n < 2:
            raise ValueError(f"A Max-Cut problem needs n >= 2 nodes, got n = {self.n}.")
        object.__setattr__(self, "n", int(self.n))
        object.__setattr__(self, "edges", _normalise_edges(self.n, self.edges))
        object.__setattr__(self, "metadata", dict(self.metadata))

    # --- constructors -------------------------------------------------------------------
    @classmethod
    def from_edge_list(
        cls,
        edges: Iterable[Sequence[Any]],
        n: int | None = None,
        *,
        name: str = "",
        metadata: Mapping[str, Any] | None = None,
        relabel: bool = False,
    ) -> MaxCutProblem:
        """Builds a problem from ``(u, v)`` or ``(u, v, w)`` tuples.

        Args:
            edges: the edges; missing weights are 1.
            n: number of nodes; defaults to ``max node + 1`` (or the number of distinct
                nodes when ``relabel``). Give it explicitly to keep trailing isolated nodes.
            name: label of the problem.
            metadata: free-form information stored with the problem.
            relabel: map arbitrary hashable node labels to ``0..n-1`` in sorted order (the
                mapping is stored in ``metadata["relabelling"]``).

        Returns:
            The problem.

        Raises:
            ValueError: for an edge of another length, or anything the constructor refuses.
            TypeError: as the constructor.
        """
        edge_list = list(_weighted_edges(edges))
        metadata = dict(metadata or {})
        if relabel:
            labels = sorted(
                {edge[0] for edge in edge_list} | {edge[1] for edge in edge_list}, key=repr
            )
            index = {label: i for i, label in enumerate(labels)}
            edge_list = [(index[e[0]], index[e[1]], *e[2:]) for e in edge_list]
            metadata["relabelling"] = {repr(label): i for label, i in index.items()}
            if n is None:
                n = len(labels)
        if n is None:
            nodes = [int(e[i]) for e in edge_list for i in (0, 1) if _is_int(e[i])]
            n = max(nodes) + 1 if nodes else 0
        return cls(n=n, edges=tuple(edge_list), name=name, metadata=metadata)

    @classmethod
    def from_networkx(
        cls,
        graph: nx.Graph,
        *,
        name: str = "",
        weight: str = "weight",
        relabel: bool = False,
        metadata: Mapping[str, Any] | None = None,
    ) -> MaxCutProblem:
        """Builds a problem from an undirected networkx graph (edge attribute ``weight``).

        Nodes must be ``0..n-1`` unless ``relabel=True``; isolated nodes are kept.

        Args:
            graph: an undirected, simple networkx graph.
            name: label of the problem.
            weight: edge attribute holding the weight (missing: 1).
            relabel: map the node labels to ``0..n-1`` in sorted order (the mapping is stored
                in ``metadata["relabelling"]``).
            metadata: free-form information stored with the problem.

        Returns:
            The problem.

        Raises:
            ValueError: for a directed graph or a multigraph, nodes other than ``0..n-1``
                without ``relabel``, or anything the constructor refuses.
        """
        if graph.is_directed():
            raise ValueError("Max-Cut needs an undirected graph; use graph.to_undirected().")
        if graph.is_multigraph():
            raise ValueError("Multigraphs are not supported; merge parallel edges first.")
        nodes = list(graph.nodes)
        if relabel:
            order = sorted(nodes, key=repr)
            index = {label: i for i, label in enumerate(order)}
            edges = [(index[u], index[v], d.get(weight, 1.0)) for u, v, d in graph.edges(data=True)]
            meta = dict(metadata or {})
            meta["relabelling"] = {repr(label): i for label, i in index.items()}
            return cls(n=len(order), edges=tuple(edges), name=name, metadata=meta)
        if not all(_is_int(node) for node in nodes) or sorted(nodes) != list(range(len(nodes))):
            raise ValueError(
                f"Graph nodes must be 0..{len(nodes) - 1}, got {sorted(nodes, key=repr)[:8]}...; "
                "pass relabel=True to map them to 0..n-1."
            )
        edges = [(u, v, d.get(weight, 1.0)) for u, v, d in graph.edges(data=True)]
        return cls(n=len(nodes), edges=tuple(edges), name=name, metadata=dict(metadata or {}))

    # --- views --------------------------------------------------------------------------
    def to_networkx(self) -> nx.Graph:
        """The problem as a networkx graph with ``weight`` edge attributes (all n nodes)."""
        import networkx as nx

        graph = nx.Graph()
        graph.add_nodes_from(range(self.n))
        graph.add_weighted_edges_from(self.edges)
        return graph

    @property
    def num_edges(self) -> int:
        """Number of edges."""
        return len(self.edges)

    @property
    def edge_array(self) -> np.ndarray:
        """Edges as an ``(m, 2)`` int array."""
        return np.array([(u, v) for u, v, _ in self.edges], dtype=np.int64).reshape(-1, 2)

    @property
    def weights(self) -> np.ndarray:
        """Edge weights as an ``(m,)`` float array (same order as ``edges``)."""
        return np.array([w for _, _, w in self.edges], dtype=np.float64)

    @property
    def is_weighted(self) -> bool:
        """Whether any edge weight differs from 1."""
        return any(w != 1.0 for _, _, w in self.edges)

    @property
    def total_weight(self) -> float:
        """Sum of the edge weights."""
        return float(self.weights.sum())

    def adjacency_matrix(self) -> np.ndarray:
        """Symmetric ``(n, n)`` weight matrix."""
        matrix = np.zeros((self.n, self.n))
        for u, v, w in self.edges:
            matrix[u, v] = matrix[v, u] = w
        return matrix

    def degrees(self) -> np.ndarray:
        """Unweighted degree of every node."""
        degree = np.zeros(self.n, dtype=np.int64)
        for u, v, _ in self.edges:
            degree[u] += 1
            degree[v] += 1
        return degree

    @property
    def mean_degree(self) -> float:
        """Mean unweighted degree, ``2 m / n``."""
        return 2.0 * self.num_edges / self.n

    @property
    def density(self) -> float:
        """Fraction of the ``n(n-1)/2`` possible edges present."""
        return self.num_edges / (self.n * (self.n - 1) / 2)

    def cut_value(self, assignment: Sequence[int] | np.ndarray) -> float:
        """Value of the cut given by a 0/1 (or ±1) assignment of the n nodes.

        Args:
            assignment: ``(n,)`` side of each node, 0/1 or ±1 (+1 is side 0).

        Returns:
            The total weight of the edges between the two sides.

        Raises:
            ValueError: for another shape or values other than 0/1 (or ±1).
        """
        bits = np.asarray(assignment)
        if bits.shape != (self.n,):
            raise ValueError(f"Expected an assignment of {self.n} nodes, got shape {bits.shape}.")
        if set(np.unique(bits)) <= {-1, 1}:
            bits = (1 - bits) // 2
        if not set(np.unique(bits)) <= {0, 1}:
            raise ValueError("An assignment must contain only 0/1 (or ±1) values.")
        edges = self.edge_array
        return float(np.sum(self.weights * (bits[edges[:, 0]] != bits[edges[:, 1]])))

    # --- serialisation ------------------------------------------------------------------
    def save(self, path: str | pathlib.Path) -> None:
        """Writes :meth:`to_json` (indented) to ``path``.

        Args:
            path: destination file.
        """
        pathlib.Path(path).write_text(self.to_json(indent=1))

    @classmethod
    def load(cls, path: str | pathlib.Path) -> MaxCutProblem:
        """Loads a problem saved by :meth:`save`, or a bare ``{"n":..,"edges":..}`` record.

        Args:
            path: the file.

        Returns:
            The problem.

        Raises:
            FileNotFoundError: when the file does not exist.
            ValueError: for invalid JSON or a malformed record.
        """
        path = pathlib.Path(path)
        if not path.exists():
            raise FileNotFoundError(f"Problem file {str(path)!r} does not exist.")
        try:
            return cls.from_json(path.read_text())
        except json.JSONDecodeError as error:
            raise ValueError(f"Problem file {str(path)!r} is not valid JSON: {error}.") from None

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        weighted = ", weighted" if self.is_weighted else ""
        return f"<MaxCutProblem{label}: n={self.n}, {self.num_edges} edges{weighted}>"


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _normalise_edges(n: int, edges: Iterable[Sequence[Any]]) -> tuple[tuple[int, int, float], ...]:
    seen: dict[tuple[int, int], float] = {}
    for edge in edges:
        if len(edge) != 3:
            raise ValueError(f"Each edge must be (u, v, w), got {tuple(edge)!r}.")
        u, v, w = edge
        for node in (u, v):
            if not _is_int(node) or not 0 <= node < n:
                raise ValueError(
                    f"Edge {tuple(edge)!r} has node {node!r}; nodes must be integers 0..{n - 1}. "
                    "Use MaxCutProblem.from_edge_list(..., relabel=True) to map other labels."
                )
        if u == v:
            raise ValueError(f"Self-loop on node {u} is not allowed in Max-Cut; remove it.")
        try:
            weight = float(w)
        except (TypeError, ValueError):
            raise TypeError(f"Edge ({u}, {v}) has non-numeric weight {w!r}.") from None
        if not math.isfinite(weight):
            raise ValueError(f"Edge ({u}, {v}) has weight {weight}; weights must be finite.")
        key = (int(min(u, v)), int(max(u, v)))
        if key in seen and seen[key] != weight:
            raise ValueError(
                f"Edge {key} appears twice with different weights {seen[key]} and {weight}; "
                "merge them (e.g. sum the weights) before building the problem."
            )
        seen[key] = weight
    return tuple((u, v, w) for (u, v), w in sorted(seen.items()))


# --- generators ---------------------------------------------------------------------------
def erdos_renyi(n: int, p: float, seed: Seed = None, *, name: str | None = None) -> MaxCutProblem:
    """Unweighted Erdős–Rényi graph G(n, p) (may contain isolated nodes).

    Args:
        n: number of nodes.
        p: edge probability.
        seed: seed of the generator.
        name: label (default ``er_n{n}_p{p}``).

    Returns:
        The problem.

    Raises:
        ValueError: for ``p`` outside [0, 1] or ``n < 2``.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"Edge probability p must be in [0, 1], got {p}.")
    rng = as_generator(seed)
    upper = np.triu(rng.random((n, n)) < p, k=1)
    edges = [(int(u), int(v), 1.0) for u, v in zip(*np.nonzero(upper), strict=True)]
    return MaxCutProblem(
        n=n,
        edges=tuple(edges),
        name=name or f"er_n{n}_p{p:g}",
        metadata={"generator": "erdos_renyi", "p": p},
    )


def random_regular(n: int, d: int, seed: Seed = None, *, name: str | None = None) -> MaxCutProblem:
    """Unweighted uniformly random d-regular graph on n nodes.

    Args:
        n: number of nodes.
        d: degree.
        seed: seed of the generator.
        name: label (default ``reg{d}_n{n}``).

    Returns:
        The problem.

    Raises:
        ValueError: unless ``0 <= d < n`` and ``n * d`` is even (and ``n >= 2``).
    """
    if not 0 <= d < n or (n * d) % 2:
        raise ValueError(f"A {d}-regular graph on {n} nodes needs 0 <= d < n and n*d even.")
    rng = as_generator(seed)
    import networkx as nx

    graph = nx.random_regular_graph(d, n, seed=int(rng.integers(2**31)))
    return MaxCutProblem.from_networkx(
        graph, name=name or f"reg{d}_n{n}", metadata={"generator": "random_regular", "d": d}
    )


def sherrington_kirkpatrick(
    n: int, weights: str = "pm1", seed: Seed = None, *, name: str | None = None
) -> MaxCutProblem:
    """Complete graph with random couplings: ``weights="pm1"`` (±1) or ``"gaussian"`` (N(0,1)).

    Args:
        n: number of nodes.
        weights: ``pm1`` or ``gaussian``.
        seed: seed of the generator.
        name: label (default ``sk_{weights}_n{n}``).

    Returns:
        The problem.

    Raises:
        ValueError: for another ``weights`` or ``n < 2``.
    """
    rng = as_generator(seed)
    pairs = [(u, v) for u in range(n) for v in range(u + 1, n)]
    if weights == "pm1":
        values = rng.choice([-1.0, 1.0], size=len(pairs))
    elif weights == "gaussian":
        values = rng.standard_normal(len(pairs))
    else:
        raise ValueError(f"weights must be 'pm1' or 'gaussian', got {weights!r}.")
    edges = tuple((u, v, float(w)) for (u, v), w in zip(pairs, values, strict=True))
    return MaxCutProblem(
        n=n,
        edges=edges,
        name=name or f"sk_{weights}_n{n}",
        metadata={"generator": "sherrington_kirkpatrick", "weights": weights},
    )


def paper_family(
    n_values: Iterable[int], graphs_per_density: int, seed: Seed = None
) -> list[MaxCutProblem]:
    """The paper's family: G(n, j/n) for j = 3..n-1, ``graphs_per_density`` graphs per (n, j).

    Args:
        n_values: the graph sizes, each >= 4.
        graphs_per_density: graphs per (n, j).
        seed: one seed draws all graphs, in order.

    Returns:
        The problems, by n, then j, then k (named ``paper_n{n}_j{j}_{k}``).

    Raises:
        ValueError: for an ``n < 4``.
    """
    rng = as_generator(seed)
    problems = []
    for n in n_values:
        if n < 4:
            raise ValueError(f"The paper's family needs n >= 4 (j runs over 3..n-1), got {n}.")
        for j in range(3, n):
            for k in range(graphs_per_density):
                problem = erdos_renyi(n, j / n, rng, name=f"paper_n{n}_j{j}_{k}")
                problem.metadata.update({"generator": "paper_family", "j": j})
                problems.append(problem)
    return problems


# --- the paper's dataset ------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class PaperDataset:
    """The paper's train/validation/test graphs (see ``shared/paper_data/README.md``).

    Attributes:
        train: the training problems.
        val: the validation problems.
        test: the test problems.
        source: where the dataset came from.
    """

    train: list[MaxCutProblem]
    val: list[MaxCutProblem]
    test: list[MaxCutProblem]
    source: str = ""


SPLITS = ("train_data", "val_data", "test_data")
MAKE_DATASET_HINT = (
    "make one with `qaoa-meta dataset --out datasets.json` (paper-like, seeded) or convert the "
    "paper's with `qaoa-meta dataset --from ../shared/paper_data/datasets.json --out datasets.json`"
)


def load_paper_dataset(path: str | pathlib.Path) -> PaperDataset:
    """Loads ``datasets.json`` in the paper's format (``train_data``/``val_data``/``test_data``).

    Args:
        path: path of the JSON file; each split is a list of ``{"n": int, "edges": [[u, v], ...]}``
            (``[u, v, w]`` for weighted edges), as written by :func:`save_dataset`.

    Returns:
        The :class:`PaperDataset` (problems named ``{split}_{i}``).

    Raises:
        FileNotFoundError: if the file does not exist (the message says how to make one).
        ValueError: naming the file (and the split and record) for anything malformed.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        state = "is a directory" if path.is_dir() else "does not exist"
        raise FileNotFoundError(f"Dataset file {str(path)!r} {state}; {MAKE_DATASET_HINT}.")
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(
            f"Dataset file {str(path)!r} is not valid JSON ({error}); it may be truncated: "
            f"{MAKE_DATASET_HINT}."
        ) from None
    if not isinstance(data, dict):
        raise ValueError(
            f"Dataset file {str(path)!r} must hold a JSON object with keys {list(SPLITS)}, got "
            f"a {type(data).__name__}; {MAKE_DATASET_HINT}."
        )
    splits = {}
    for key in SPLITS:
        if key not in data:
            raise ValueError(
                f"{str(path)!r} is not in the paper's dataset format: missing {key!r} "
                f"(found keys {sorted(data)}); {MAKE_DATASET_HINT}."
            )
        split = key.removesuffix("_data")
        splits[split] = [
            _dataset_record(record, str(path), key, i, split)
            for i, record in enumerate(_dataset_split(data[key], str(path), key))
        ]
    return PaperDataset(**splits, source=str(data.get("source", path)))


def _dataset_split(records: Any, path: str, key: str) -> list:
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        kind = type(records).__name__
        if isinstance(records, list):
            kind = f"a list of {type(next(r for r in records if not isinstance(r, dict))).__name__}"
        raise ValueError(
            f"{path!r}: {key!r} must be a list of graph records "
            f'{{"n": int, "edges": [[u, v], ...]}}, got {kind}.'
        )
    return records


def _dataset_record(record: dict, path: str, key: str, i: int, split: str) -> MaxCutProblem:
    where = f"{path!r}: {key}[{i}]"
    missing = [k for k in ("n", "edges") if k not in record]
    if missing:
        raise ValueError(
            f"{where} has no {' or '.join(repr(k) for k in missing)} (keys {sorted(record)}); "
            'every record needs {"n": int, "edges": [[u, v], ...]}.'
        )
    if not isinstance(record["edges"], list) or not all(
        isinstance(e, list | tuple) for e in record["edges"]
    ):
        raise ValueError(f"{where}: 'edges' must be a list of [u, v] or [u, v, w] pairs.")
    try:
        return MaxCutProblem.from_edge_list(
            record["edges"],
            n=record["n"],
            name=f"{split}_{i}",
            metadata={"split": split, "index": i},
        )
    except (TypeError, ValueError) as error:
        raise ValueError(f"{where}: {error}") from None


def save_dataset(
    path: str | pathlib.Path,
    train: Sequence[MaxCutProblem],
    val: Sequence[MaxCutProblem],
    test: Sequence[MaxCutProblem],
    source: str = "",
    config: Mapping[str, Any] | None = None,
) -> pathlib.Path:
    """Writes a dataset in the paper's format, read back by :func:`load_paper_dataset`.

    Unweighted edges are written as ``[u, v]`` (as the paper's file), weighted as ``[u, v, w]``.
    The file is written to a temporary name and renamed, so it is never left half-written.

    Args:
        path: destination file.
        train, val, test: the splits.
        source: description stored in the file.
        config: settings stored in the file (omitted when empty).

    Returns:
        The path written.
    """

    def record(problem: MaxCutProblem) -> dict[str, Any]:
        edges = [[u, v] if w == 1.0 else [u, v, w] for u, v, w in problem.edges]
        return {"n": problem.n, "edges": edges}

    data: dict[str, Any] = {"source": source}
    if config:
        data["config"] = dict(config)
    for key, split in zip(SPLITS, (train, val, test), strict=True):
        data[key] = [record(problem) for problem in split]

    path = pathlib.Path(path)
    write_atomic(path, json.dumps(data))
    return path


def paper_like_dataset(
    train_sizes: Sequence[int] = (6, 7, 8, 9),
    graphs_per_density: int = 56,
    val_size: int = 10,
    val_graphs: int = 5,
    test_sizes: Sequence[int] = (10, 11, 12, 13, 14),
    test_per_density: int = 2,
    seed: Seed = 0,
) -> PaperDataset:
    """A dataset built like the paper's (defaults: the paper's sizes and counts, new graphs).

    Train: ``graphs_per_density`` G(n, j/n) graphs per (n, j), j = 3..n-1, n in ``train_sizes``
    (paper: 56 each, n = 6..9, 1008 graphs). Validation: one G(``val_size``, j/n) graph for
    j = 3, 4, ... (``val_graphs`` of them; paper: 5 at n = 10). Test: ``test_per_density`` per
    (n, j) for n in ``test_sizes`` (paper: 2 each, n = 10..14, 90 graphs). One seed draws all.

    Args:
        train_sizes: training graph sizes.
        graphs_per_density: training graphs per (n, j).
        val_size: validation graph size.
        val_graphs: number of validation graphs.
        test_sizes: test graph sizes.
        test_per_density: test graphs per (n, j).
        seed: the one seed.

    Returns:
        The :class:`PaperDataset`.

    Raises:
        ValueError: unless ``1 <= val_graphs <= val_size - 3``, or for a size below 4.
    """
    if val_graphs < 1 or not 4 <= val_size or val_graphs > val_size - 3:
        raise ValueError(
            f"The validation split needs 1 <= val_graphs <= val_size - 3 (one per j = 3..n-1), "
            f"got val_graphs = {val_graphs} at val_size = {val_size}."
        )
    rng = as_generator(seed)
    train = paper_family(train_sizes, graphs_per_density, rng)
    val = paper_family([val_size], 1, rng)[:val_graphs]
    test = paper_family(test_sizes, test_per_density, rng)
    return PaperDataset(train=train, val=val, test=test, source="paper_like_dataset")


# --- exact solutions ----------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class MaxCutSolution:
    """An optimal cut: its value and one optimal 0/1 assignment (node 0 on side 0).

    Attributes:
        value: the max-cut value.
        assignment: one optimal side (0/1) per node.
    """

    value: float
    assignment: tuple[int, ...]


def _chunk_cut_values(
    start: int, stop: int, n: int, degree: np.ndarray, adjacency: np.ndarray
) -> np.ndarray:
    """Cut values of basis states ``start..stop-1`` (big-endian bit order).

    Uses C(x) = x·d_w − xᵀWx, with d_w the weighted degrees and W the symmetric weight matrix.
    """
    index = np.arange(start, stop, dtype=np.int64)
    shifts = np.arange(n - 1, -1, -1, dtype=np.int64)
    bits = ((index[:, None] >> shifts[None, :]) & 1).astype(np.float64)
    return bits @ degree - np.einsum("ki,ki->k", bits @ adjacency, bits)


def _chunks(total: int, n: int, max_chunk_elements: int = 1 << 23) -> Iterable[tuple[int, int]]:
    size = max(1, max_chunk_elements // max(n, 1))
    for start in range(0, total, size):
        yield start, min(start + size, total)


def _check_node_limit(n: int, limit: int, what: str, advice: str = "") -> None:
    """Raises ``ValueError`` naming ``what`` and its node ``limit`` when ``n`` exceeds it."""
    if n > limit:
        raise ValueError(f"{what} is limited to n <= {limit} nodes, got n = {n}{advice}.")


def _cut_values_by_chunk(
    problem: MaxCutProblem, count: int
) -> Iterator[tuple[int, int, np.ndarray]]:
    """``(start, stop, cut values)`` of the assignments ``0..count-1`` (big-endian, node 0 the
    most significant bit), chunk by chunk so that memory stays bounded."""
    adjacency = problem.adjacency_matrix()
    degree = adjacency.sum(axis=1)
    for start, stop in _chunks(count, problem.n):
        yield start, stop, _chunk_cut_values(start, stop, problem.n, degree, adjacency)


def max_cut(problem: MaxCutProblem) -> MaxCutSolution:
    """Exact Max-Cut by vectorised brute force over the 2^(n-1) cuts with node 0 fixed.

    Memory stays bounded (chunks of about 2^23 numbers); n = 24 takes about a second.

    Args:
        problem: the problem.

    Returns:
        The :class:`MaxCutSolution`.

    Raises:
        ValueError: if ``problem.n`` exceeds ``MAX_BRUTE_FORCE_NODES``.
    """
    n = problem.n
    _check_node_limit(
        n,
        MAX_BRUTE_FORCE_NODES,
        "Brute-force Max-Cut (2^(n-1) cuts)",
        "; use a heuristic or an external solver for larger graphs",
    )
    best_value, best_index = -np.inf, 0
    for start, _, values in _cut_values_by_chunk(problem, 1 << (n - 1)):
        k = int(np.argmax(values))
        if values[k] > best_value + 1e-12:
            best_value, best_index = float(values[k]), start + k
    assignment = tuple(int((best_index >> (n - 1 - i)) & 1) for i in range(n))
    return MaxCutSolution(value=best_value, assignment=assignment)


def cost_diagonal(problem: MaxCutProblem, dtype: Any = np.float64) -> np.ndarray:
    """All 2^n cut values, indexed like a Cirq state vector (qubit 0 = most significant bit).

    Args:
        problem: the problem.
        dtype: dtype of the result.

    Returns:
        ``(2^n,)`` cut values.

    Raises:
        ValueError: if ``problem.n`` exceeds ``MAX_DIAGONAL_NODES``.
    """
    n = problem.n
    _check_node_limit(n, MAX_DIAGONAL_NODES, "The cost diagonal (2^n entries)")
    diagonal = np.empty(1 << n, dtype=dtype)
    for start, stop, values in _cut_values_by_chunk(problem, 1 << n):
        diagonal[start:stop] = values
    return diagonal


# --- problems from plain specifications (sweeps, CLI) -------------------------------------
GENERATORS = ("erdos_renyi", "random_regular", "sherrington_kirkpatrick", "paper_family")


def generate(family: str, n: int, seed: Seed = None, **options: Any) -> MaxCutProblem:
    """Builds one problem from a family name and options, e.g. for sweep configurations.

    Args:
        family: one of ``GENERATORS``.
        n: number of nodes.
        seed: seed of the generator.
        **options: ``p`` (erdos_renyi), ``d`` (random_regular), ``weights`` ("pm1" or
            "gaussian", sherrington_kirkpatrick), ``j`` (paper_family: G(n, j/n)).

    Returns:
        The problem.

    Raises:
        ValueError: for an unknown family, ``j`` outside ``3..n-1``, or anything the
            generator refuses.
        TypeError: for an option the generator does not take.
    """
    if family == "erdos_renyi":
        return erdos_renyi(n, float(options.pop("p", 0.5)), seed, **options)
    if family == "random_regular":
        return random_regular(n, int(options.pop("d", 3)), seed, **options)
    if family == "sherrington_kirkpatrick":
        return sherrington_kirkpatrick(n, options.pop("weights", "pm1"), seed, **options)
    if family == "paper_family":
        j = int(options.pop("j", 3))
        if not 3 <= j < n:
            raise ValueError(f"paper_family needs 3 <= j <= n-1, got j = {j} for n = {n}.")
        problem = erdos_renyi(n, j / n, seed, name=options.pop("name", f"paper_n{n}_j{j}"))
        problem.metadata.update({"generator": "paper_family", "j": j})
        return problem
    raise ValueError(f"Unknown problem family {family!r}; expected one of {GENERATORS}.")
