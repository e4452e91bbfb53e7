"""Every centrality against networkx (top-3 share: a plain loop) on three graph families, both engines, after
matching normalisations."""
import itertools

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from scripts.centrality import centralities, centrality_table, edge_lengths


def complete_weighted(n=14, seed=1):
    rng = np.random.default_rng(seed)
    pairs = list(itertools.combinations(range(n), 2))
    return pd.DataFrame({"source": [f"{a:02d}" for a, _ in pairs], "target": [f"{b:02d}" for _, b in pairs],
                         "weight": rng.lognormal(0, 1, len(pairs))})


def sparse_directed(n=30, p=0.12, seed=2):
    rng = np.random.default_rng(seed)
    graph = nx.gnp_random_graph(n, p, seed=seed, directed=True)
    graph.add_edges_from((k, (k + 1) % n) for k in range(n))  # a cycle: strongly connected
    return pd.DataFrame([(f"{a:02d}", f"{b:02d}", rng.uniform(0.1, 5)) for a, b in graph.edges],
                        columns=["source", "target", "weight"])


def disconnected(n=24, seed=3, directed=False):
    rng = np.random.default_rng(seed)
    halves = [nx.gnp_random_graph(n // 2, 0.3, seed=seed + k, directed=directed) for k in range(2)]
    edges = [(f"{a:02d}", f"{b:02d}") for a, b in halves[0].edges] + \
            [(f"{a + n // 2:02d}", f"{b + n // 2:02d}") for a, b in halves[1].edges]
    return pd.DataFrame([(a, b, rng.uniform(0.1, 5)) for a, b in edges], columns=["source", "target", "weight"])


def top3_share_loop(edges: pd.DataFrame, node: str, directed: bool) -> float:
    """Share of the node's (out-)strength on its 3 strongest ties, by a plain loop over the edge list."""
    ties = [w for s, t, w in edges[["source", "target", "weight"]].itertuples(index=False)
            if s == node or (not directed and t == node)]
    return sum(sorted(ties, reverse=True)[:3]) / sum(ties) if ties else float("nan")


def networkx_reference(edges: pd.DataFrame, directed: bool, mapping: str = "inverse") -> pd.DataFrame:
    """The module's definitions computed with networkx (outward paths: networkx uses inward, so reverse)."""
    graph = nx.DiGraph() if directed else nx.Graph()
    w = edges["weight"].to_numpy() / edges["weight"].max()
    for (s, t), wi, li in zip(edges[["source", "target"]].itertuples(index=False), w, edge_lengths(w, mapping)):
        graph.add_edge(s, t, w=wi, length=li)
    nodes = sorted(graph.nodes)
    n = len(nodes)
    outward = graph.reverse() if directed else graph
    ref = {}
    if directed:
        ref["degree_in"] = [graph.in_degree(v) / (n - 1) for v in nodes]
        ref["degree_out"] = [graph.out_degree(v) / (n - 1) for v in nodes]
        ref["strength_in"] = [graph.in_degree(v, weight="w") / (n - 1) for v in nodes]
        ref["strength_out"] = [graph.out_degree(v, weight="w") / (n - 1) for v in nodes]
        ref["degree"] = [(a + b) / 2 for a, b in zip(ref["degree_in"], ref["degree_out"])]
        ref["strength"] = [(a + b) / 2 for a, b in zip(ref["strength_in"], ref["strength_out"])]
    else:
        ref["degree"] = [graph.degree(v) / (n - 1) for v in nodes]
        ref["strength"] = [graph.degree(v, weight="w") / (n - 1) for v in nodes]
    for suffix, dist in (("", "length"), ("_binary", None)):
        close = nx.closeness_centrality(outward, distance=dist, wf_improved=True)
        harm = nx.harmonic_centrality(outward, distance=dist)
        betw = nx.betweenness_centrality(graph, weight=dist, normalized=True)
        ref[f"closeness{suffix}"] = [close[v] for v in nodes]
        ref[f"harmonic{suffix}"] = [harm[v] / (n - 1) for v in nodes]
        ref[f"betweenness{suffix}"] = [betw[v] for v in nodes]
    ref["pagerank"] = [nx.pagerank(graph, alpha=0.85, weight="w", tol=1e-15, max_iter=10_000)[v] for v in nodes]
    if nx.is_strongly_connected(graph) if directed else nx.is_connected(graph):
        eig = nx.eigenvector_centrality_numpy(graph, weight="w")
        top = max(eig.values())
        ref["eigenvector"] = [eig[v] / top for v in nodes]
    clustering = nx.clustering(nx.Graph(graph))  # undirected simple view, unweighted: either direction counts once
    ref["clustering"] = [clustering[v] for v in nodes]
    ref["top3_share"] = [top3_share_loop(edges, v, directed) for v in nodes]
    return pd.DataFrame({"city_code": nodes, **ref}).set_index("city_code")


CASES = {
    "complete_weighted": (complete_weighted(), False),
    "sparse_directed": (sparse_directed(), True),
    "disconnected": (disconnected(), False),
    "disconnected_directed": (disconnected(directed=True), True),
}


@pytest.mark.parametrize("engine", ["igraph", "networkit"])
@pytest.mark.parametrize("mapping", ["inverse", "log_inverse"])
@pytest.mark.parametrize("case", list(CASES))
def test_measures_match_networkx(case, mapping, engine):
    edges, directed = CASES[case]
    ours = centralities(edges, directed, mapping, engine).set_index("city_code").sort_index()
    ref = networkx_reference(edges, directed, mapping)
    for measure in ref.columns:
        np.testing.assert_allclose(ours[measure].to_numpy(), ref[measure].to_numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=f"{case} {engine} {mapping} {measure}")


def test_star_graph_by_hand():
    edges = pd.DataFrame({"source": ["c", "c", "c"], "target": ["a", "b", "d"], "weight": [1.0, 1.0, 1.0]})
    out = centralities(edges).set_index("city_code")
    assert out.at["c", "betweenness"] == pytest.approx(1.0)   # on all 3 leaf pairs, ÷ 3
    assert out.at["c", "closeness"] == pytest.approx(1.0)     # 3 / (1 + 1 + 1)
    assert out.at["a", "closeness"] == pytest.approx(3 / 5)   # distances 1, 2, 2
    assert out.at["a", "harmonic"] == pytest.approx((1 + 0.5 + 0.5) / 3)
    assert out.at["c", "degree"] == out.at["c", "strength"] == pytest.approx(1.0)


@pytest.mark.parametrize("directed", [False, True])
def test_clustering_and_top3_share_by_hand(directed):
    # triangle a–b–c, pendants d and e on a; weights a–b 4, a–c 3, a–d 2, a–e 1, b–c 1 (directed: source → target,
    # plus c → a 6, which the undirected view merges with a → c).
    # clustering: a has neighbours b, c, d, e (k = 4), one tie among them (b–c): 2·1/(4·3) = 1/6; b and c have two
    # neighbours, tied to each other: 1; d and e have one neighbour: 0.
    # top-3 share: a's ties 4, 3, 2, 1: (4 + 3 + 2)/10 = 9/10; every other node has ≤ 3 ties: 1. Directed: a's out-ties
    # are the same 9/10; b → c and c → a alone: 1; d and e have no out-tie: missing.
    edges = pd.DataFrame({"source": ["a", "a", "a", "a", "b"], "target": ["b", "c", "d", "e", "c"],
                          "weight": [4.0, 3.0, 2.0, 1.0, 1.0]})
    if directed:
        edges = pd.concat([edges, pd.DataFrame({"source": ["c"], "target": ["a"], "weight": [6.0]})])
    out = centralities(edges, directed).set_index("city_code").loc[["a", "b", "c", "d", "e"]]
    np.testing.assert_allclose(out["clustering"], [1 / 6, 1, 1, 0, 0])
    nan = float("nan")
    np.testing.assert_allclose(out["top3_share"], [9 / 10, 1, 1, nan, nan] if directed else [9 / 10, 1, 1, 1, 1])


def test_diagnostics_by_hand():
    edges = pd.DataFrame({"year": 2020, "source": ["a", "a", "c"], "target": ["b", "c", "d"], "weight": [1.0, 2.0, 3.0]})
    edges = pd.concat([edges, pd.DataFrame({"year": [2020], "source": ["e"], "target": ["f"], "weight": [4.0]})])
    row = centrality_table(edges, {"kind": "gravity"}, {})[1].iloc[0]
    assert (row["nodes"], row["edges"], row["components"]) == (6, 4, 2)
    assert row["density"] == pytest.approx(4 / 15)
    assert row["largest_component_share"] == pytest.approx(4 / 6)
    assert row["weight_median"] == pytest.approx(2.5)
