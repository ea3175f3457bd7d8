import itertools
import json

import networkx as nx
import numpy as np
import pytest

from qaoa_meta import problems as P


def brute_force_cut(n, edges):
    """Independent reference: loops over all 2^n assignments in pure Python."""
    best = -np.inf
    for bits in itertools.product([0, 1], repeat=n):
        best = max(best, sum(w for u, v, w in edges if bits[u] != bits[v]))
    return best


def test_triangle_and_square_by_hand():
    triangle = P.MaxCutProblem.from_edge_list([(0, 1), (1, 2), (0, 2)])
    assert P.max_cut(triangle).value == 2.0
    square = P.MaxCutProblem.from_edge_list([(0, 1), (1, 2), (2, 3), (3, 0)])
    solution = P.max_cut(square)
    assert solution.value == 4.0
    assert square.cut_value(solution.assignment) == 4.0
    assert solution.assignment in ((0, 1, 0, 1), (1, 0, 1, 0))


@pytest.mark.parametrize("seed", range(6))
def test_max_cut_matches_python_brute_force_weighted_with_negative_weights(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 9))
    edges = [
        (u, v, float(rng.normal())) for u in range(n) for v in range(u + 1, n) if rng.random() < 0.6
    ]
    problem = P.MaxCutProblem.from_edge_list(edges, n=n)
    solution = P.max_cut(problem)
    assert solution.value == pytest.approx(brute_force_cut(n, edges), abs=1e-9)
    assert problem.cut_value(solution.assignment) == pytest.approx(solution.value, abs=1e-9)


def test_all_negative_weights_best_cut_is_empty():
    problem = P.MaxCutProblem.from_edge_list([(0, 1, -1.0), (1, 2, -2.0)])
    assert P.max_cut(problem).value == 0.0


def test_cost_diagonal_uses_cirq_big_endian_order():
    problem = P.MaxCutProblem.from_edge_list([(0, 1, 2.0)], n=3)
    diagonal = P.cost_diagonal(problem)
    # index 0b100: node 0 = 1, nodes 1, 2 = 0 -> edge (0,1) is cut
    assert diagonal[0b100] == 2.0 and diagonal[0b001] == 0.0 and diagonal[0b110] == 0.0
    for index in range(8):
        bits = [(index >> (2 - i)) & 1 for i in range(3)]
        assert diagonal[index] == problem.cut_value(bits)


def test_max_cut_chunking_matches_single_pass(monkeypatch):
    problem = P.erdos_renyi(12, 0.5, seed=3)
    expected = P.max_cut(problem).value
    original = P._chunks
    monkeypatch.setattr(P, "_chunks", lambda total, n: original(total, n, 1000))
    assert P.max_cut(problem).value == expected
    assert P.cost_diagonal(problem).max() == expected


def test_size_limits_are_named():
    big = P.MaxCutProblem(n=P.MAX_BRUTE_FORCE_NODES + 1, edges=((0, 1, 1.0),))
    with pytest.raises(ValueError, match=f"n <= {P.MAX_BRUTE_FORCE_NODES}"):
        P.max_cut(big)
    with pytest.raises(ValueError, match=f"n <= {P.MAX_DIAGONAL_NODES}"):
        P.cost_diagonal(big)


@pytest.mark.parametrize(
    "edges, n, message",
    [
        ([(0, 0)], 2, "Self-loop"),
        ([(0, 1, 1.0), (1, 0, 2.0)], 2, "different weights"),
        ([(0, 5)], 3, "relabel=True"),
        ([(0, 1, float("nan"))], 2, "finite"),
        ([(0, 1, float("inf"))], 2, "finite"),
        ([], 1, "n >= 2"),
    ],
)
def test_bad_input_has_clear_errors(edges, n, message):
    with pytest.raises(ValueError, match=message):
        P.MaxCutProblem.from_edge_list(edges, n=n)


def test_duplicate_edges_with_same_weight_merge_and_isolated_nodes_allowed():
    problem = P.MaxCutProblem.from_edge_list([(0, 1), (1, 0)], n=4)
    assert problem.num_edges == 1 and problem.n == 4
    assert P.max_cut(problem).value == 1.0


