"""Centrality stage: every city's network position per year, plus network diagnostics.

For a year's graph with n nodes, normalised tie strengths w_ij = weight_ij / max weight and edge lengths
ℓ_ij = f(w_ij) (``weight_to_distance``: ``inverse`` ℓ = 1/w; ``log_inverse`` ℓ = 1 − ln w, so the strongest
tie has length 1 and each e-fold weaker tie adds 1), the measures (long table: city_code, year, measure, value):

- ``degree`` = k_i / (n − 1); ``strength`` = s_i / (n − 1), s_i = Σ_j w_ij. Directed graphs also give
  ``degree_in``/``degree_out`` and ``strength_in``/``strength_out`` (÷ (n − 1)); their totals are ÷ 2(n − 1).
- ``closeness`` (Wasserman & Faust 1994, eq. 5.3 for disconnected graphs) = ((r_i − 1)/(n − 1)) · ((r_i − 1)/Σ_j ℓ(i,j)),
  r_i the nodes reachable from i (itself included), ℓ(i,j) shortest-path length; directed: paths *from* i.
- ``harmonic`` (Marchiori & Latora 2000) = Σ_{j≠i} 1/ℓ(i,j) / (n − 1), 0 for unreachable j.
- ``betweenness`` (Freeman 1977; Brandes 2001) = Σ_{s≠i≠t} σ_st(i)/σ_st, ÷ (n−1)(n−2)/2 (undirected) or
  (n−1)(n−2) (directed), in [0, 1].
- ``*_binary`` variants of closeness, harmonic and betweenness use hop counts (every tie length 1).
- ``eigenvector`` (Bonacich 1972) on w, scaled to max 1 (directed: from in-ties; missing when the graph is not
  (strongly) connected, where it is undefined); ``pagerank`` (Brin & Page
  1998) on w with the configured damping.
- ``clustering`` (Watts & Strogatz 1998) = 2 T_i / (k_i (k_i − 1)) on the binary undirected view of the
  graph (a tie in either direction counts once), T_i the triangles through i, k_i its undirected degree; 0 where
  k_i < 2 (1 on a complete graph). The local density of ties, e.g. on a backbone (a proxy of sparse social ties).
- ``top3_share`` = Σ of the 3 largest w_ij / s_i, i's strength on its ``TOP_PARTNERS`` = 3 strongest partners
  (directed: out-ties and out-strength), the 3-partner concentration ratio of i's ties (cf. the disparity
  Y_i = Σ_j (w_ij / s_i)² of Barthélemy et al. 2005); 1 for ≤ 3 ties, missing for a node without (out-)ties. The
  concentration of a city's outflow on few partners, e.g. in observed migration flows (a proxy of sparse ties).

Engine: igraph (checked against networkx in tests). ``engine: networkit`` computes the path-based measures
(closeness, harmonic, betweenness) with NetworKit, faster on large dense graphs (see benchmarks/).
"""
import random
from typing import Any

import numpy as np
import pandas as pd

from scripts.common import InputError
from scripts.network import is_directed

PATH_MEASURES = ["closeness", "harmonic", "betweenness"]
TOP_PARTNERS = 3   # strongest partners in the concentration measure
TOP_SHARE = f"top{TOP_PARTNERS}_share"


def edge_lengths(weight: np.ndarray, mapping: str) -> np.ndarray:
    """Path length of each tie from its normalised strength w ∈ (0, 1]."""
    if mapping == "inverse":
        return 1.0 / weight
    if mapping == "log_inverse":
        return 1.0 - np.log(weight)
    raise InputError(f"weight_to_distance '{mapping}' is not known; use 'inverse' or 'log_inverse'.")


def build_igraph(edges: pd.DataFrame, directed: bool):
    """igraph Graph over the sorted node codes of an edge list; returns (graph, codes, normalised weights)."""
    import igraph as ig

    # one hash pass over both ends (a sort of the few hundred distinct codes only): ~3× faster than a sort of every
    # end's code plus a label lookup on 56–113 k ties a year
    ends, codes = pd.factorize(pd.concat([edges["source"], edges["target"]], ignore_index=True), sort=True)
    graph = ig.Graph(n=len(codes), edges=ends.reshape(2, -1).T, directed=directed)
    codes = np.asarray(codes, dtype=object)
    weight = edges["weight"].to_numpy(dtype=float)
    if (weight <= 0).any():
        raise InputError("centralities need positive tie weights; drop zero-weight ties before this stage.")
    return graph, codes, weight / weight.max()


