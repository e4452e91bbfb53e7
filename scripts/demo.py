"""Embedded demo: a synthetic geography and panel with planted effects of centrality on resilience.

Runs offline anywhere and writes the same three files as the panel stage (panel.parquet, cities.parquet,
attrition.csv), so every later stage runs unchanged. What is planted (all documented in the README):

- cities: an n_rows × n_cols grid of 0.5° squares from (100°E, 25°N), so queen contiguity is the grid's;
- every configured variable v: ln v_it = a_iv + g_iv · (t − start) + e_ivt, with a ~ N(ln 100, 1),
  g ~ U(0.02, 0.08), e ~ N(0, 0.005²): smooth positive series, so log-linear trends fit well;
- the modelled outcome Y (config models.outcome) follows its trend until the pre-period ends; then
      ln Y_i,shock    = trend_i,shock    + gap_i
      ln Y_i,recovery = trend_i,recovery + gap_i / 2 + u_i
      gap_i = −0.05 + β_DC z(DC_i) + β_CC z(CC_i) + β_BC z(BC_i) + ε_i,   ε, u ~ N(0, noise_sd²)
  where DC, CC, BC are the measures models.centralities names, computed by the pipeline's own code (engine and
  backbone as configured) on the models' network in the centrality year (models.centrality_year),
  z-scored over all demo cities. Controls have no planted effect. So OLS of `drop` on z(DC), z(CC), z(BC) and
  the controls should recover β, and `recovery` should give β / 2;
- with ``demo.moderation: {moderator, effects}`` the gap also gets Σ_c γ_c z(C_i) z(M_i), M the named
  models.moderators entry (a panel variable, in its year and transform): a moderation spec should recover γ_c as the
  coefficient of c_x_<moderator> (and the named shocks the same, reversed);
- every named further shock (config resilience.shocks, e.g. omicron_2022) is planted the same way in its own shock
  and recovery year, with the centralities' effects reversed: gap2_i = −0.05 − β_DC z(DC_i) − β_CC z(CC_i) −
  β_BC z(BC_i) + ε2_i, so a spec with `shock: <name>` should recover −β (and a spec that mixed up the shocks would not);
- the panel event study (growth = 100·Δln Y on centralities held at the centrality year, city and year effects)
  should give 100·β in the shock year and −50·β in the recovery year (growth then is the trend minus gap / 2),
  the changes of the second shock's reversed effects after it (event_study_truth), and zero in the pre-period: a
  planted panel effect in percentage points of growth per SD.
"""

import zlib
from typing import Any

import numpy as np
import pandas as pd

from scripts.centrality import centralities
from scripts.estimation.design import moderator_values
from scripts.network import backbone, gravity_edges, is_directed

BASE_GAP = -0.05


def zscore(values: pd.Series) -> pd.Series:
    return (values - values.mean()) / values.std(ddof=1)


def demo_cities(n_rows: int, n_cols: int) -> Any:
    """Grid of square polygons with synthetic 6-digit codes (91xxxx, 92xxxx, …: a 'province' per 4 rows)."""
    import geopandas as gpd
    from shapely.geometry import box

    rows = []
    for r in range(n_rows):
        for c in range(n_cols):
            k = r * n_cols + c
            lon, lat = 100.0 + 0.5 * c, 25.0 + 0.5 * r
            rows.append({"city_code": f"{91 + r // 4}{k:04d}",
                         "name_zh": f"示例{k}", "name_en": f"Demo {k}", "province_zh": f"示例省{r // 4}",
                         "province_code": f"{91 + r // 4}0000", "level": "synthetic demo unit",
                         "lon": lon + 0.25, "lat": lat + 0.25, "geometry": box(lon, lat, lon + 0.5, lat + 0.5)})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


def planted_gap(config: dict[str, Any], cities: pd.DataFrame, panel: pd.DataFrame,
                rng: np.random.Generator) -> pd.DataFrame:
    """gap_i and its components, from the gravity centralities of the models' centrality year."""
    spec = config["network"][config["models"]["network"]]
    year = config["models"]["centrality_year"]
    nodes = panel[panel["year"] == year].merge(cities[["city_code", "lon", "lat"]], on="city_code")
    edges = gravity_edges(nodes, spec["mass"], spec["distance_decay"], is_directed(spec), spec.get("asymmetry", "gdp"))
    edges = backbone(edges, spec.get("backbone", {"method": "none"}), is_directed(spec))
    settings = config.get("centrality", {})
    cent = centralities(edges, is_directed(spec), spec.get("weight_to_distance", "inverse"),
                        settings.get("engine", "igraph"), settings.get("pagerank_damping", 0.85)).set_index("city_code")
    effect = pd.Series(0.0, index=cent.index)
    z = {alias: zscore(cent[measure]) for alias, measure in config["models"]["centralities"].items()}
    for alias, beta in config["demo"]["effects"].items():
        effect += beta * z[alias]
    moderation = config["demo"].get("moderation")
    if moderation:   # γ_c z(C_i) z(M_i): the centrality's effect grows by γ_c per SD of the moderator
        moderator = zscore(moderator_values(panel, config["models"]["moderators"][moderation["moderator"]]))
        for alias, gamma in moderation["effects"].items():
            effect += gamma * z[alias] * moderator.reindex(effect.index)
    noise = config["demo"]["noise_sd"]
    gap = BASE_GAP + effect + rng.normal(0.0, noise, len(effect))
    return pd.DataFrame({"gap": gap, "recovery_noise": rng.normal(0.0, noise, len(gap)), "effect": effect})


