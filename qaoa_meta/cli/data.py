"""``qaoa-meta problem`` and ``qaoa-meta dataset``: the input files every other command reads.

Examples::

    qaoa-meta problem regular --n 8 --d 3 --seed 1 --out graph.json
    qaoa-meta problem er --n 10 --prob 0.5 --seed 2 --out er10.json
    qaoa-meta problem edges --edges 0-1,1-2:2.5,0-2 --out triangle.json
    qaoa-meta problem networkx --file graph.graphml --out graph.json
    qaoa-meta dataset --out datasets.json                       # paper-like, new graphs, seed 0
    qaoa-meta dataset --from ../shared/paper_data/datasets.json --out datasets.json

Only NumPy and networkx are needed (no TensorFlow, no Cirq).
"""

from __future__ import annotations

import argparse
import io
import json
import math
import pathlib
import pickle
import tempfile
from typing import Any

from qaoa_meta import problems
from qaoa_meta.cli.errors import UserError, user_input
from qaoa_meta.cli.names import NETWORKX_FORMATS
from qaoa_meta.cli.names import PROBLEM_KINDS as KINDS
from qaoa_meta.problems import SPLITS, load_paper_dataset, paper_like_dataset, save_dataset

# networkx (~0.25 s) is imported in the functions that read or build networkx graphs:
# `qaoa-meta --help` imports every sub-command module, and it must stay fast.


def add_parser(subparsers) -> None:
    """Registers the ``problem`` and ``dataset`` sub-commands.

    Args: as :meth:`CommandModule.add_parser`.
    """
    problem = subparsers.add_parser(
        "problem",
        help="write a Max-Cut problem file (ER, regular, SK, paper family, edge list, networkx)",
        description="Writes one MaxCutProblem JSON file (input of compile, simulate and "
        "evaluate --problems) and prints what it wrote. Random kinds are seeded.",
    )
    problem.add_argument(
        "kind",
        choices=KINDS,
        help="er: G(n, prob); regular: random d-regular; sk: Sherrington-Kirkpatrick (complete, "
        "random weights); paper: the paper's G(n, j/n); edges: --edges or an edge-list --file; "
        "networkx: a --file networkx reads (" + ", ".join(NETWORKX_FORMATS) + ")",
    )
    problem.add_argument("--n", type=int, help="number of nodes (er, regular, sk, paper)")
    problem.add_argument("--prob", type=float, default=0.5, help="er: edge probability (0.5)")
    problem.add_argument("--d", type=int, default=3, help="regular: degree (3)")
    problem.add_argument("--j", type=int, help="paper: edge probability j/n, 3 <= j <= n-1")
    problem.add_argument(
        "--weights", choices=("pm1", "gaussian"), default="pm1", help="sk: couplings (pm1)"
    )
    problem.add_argument(
        "--edges", help="edges: comma-separated u-v or u-v:w, e.g. 0-1,1-2:2.5,0-2"
    )
    problem.add_argument("--file", help="edges: text file of 'u v [w]' lines; networkx: a graph")
    problem.add_argument("--seed", type=int, default=0, help="random kinds: seed (0)")
    problem.add_argument("--name", default=None, help="label stored in the file")
    problem.add_argument("--out", default="graph.json", help="output JSON (graph.json)")
    problem.set_defaults(func=run_problem)

    dataset = subparsers.add_parser(
        "dataset",
        help="write a train/val/test dataset file like the paper's, or convert the paper's own",
        description="Without --from: draws a dataset like arXiv 2512.05058's (G(n, j/n) graphs, "
        "j = 3..n-1; defaults are the paper's sizes and counts) from one seed. With --from: "
        "converts the paper's published dataset (its datasets.pkl, or the JSON conversion in "
        "shared/paper_data/datasets.json) into the same format. Prints what it wrote.",
    )
    dataset.add_argument(
        "--from",
        dest="source",
        default=None,
        help="the paper's dataset: datasets.pkl (authors' repository) or its JSON conversion",
    )
    dataset.add_argument("--out", default="datasets.json", help="output JSON (datasets.json)")
    dataset.add_argument("--seed", type=int, default=0, help="seed of every graph (0)")
    dataset.add_argument(
        "--train-sizes", type=int, nargs="+", default=[6, 7, 8, 9], help="(6 7 8 9)"
    )
    dataset.add_argument(
        "--per-density", type=int, default=56, help="training graphs per (n, j) (paper: 56)"
    )
    dataset.add_argument("--val-size", type=int, default=10, help="validation n (10)")
    dataset.add_argument(
        "--val-graphs", type=int, default=5, help="validation graphs, j = 3, 4, ... (5)"
    )
    dataset.add_argument(
        "--test-sizes", type=int, nargs="+", default=[10, 11, 12, 13, 14], help="(10 .. 14)"
    )
    dataset.add_argument(
        "--test-per-density", type=int, default=2, help="test graphs per (n, j) (paper: 2)"
    )
    dataset.set_defaults(func=run_dataset)


