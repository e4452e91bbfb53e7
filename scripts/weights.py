"""Spatial weights: contiguity, k-nearest, distance band, economic distance and nested matrices.

Kinds (``weights.<name>.kind``), raw weights c_ij before row-standardisation:
- ``queen`` / ``rook``: c_ij = 1 if the boundaries share a vertex / an edge (libpysal);
- ``knn``: c_ij = 1 for the k nearest centroids by great-circle distance (asymmetric); the file keeps every pair
  with its ``rank`` so that each sample re-selects its own k nearest;
- ``distance_band``: c_ij = d_ij^(−power) for d_ij ≤ band_km (great-circle km);
- ``economic``: c_ij = 1 / |x_i − x_j| for a panel variable x in a year (e.g. GDP per capita; a common
  "economic distance" matrix in Chinese regional studies), all pairs of cities with x;
- ``nested``: c_ij = c^geo_ij · c^econ_ij, the element-wise product of two named matrices (geographic × economic).

The weights stage writes the raw table (focal, neighbor, weight) over the whole geography after applying the
island policy, plus a summary; estimation and Moran's I subset it to their sample, re-apply the policy and
row-standardise there (w_ij = c_ij / Σ_j c_ij; Anselin 1988), because dropping units changes row sums.
Island policy: ``error`` (stop, naming them), ``drop`` (leave them out), ``nearest`` (link each island to its
nearest centroid both ways, with the smallest positive weight of the matrix, i.e. a weak tie).
"""
from typing import Any

import numpy as np
import pandas as pd

from scripts.common import InputError, format_rows
from scripts.network import great_circle_km

TABLE_COLUMNS = ["focal", "neighbor", "weight"]


def contiguity_table(cities: Any, rook: bool = False) -> pd.DataFrame:
    """Queen (shared vertex) or rook (shared edge) contiguity as a binary long table."""
    from libpysal.weights import Queen, Rook

    cities = cities.sort_values("city_code").reset_index(drop=True)
    builder = Rook if rook else Queen
    w = builder.from_dataframe(cities, ids=cities["city_code"].tolist(), use_index=False, silence_warnings=True)
    rows = [(focal, neighbor) for focal in w.id_order for neighbor in w.neighbors[focal]]
    return pd.DataFrame(rows, columns=["focal", "neighbor"]).assign(weight=1.0)


def _pairs(codes: np.ndarray, mask: np.ndarray, values: np.ndarray) -> pd.DataFrame:
    i, j = np.nonzero(mask)
    return pd.DataFrame({"focal": codes[i], "neighbor": codes[j], "weight": values[i, j]})


def knn_table(cities: pd.DataFrame) -> pd.DataFrame:
    """Every ordered pair with weight 1 and ``rank`` (1 = nearest centroid by great-circle distance; ties by code).

    All pairs are kept so that a sample can take *its* k nearest (``active_links``): the k nearest units of the
    whole geography may be missing from an estimation sample.
    """
    cities = cities.sort_values("city_code")
    distance = great_circle_km(cities["lon"].to_numpy(), cities["lat"].to_numpy())
    np.fill_diagonal(distance, np.inf)
    rank = np.argsort(np.argsort(distance, axis=1, kind="stable"), axis=1, kind="stable") + 1
    table = _pairs(cities["city_code"].to_numpy(), np.isfinite(distance), np.ones_like(distance))
    return table.assign(rank=rank[np.isfinite(distance)])


def active_links(table: pd.DataFrame, codes: list[str], spec: dict[str, Any]) -> pd.DataFrame:
    """Links among `codes`; for knn, each unit's k nearest among them."""
    table = table[table["focal"].isin(codes) & table["neighbor"].isin(codes)]
    if spec["kind"] == "knn":
        table = table.sort_values(["focal", "rank"], kind="mergesort").groupby("focal").head(spec["k"])
    return table


