"""Network stage: gravity networks between cities and their degree, closeness and betweenness centrality.

Gravity model (Zipf 1946; the common form in Chinese urban-network studies, e.g. Liu et al. 2020):

    M_i = (x_i1 · x_i2 · … · x_iK)^(1/K)           mass: geometric mean of the configured variables
    G_ij = M_i · M_j / d_ij^b                       d_ij great-circle distance (km) between area centroids

per year, over the cities that have every mass variable that year; the graph is complete and undirected.
Centralities (igraph; checked against networkx in tests) use the weights normalised by the year's maximum,
w_ij = G_ij / max G, so they do not depend on the units of the masses:

    dc_i = Σ_j w_ij / (n − 1)                       degree centrality = mean normalised tie strength
    cc_i = (n − 1) / Σ_j ℓ(i, j)                    closeness, ℓ = shortest-path length with edge length 1 / w_ij
    bc_i = Σ_{s<t; s,t≠i} σ_st(i)/σ_st / ((n−1)(n−2)/2)   betweenness on the same lengths, normalised to [0, 1]

A strong tie is a short edge, so a city that lies on the chain of strongest links between others scores high BC.
"""

from typing import Any

import numpy as np
import pandas as pd

from scripts.common import InputError, format_rows, write_table

EARTH_RADIUS_KM = 6371.0088


def great_circle_km(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Pairwise haversine distances (km) between points given in degrees."""
    lon, lat = np.radians(lon), np.radians(lat)
    dlon = lon[:, None] - lon[None, :]
    dlat = lat[:, None] - lat[None, :]
    a = np.sin(dlat / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def gravity_edges(nodes: pd.DataFrame, mass_columns: list[str], decay: float) -> pd.DataFrame:
    """Undirected gravity edges (source < target) for one year: columns source, target, weight = G_ij.

    `nodes` has city_code, lon, lat and the mass columns, all non-missing and positive.
    """
    nodes = nodes.sort_values("city_code").reset_index(drop=True)
    values = nodes[mass_columns].to_numpy(dtype=float)
    if (values <= 0).any():
        bad = nodes.loc[(values <= 0).any(axis=1), "city_code"]
        raise InputError(f"gravity masses {mass_columns} must be positive; not so for city_code {format_rows(bad)}.")
    mass = np.exp(np.log(values).mean(axis=1))
    distance = great_circle_km(nodes["lon"].to_numpy(), nodes["lat"].to_numpy())
    i, j = np.triu_indices(len(nodes), k=1)
    if (distance[i, j] <= 0).any():
        raise InputError("two cities share the same centroid: gravity distance is zero. Check cities.parquet.")
    weight = mass[i] * mass[j] / distance[i, j] ** decay
    codes = nodes["city_code"].to_numpy()
    return pd.DataFrame({"source": codes[i], "target": codes[j], "weight": weight})


def build_gravity_network(panel: pd.DataFrame, cities: pd.DataFrame, spec: dict[str, Any]) -> pd.DataFrame:
    """Gravity edges for every year in the configured range: year, source, target, weight."""
    mass = spec["mass"]
    located = panel.merge(cities[["city_code", "lon", "lat"]], on="city_code", how="inner")
    frames = []
    for year in range(spec["year_range"]["start"], spec["year_range"]["end"] + 1):
        nodes = located[located["year"] == year].dropna(subset=[*mass, "lon", "lat"])
        if len(nodes) < 3:
            continue
        frames.append(gravity_edges(nodes, mass, spec["distance_decay"]).assign(year=year))
    if not frames:
        raise InputError(f"no year in network.gravity.year_range has at least 3 cities with {mass}.")
    return pd.concat(frames, ignore_index=True)[["year", "source", "target", "weight"]]


def edge_lengths(weight: np.ndarray, mapping: str = "inverse") -> np.ndarray:
    """Turn tie strengths into path lengths: 'inverse' ℓ = max(w) / w (strongest tie has length 1)."""
    if mapping != "inverse":
        raise InputError(f"network weight_to_distance '{mapping}' is not known; use 'inverse'.")
    return weight.max() / weight


def centralities(edges: pd.DataFrame, mapping: str = "inverse") -> pd.DataFrame:
    """DC, CC, BC (definitions in the module docstring) of one undirected weighted graph, via igraph.

    igraph's betweenness counts each unordered pair once (raw); it is divided by (n−1)(n−2)/2.
    A disconnected graph is an error: closeness across components is undefined in this definition.
    """
    import igraph as ig

    codes = np.union1d(edges["source"].to_numpy(), edges["target"].to_numpy())
    index = pd.Series(np.arange(len(codes)), index=codes)
    n = len(codes)
    graph = ig.Graph(n=n, edges=list(zip(index[edges["source"]].to_numpy(), index[edges["target"]].to_numpy())))
    if not graph.is_connected():
        sizes = sorted(graph.connected_components().sizes(), reverse=True)
        raise InputError(f"the network has {len(sizes)} components (sizes {sizes[:10]}); closeness needs a "
                         "connected graph. Check the network's edge list or use a backbone that keeps it connected.")
    weight = edges["weight"].to_numpy(dtype=float) / edges["weight"].max()
    length = edge_lengths(weight, mapping)
    strength = np.asarray(graph.strength(weights=weight), dtype=float)
    closeness = np.asarray(graph.closeness(weights=length), dtype=float)
    betweenness = np.asarray(graph.betweenness(weights=length, directed=False), dtype=float)
    pairs = (n - 1) * (n - 2) / 2
    return pd.DataFrame({"city_code": codes, "dc": strength / (n - 1), "cc": closeness,
                         "bc": betweenness / pairs if pairs else 0.0})


def centrality_panel(edges: pd.DataFrame, mapping: str = "inverse") -> pd.DataFrame:
    """Centralities for every year of an edge table: city_code, year, dc, cc, bc."""
    frames = [centralities(group, mapping).assign(year=year) for year, group in edges.groupby("year", sort=True)]
    return pd.concat(frames, ignore_index=True)[["city_code", "year", "dc", "cc", "bc"]]


def main(smk: Any) -> None:
    """Snakemake entry: gravity edges for every configured year, and their centralities."""
    import geopandas as gpd

    spec = smk.config["network"][smk.wildcards.net]
    edges = build_gravity_network(pd.read_parquet(smk.input.panel), gpd.read_parquet(smk.input.cities), spec)
    write_table(edges, smk.output.edges, ["year", "source", "target"])
    table = centrality_panel(edges, spec.get("weight_to_distance", "inverse"))
    write_table(table, smk.output.centrality, ["city_code", "year"])


if "snakemake" in globals():
    from scripts.common import run_rule

    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