# --- problem ------------------------------------------------------------------------------
def _need(args: argparse.Namespace, *names: str) -> None:
    missing = [f"--{name}" for name in names if getattr(args, name) is None]
    if missing:
        raise UserError(f"qaoa-meta problem {args.kind} needs {' and '.join(missing)}.")


def _parse_inline_edges(text: str) -> list[tuple[Any, ...]]:
    edges = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        pair, _, weight = item.partition(":")
        try:
            u, v = (int(x) for x in pair.split("-"))
            edges.append((u, v, float(weight)) if weight else (u, v))
        except ValueError:
            raise UserError(
                f"--edges item {item!r} is not u-v or u-v:w with integer nodes, e.g. "
                "0-1,1-2:2.5,0-2."
            ) from None
    if not edges:
        raise UserError("--edges lists no edge; write e.g. --edges 0-1,1-2,0-2.")
    return edges


def _read_edge_file(path: pathlib.Path) -> list[tuple[Any, ...]]:
    edges = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        fields = line.split("#")[0].replace(",", " ").split()
        if not fields:
            continue
        try:
            if len(fields) not in (2, 3):
                raise ValueError
            u, v = int(fields[0]), int(fields[1])
            edges.append((u, v, float(fields[2])) if len(fields) == 3 else (u, v))
        except ValueError:
            raise UserError(
                f"{str(path)!r} line {number}: expected 'u v' or 'u v w' with integer nodes, "
                f"got {line.strip()!r}."
            ) from None
    if not edges:
        raise UserError(f"{str(path)!r} holds no edges; write one 'u v [w]' line per edge.")
    return edges


def _read_networkx(path: pathlib.Path):
    import networkx as nx

    suffix = path.suffix.lower()
    try:
        if suffix == ".graphml":
            return nx.read_graphml(path)
        if suffix == ".gml":
            return nx.read_gml(path)
        if suffix == ".json":
            return nx.node_link_graph(json.loads(path.read_text()), edges="links")
        if suffix == ".adjlist":
            return nx.read_adjlist(path, nodetype=int)
        if suffix in (".edgelist", ".txt", ".csv"):
            delimiter = "," if suffix == ".csv" else None
            return nx.read_weighted_edgelist(path, nodetype=int, delimiter=delimiter)
    except Exception as error:  # networkx raises many types for malformed files
        raise UserError(f"networkx cannot read {str(path)!r} ({error}).") from None
    raise UserError(
        f"--file {str(path)!r}: unknown graph format {suffix!r}; use one of "
        f"{', '.join(NETWORKX_FORMATS)}."
    )


