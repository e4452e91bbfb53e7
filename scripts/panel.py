"""Panel stage: read every configured source, map units to 2020 city codes, derive variables.

Outputs (schemas in README "Outputs"):
- ``panel.parquet``: city_code, year, province_code, one column per configured and derived variable;
- ``cities.parquet`` (GeoParquet, EPSG:4326): city_code, name_zh, name_en, province_zh, province_code, level,
  lon, lat (area centroid), geometry;
- ``attrition.csv``: what happened to every source unit at the join, and variable coverage per year.
"""

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scripts.common import InputError, format_rows, verify_sha256, write_table
from scripts.crosswalk import load_crosswalks, map_units
from scripts.retrieve import source_files
from scripts.sources import read_census_geometry, read_source

EQUAL_AREA_CHINA = "+proj=aea +lat_1=25 +lat_2=47 +lon_0=105 +ellps=WGS84 +units=m"
# Simplification of the boundaries drawn on maps (shapely.coverage_simplify's tolerance, degrees): the census
# boundaries have 192,323 vertices; at 0.02 about 54,000 remain, and no change is visible at the maps' 120 dpi
# (one pixel ≈ 0.06° of longitude) or in their PDFs, which shrink from 1.7 MB to 0.5 MB and draw twice as fast.
MAP_TOLERANCE = 0.02


def source_paths(config: dict[str, Any], source: str, raw_dir: str | Path) -> list[Path]:
    """Local paths of a source's files; each one's SHA-256 is checked again before it is read."""
    files = source_files(config, source)
    paths = [f.local_path(raw_dir) for f in files]
    for item, path in zip(files, paths):
        if not path.is_file():
            raise InputError(f"{path}: file of source '{source}' is missing; run the retrieve rule first.")
        verify_sha256(path, item.sha256)
    return paths


def unit_level(code: str) -> str:
    """Kind of census unit, from its code (GB/T 2260): SAR, municipality, county-level under a province, prefecture."""
    if code in ("810000", "820000"):
        return "special administrative region"
    if code in ("110100", "120100", "310100", "500100"):
        return "municipality"
    if code[2:4] == "90":
        return "county-level unit administered by the province"
    return "prefecture-level"


def build_cities(census: pd.DataFrame) -> Any:
    """Cities table from the census boundaries: geometry (repaired if invalid) and area centroid in lon/lat."""
    import geopandas as gpd
    from shapely import make_valid

    geometry = gpd.GeoSeries.from_wkt(census["wkt"], crs="EPSG:4326").apply(make_valid)
    cities = gpd.GeoDataFrame(census.drop(columns="wkt"), geometry=geometry, crs="EPSG:4326")
    centroids = cities.geometry.to_crs(EQUAL_AREA_CHINA).centroid.to_crs("EPSG:4326")
    cities["lon"], cities["lat"] = centroids.x.round(6), centroids.y.round(6)
    cities["level"] = cities["city_code"].map(unit_level)
    return cities


def english_names(table: pd.DataFrame, crosswalk: pd.DataFrame, universe: pd.DataFrame) -> pd.Series:
    """Latest English name per city_code from a source that carries one (CSMAR), cleaned of '(city)'.

    Only the source's own unit and renamed units (crosswalk rows without a validity window) give names,
    so a merged-in unit (e.g. Laiwu) never names its absorbing city.
    """
    latest = table.sort_values("year", kind="mergesort").groupby("source_code").last()["source_name"]
    renames = crosswalk[(crosswalk["city_code"] != "") & (crosswalk["valid_from"] == "") &
                        (crosswalk["valid_to"] == "")].set_index("source_code")["city_code"]
    codes = latest.index.map(lambda c: renames.get(c, c))
    clean = latest.str.replace(r"\s*\((city|province)\)\s*", "", regex=True).str.strip()
    out = pd.Series(clean.to_numpy(), index=codes)
    out = out[out.index.isin(universe["city_code"])]
    return out[~out.index.duplicated(keep="last")].sort_index()


def price_index(cpi: pd.DataFrame, column: str, base_year: int) -> pd.DataFrame:
    """Chain a 'last year = 100' CPI into a level index with P(base_year) = 1, per province.

    P_t = P_{t-1} · CPI_t / 100 for t > base, and P_{t-1} = P_t / (CPI_t / 100) for t ≤ base.
    """
    rows = []
    for province, group in cpi.groupby("source_code"):
        growth = group.set_index("year")[column].sort_index() / 100.0
        years = growth.index
        level = pd.Series(np.nan, index=years)
        if base_year not in years:
            continue
        level[base_year] = 1.0
        for year in years[years > base_year]:
            level[year] = level[year - 1] * growth[year] if year - 1 in level.index else np.nan
        for year in sorted(years[years <= base_year], reverse=True):
            if year - 1 in level.index:
                level[year - 1] = level[year] / growth[year]
        rows.append(pd.DataFrame({"province_code": province, "year": years, "price_index": level.to_numpy()}))
    return pd.concat(rows, ignore_index=True)


