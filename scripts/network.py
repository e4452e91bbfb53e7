"""Network stage: build inter-city networks (edge lists per year) from config.

Kinds (``network.<name>.kind``):

- ``gravity`` (Zipf 1946; the common form in Chinese urban-network studies):
      M_i = (x_i1 · … · x_iK)^(1/K)                       mass: geometric mean of the configured variables
      G_ij = M_i · M_j / d_ij^b                           undirected (source < target)
  with ``directed: true`` the modified gravity model with the asymmetric coefficient
      G_i→j = k_ij · M_i · M_j / d_ij^b,   k_ij = A_i / (A_i + A_j)    A = ``asymmetry`` variable (default GDP)
  (e.g. Zhang et al. on Chinese urban agglomerations). d_ij is the great-circle distance (km) between area
  centroids, or read from ``distance_file`` (source, target, distance: travel time, economic distance …).
  Cities lacking a mass in a year are left out of that year's network and listed in the attrition table.
- ``flows``: observed directed flows from Baidu Qianxi outbound matrices (row i: % of i's outflow going to j —
  shares of the top partners, *not* volumes), averaged over the files whose date lies in ``window``; place
  names matched to city codes through the crosswalk (unmatched names reported, too many is an error).
- ``edges``: a user's OD/edge list (CSV/Parquet: source, target, weight, optional year), codes or names.

Every kind may then be thinned by a ``backbone``: ``none``; ``top_k`` (each node keeps its k strongest ties,
out-ties if directed); ``quantile`` (ties with weight ≥ the q-quantile of the year); ``disparity`` (Serrano,
Boguñá & Vespignani 2009, PNAS 106: keep ij if α_ij = (1 − p_ij)^(k_i − 1) < alpha at either end, p_ij = w_ij/s_i).
Output: ``edges.parquet`` (year, source, target, weight) and ``attrition.csv``.
"""
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scripts.common import InputError, format_rows, require_columns
from scripts.crosswalk import map_unit_ids
from scripts.sources import file_date, mean_flow_matrix, read_any, require_filled, to_numbers, to_whole_numbers

EARTH_RADIUS_KM = 6371.0088
EDGE_COLUMNS = ["year", "source", "target", "weight"]


def is_directed(spec: dict[str, Any]) -> bool:
    """Flows are directed; gravity and user edge lists only when ``directed: true``."""
    return bool(spec.get("directed", spec["kind"] == "flows"))