def demo_panel(config: dict[str, Any]):
    """(panel, cities, attrition, truth) for the demo configuration."""
    rng = np.random.default_rng(config["seed"])
    cities = demo_cities(config["demo"]["n_rows"], config["demo"]["n_cols"])
    first, last = config["years"]["start"], config["years"]["end"]
    years = np.arange(first, last + 1)
    panel = pd.DataFrame({"city_code": np.repeat(cities["city_code"].to_numpy(), len(years)),
                          "year": np.tile(years, len(cities))})
    panel["province_code"] = panel["city_code"].map(cities.set_index("city_code")["province_code"])
    variables = [*config["variables"], *config.get("derived", {})]
    for name in variables:   # a stream per variable: adding one to the config leaves the others' values as they were
        draw = np.random.default_rng([config["seed"], zlib.crc32(name.encode())])
        level = draw.normal(np.log(100.0), 1.0, len(cities))
        growth = draw.uniform(0.02, 0.08, len(cities))
        log_value = (np.repeat(level, len(years)) + np.repeat(growth, len(years)) * np.tile(years - first, len(cities))
                     + draw.normal(0.0, 0.005, len(panel)))
        panel[name] = np.exp(log_value)
    res = config["resilience"]
    truth = planted_gap(config, cities, panel, rng)
    target = config["models"]["outcome"]
    outcome = panel.pivot(index="city_code", columns="year", values=target)
    pre = list(range(res["pre_period"]["start"], res["pre_period"]["end"] + 1))
    t = np.array(pre, dtype=float)
    shocks = {"main": (res["shock_year"], res["recovery_year"], truth["gap"], truth["recovery_noise"])}
    noise = config["demo"]["noise_sd"]
    for name, shock in res.get("shocks", {}).items():   # drawn after the main shock: its values stay as they were
        second = BASE_GAP - truth["effect"] + rng.normal(0.0, noise, len(truth))
        recovery_noise = pd.Series(rng.normal(0.0, noise, len(truth)), index=truth.index)
        shocks[name] = (shock["shock_year"], shock["recovery_year"], second, recovery_noise)
    for city in outcome.index:
        slope, intercept = np.polyfit(t, np.log(outcome.loc[city, pre].to_numpy(dtype=float)), 1)
        for shock_year, recovery_year, gap, recovery_noise in shocks.values():
            outcome.loc[city, shock_year] = np.exp(intercept + slope * shock_year + gap[city])
            outcome.loc[city, recovery_year] = np.exp(intercept + slope * recovery_year + gap[city] / 2
                                                      + recovery_noise[city])
    later = outcome.stack().rename(target).reset_index()
    panel = panel.drop(columns=target).merge(later, on=["city_code", "year"])[["city_code", "year", "province_code", *variables]]
    attrition = pd.DataFrame([{"stage": "demo", "source": "synthetic", "outcome": "units generated",
                               "n_units": len(cities), "units": "", "reason": "SYNTHETIC DEMO DATA"}])
    return panel, cities, attrition, truth


def event_study_truth(config: dict[str, Any]) -> dict[str, float]:
    """Planted event-study coefficients (pp of growth per SD), keyed like the model terms: dc_x_2020, ….

    The planted level effect per SD is β in the shock year and β/2 in the recovery year (−β and −β/2 for a named
    shock, planted reversed); growth is the change of that level, so the coefficient of year t is 100·(e_t − e_{t−1})
    for every year whose level effect or the previous year's is planted (2020: 100β; 2021: −50β; 2022, right after the
    first recovery year: 100·(−β − β/2) = −150β; 2023: +50β)."""
    res = config["resilience"]
    level = {res["shock_year"]: 1.0, res["recovery_year"]: 0.5}
    for shock in res.get("shocks", {}).values():
        level |= {shock["shock_year"]: -1.0, shock["recovery_year"]: -0.5}
    years = sorted({*level, *(y + 1 for y in level)} & set(range(config["years"]["start"], config["years"]["end"] + 1)))
    truth = {}
    for alias, beta in config["demo"]["effects"].items():
        for year in years:
            truth[f"{alias}_x_{year}"] = 100 * beta * (level.get(year, 0.0) - level.get(year - 1, 0.0))
    return truth
