"""Spatial weights: queen contiguity from the census boundaries, islands reported and handled by policy.

The stage writes the *binary* neighbour list of the whole geography (``focal, neighbor, weight = 1``) plus a
summary; estimation subsets it to its sample and row-standardises there (w_ij = c_ij / Σ_j c_ij, Anselin
1988), because dropping units changes every row sum. Island policy after subsetting: ``error``, ``drop``
(leave islands out of the spatial model) or ``nearest`` (link each island to its nearest centroid, the
k = 1 neighbour, as libpysal.weights.attach_islands does).
"""

from typing import Any

import numpy as np
import pandas as pd

from scripts.common import InputError, format_rows, write_json, write_table


def queen_table(cities: Any) -> pd.DataFrame:
    """Queen contiguity (shared vertex or edge) as a binary long table focal, neighbor, weight."""
    from libpysal.weights import Queen

    cities = cities.sort_values("city_code").reset_index(drop=True)
    w = Queen.from_dataframe(cities, ids=cities["city_code"].tolist(), use_index=False, silence_warnings=True)
    rows = [(focal, neighbor) for focal in w.id_order for neighbor in w.neighbors[focal]]
    return pd.DataFrame(rows, columns=["focal", "neighbor"]).assign(weight=1.0)


def summarize(table: pd.DataFrame, codes: list[str]) -> dict[str, Any]:
    """Neighbour counts, islands and connected components of a binary neighbour table over `codes`."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    index = {c: k for k, c in enumerate(sorted(codes))}
    counts = table.groupby("focal").size().reindex(sorted(codes), fill_value=0)
    matrix = coo_matrix((np.ones(len(table)), (table["focal"].map(index), table["neighbor"].map(index))),
                        shape=(len(index), len(index)))
    n_components, _ = connected_components(matrix, directed=False)
    return {"n": len(codes), "links": int(len(table)), "mean_neighbors": round(float(counts.mean()), 6),
            "min_neighbors": int(counts.min()), "max_neighbors": int(counts.max()),
            "islands": sorted(counts.index[counts == 0].tolist()), "components": int(n_components)}


def sample_weights(table: pd.DataFrame, codes: list[str], cities: pd.DataFrame, island_policy: str):
    """Row-standardised libpysal W over `codes` (sorted) from the binary table, applying the island policy.

    Returns (W, kept codes, report dict). With 'nearest' each island gets its nearest centroid (great-circle)
    among the sample as a neighbour, symmetrically.
    """
    from libpysal.weights import W

    from scripts.network import great_circle_km

    codes = sorted(codes)
    sub = table[table["focal"].isin(codes) & table["neighbor"].isin(codes)]
    neighbors = {c: sorted(sub.loc[sub["focal"] == c, "neighbor"]) for c in codes}
    islands = [c for c in codes if not neighbors[c]]
    report = {"policy": island_policy, "islands": islands}
    if islands and island_policy == "error":
        raise InputError(f"spatial weights: {len(islands)} island(s) in the sample ({format_rows(islands)}). "
                         "Set weights.<name>.island_policy to 'drop' or 'nearest'.")
    if islands and island_policy == "drop":
        codes = [c for c in codes if c not in islands]
        neighbors = {c: [n for n in neighbors[c] if n in codes] for c in codes}
    elif islands and island_policy == "nearest":
        xy = cities.set_index("city_code").loc[codes, ["lon", "lat"]].to_numpy()
        distance = great_circle_km(xy[:, 0], xy[:, 1])
        np.fill_diagonal(distance, np.inf)
        for island in islands:
            nearest = codes[int(np.argmin(distance[codes.index(island)]))]
            neighbors[island] = sorted(set(neighbors[island]) | {nearest})
            neighbors[nearest] = sorted(set(neighbors[nearest]) | {island})
        report["attached_to"] = {c: neighbors[c] for c in islands}
    w = W(neighbors, id_order=codes, silence_warnings=True)
    w.transform = "r"
    return w, codes, report


def main(smk: Any) -> None:
    """Snakemake entry: queen neighbours of the geography and their summary."""
    import geopandas as gpd

    spec = smk.config["weights"][smk.wildcards.w]
    if spec["kind"] != "queen":
        raise InputError(f"weights.{smk.wildcards.w}.kind '{spec['kind']}' is not built yet; use 'queen'.")
    cities = gpd.read_parquet(smk.input.cities)
    table = queen_table(cities)
    write_table(table, smk.output.weights, ["focal", "neighbor"])
    write_json(summarize(table, cities["city_code"].tolist()), smk.output.summary)


if "snakemake" in globals():
    from scripts.common import run_rule

    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