def distance_band_table(cities: pd.DataFrame, band_km: float, power: float) -> pd.DataFrame:
    """c_ij = d_ij^(−power) for 0 < d_ij ≤ band_km."""
    cities = cities.sort_values("city_code")
    distance = great_circle_km(cities["lon"].to_numpy(), cities["lat"].to_numpy())
    np.fill_diagonal(distance, np.inf)
    with np.errstate(divide="ignore"):
        values = distance ** (-power)
    return _pairs(cities["city_code"].to_numpy(), distance <= band_km, values)


def economic_table(panel: pd.DataFrame, variable: str, year: int) -> pd.DataFrame:
    """c_ij = 1 / |x_i − x_j| over the cities with x in `year`; equal values are an error (infinite weight)."""
    if variable not in panel:
        raise InputError(f"economic weights: '{variable}' is not a panel variable.")
    values = panel.loc[(panel["year"] == year) & panel[variable].notna(), ["city_code", variable]]
    values = values.sort_values("city_code")
    x = values[variable].to_numpy(dtype=float)
    gap = np.abs(x[:, None] - x[None, :])
    np.fill_diagonal(gap, np.inf)
    if (gap == 0).any():
        i, j = np.argwhere(gap == 0)[0]
        codes = values["city_code"].to_numpy()
        raise InputError(f"economic weights: {codes[i]} and {codes[j]} have the same {variable} in {year}; "
                         "1/|gap| is infinite. Use another variable or year.")
    return _pairs(values["city_code"].to_numpy(), np.isfinite(gap), 1.0 / gap)


def raw_table(name: str, specs: dict[str, Any], cities: Any, panel: pd.DataFrame) -> pd.DataFrame:
    """Raw (unstandardised) weights of the named spec, before any island policy."""
    spec = specs[name]
    kind = spec["kind"]
    if kind in ("queen", "rook"):
        return contiguity_table(cities, rook=kind == "rook")
    if kind == "knn":
        return knn_table(cities)
    if kind == "distance_band":
        return distance_band_table(cities, spec["band_km"], spec.get("power", 1.0))
    if kind == "economic":
        return economic_table(panel, spec["variable"], spec["year"])
    if kind == "nested":
        geo = raw_table(spec["geographic"], specs, cities, panel)
        econ = raw_table(spec["economic"], specs, cities, panel)
        both = geo.merge(econ, on=["focal", "neighbor"], suffixes=("_geo", "_econ"))
        return both.assign(weight=both["weight_geo"] * both["weight_econ"])[TABLE_COLUMNS]
    raise InputError(f"weights.{name}.kind '{kind}' is not known.")


def apply_island_policy(table: pd.DataFrame, codes: list[str], cities: pd.DataFrame, spec: dict[str, Any],
                        name: str, where: str) -> tuple[pd.DataFrame, list[str], dict[str, Any]]:
    """Active links among `codes` with units lacking neighbours handled; returns (table, kept codes, report).
    `name` is the matrix's key under ``weights`` in config.yaml, `where` the use (whole geography, a sample)."""
    codes = sorted(codes)
    policy = spec["island_policy"]
    table = active_links(table, codes, spec)[TABLE_COLUMNS]
    islands = sorted(set(codes) - set(table["focal"].tolist()))
    report: dict[str, Any] = {"policy": policy, "islands": islands}
    if not islands:
        return table, codes, report
    if policy == "error":
        raise InputError(f"weights.{name} ({where}): {len(islands)} island(s), cities without neighbours "
                         f"({format_rows(islands)}), and weights.{name}.island_policy is 'error'. In config.yaml set "
                         f"weights.{name}.island_policy to 'drop' (leave them out) or 'nearest' (link each to its "
                         "nearest city), or choose a weights kind that links them.")
    if policy == "drop":
        kept = [c for c in codes if c not in islands]
        return table[table["focal"].isin(kept) & table["neighbor"].isin(kept)], kept, report
    xy = cities.set_index("city_code").loc[codes, ["lon", "lat"]].to_numpy()
    distance = great_circle_km(xy[:, 0], xy[:, 1])
    np.fill_diagonal(distance, np.inf)
    weak = float(table["weight"].min()) if len(table) else 1.0
    links = []
    for island in islands:
        nearest = codes[int(np.argmin(distance[codes.index(island)]))]
        links += [(island, nearest, weak), (nearest, island, weak)]
        report.setdefault("attached_to", {})[island] = nearest
    added = pd.DataFrame(links, columns=TABLE_COLUMNS)
    table = pd.concat([table, added]).drop_duplicates(["focal", "neighbor"], keep="first")
    return table, codes, report