def derive(panel: pd.DataFrame, derived: dict[str, dict[str, Any]], prices: pd.DataFrame | None) -> pd.DataFrame:
    """Add derived variables, in config order.

    kinds: ``deflate`` (of / provincial price index → constant base-year prices), ``share``
    (of / Σ total, in %), ``sum`` (Σ total, missing if any term is), ``ratio`` (of / by × scale),
    ``index_from_growth`` (a growth rate g in % → the volume index 100 + g, previous year = 100), ``chain_index`` (a
    level at constant base-year prices chained from volume indices: see chain_index), ``first_available`` (per
    city-year the first of ``priority`` with a value), ``province_share`` and ``province_hhi`` (the city's share of
    its province's ``of``, the province's Herfindahl index: province_concentration).
    """
    out = panel.copy()
    if prices is not None:
        out = out.merge(prices, on=["province_code", "year"], how="left")
    for name, spec in derived.items():
        kind = spec["kind"]
        if kind == "deflate":
            out[name] = out[spec["of"]] / out["price_index"]
        elif kind == "share":
            out[name] = 100.0 * out[spec["of"]] / out[spec["total"]].sum(axis=1, min_count=len(spec["total"]))
        elif kind == "sum":
            out[name] = out[spec["total"]].sum(axis=1, min_count=len(spec["total"]))
        elif kind == "ratio":
            out[name] = out[spec["of"]] / out[spec["by"]] * float(spec.get("scale", 1.0))
        elif kind == "index_from_growth":
            out[name] = 100.0 + out[spec["of"]]
        elif kind == "chain_index":
            out[name] = chain_index(out, spec["index"], spec["level"], spec["base_year"])
        elif kind == "first_available":
            out[name] = first_available(out, spec["priority"])
        elif kind in ("province_share", "province_hhi"):
            out[name] = province_concentration(out, spec["of"], kind)
    return out.drop(columns=["price_index"], errors="ignore")


def province_concentration(panel: pd.DataFrame, of: str, kind: str) -> pd.Series:
    """Resource concentration within each province and year (Yao Chen 2024, §3.1, "unbalanced allocation of
    resources"), over the cities that report ``of``:

        province_share: 100 · x_i / Σ_{j ∈ p(i)} x_j            (the city's share of its province, %)
        province_hhi:   Σ_{j ∈ p(i)} (x_j / Σ_{k ∈ p(i)} x_k)²     (the province's Herfindahl index, 0–1, every city)

    A province-level municipality (one city) has share 100 and HHI 1; a city without ``of`` has neither."""
    groups = [panel["province_code"], panel["year"]]
    share = panel[of] / panel[of].groupby(groups).transform("sum")
    if kind == "province_share":
        return 100.0 * share
    return (share ** 2).groupby(groups).transform("sum").where(share.notna())


def first_available(panel: pd.DataFrame, columns: list[str]) -> pd.Series:
    """Per row, the value of the first column (in the given priority order) that has one."""
    return panel[columns].bfill(axis=1).iloc[:, 0]


def chain_index(panel: pd.DataFrame, index: list[str], level: list[str], base_year: int) -> pd.Series:
    """Real level at base-year prices chained from a volume index (previous year = 100), city by city:

        Y_b = nominal level in the base year b;  Y_t = Y_b · Π_{s=b+1..t} I_s/100 (t > b);
        Y_t = Y_b / Π_{s=t+1..b} I_s/100 (t < b)

    (the national accounts' chain-linking of volume indices; the implied deflator is city-specific). `index` and
    `level` list columns in priority order: each city-year takes the first that has a value (e.g. one compilation's
    index, then another's where the first has none). A missing index breaks the chain: years beyond the gap are
    missing, not bridged.
    """
    log_factor = np.log(first_available(panel, index) / 100.0)
    wide = pd.DataFrame({"city_code": panel["city_code"], "year": panel["year"], "f": log_factor}) \
        .pivot(index="city_code", columns="year", values="f").sort_index(axis=1)
    base = pd.Series(first_available(panel, level).to_numpy(), index=[panel["city_code"], panel["year"]]) \
        .xs(base_year, level="year").reindex(wide.index)
    after = wide.loc[:, wide.columns > base_year]
    before = wide.loc[:, wide.columns <= base_year].iloc[:, ::-1]
    forward = after.cumsum(axis=1, skipna=False)                          # Σ_{b<s≤t} ln I_s/100
    backward = before.cumsum(axis=1, skipna=False).shift(1, axis=1, fill_value=0.0)  # Σ_{t<s≤b} ln I_s/100
    logs = pd.concat([-backward, forward], axis=1).add(np.log(base), axis=0)
    chained = np.exp(logs).stack(future_stack=True).rename("value")
    return pd.Series(chained.reindex(pd.MultiIndex.from_arrays([panel["city_code"], panel["year"]])).to_numpy(),
                     index=panel.index)