def igraph_path_measures(graph, lengths, directed: bool, suffix: str = "") -> dict[str, np.ndarray]:
    """Closeness (WF), harmonic and normalised betweenness on given tie lengths (None = hop counts).

    Closeness and harmonic come from one matrix of igraph's shortest-path lengths: its ``closeness``,
    ``harmonic_centrality`` and ``neighborhood_size`` would each search every path again (≈ 10× the time on the
    complete gravity graphs). The sums' order differs from igraph's, so values can differ in the last bit."""
    n = graph.vcount()
    mode = "out" if directed else "all"
    distance = np.array(graph.distances(weights=lengths, mode=mode), dtype=float)
    np.fill_diagonal(distance, np.inf)
    reached = np.isfinite(distance)
    reach, total = reached.sum(axis=1), np.where(reached, distance, 0.0).sum(axis=1)
    pairs = (n - 1) * (n - 2) if directed else (n - 1) * (n - 2) / 2
    betweenness = np.asarray(graph.betweenness(weights=lengths, directed=directed), dtype=float)
    return {f"closeness{suffix}": np.divide(reach * reach, total * (n - 1), out=np.zeros(n), where=total > 0),
            f"harmonic{suffix}": (1.0 / distance).sum(axis=1) / (n - 1),
            f"betweenness{suffix}": betweenness / pairs if pairs else np.zeros(n)}


def networkit_path_measures(edges_index: np.ndarray, lengths: np.ndarray | None, n: int, directed: bool,
                            suffix: str = "") -> dict[str, np.ndarray]:
    """Same three measures with NetworKit (parallel Brandes); raw betweenness counts ordered pairs."""
    import networkit as nk
    from scipy.sparse import coo_matrix

    data = lengths if lengths is not None else np.ones(len(edges_index))
    graph = nk.GraphFromCoo(coo_matrix((data, (edges_index[:, 0], edges_index[:, 1])), shape=(n, n)),
                            n=n, directed=directed, weighted=lengths is not None)
    closeness = nk.centrality.Closeness(graph, True, nk.centrality.ClosenessVariant.GENERALIZED).run().scores()
    harmonic = nk.centrality.HarmonicCloseness(graph, True).run().scores()
    raw = np.asarray(nk.centrality.Betweenness(graph, False).run().scores(), dtype=float)
    pairs = (n - 1) * (n - 2)  # ordered pairs, both for directed graphs and NetworKit's undirected count
    return {f"closeness{suffix}": np.asarray(closeness, dtype=float),
            f"harmonic{suffix}": np.asarray(harmonic, dtype=float),
            f"betweenness{suffix}": raw / pairs if pairs else np.zeros(n)}


def local_clustering(graph) -> np.ndarray:
    """Watts–Strogatz local clustering on the binary undirected simple view (either direction counts once); 0 for k < 2."""
    simple = graph.as_undirected(mode="collapse") if graph.is_directed() else graph
    return np.asarray(simple.transitivity_local_undirected(mode="zero"), dtype=float)


def top_share(edges: pd.DataFrame, codes: np.ndarray, directed: bool) -> np.ndarray:
    """Share of each node's (out-)strength on its TOP_PARTNERS strongest ties, in `codes` order; NaN without
    (out-)ties. Raw weights: the ratio does not depend on their normalisation."""
    ties = edges[["source", "target", "weight"]]
    if not directed:
        ties = pd.concat([ties, ties.rename(columns={"source": "target", "target": "source"})])
    ties = ties.sort_values(["source", "weight"], ascending=[True, False], kind="mergesort")
    top = ties.groupby("source").head(TOP_PARTNERS).groupby("source")["weight"].sum()
    return (top / ties.groupby("source")["weight"].sum()).reindex(codes).to_numpy(dtype=float)


def centralities(edges: pd.DataFrame, directed: bool = False, mapping: str = "inverse", engine: str = "igraph",
                 damping: float = 0.85) -> pd.DataFrame:
    """All measures of one graph (definitions in the module docstring): one row per node, one column per measure."""
    return graph_measures(build_igraph(edges, directed), edges, directed, mapping, engine, damping)