def to_libpysal(table: pd.DataFrame, codes: list[str]):
    """Row-standardised libpysal W in the order of `codes`."""
    from libpysal.weights import W

    ordered = table.sort_values(["focal", "neighbor"])
    neighbors: dict[str, list] = {c: [] for c in codes}
    weights: dict[str, list] = {c: [] for c in codes}
    # plain lists first: element access on Arrow-backed string columns is slow, a per-focal groupby slower still
    for focal, neighbor, weight in zip(ordered["focal"].tolist(), ordered["neighbor"].tolist(),
                                       ordered["weight"].astype(float).tolist()):
        if focal in neighbors:
            neighbors[focal].append(neighbor)
            weights[focal].append(weight)
    w = W(neighbors, weights, id_order=codes, silence_warnings=True)
    w.transform = "r"
    return w


def sample_weights(table: pd.DataFrame, codes: list[str], cities: pd.DataFrame, spec: dict[str, Any], name: str,
                   where: str = "estimation sample"):
    """Row-standardised W over a sample (links re-selected, island policy re-applied); (W, kept codes, report).
    `name` is the matrix's key under ``weights`` in config.yaml, `where` what the sample is for (named in errors)."""
    unknown = sorted(set(codes) - set(cities["city_code"]))
    if unknown:
        raise InputError(f"weights.{name} ({where}): {len(unknown)} sample cities are not in the weights' "
                         f"geography ({format_rows(unknown)}); the weights and the sample come from "
                         "different city lists — rebuild the weights from the same panel "
                         "(results/shared/data/<key>/panel.parquet).")
    table, kept, report = apply_island_policy(table, codes, cities, spec, name, where)
    return to_libpysal(table, kept), kept, report


def summarize(table: pd.DataFrame, codes: list[str]) -> dict[str, Any]:
    """Neighbour counts, islands, connected components and asymmetry of a weights table over `codes`."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    index = {c: k for k, c in enumerate(sorted(codes))}
    counts = table.groupby("focal").size().reindex(sorted(codes), fill_value=0)
    matrix = coo_matrix((np.ones(len(table)), (table["focal"].map(index), table["neighbor"].map(index))),
                        shape=(len(index), len(index)))
    n_components, _ = connected_components(matrix, directed=True, connection="weak")
    pairs = set(zip(table["focal"].tolist(), table["neighbor"].tolist()))   # lists: Arrow strings iterate slowly
    return {"n": len(codes), "links": len(table), "mean_neighbors": round(float(counts.mean()), 6),
            "min_neighbors": int(counts.min()), "max_neighbors": int(counts.max()),
            "islands": sorted(counts.index[counts == 0].tolist()), "components": int(n_components),
            "symmetric": all((b, a) in pairs for a, b in pairs)}


def build_weights(name: str, specs: dict[str, Any], cities: Any, panel: pd.DataFrame):
    """Raw weights over the whole geography with the island policy applied; (table, summary)."""
    raw = raw_table(name, specs, cities, panel)
    economic = specs[name]["kind"] in ("economic", "nested")  # only cities with the economic variable take part
    universe = sorted(set(raw["focal"].tolist()) | set(raw["neighbor"].tolist())) if economic else \
        sorted(cities["city_code"].tolist())
    before = summarize(active_links(raw, universe, specs[name]), universe)
    table, kept, report = apply_island_policy(raw, universe, cities, specs[name], name, "whole geography")
    summary = {**before, "island_policy": report, "after_policy": summarize(table, kept)}
    if "rank" in raw:  # knn: keep every ranked pair so samples can re-select their k nearest
        table = raw[raw["focal"].isin(kept) & raw["neighbor"].isin(kept)]
    return table, summary