def make_problem(args: argparse.Namespace):
    """The :class:`MaxCutProblem` the ``problem`` arguments describe.

    Args:
        args: the parsed ``problem`` arguments (``kind`` and its options).

    Returns:
        The problem (not saved).

    Raises:
        UserError: for a missing option the kind needs, ``--n`` < 2, ``--prob`` outside
            [0, 1], ``edges`` without ``--edges`` or ``--file``, a missing or unreadable
            ``--file`` or unknown graph format, or options the generators refuse
            (``ValueError``, ``TypeError``).
    """
    import networkx as nx

    kind = args.kind
    if kind in ("er", "regular", "sk", "paper"):
        _need(args, "n")
        if args.n < 2:
            raise UserError(f"--n must be >= 2, got {args.n}.")
    try:
        if kind == "er":
            if not (math.isfinite(args.prob) and 0 <= args.prob <= 1):
                raise UserError(f"--prob must be a probability in [0, 1], got {args.prob}.")
            return problems.erdos_renyi(args.n, args.prob, args.seed, name=args.name)
        if kind == "regular":
            return problems.random_regular(args.n, args.d, args.seed, name=args.name)
        if kind == "sk":
            return problems.sherrington_kirkpatrick(args.n, args.weights, args.seed, name=args.name)
        if kind == "paper":
            j = args.j if args.j is not None else max(3, args.n // 2)
            options = {"name": args.name} if args.name else {}
            return problems.generate("paper_family", args.n, args.seed, j=j, **options)
        if kind == "edges":
            if (args.edges is None) == (args.file is None):
                raise UserError("qaoa-meta problem edges needs one of --edges or --file.")
            if args.edges is not None:
                edges = _parse_inline_edges(args.edges)
            else:
                edges = _read_edge_file(_existing(args.file))
            return problems.MaxCutProblem.from_edge_list(
                edges, n=args.n, name=args.name or "edges", metadata={"generator": "edge_list"}
            )
        _need(args, "file")
        path = _existing(args.file)
        graph = _read_networkx(path)
        if all(isinstance(x, str) and x.isdigit() for x in graph.nodes):  # GraphML: "0", "1"
            graph = nx.relabel_nodes(graph, int)
        labels = list(graph.nodes)
        relabel = sorted(labels, key=repr) != list(range(len(labels)))
        return problems.MaxCutProblem.from_networkx(
            graph.to_undirected() if graph.is_directed() else graph,
            name=args.name or path.stem,
            relabel=relabel,
            metadata={"generator": "networkx", "file": str(path)},
        )
    except (TypeError, ValueError) as error:
        raise UserError(str(error)) from None


def _existing(path: str) -> pathlib.Path:
    file = pathlib.Path(path)
    if not file.is_file():
        raise UserError(f"--file {path!r} does not exist (or is not a file).")
    return file


def _output(path: str) -> pathlib.Path:
    out = pathlib.Path(path)
    if out.is_dir():
        raise UserError(f"--out {path!r} is a directory; pass a file name such as graph.json.")
    return out


def run_problem(args: argparse.Namespace) -> int:
    """``qaoa-meta problem``: writes the problem file and prints what it wrote.

    Refuses what :func:`make_problem` refuses, and an unusable ``--out``.

    Args: as :meth:`CommandModule.run`.
    """
    out = _output(args.out)
    with user_input():
        problem = make_problem(args)
    if args.kind in ("er", "regular", "sk", "paper"):
        problem.metadata["seed"] = args.seed
    out.parent.mkdir(parents=True, exist_ok=True)
    problem.save(out)
    details = ", ".join(
        f"{key} {value}"
        for key, value in problem.metadata.items()
        if key not in ("relabelling", "file") and value is not None
    )
    cut = f"; max cut {problems.max_cut(problem).value:g}" if problem.n <= 20 else ""
    weighted = ", weighted" if problem.is_weighted else ""
    print(
        f"wrote {out}: {problem.name or 'problem'}, n = {problem.n}, "
        f"{problem.num_edges} edges{weighted} ({details}){cut}"
    )
    return 0


# --- dataset ------------------------------------------------------------------------------
class _GraphUnpickler(pickle.Unpickler):
    """Unpickles only plain containers, NumPy scalars/arrays and networkx graph classes.

    A pickle can name any callable; this one resolves only the names in :data:`SAFE` (and
    classes from ``networkx.classes``), so a foreign or malicious file cannot run code.
    """

    SAFE = {
        "builtins": {
            "dict",
            "list",
            "set",
            "frozenset",
            "tuple",
            "object",
            "int",
            "float",
            "complex",
            "str",
            "bytes",
            "bool",
        },
        "copyreg": {"_reconstructor", "__newobj__"},
        "collections": {"OrderedDict", "defaultdict"},
        "numpy": {"dtype", "ndarray"},
        "numpy.core.multiarray": {"_reconstruct", "scalar"},
        "numpy._core.multiarray": {"_reconstruct", "scalar"},
    }

    def find_class(self, module: str, name: str):
        if name in self.SAFE.get(module, ()):
            return super().find_class(module, name)
        if module.startswith("networkx.classes."):
            found = super().find_class(module, name)
            if isinstance(found, type):
                return found
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a dataset pickle")


def _record(graph: Any, where: str) -> dict[str, Any]:
    import networkx as nx

    if isinstance(graph, nx.Graph):
        nodes = sorted(graph.nodes)
        if nodes != list(range(len(nodes))):
            graph = nx.convert_node_labels_to_integers(graph, ordering="sorted")
        edges = []
        for u, v, data in graph.edges(data=True):
            w = float(data.get("weight", 1.0))
            edges.append([int(u), int(v)] if w == 1.0 else [int(u), int(v), w])
        return {"n": graph.number_of_nodes(), "edges": edges}
    if isinstance(graph, dict) and "n" in graph and "edges" in graph:
        return {"n": graph["n"], "edges": [list(e) for e in graph["edges"]]}
    raise UserError(
        f"{where} is a {type(graph).__name__}, not a networkx graph or an {{n, edges}} record."
    )


def read_paper_source(path: str):
    """The paper's dataset from its published pickle or its JSON conversion.

    A pickle's splits are converted to the JSON format and read back by
    :func:`qaoa_meta.problems.load_paper_dataset`, so both sources are validated alike.

    Args:
        path: ``datasets.pkl`` (``.pkl``/``.pickle``) or a JSON dataset.

    Returns:
        The :class:`PaperDataset`.

    Raises:
        UserError: for a missing file, an unreadable pickle, one that is not a dict of
            ``train_data``/``val_data``/``test_data`` lists of graphs, or a dataset the
            loader refuses.
    """
    file = pathlib.Path(path)
    if not file.is_file():
        raise UserError(
            f"--from {path!r} does not exist; pass the paper's datasets.pkl (Problems/ of "
            "Astor-Hsu/QAOA-Meta-Learning) or ../shared/paper_data/datasets.json."
        )
    if file.suffix.lower() not in (".pkl", ".pickle"):
        with user_input():
            return load_paper_dataset(file)
    try:
        data = _GraphUnpickler(io.BytesIO(file.read_bytes())).load()
    except Exception as error:  # truncated, foreign or unsafe pickles
        raise UserError(f"Cannot read the pickle {path!r} ({error}).") from None
    if not isinstance(data, dict):
        raise UserError(f"{path!r} holds a {type(data).__name__}; expected a dict of splits.")
    splits = {}
    for key in SPLITS:
        value = data.get(key, data.get(key.removesuffix("_data")))
        if not isinstance(value, list | tuple):
            raise UserError(
                f"{path!r} has no list {key!r} (found keys {sorted(map(str, data))}); expected "
                "the paper's train_data/val_data/test_data lists of networkx graphs."
            )
        splits[key] = [_record(g, f"{path!r}: {key}[{i}]") for i, g in enumerate(value)]
    # Round trip through the JSON loader: one validation path for every source.
    with tempfile.TemporaryDirectory() as folder:
        temporary = pathlib.Path(folder) / "datasets.json"
        temporary.write_text(json.dumps({"source": f"{file.name} (pickle)", **splits}))
        with user_input(repr(path)):
            loaded = load_paper_dataset(temporary)
    return loaded


def _sizes(graphs) -> str:
    ns = sorted({pr.n for pr in graphs})
    if not ns:
        return "none"
    return f"n = {ns[0]}" if len(ns) == 1 else f"n = {ns[0]}..{ns[-1]}"


def run_dataset(args: argparse.Namespace) -> int:
    """``qaoa-meta dataset``: converts the paper's dataset (``--from``) or generates a paper-like one, and writes it.

    Refuses a count option < 1, a size < 4, ``--val-graphs`` above ``--val-size - 3``, an
    unusable ``--out``, and what :func:`read_paper_source` refuses.

    Args: as :meth:`CommandModule.run`.
    """
    out = _output(args.out)
    if args.source is not None:
        data = read_paper_source(args.source)
        config = {"from": args.source}
        source = data.source
    else:
        for name in ("per_density", "val_graphs", "test_per_density"):
            if getattr(args, name) < 1:
                raise UserError(
                    f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}."
                )
        small = [n for n in [*args.train_sizes, args.val_size, *args.test_sizes] if n < 4]
        if small:
            raise UserError(f"Sizes must be >= 4 (j runs over 3..n-1), got {small}.")
        if args.val_graphs > args.val_size - 3:
            raise UserError(
                f"--val-graphs must be <= --val-size - 3 = {args.val_size - 3} (one graph per "
                f"j = 3..n-1), got {args.val_graphs}."
            )
        config = {
            "seed": args.seed,
            "train_sizes": args.train_sizes,
            "per_density": args.per_density,
            "val_size": args.val_size,
            "val_graphs": args.val_graphs,
            "test_sizes": args.test_sizes,
            "test_per_density": args.test_per_density,
        }
        data = paper_like_dataset(
            args.train_sizes,
            args.per_density,
            args.val_size,
            args.val_graphs,
            args.test_sizes,
            args.test_per_density,
            args.seed,
        )
        source = "qaoa-meta dataset " + " ".join(
            f"--{k.replace('_', '-')} {' '.join(map(str, v)) if isinstance(v, list) else v}"
            for k, v in config.items()
        )
    save_dataset(out, data.train, data.val, data.test, source=source, config=config)
    print(
        f"wrote {out}: train {len(data.train)} graphs ({_sizes(data.train)}), "
        f"val {len(data.val)} ({_sizes(data.val)}), test {len(data.test)} ({_sizes(data.test)})"
    )
    return 0
