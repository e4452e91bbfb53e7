"""Benchmark: path-based centralities (weighted closeness + betweenness) by engine, not a test.

  .venv/bin/python benchmarks/bench_centrality.py city  [--edges <edges.parquet>]  (default: the real run's gravity
  network, from results/real/MANIFEST.json's shared stages)
  .venv/bin/python benchmarks/bench_centrality.py county [--nodes 2850]

city:   every year of the real gravity network with igraph, NetworKit and networkx on the same graphs; prints
        seconds per engine, the speed-up over networkx, and the largest absolute difference of the values.
county: a synthetic county-scale gravity network (random centroids over China's extent, lognormal masses),
        complete and thresholded to its top 5 % of ties, with igraph and NetworKit (networkx would take hours);
        "seconds" cover closeness, harmonic and betweenness (weighted), plus NetworKit betweenness alone.
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from scripts.centrality import build_igraph, edge_lengths, igraph_path_measures, networkit_path_measures


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def networkx_paths(edges: pd.DataFrame) -> dict[str, np.ndarray]:
    import networkx as nx

    graph = nx.Graph()
    w = edges["weight"].to_numpy() / edges["weight"].max()
    graph.add_weighted_edges_from(zip(edges["source"], edges["target"], edge_lengths(w, "inverse")), weight="length")
    nodes = sorted(graph.nodes)
    close = nx.closeness_centrality(graph, distance="length", wf_improved=True)
    betw = nx.betweenness_centrality(graph, weight="length", normalized=True)
    return {"closeness": np.array([close[v] for v in nodes]), "betweenness": np.array([betw[v] for v in nodes])}


def engines(edges: pd.DataFrame, with_networkx: bool) -> dict[str, tuple[float, dict[str, np.ndarray]]]:
    graph, _, weight = build_igraph(edges, directed=False)
    lengths = edge_lengths(weight, "inverse")
    index = np.array(graph.get_edgelist())
    out = {"igraph": timed(igraph_path_measures, graph, lengths.tolist(), False),
           "networkit": timed(networkit_path_measures, index, lengths, graph.vcount(), False)}
    if with_networkx:
        out["networkx"] = timed(networkx_paths, edges)
    return out


def max_difference(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> float:
    return max(float(np.max(np.abs(a[k] - b[k]))) for k in ("closeness", "betweenness"))


def city(path: str) -> dict:
    edges = pd.read_parquet(path)
    totals = {"igraph": 0.0, "networkit": 0.0, "networkx": 0.0}
    worst = {"igraph": 0.0, "networkit": 0.0}
    for year, group in edges.groupby("year"):
        runs = engines(group, with_networkx=True)
        for engine, (seconds, values) in runs.items():
            totals[engine] += seconds
            if engine != "networkx":
                worst[engine] = max(worst[engine], max_difference(values, runs["networkx"][1]))
        print(f"{year}: nodes {pd.unique(group[['source', 'target']].values.ravel()).size}, "
              + ", ".join(f"{e} {s:.2f}s" for e, (s, _) in runs.items()), flush=True)
    return {"years": int(edges["year"].nunique()), "seconds": totals,
            "speedup_vs_networkx": {e: totals["networkx"] / totals[e] for e in ("igraph", "networkit")},
            "max_abs_difference_vs_networkx": worst}


def networkit_betweenness_only(index: np.ndarray, lengths: np.ndarray, n: int) -> float:
    """Seconds for NetworKit's weighted betweenness alone (graph construction excluded)."""
    import networkit as nk
    from scipy.sparse import coo_matrix

    graph = nk.GraphFromCoo(coo_matrix((lengths, (index[:, 0], index[:, 1])), shape=(n, n)), n=n, directed=False,
                            weighted=True)
    return timed(lambda: nk.centrality.Betweenness(graph, False).run())[0]


def county(n: int, seed: int = 1) -> dict:
    from scripts.network import gravity_edges

    rng = np.random.default_rng(seed)
    nodes = pd.DataFrame({"city_code": [f"{k:06d}" for k in range(n)], "lon": rng.uniform(75, 134, n),
                          "lat": rng.uniform(18, 53, n), "gdp": rng.lognormal(4, 1, n), "pop": rng.lognormal(3, 1, n)})
    complete = gravity_edges(nodes, ["gdp", "pop"], 2.0)
    thresholded = complete[complete["weight"] >= complete["weight"].quantile(0.95)]
    out = {}
    for label, edges in (("complete", complete), ("top 5% of ties", thresholded)):
        graph, _, weight = build_igraph(edges, directed=False)
        lengths = edge_lengths(weight, "inverse")
        nk_seconds, nk_values = timed(networkit_path_measures, np.array(graph.get_edgelist()), lengths, n, False)
        row = {"edges": len(edges), "networkit_seconds": nk_seconds,
               "networkit_betweenness_only_seconds": networkit_betweenness_only(np.array(graph.get_edgelist()),
                                                                                lengths, n)}
        if label != "complete":  # igraph on the complete county graph takes ~8 minutes (ECOSYSTEM.md)
            ig_seconds, ig_values = timed(igraph_path_measures, graph, lengths.tolist(), False)
            row |= {"igraph_seconds": ig_seconds, "max_abs_difference": max_difference(ig_values, nk_values)}
        out[label] = row
        print(label, row, flush=True)
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scale", choices=["city", "county"])
    parser.add_argument("--edges", default=None, help="default: the gravity network of results/real (its manifest)")
    parser.add_argument("--nodes", type=int, default=2850)
    args = parser.parse_args()
    if args.scale == "city" and args.edges is None:
        stages = json.loads(Path("results/real/MANIFEST.json").read_text(encoding="utf-8"))["stages"]
        args.edges = f"{stages['network/gravity']}/edges.parquet"
    print(json.dumps(city(args.edges) if args.scale == "city" else county(args.nodes), indent=2))