def great_circle_km(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Pairwise haversine distances (km) between points given in degrees."""
    lon, lat = np.radians(lon), np.radians(lat)
    dlon = lon[:, None] - lon[None, :]
    dlat = lat[:, None] - lat[None, :]
    a = np.sin(dlat / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def distance_matrix(nodes: pd.DataFrame, distances: pd.DataFrame | None) -> np.ndarray:
    """Great-circle km between the nodes' centroids, or the user's distances (every pair required)."""
    codes = nodes["city_code"].to_numpy()
    if distances is None:
        matrix = great_circle_km(nodes["lon"].to_numpy(), nodes["lat"].to_numpy())
        i, j = np.triu_indices(len(codes), k=1)
        same = matrix[i, j] <= 0
        if same.any():
            pairs = [f"{codes[a]}/{codes[b]}" for a, b in zip(i[same], j[same])]
            raise InputError(f"cities at the same coordinates (zero gravity distance): {format_rows(pairs)}. "
                             "Check their boundaries/centroids in cities.parquet.")
        return matrix
    wide = both_directions(distances).drop_duplicates(["source", "target"]).pivot(index="source", columns="target", values="distance")
    matrix = wide.reindex(index=codes, columns=codes).to_numpy(dtype=float, copy=True)
    np.fill_diagonal(matrix, np.inf)
    missing = np.argwhere(np.isnan(matrix))
    if len(missing):
        pairs = [f"{codes[a]}/{codes[b]}" for a, b in missing if a < b]
        raise InputError(f"distance_file lacks {len(pairs)} city pairs ({format_rows(pairs)}); it must cover "
                         "every pair of cities in the network.")
    if (matrix <= 0).any():
        raise InputError("distance_file has zero or negative distances; every pair needs a positive distance.")
    return matrix


def gravity_edges(nodes: pd.DataFrame, mass_columns: list[str], decay: float, directed: bool = False,
                  asymmetry: str | None = None, distances: pd.DataFrame | None = None) -> pd.DataFrame:
    """Gravity edges for one year (formulas in the module docstring): source, target, weight."""
    nodes = nodes.sort_values("city_code").reset_index(drop=True)
    values = nodes[mass_columns].to_numpy(dtype=float)
    bad = ~(values > 0).all(axis=1)
    if bad.any():
        raise InputError(f"gravity masses {mass_columns} must be positive and present; not so for city_code "
                         f"{format_rows(nodes.loc[bad, 'city_code'])}.")
    mass = np.exp(np.log(values).mean(axis=1))
    distance = distance_matrix(nodes, distances)
    codes = nodes["city_code"].to_numpy()
    if not directed:
        i, j = np.triu_indices(len(nodes), k=1)
        return pd.DataFrame({"source": codes[i], "target": codes[j],
                             "weight": mass[i] * mass[j] / distance[i, j] ** decay})
    share = nodes[asymmetry].to_numpy(dtype=float)
    i, j = np.nonzero(~np.eye(len(nodes), dtype=bool))
    k = share[i] / (share[i] + share[j])
    return pd.DataFrame({"source": codes[i], "target": codes[j],
                         "weight": k * mass[i] * mass[j] / distance[i, j] ** decay})


def build_gravity(panel: pd.DataFrame, cities: pd.DataFrame, spec: dict[str, Any],
                  distances: pd.DataFrame | None = None, where: str = "gravity network") -> tuple[pd.DataFrame,
                                                                                                pd.DataFrame]:
    """Gravity edges for every year in the range, thinned year by year by the spec's backbone (a county-scale
    complete graph has 4 M ties a year: never hold all years unthinned), and attrition rows for cities lacking
    a mass."""
    variables = list(dict.fromkeys([*spec["mass"], *([spec.get("asymmetry", "gdp")] if spec.get("directed") else [])]))
    missing_columns = [v for v in variables if v not in panel]
    if missing_columns:
        raise InputError(f"gravity variables {missing_columns} are not panel columns; add them under variables.")
    located = panel.merge(cities[["city_code", "lon", "lat"]], on="city_code", how="inner")
    frames, rows = [], []
    for year in range(spec["year_range"]["start"], spec["year_range"]["end"] + 1):
        this_year = located[located["year"] == year]
        complete = this_year[variables].notna().all(axis=1)
        nodes = this_year[complete]
        if len(nodes) < 3:
            raise InputError(f"gravity network in {year}: only {len(nodes)} cities have all of {variables}; "
                             "narrow network.<name>.year_range or choose other masses.")
        rows.append({"year": year, "outcome": "no mass", "n_units": int((~complete).sum()),
                     "units": ";".join(sorted(this_year.loc[~complete, "city_code"]))})
        edges = gravity_edges(nodes, spec["mass"], spec["distance_decay"], spec.get("directed", False),
                              spec.get("asymmetry", "gdp"), distances)
        kept = backbone(edges, spec.get("backbone", {"method": "none"}), spec.get("directed", False))
        check_no_isolates(kept, sorted(nodes["city_code"]), f"{where}, {year}")
        frames.append(kept.assign(year=year))
    return pd.concat(frames, ignore_index=True)[EDGE_COLUMNS], pd.DataFrame(rows)


def read_flow_matrices(paths: list[Path], window: dict[str, str], encoding: str = "utf-8") -> pd.DataFrame:
    """Mean origin → destination share over the files dated inside the window: source, target, weight (names)."""
    chosen = [p for p in paths if window["start"] <= file_date(p) <= window["end"]]
    if not chosen:
        raise InputError(f"no flow file dated within {window['start']}..{window['end']}; the source's files are "
                         f"dated {format_rows(sorted(file_date(p) for p in paths))}.")
    mean = mean_flow_matrix(chosen, encoding).stack()
    mean.index.names = ["source", "target"]
    edges = mean.rename("weight").reset_index()
    return edges[(edges["weight"] > 0) & (edges["source"] != edges["target"])]


def map_edge_ends(edges: pd.DataFrame, source_name: str, crosswalk: pd.DataFrame, universe: pd.DataFrame,
                  by_name: bool, max_unknown_share: float, where: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Map both ends of an edge list to city codes; drop edges with an unmapped end; sum merged pairs.

    Unknown ids are reported; if more than `max_unknown_share` of the ids are unknown the file does not
    match the geography (wrong name language, wrong code system) and the run stops.
    """
    ids = pd.Series(pd.unique(pd.concat([edges["source"], edges["target"]])))
    unit_map, attrition = map_unit_ids(ids, source_name, crosswalk, universe, by_name)
    unknown = unit_map.loc[unit_map["outcome"] == "unknown id", "source_code"]
    if len(unknown) > max_unknown_share * len(ids):
        raise InputError(f"{where}: {len(unknown)} of {len(ids)} place ids match no city "
                         f"({format_rows(sorted(unknown))}). Is the file keyed by {'Chinese names' if by_name else '6-digit codes'}? "
                         "Fix the file or add the ids to data/crosswalk/city_codes.csv.")
    usable = unit_map["outcome"].isin(["matched", "recoded by crosswalk"])
    lookup = unit_map[usable].set_index("source_code")["city_code"]
    mapped = edges.assign(source=edges["source"].map(lookup), target=edges["target"].map(lookup))
    mapped = mapped[mapped["source"].notna() & mapped["target"].notna() & (mapped["source"] != mapped["target"])]
    keys = [c for c in ("year", "source", "target") if c in mapped]
    return mapped.groupby(keys, as_index=False)["weight"].sum(), attrition


