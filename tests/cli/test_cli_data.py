"""``qaoa-meta problem`` / ``dataset`` and the dataset loader's errors on malformed files."""

from __future__ import annotations

import json
import pickle

import networkx as nx
import numpy as np
import pytest

from qaoa_meta.cli import main
from qaoa_meta.problems import (
    MaxCutProblem,
    load_paper_dataset,
    max_cut,
    paper_like_dataset,
    save_dataset,
)


def test_problem_kinds_write_what_they_say(tmp_path, capsys):
    out = tmp_path / "g.json"
    assert (
        main(["problem", "regular", "--n", "8", "--d", "3", "--seed", "1", "--out", str(out)]) == 0
    )
    printed = capsys.readouterr().out
    problem = MaxCutProblem.load(out)
    assert problem.n == 8 and set(problem.degrees()) == {3} and problem.num_edges == 12
    assert f"wrote {out}" in printed and f"max cut {max_cut(problem).value:g}" in printed
    # Same seed, same graph; another seed, another graph.
    again = tmp_path / "again.json"
    main(["problem", "regular", "--n", "8", "--d", "3", "--seed", "1", "--out", str(again)])
    assert MaxCutProblem.load(again) == problem

    main(["problem", "sk", "--n", "5", "--seed", "2", "--out", str(out)])
    sk = MaxCutProblem.load(out)
    assert sk.num_edges == 10 and set(sk.weights) <= {-1.0, 1.0}

    main(["problem", "paper", "--n", "10", "--j", "4", "--seed", "3", "--out", str(out)])
    assert MaxCutProblem.load(out).metadata["j"] == 4

    main(["problem", "er", "--n", "6", "--prob", "1", "--out", str(out)])
    assert MaxCutProblem.load(out).num_edges == 15  # G(6, 1) is complete

    main(["problem", "edges", "--edges", "0-1,1-2:2.5,0-2", "--out", str(out)])
    assert MaxCutProblem.load(out).edges == ((0, 1, 1.0), (0, 2, 1.0), (1, 2, 2.5))


def test_problem_from_files(tmp_path):
    text = tmp_path / "edges.txt"
    text.write_text("# u v w\n0 1\n1 2 2.0\n\n2 3\n")
    out = tmp_path / "g.json"
    assert main(["problem", "edges", "--file", str(text), "--out", str(out)]) == 0
    assert MaxCutProblem.load(out).edges == ((0, 1, 1.0), (1, 2, 2.0), (2, 3, 1.0))

    graphml = tmp_path / "petersen.graphml"
    nx.write_graphml(nx.petersen_graph(), graphml)  # node labels become strings "0".."9"
    assert main(["problem", "networkx", "--file", str(graphml), "--out", str(out)]) == 0
    loaded = MaxCutProblem.load(out)
    assert nx.is_isomorphic(loaded.to_networkx(), nx.petersen_graph())
    assert loaded.edges == MaxCutProblem.from_networkx(nx.petersen_graph()).edges

    gml = tmp_path / "cycle.gml"
    nx.write_gml(nx.cycle_graph(["a", "b", "c", "d", "e"]), gml)
    assert main(["problem", "networkx", "--file", str(gml), "--out", str(out)]) == 0
    cycle = MaxCutProblem.load(out)
    assert cycle.n == 5 and set(cycle.degrees()) == {2} and "relabelling" in cycle.metadata


def test_dataset_like_the_papers(tmp_path, capsys):
    out = tmp_path / "d.json"
    assert main(["dataset", "--out", str(out), "--seed", "3"]) == 0
    data = load_paper_dataset(out)
    # The paper's counts: 56 per (n, j), j = 3..n-1, n = 6..9; 5 val at n = 10; 2 per (n, j) test.
    assert len(data.train) == 56 * (3 + 4 + 5 + 6) == 1008
    assert [pr.n for pr in data.val] == [10] * 5
    assert len(data.test) == 2 * (7 + 8 + 9 + 10 + 11) == 90
    assert "train 1008 graphs (n = 6..9), val 5 (n = 10), test 90 (n = 10..14)" in (
        capsys.readouterr().out
    )
    again = tmp_path / "again.json"
    main(["dataset", "--out", str(again), "--seed", "3"])
    assert load_paper_dataset(again).train == data.train

    small = tmp_path / "small.json"
    args = ["--train-sizes", "6", "--per-density", "2", "--val-graphs", "2"]
    assert main(["dataset", "--out", str(small), *args, "--test-sizes", "8"]) == 0
    data = load_paper_dataset(small)
    assert (len(data.train), len(data.val), len(data.test)) == (6, 2, 10)