def source_consistency(panel: pd.DataFrame, pairs: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """Where two sources of one quantity overlap, how far they differ, per city-year.

    ``relative``: |a/b − 1| (levels, e.g. nominal GDP from two compilations); ``points``: |a − b| (indices, e.g. the
    real growth index, previous year = 100). Rows: pair, city_code, year, variable_a, a, variable_b, b, difference,
    beyond_tolerance.
    """
    frames = []
    for name, spec in pairs.items():
        both = panel[["city_code", "year", spec["a"], spec["b"]]].dropna()
        a, b = both[spec["a"]], both[spec["b"]]
        difference = (a / b - 1).abs() if spec["measure"] == "relative" else (a - b).abs()
        frames.append(pd.DataFrame({"pair": name, "city_code": both["city_code"], "year": both["year"],
                                    "variable_a": spec["a"], "a": a, "variable_b": spec["b"], "b": b,
                                    "difference": difference, "beyond_tolerance": difference > spec["tolerance"]}))
    columns = ["pair", "city_code", "year", "variable_a", "a", "variable_b", "b", "difference", "beyond_tolerance"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def coverage_rows(panel: pd.DataFrame, variables: list[str]) -> pd.DataFrame:
    """Attrition rows: number of cities with a value, per variable and year."""
    counts = panel.groupby("year")[variables].count()
    rows = [{"stage": "coverage", "source": var, "outcome": f"cities with a value in {year}",
             "n_units": int(counts.at[year, var]), "units": "", "reason": ""}
            for var in variables for year in counts.index]
    return pd.DataFrame(rows)


def collapse_dates(table: pd.DataFrame, how: str, source: str, where: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A dated table (city × date) to city × year: per city and year, the ``how`` of each value column over the
    dates (first / last: of the dates in order, skipping missing values; mean, sum, max, min). Rows repeating a
    city-date with identical values are dropped and reported; a city-date with two different rows is an error.
    Returns (table keyed by source_code, year; attrition rows)."""
    values = [c for c in table.columns if c not in ("source_code", "date", "year", "source_name")]
    repeated = table.duplicated(keep="first")
    rows = []
    if repeated.any():
        units = table.loc[repeated, "source_code"].unique()
        rows.append({"stage": "read", "source": source, "outcome": "repeated city-date rows dropped",
                     "n_units": len(units), "units": ";".join(sorted(units)),
                     "reason": f"{int(repeated.sum())} rows repeat another row exactly (same unit, date and values)"})
    table = table[~repeated]
    clash = table.duplicated(["source_code", "date"], keep=False)
    if clash.any():
        shown = (table.loc[clash, "source_code"] + " on " + table.loc[clash, "date"].dt.strftime("%Y-%m-%d")).unique()
        raise InputError(f"{where}: {int(clash.sum())} rows give different values for the same unit and date "
                         f"({format_rows(shown)}); keep one row per unit and date.")
    ordered = table.sort_values(["source_code", "date"], kind="mergesort")
    grouped = ordered.groupby(["source_code", "year"], sort=True)
    out = grouped[values].agg(how).reset_index()   # pandas' names: first, last, mean, sum, max, min (schema enum)
    if "source_name" in ordered:
        out = out.merge(grouped["source_name"].first().reset_index(), on=["source_code", "year"])
    first, last = ordered["date"].min().strftime("%Y-%m-%d"), ordered["date"].max().strftime("%Y-%m-%d")
    rows.append({"stage": "read", "source": source, "outcome": f"dates aggregated to years ({how})",
                 "n_units": int(out["source_code"].nunique()), "units": "",
                 "reason": f"{len(ordered)} unit-date rows, {first} to {last}: the {how} per unit and year"})
    return out, pd.DataFrame(rows)


def join_variables(panel: pd.DataFrame, config: dict[str, Any], raw_dir: str | Path, crosswalk: pd.DataFrame,
                   universe: pd.DataFrame) -> tuple[pd.DataFrame, list[pd.DataFrame], pd.Series]:
    """Read each source once, map its units, left-join its variables onto the city × year grid.

    Returns (panel, attrition tables per source, English names by city_code).
    """
    first, last = config["years"]["start"], config["years"]["end"]
    attrition, names_en = [], pd.Series(dtype=str)
    by_source: dict[str, dict[str, str]] = {}
    for var, spec in config["variables"].items():
        by_source.setdefault(spec["source"], {})[var] = spec["column"]
    for source, columns in by_source.items():
        spec = config["sources"][source]
        table = read_source(source_paths(config, source, raw_dir), spec, sorted(set(columns.values())))
        if "date" in table:
            table, rows = collapse_dates(table, spec["date_aggregate"], source, f"sources.{source}")
            attrition.append(rows)
        if "source_name" in table:
            names_en = names_en.combine_first(english_names(table, crosswalk, universe))
            table = table.drop(columns="source_name")
        table = table[table["year"].between(first, last)]
        summed = {column for var, column in columns.items() if config["variables"][var].get("aggregate") == "sum"}
        mapped, rows = map_units(table, source, crosswalk, universe, by_name=spec.get("keys") == "name",
                                 summed=summed)
        attrition.append(rows)
        for var, column in columns.items():
            values = mapped[["city_code", "year", column]].rename(columns={column: var})
            values[var] *= float(config["variables"][var].get("scale", 1.0))   # unit conversion
            panel = panel.merge(values, on=["city_code", "year"], how="left")
    return panel, attrition, names_en


def build_panel(config: dict[str, Any], raw_dir: str | Path, crosswalk_paths: list[str | Path]):
    """Read, map and join every configured variable; return (panel, cities, attrition). `crosswalk_paths`: the
    built-in crosswalk, then the user's (scripts.crosswalk.load_crosswalks)."""
    crosswalk = load_crosswalks(crosswalk_paths)
    geo_source = config["geography"]["source"]
    census = read_census_geometry(source_paths(config, geo_source, raw_dir)[0], config["sources"][geo_source])
    cities = build_cities(census)
    universe = cities[["city_code", "name_zh"]]
    first, last = config["years"]["start"], config["years"]["end"]
    grid = pd.MultiIndex.from_product([cities["city_code"], range(first, last + 1)], names=["city_code", "year"])
    panel = pd.DataFrame(index=grid).reset_index()
    panel["province_code"] = panel["city_code"].str[:2] + "0000"

    panel, attrition, names_en = join_variables(panel, config, raw_dir, crosswalk, universe)
    prices = None
    if "price_index" in config:
        spec = config["price_index"]
        cpi = read_source(source_paths(config, spec["source"], raw_dir), config["sources"][spec["source"]],
                          [spec["column"]])
        prices = price_index(cpi, spec["column"], spec["base_year"])
    panel = derive(panel, config.get("derived", {}), prices)
    variables = [*config["variables"], *config.get("derived", {})]
    panel = panel[["city_code", "year", "province_code", *variables]]
    cities["name_en"] = cities["city_code"].map(names_en)
    cities = cities[["city_code", "name_zh", "name_en", "province_zh", "province_code", "level", "lon", "lat",
                     "geometry"]]
    return panel, cities, pd.concat([*attrition, coverage_rows(panel, variables)], ignore_index=True)


def map_geometries(cities: Any) -> Any:
    """The cities with their boundaries simplified for drawing (every other column unchanged). A border two cities
    share is simplified once for both (shapely.coverage_simplify: Visvalingam–Whyatt on the coverage's edges), so
    neighbours still meet without gaps or overlaps, as a polygon-by-polygon simplification would leave."""
    import shapely

    return cities.assign(geometry=shapely.coverage_simplify(cities.geometry.values, MAP_TOLERANCE))


def write_outputs(panel: pd.DataFrame, cities: Any, attrition: pd.DataFrame, output: Any,
                  consistency: dict[str, dict[str, Any]]) -> None:
    """Write the panel outputs deterministically, with the source-consistency table of the configured pairs and the
    cities with the boundaries every map draws (simplified once here: map_geometries)."""
    write_table(panel, output.panel, ["city_code", "year"])
    write_table(source_consistency(panel, consistency), output.consistency, ["pair", "city_code", "year"])
    cities = cities.sort_values("city_code").reset_index(drop=True)
    cities.to_parquet(output.cities, index=False)
    map_geometries(cities).to_parquet(output.map_cities, index=False)
    attrition.to_csv(output.attrition, index=False, lineterminator="\n")