def read_edge_file(path: str, columns: dict[str, str]) -> pd.DataFrame:
    """A user's edge list (CSV, Excel or Parquet) as source, target (text), weight[, year], indexed by file row
    (header = row 1). An empty end or year, or a non-numeric weight (often a vendor's note row), names its rows."""
    parquet = str(path).endswith(".parquet")
    raw = pd.read_parquet(path).reset_index(drop=True) if parquet else read_any(path)
    keys = ["source", "target", "weight", *(["year"] if "year" in columns else [])]
    require_columns(raw, [columns[k] for k in keys], str(path))
    first_row = 1 if parquet else 2
    require_filled(raw, [columns["source"], columns["target"]], str(path), first_row)
    frame = pd.DataFrame({k: raw[columns[k]].astype(str).str.strip() for k in ("source", "target")})
    frame["weight"] = to_numbers(raw[[columns["weight"]]], [columns["weight"]], str(path), first_row)[columns["weight"]]
    if "year" in columns:
        frame.insert(0, "year", to_whole_numbers(raw, columns["year"], str(path), first_row))
    return frame.set_axis(raw.index + first_row)


def read_distance_file(path: str, columns: dict[str, str]) -> pd.DataFrame:
    """A gravity network's ``distance_file`` as source, target, distance; two different cities need a positive
    distance (gravity divides by it), else the error names the pairs and their file rows."""
    distances = read_edge_file(path, columns).rename(columns={"weight": "distance"})
    bad = ~(distances["distance"] > 0) & (distances["source"] != distances["target"])
    if bad.any():
        shown = [f"{s}→{t} = {d:g} (row {row})" for row, s, t, d in
                 distances.loc[bad, ["source", "target", "distance"]].itertuples()]
        raise InputError(f"{path}: column '{columns['weight']}' has {int(bad.sum())} zero, negative or empty "
                         f"distance(s) between two different cities ({format_rows(shown, 8)}). Correct those rows "
                         "(two cities cannot be 0 apart: check for a wrong or duplicated code) or delete them if "
                         "they are notes; every pair of cities needs a positive distance.")
    return distances


def check_edges(edges: pd.DataFrame, where: str) -> None:
    """Self-loops, negative or missing weights, and duplicate edges are errors naming the rows."""
    problems = {
        "self-loop": edges["source"] == edges["target"],
        "missing weight": edges["weight"].isna(),
        "negative weight": edges["weight"] < 0,
        "duplicate edge": edges.duplicated(["year", "source", "target"], keep=False),
    }
    for label, mask in problems.items():
        if mask.any():
            shown = edges.loc[mask, ["year", "source", "target"]].astype(str).agg("/".join, axis=1)
            raise InputError(f"{where}: {int(mask.sum())} edge(s) with a {label} ({format_rows(shown, 8)}). "
                             "Remove or correct those rows.")


def both_directions(edges: pd.DataFrame) -> pd.DataFrame:
    """An undirected edge list with every tie also written target → source."""
    return pd.concat([edges, edges.rename(columns={"source": "target", "target": "source"})], ignore_index=True)


def top_k_mask(edges: pd.DataFrame, k: int, directed: bool) -> np.ndarray:
    """Edges among each node's k strongest outgoing ties (undirected: a tie kept by either end); ties in weight
    broken by the target's code. Integer-coded and sorted once with numpy: a county-scale complete graph has
    8 M tie ends per year, too many for a pandas sort on string codes."""
    m = len(edges)
    _, ends = np.unique(np.concatenate([edges["source"].to_numpy(), edges["target"].to_numpy()]), return_inverse=True)
    source, target, weight = ends[:m], ends[m:], edges["weight"].to_numpy(dtype=float)
    owner = np.arange(m)
    if not directed:
        source, target = np.concatenate([source, target]), np.concatenate([target, source])
        weight, owner = np.concatenate([weight, weight]), np.concatenate([owner, owner])
    order = np.lexsort((target, -weight, source))      # by source, then weight descending, then target
    first = np.r_[0, np.flatnonzero(np.diff(source[order])) + 1]
    rank = np.arange(len(order)) - np.repeat(first, np.diff(np.r_[first, len(order)]))
    keep = np.zeros(m, dtype=bool)
    keep[owner[order[rank < k]]] = True
    return keep