def test_dataset_from_the_papers_json(tmp_path, paper_dataset_path):
    out = tmp_path / "d.json"
    assert main(["dataset", "--from", str(paper_dataset_path), "--out", str(out)]) == 0
    original = json.loads(paper_dataset_path.read_text())
    converted = json.loads(out.read_text())
    for key in ("train_data", "val_data", "test_data"):
        assert converted[key] == original[key]


def test_dataset_from_a_pickle_of_networkx_graphs(tmp_path):
    graphs = {
        "train_data": [nx.gnp_random_graph(6, 0.5, seed=s) for s in range(4)],
        "val_data": [nx.cycle_graph(5)],
        "test_data": [nx.complete_graph(4)],
    }
    source = tmp_path / "datasets.pkl"
    source.write_bytes(pickle.dumps(graphs))
    out = tmp_path / "d.json"
    assert main(["dataset", "--from", str(source), "--out", str(out)]) == 0
    data = load_paper_dataset(out)
    for key, split in (
        ("train_data", data.train),
        ("val_data", data.val),
        ("test_data", data.test),
    ):
        for graph, problem in zip(graphs[key], split, strict=True):
            assert problem.edges == MaxCutProblem.from_networkx(graph).edges


def test_dataset_pickle_refuses_code(tmp_path, capsys):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    source = tmp_path / "evil.pkl"
    source.write_bytes(pickle.dumps({"train_data": [Evil()]}))
    assert main(["dataset", "--from", str(source), "--out", str(tmp_path / "d.json")]) == 2
    captured = capsys.readouterr()
    assert "pwned" not in captured.out and "refusing" in captured.err


def test_save_and_load_round_trip_weighted(tmp_path):
    train = [MaxCutProblem.from_edge_list([(0, 1, 2.5), (1, 2)])]
    path = save_dataset(tmp_path / "w.json", train, train, train)
    assert load_paper_dataset(path).train[0].edges == train[0].edges
    assert not list(tmp_path.glob(".*tmp"))  # written atomically, no temporary left


@pytest.mark.parametrize(
    "content, phrase",
    [
        ('{"train_data": [{"n": 6, "edges": [[0, 1]]}', "is not valid JSON"),
        ("[1, 2]", "must hold a JSON object"),
        ('{"train_data": [], "val_data": []}', "missing 'test_data'"),
        ('{"train_data": [{"n": 6}], "val_data": [], "test_data": []}', "train_data[0] has no"),
        ('{"train_data": {"n": 6}, "val_data": [], "test_data": []}', "got dict"),
        ('{"train_data": [[0, 1]], "val_data": [], "test_data": []}', "got a list of list"),
        (
            '{"train_data": [{"n": 3, "edges": [[0, 5]]}], "val_data": [], "test_data": []}',
            "train_data[0]: Edge",
        ),
    ],
)
def test_malformed_datasets_name_the_file_and_record(tmp_path, content, phrase):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ValueError) as info:
        load_paper_dataset(path)
    message = str(info.value)
    assert str(path) in message and phrase in message and "\n" not in message


def test_missing_dataset_says_how_to_make_one(tmp_path):
    with pytest.raises(FileNotFoundError, match="qaoa-meta dataset --out datasets.json"):
        load_paper_dataset(tmp_path / "nope.json")


def test_paper_like_dataset_is_seeded():
    a = paper_like_dataset((6,), 1, 10, 5, (10,), 1, seed=np.random.default_rng(0))
    b = paper_like_dataset((6,), 1, 10, 5, (10,), 1, seed=0)
    assert a.train == b.train and a.test == b.test
    with pytest.raises(ValueError, match="val_graphs"):
        paper_like_dataset(val_size=10, val_graphs=8)
