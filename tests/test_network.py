"""Centralities against networkx, and the gravity formula against hand computation."""
import itertools

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from scripts.common import InputError
from scripts.network import EARTH_RADIUS_KM, build_gravity_network, centralities, gravity_edges, great_circle_km


def networkx_reference(edges: pd.DataFrame) -> pd.DataFrame:
    """DC, CC, BC by networkx with the documented definitions (length = max w / w, normalised)."""
    graph = nx.Graph()
    wmax = edges["weight"].max()
    for s, t, w in edges[["source", "target", "weight"]].itertuples(index=False):
        graph.add_edge(s, t, w=w / wmax, length=wmax / w)
    n = graph.number_of_nodes()
    strength = dict(graph.degree(weight="w"))
    closeness = nx.closeness_centrality(graph, distance="length")
    betweenness = nx.betweenness_centrality(graph, weight="length", normalized=True)
    nodes = sorted(graph.nodes)
    return pd.DataFrame({"city_code": nodes, "dc": [strength[v] / (n - 1) for v in nodes],
                         "cc": [closeness[v] for v in nodes], "bc": [betweenness[v] for v in nodes]})


def random_complete(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pairs = list(itertools.combinations([f"{k:02d}" for k in range(n)], 2))
    return pd.DataFrame({"source": [a for a, _ in pairs], "target": [b for _, b in pairs],
                         "weight": rng.lognormal(0, 1, len(pairs))})


def random_sparse_connected(n: int, p: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    graph = nx.gnp_random_graph(n, p, seed=seed)
    graph.add_edges_from((k, k + 1) for k in range(n - 1))  # a path keeps it connected
    return pd.DataFrame([(f"{a:02d}", f"{b:02d}", rng.uniform(0.1, 5)) for a, b in graph.edges],
                        columns=["source", "target", "weight"])


@pytest.mark.parametrize("edges", [random_complete(12, 1), random_complete(30, 2),
                                   random_sparse_connected(25, 0.15, 3), random_sparse_connected(40, 0.08, 4)],
                         ids=["complete12", "complete30", "sparse25", "sparse40"])
def test_centralities_match_networkx(edges):
    ours = centralities(edges).set_index("city_code").sort_index()
    ref = networkx_reference(edges).set_index("city_code").sort_index()
    np.testing.assert_allclose(ours.to_numpy(), ref.to_numpy(), rtol=1e-9, atol=1e-12)


def test_star_graph_by_hand():
    # Star with centre c and three leaves, unit weights: the centre lies on all 3 leaf pairs → bc = 3/3 = 1.
    edges = pd.DataFrame({"source": ["c", "c", "c"], "target": ["a", "b", "d"], "weight": [1.0, 1.0, 1.0]})
    out = centralities(edges).set_index("city_code")
    assert out.at["c", "bc"] == pytest.approx(1.0)
    assert out.at["a", "bc"] == 0.0
    assert out.at["c", "cc"] == pytest.approx(1.0)            # (n−1)/Σd = 3/3
    assert out.at["a", "cc"] == pytest.approx(3 / 5)          # distances 1, 2, 2
    assert out.at["c", "dc"] == pytest.approx(1.0)            # strength 3 / (n−1)


def test_disconnected_graph_is_an_error():
    edges = pd.DataFrame({"source": ["a", "c"], "target": ["b", "d"], "weight": [1.0, 1.0]})
    with pytest.raises(InputError, match="2 components"):
        centralities(edges)


def test_great_circle_one_degree_on_equator():
    d = great_circle_km(np.array([0.0, 1.0]), np.array([0.0, 0.0]))
    assert d[0, 1] == pytest.approx(EARTH_RADIUS_KM * np.pi / 180, rel=1e-12)


def test_gravity_formula_by_hand():
    # Three cities on the equator 1° apart; masses: geometric mean of gdp and pop.
    nodes = pd.DataFrame({"city_code": ["a", "b", "c"], "lon": [0.0, 1.0, 2.0], "lat": [0.0, 0.0, 0.0],
                          "gdp": [4.0, 9.0, 1.0], "pop": [1.0, 1.0, 16.0]})
    edges = gravity_edges(nodes, ["gdp", "pop"], decay=2.0).set_index(["source", "target"])["weight"]
    km = EARTH_RADIUS_KM * np.pi / 180
    mass = {"a": 2.0, "b": 3.0, "c": 4.0}
    assert edges[("a", "b")] == pytest.approx(mass["a"] * mass["b"] / km**2, rel=1e-10)
    assert edges[("a", "c")] == pytest.approx(mass["a"] * mass["c"] / (2 * km) ** 2, rel=1e-10)
    assert len(edges) == 3


def test_gravity_needs_positive_masses():
    nodes = pd.DataFrame({"city_code": ["a", "b"], "lon": [0.0, 1.0], "lat": [0.0, 0.0], "gdp": [1.0, 0.0]})
    with pytest.raises(InputError, match="b"):
        gravity_edges(nodes, ["gdp"], 2.0)


def test_network_years_skip_cities_without_masses():
    panel = pd.DataFrame({"city_code": list("abcd") * 2, "year": [2019] * 4 + [2020] * 4,
                          "gdp": [1, 2, 3, 4, 1, 2, 3, np.nan]})
    cities = pd.DataFrame({"city_code": list("abcd"), "lon": [0.0, 1, 2, 3], "lat": [0.0] * 4})
    edges = build_gravity_network(panel, cities, {"mass": ["gdp"], "distance_decay": 1.0,
                                                  "year_range": {"start": 2019, "end": 2020}})
    assert edges.groupby("year").size().to_dict() == {2019: 6, 2020: 3}