def backbone(edges: pd.DataFrame, spec: dict[str, Any], directed: bool) -> pd.DataFrame:
    """Thin one year's edges (method in the module docstring); weights of kept edges are unchanged."""
    method = spec.get("method", "none")
    if method == "none":
        return edges
    if method == "quantile":
        return edges[edges["weight"] >= edges["weight"].quantile(spec["q"])]
    if method == "top_k":
        return edges[top_k_mask(edges, spec["k"], directed)]
    if method == "disparity":
        return edges[disparity_alpha(edges, directed) < spec["alpha"]]
    raise InputError(f"unknown backbone method '{method}'; use none, top_k, quantile or disparity.")


def _end_alpha(weight: np.ndarray, node: pd.Series, strength: pd.Series, degree: pd.Series) -> np.ndarray:
    p = weight / node.map(strength).to_numpy()
    k = node.map(degree).to_numpy()
    return np.where(k > 1, (1 - p) ** (k - 1), 0.0)


def disparity_alpha(edges: pd.DataFrame, directed: bool) -> pd.Series:
    """Disparity-filter α of each edge: the smaller of its α at the two ends (Serrano et al. 2009, eq. 2).

    α_ij = (1 − p_ij)^(k_i − 1), p_ij = w_ij / s_i, s and k the strength and degree of the end node (directed:
    out-ties at the source, in-ties at the target). A node with a single tie keeps it (α = 0). Written here
    because no maintained Python graph library ships the filter.
    """
    weight = edges["weight"].to_numpy(dtype=float)
    if directed:
        out_ties, in_ties = edges.groupby("source")["weight"], edges.groupby("target")["weight"]
        at_source = _end_alpha(weight, edges["source"], out_ties.sum(), out_ties.size())
        at_target = _end_alpha(weight, edges["target"], in_ties.sum(), in_ties.size())
    else:
        ties = both_directions(edges).groupby("source")["weight"]
        at_source = _end_alpha(weight, edges["source"], ties.sum(), ties.size())
        at_target = _end_alpha(weight, edges["target"], ties.sum(), ties.size())
    return pd.Series(np.minimum(at_source, at_target), index=edges.index)


def tied_nodes(edges: pd.DataFrame) -> set[str]:
    """The codes at either end of at least one tie (from the columns' unique values: iterating an Arrow-backed string
    column of a complete graph's 84,000 ties, as set() would, takes ~60× longer)."""
    return set(edges["source"].unique()) | set(edges["target"].unique())


def check_no_isolates(edges: pd.DataFrame, nodes: list[str], where: str) -> None:
    """Every node of the year must keep at least one tie (closeness and betweenness need it)."""
    isolated = sorted(set(nodes) - tied_nodes(edges))
    if isolated:
        raise InputError(f"{where}: {len(isolated)} isolated node(s) with no tie ({format_rows(isolated)}). Use the "
                         "top_k backbone (keeps k ties per node), a lower quantile, or remove those cities.")


def build_network(spec: dict[str, Any], name: str, panel: pd.DataFrame, cities: pd.DataFrame,
                  crosswalk: pd.DataFrame, paths: list[Path]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Edges (year, source, target, weight) and attrition rows for one configured network."""
    kind, directed = spec["kind"], is_directed(spec)
    universe = cities[["city_code", "name_zh"]]
    where = f"network '{name}'"
    if kind == "gravity":
        distances = None
        if spec.get("distance_file"):
            distances = read_distance_file(spec["distance_file"]["path"], spec["distance_file"]["columns"])
        return build_gravity(panel, cities, spec, distances, where)
    if kind == "flows":
        raw = read_flow_matrices(paths, spec["window"], spec.get("encoding", "utf-8")).assign(year=spec["year"])
    else:
        raw = read_edge_file(spec["path"], spec["columns"])
        if "year" not in raw:
            raw["year"] = spec["year"]
    check_edges(raw.assign(year=raw["year"].astype(int)), where)
    edges, attrition = map_edge_ends(raw, spec.get("crosswalk_source", name), crosswalk, universe,
                                     spec.get("keys", "name" if kind == "flows" else "code") == "name",
                                     spec.get("max_unknown_share", 0.1), where)
    edges = edges[edges["weight"] > 0]  # mapping drops self-loops and sums duplicate pairs
    thinned = [backbone(group, spec.get("backbone", {"method": "none"}), directed)
               for _, group in edges.groupby("year", sort=True)]
    return pd.concat(thinned, ignore_index=True)[EDGE_COLUMNS], attrition