def test_relabelling_and_networkx_round_trip():
    graph = nx.Graph([("a", "b"), ("b", "c")])
    with pytest.raises(ValueError, match="relabel=True"):
        P.MaxCutProblem.from_networkx(graph)
    problem = P.MaxCutProblem.from_networkx(graph, relabel=True)
    assert problem.n == 3 and problem.num_edges == 2
    assert problem.metadata["relabelling"] == {"'a'": 0, "'b'": 1, "'c'": 2}
    back = P.MaxCutProblem.from_networkx(problem.to_networkx())
    assert back == problem


def test_json_round_trip(tmp_path):
    problem = P.sherrington_kirkpatrick(5, "gaussian", seed=1)
    again = P.MaxCutProblem.from_json(problem.to_json())
    assert again == problem and again.name == problem.name
    assert again.metadata == problem.metadata
    path = tmp_path / "p.json"
    problem.save(path)
    assert P.MaxCutProblem.load(path) == problem
    assert json.loads(path.read_text())["schema_version"] == P.SCHEMA_VERSION
    with pytest.raises(FileNotFoundError, match="does not exist"):
        P.MaxCutProblem.load(tmp_path / "missing.json")


def test_problem_is_immutable_and_hashable():
    problem = P.erdos_renyi(5, 0.5, seed=0)
    with pytest.raises(AttributeError):
        problem.n = 3
    assert hash(problem) == hash(P.erdos_renyi(5, 0.5, seed=0))


def test_generators_are_seeded_and_have_the_right_structure():
    assert P.erdos_renyi(9, 0.4, seed=5) == P.erdos_renyi(9, 0.4, seed=5)
    assert P.erdos_renyi(9, 0.4, seed=5) != P.erdos_renyi(9, 0.4, seed=6)
    assert P.erdos_renyi(6, 1.0, seed=0).num_edges == 15
    regular = P.random_regular(10, 3, seed=2)
    assert set(regular.degrees()) == {3}
    sk = P.sherrington_kirkpatrick(6, "pm1", seed=1)
    assert sk.num_edges == 15 and set(sk.weights) <= {-1.0, 1.0}
    gaussian = P.sherrington_kirkpatrick(6, "gaussian", seed=1)
    assert len(set(gaussian.weights)) == 15
    family = P.paper_family([6, 7], 2, seed=0)
    assert len(family) == 2 * 3 + 2 * 4
    assert [pr.metadata["j"] for pr in family[:6]] == [3, 3, 4, 4, 5, 5]
    with pytest.raises(ValueError, match="n\\*d even"):
        P.random_regular(5, 3, seed=0)
    with pytest.raises(ValueError, match="'pm1' or 'gaussian'"):
        P.sherrington_kirkpatrick(4, "uniform", seed=0)
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        P.erdos_renyi(4, 1.5, seed=0)


def test_erdos_renyi_edge_density_is_statistically_right():
    rng = np.random.default_rng(0)
    counts = [P.erdos_renyi(12, 0.3, rng).num_edges for _ in range(200)]
    expected = 0.3 * 66
    assert abs(np.mean(counts) - expected) < 4 * np.sqrt(66 * 0.3 * 0.7 / 200)


def test_max_cut_n20_assignment_is_consistent():
    problem = P.erdos_renyi(20, 0.3, seed=4)
    solution = P.max_cut(problem)
    assert problem.cut_value(solution.assignment) == solution.value


def test_paper_dataset_loader(paper_dataset_path):
    data = P.load_paper_dataset(paper_dataset_path)
    assert (len(data.train), len(data.val), len(data.test)) == (1008, 5, 90)
    assert {pr.n for pr in data.train} == {6, 7, 8, 9}
    assert {pr.n for pr in data.test} == {10, 11, 12, 13, 14}
    assert (data.test[69].n, data.test[69].edges) == (data.test[71].n, data.test[71].edges)
    assert all(not pr.is_weighted for pr in data.train)


def test_paper_dataset_loader_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="datasets.json"):
        P.load_paper_dataset(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"train_data": []}))
    with pytest.raises(ValueError, match="val_data"):
        P.load_paper_dataset(bad)