def graph_measures(built: tuple, edges: pd.DataFrame, directed: bool, mapping: str, engine: str,
                   damping: float) -> pd.DataFrame:
    """``centralities`` of a graph already built from ``edges`` (build_igraph's graph, codes, weights)."""
    graph, codes, weight = built
    n = len(codes)
    if n < 3:
        raise InputError(f"a network year has only {n} nodes; centralities need at least 3.")
    lengths = edge_lengths(weight, mapping)
    out: dict[str, np.ndarray] = {}
    if directed:
        for mode in ("in", "out"):
            out[f"degree_{mode}"] = np.asarray(graph.degree(mode=mode), dtype=float) / (n - 1)
            out[f"strength_{mode}"] = np.asarray(graph.strength(mode=mode, weights=weight), dtype=float) / (n - 1)
        out["degree"] = (out["degree_in"] + out["degree_out"]) / 2
        out["strength"] = (out["strength_in"] + out["strength_out"]) / 2
    else:
        out["degree"] = np.asarray(graph.degree(), dtype=float) / (n - 1)
        out["strength"] = np.asarray(graph.strength(weights=weight), dtype=float) / (n - 1)
    complete = graph.ecount() == (n * (n - 1) if directed else n * (n - 1) // 2)
    if engine == "networkit":
        index = np.array(graph.get_edgelist())
        out |= networkit_path_measures(index, lengths, n, directed)
        if not complete:
            out |= networkit_path_measures(index, None, n, directed, "_binary")
    elif engine == "igraph":
        out |= igraph_path_measures(graph, lengths, directed)
        if not complete:
            out |= igraph_path_measures(graph, None, directed, "_binary")
    else:
        raise InputError(f"centrality engine '{engine}' is not known; use 'igraph' or 'networkit'.")
    if complete:  # every pair is tied: all hop distances are 1, so no path search is needed (saves ~70 s/year
        # on a 2,850-node complete graph); WF closeness = harmonic = 1, betweenness = 0 (checked against networkx)
        out |= {"closeness_binary": np.ones(n), "harmonic_binary": np.ones(n), "betweenness_binary": np.zeros(n)}
    connected = graph.is_connected(mode="strong" if directed else "weak")
    random.seed(0)  # igraph's ARPACK start vector comes from Python's RNG: fix it so reruns are byte-identical
    out["eigenvector"] = np.asarray(graph.eigenvector_centrality(directed=True, scale=True, weights=weight.tolist())) \
        if connected else np.full(n, np.nan)
    out["pagerank"] = np.asarray(graph.pagerank(directed=directed, damping=damping, weights=weight.tolist()))
    out["clustering"] = np.ones(n) if complete else local_clustering(graph)  # complete: every neighbour pair tied
    out[TOP_SHARE] = top_share(edges, codes, directed)
    return pd.DataFrame({"city_code": codes, **out})


def centrality_table(edges: pd.DataFrame, spec: dict[str, Any],
                     settings: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Long table city_code, year, measure, value for every year of a network, and its diagnostics (each year's graph
    built once for both)."""
    directed = is_directed(spec)
    frames, rows = [], []
    for year, group in edges.groupby("year", sort=True):
        built = build_igraph(group, directed)
        wide = graph_measures(built, group, directed, spec.get("weight_to_distance", "inverse"),
                              settings.get("engine", "igraph"), settings.get("pagerank_damping", 0.85))
        frames.append(wide.melt(id_vars="city_code", var_name="measure", value_name="value").assign(year=year))
        rows.append({"year": year, **graph_summary(built[0], group["weight"].to_numpy(dtype=float), directed)})
    return pd.concat(frames, ignore_index=True)[["city_code", "year", "measure", "value"]], pd.DataFrame(rows)


def graph_summary(graph: Any, weight: np.ndarray, directed: bool) -> dict[str, Any]:
    """One year's diagnostics row (without the year) from its graph and raw tie weights: nodes, edges, density, (weak)
    components, largest component share, weight and degree summaries."""
    n, m = graph.vcount(), graph.ecount()
    components = graph.connected_components(mode="weak")
    degree = np.asarray(graph.degree(), dtype=float)
    return {"nodes": n, "edges": m, "density": m / (n * (n - 1) if directed else n * (n - 1) / 2),
            "components": len(components), "largest_component_share": max(components.sizes()) / n,
            "weight_min": weight.min(), "weight_p25": np.quantile(weight, 0.25),
            "weight_median": np.median(weight), "weight_p75": np.quantile(weight, 0.75),
            "weight_max": weight.max(), "weight_mean": weight.mean(),
            "degree_mean": degree.mean(), "degree_sd": degree.std(ddof=1) if n > 1 else 0.0,
            "degree_min": degree.min(), "degree_max": degree.max()}
