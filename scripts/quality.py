"""Data-quality flags on the panel: implausible jumps, breaks at administrative changes, gaps and duplicates.

Output ``quality_flags.csv`` (one row per flagged city × year × variable):
    city_code, year, variable, flag, value, change, z_city, z_province, reason
flags:
- ``jump``: the year-on-year log change d_it = ln v_it − ln v_i,t−1 is far outside both the city's own history
  and its province's change that year. Robust (modified) z-scores (Iglewicz & Hoaglin 1993):
      z_city = (d_it − med_s d_is) / (1.4826 · MAD_i),   z_province = (d_it − med_{j∈p(i)} d_jt) / (1.4826 · MAD_pt)
  with MAD_i the median absolute deviation of the city's changes, MAD_pt that of the province's cities in year t
  (all cities that year when the province has fewer than ``min_province_cities``); both scales are floored at
  ``min_scale`` so smooth series do not turn tiny wiggles into flags. Flag when |z_city| > ``city_z`` and
  |z_province| > ``province_z``.
- ``admin_change``: the year a crosswalk fact changes the city's territory (e.g. Laiwu merged into Jinan from
  2019; the crosswalk's ``valid_to`` + 1), for every variable — a level break there is expected.
- ``gap``: a missing year between a city's first and last observation of a variable, in a year that at least
  half of the cities report.
- ``duplicate``: more than one panel row for a city-year.
- ``spike``: a one-year excursion that reverses: |d_it| ≥ ln ``spike_factor`` (the value at least that many times,
  or that fraction of, the year before), d_i,t+1 of the opposite sign, and the value back within half of the
  excursion (|d_it + d_i,t+1| ≤ |d_it|/2). Flagged in year t only, replacing the jump flags of t and t + 1: the year
  after is the series returning to normal and keeps its value.
- ``source_disagreement``: the city-year's value differs from another source's beyond the pair's tolerance
  (``consistency`` in config.yaml, ``source_consistency.csv``), flagged on both variables; informative, not masked
  (two sources disagree on which is right).

``flagged_city_years`` turns the table into the city-years (per variable) that ``quality.exclude_flagged`` masks
and ``flagged_cities`` into the cities that the ``sample: unflagged`` robustness specs leave out.
"""
from typing import Any

import numpy as np
import pandas as pd

COLUMNS = ["city_code", "year", "variable", "flag", "value", "change", "z_city", "z_province", "reason"]
MASKED_FLAGS = ("jump", "admin_change", "spike")


def robust_z(changes: pd.DataFrame, by: list[str], floor: float) -> pd.Series:
    """Modified z-score of each change within its group: (d − median) / max(1.4826 · MAD, floor)."""
    keys = [changes[column] for column in by]
    deviation = changes["change"] - changes["change"].groupby(keys).transform("median")
    mad = deviation.abs().groupby(keys).transform("median")
    return deviation / np.maximum(1.4826 * mad, floor)


def log_changes(panel: pd.DataFrame, variable: str) -> pd.DataFrame:
    """d_it between consecutive observed years (positive values only), with the province of each city."""
    frame = panel[["city_code", "year", "province_code", variable]].dropna(subset=[variable])
    frame = frame[frame[variable] > 0].sort_values(["city_code", "year"])
    previous = frame.groupby("city_code")[["year", variable]].shift(1)
    consecutive = previous["year"] == frame["year"] - 1
    frame = frame.assign(change=np.log(frame[variable]) - np.log(previous[variable]))
    return frame[consecutive].rename(columns={variable: "value"})


def jump_flags(panel: pd.DataFrame, variable: str, settings: dict[str, Any]) -> pd.DataFrame:
    """Rows of `jump` flags of one variable."""
    changes = log_changes(panel, variable)
    if changes.empty:
        return pd.DataFrame(columns=COLUMNS)
    province_size = changes.groupby(["province_code", "year"])["city_code"].transform("size")
    changes["group"] = np.where(province_size >= settings["min_province_cities"], changes["province_code"], "all")
    changes["z_city"] = robust_z(changes, ["city_code"], settings["min_scale"])
    changes["z_province"] = robust_z(changes, ["group", "year"], settings["min_scale"])
    hit = (changes["z_city"].abs() > settings["city_z"]) & (changes["z_province"].abs() > settings["province_z"])
    rows = changes[hit].assign(variable=variable, flag="jump")
    rows["reason"] = [f"log change {c:+.3f}: {zc:+.1f} robust SD from the city's own changes, {zp:+.1f} from its "
                      f"province's that year" for c, zc, zp in zip(rows["change"], rows["z_city"], rows["z_province"])]
    return rows[COLUMNS]


def spike_flags(panel: pd.DataFrame, variable: str, settings: dict[str, Any]) -> pd.DataFrame:
    """Rows of `spike` flags of one variable (definition in the module docstring)."""
    changes = log_changes(panel, variable)
    following = changes.groupby("city_code")[["year", "change"]].shift(-1)
    reverses = (following["year"] == changes["year"] + 1) & (np.sign(following["change"]) == -np.sign(changes["change"]))
    large = changes["change"].abs() >= np.log(settings["spike_factor"])
    back = (changes["change"] + following["change"]).abs() <= changes["change"].abs() / 2
    rows = changes[reverses & large & back].assign(variable=variable, flag="spike", z_city=np.nan, z_province=np.nan)
    after = following.loc[rows.index, "change"]
    rows["reason"] = [f"×{np.exp(c):.2f} the year before, then ×{np.exp(a):.2f}: a one-year spike that reverses"
                      for c, a in zip(rows["change"], after)]
    return rows[COLUMNS]


def without_spike_jumps(jumps: pd.DataFrame, spikes: pd.DataFrame) -> pd.DataFrame:
    """The jump flags that a spike does not explain: a spike in year t is the jump out (t) and back (t + 1), so
    those two jump flags go and only the spike year is flagged (and masked)."""
    explained = set(zip(spikes["city_code"], spikes["year"])) | set(zip(spikes["city_code"], spikes["year"] + 1))
    return jumps[[key not in explained for key in zip(jumps["city_code"], jumps["year"])]]


def disagreement_flags(consistency: pd.DataFrame) -> pd.DataFrame:
    """Rows of `source_disagreement` flags: both variables of every city-year beyond its pair's tolerance."""
    beyond = consistency[consistency["beyond_tolerance"].astype(bool)]
    rows = []
    for mine, other in (("a", "b"), ("b", "a")):
        rows.append(pd.DataFrame({
            "city_code": beyond["city_code"], "year": beyond["year"], "variable": beyond[f"variable_{mine}"],
            "flag": "source_disagreement", "value": beyond[mine], "change": np.nan, "z_city": np.nan,
            "z_province": np.nan,
            "reason": [f"{v} = {x:.4g} vs {w} = {y:.4g} (pair {p}: difference {d:.3g})" for v, x, w, y, p, d in zip(
                beyond[f"variable_{mine}"], beyond[mine], beyond[f"variable_{other}"], beyond[other], beyond["pair"],
                beyond["difference"])]}))
    return pd.concat(rows, ignore_index=True)[COLUMNS]


def gap_flags(panel: pd.DataFrame, variable: str) -> pd.DataFrame:
    """Rows of `gap` flags: a city missing a year inside its observed span of one variable, in a year most cities
    report (so census variables, observed only in census years, have no gaps)."""
    observed = panel.dropna(subset=[variable])
    coverage = observed.groupby("year")["city_code"].nunique() / panel["city_code"].nunique()
    reported = set(coverage.index[coverage >= 0.5])
    # plain lists: Arrow-backed strings are slow to iterate element by element
    present = set(zip(observed["city_code"].tolist(), observed["year"].tolist()))
    rows = []
    for city, (first, last) in observed.groupby("city_code")["year"].agg(["min", "max"]).iterrows():
        rows += [{"city_code": city, "year": year, "variable": variable, "flag": "gap",
                  "reason": f"missing between {first} and {last} while most cities report {year}"}
                 for year in range(int(first) + 1, int(last)) if year in reported and (city, year) not in present]
    return pd.DataFrame(rows, columns=COLUMNS)


def admin_change_flags(crosswalk: pd.DataFrame, variables: list[str], years: range) -> pd.DataFrame:
    """Rows of `admin_change` flags from crosswalk facts with a validity end (territory changes the year after)."""
    rows = []
    ends = pd.to_numeric(crosswalk["valid_to"].replace("", np.nan))   # read as text: "" = no end
    for fact in crosswalk.assign(valid_to=ends).dropna(subset=["valid_to"]).itertuples():
        year = int(fact.valid_to) + 1
        if year in years:
            rows += [{"city_code": str(fact.city_code), "year": year, "variable": v, "flag": "admin_change",
                      "reason": f"{fact.source_name} ({fact.source_code}) joins from {year}: {fact.reason}"}
                     for v in variables]
    return pd.DataFrame(rows, columns=COLUMNS).drop_duplicates(["city_code", "year", "variable", "flag"])


def observed_only(flags: pd.DataFrame, panel: pd.DataFrame) -> pd.DataFrame:
    """Flags on city-years where the variable has a value (a territorial change matters only where data exist)."""
    long = panel.melt(id_vars=["city_code", "year"], value_vars=list(flags["variable"].unique()), var_name="variable")
    columns = ("city_code", "year", "variable")
    present = set(zip(*(long.dropna(subset=["value"])[c].tolist() for c in columns)))
    return flags[[k in present for k in zip(*(flags[c].tolist() for c in columns))]]


def duplicate_flags(panel: pd.DataFrame) -> pd.DataFrame:
    """Rows of `duplicate` flags: city-years present more than once."""
    counts = panel.groupby(["city_code", "year"]).size()
    return pd.DataFrame([{"city_code": c, "year": y, "variable": "*", "flag": "duplicate",
                          "reason": f"{n} rows for this city-year"} for (c, y), n in counts[counts > 1].items()],
                        columns=COLUMNS)


def quality_flags(panel: pd.DataFrame, crosswalk: pd.DataFrame, variables: list[str], settings: dict[str, Any],
                  consistency: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every flag of the configured variables (and the source disagreements of `consistency`, the panel rule's
    source_consistency table), sorted by city, year, variable, flag."""
    years = range(int(panel["year"].min()), int(panel["year"].max()) + 1)
    parts = [duplicate_flags(panel), observed_only(admin_change_flags(crosswalk, variables, years), panel)]
    for variable in variables:
        spikes = spike_flags(panel, variable, settings)
        parts += [without_spike_jumps(jump_flags(panel, variable, settings), spikes), spikes,
                  gap_flags(panel, variable)]
    if consistency is not None and not consistency.empty:
        parts.append(disagreement_flags(consistency))
    flags = pd.concat([p for p in parts if not p.empty], ignore_index=True) if any(not p.empty for p in parts) \
        else pd.DataFrame(columns=COLUMNS)
    flags["year"] = flags["year"].astype(int)
    return flags.sort_values(["city_code", "year", "variable", "flag"], kind="mergesort").reset_index(drop=True)


def flagged_city_years(flags: pd.DataFrame, variable: str) -> set[tuple[str, int]]:
    """(city, year) pairs whose `variable` carries a jump or administrative-change flag."""
    hit = flags[flags["flag"].isin(MASKED_FLAGS) & flags["variable"].isin([variable, "*"])]
    return set(zip(hit["city_code"].astype(str), hit["year"].astype(int)))


def mask_flagged(panel: pd.DataFrame, flags: pd.DataFrame, variables: list[str]) -> pd.DataFrame:
    """The panel with flagged city-years of `variables` set to missing (quality.exclude_flagged)."""
    out = panel.copy()
    keys = list(zip(out["city_code"].astype(str), out["year"].astype(int)))
    for variable in variables:
        hit = flagged_city_years(flags, variable)
        out.loc[[k in hit for k in keys], variable] = np.nan
    return out


def analysis_panel(panel: pd.DataFrame, flags: pd.DataFrame, outcomes: list[str], exclude_flagged: bool):
    """The panel every later stage reads: with ``quality.exclude_flagged`` the flagged city-years of the outcomes
    (those that are panel variables) set to missing, otherwise the panel unchanged; and the masked variables."""
    masked = [v for v in outcomes if v in panel] if exclude_flagged else []
    return mask_flagged(panel, flags, masked), masked


def flagged_cities(flags: pd.DataFrame, variable: str, years: tuple[int, int]) -> list[str]:
    """Cities with a jump or administrative-change flag on `variable` within [years]."""
    return sorted({c for c, y in flagged_city_years(flags, variable) if years[0] <= y <= years[1]})


def counts_table(flags: pd.DataFrame, variables: list[str]) -> pd.DataFrame:
    """Flags per variable (rows) and kind (columns), every configured variable listed (then any other flagged one,
    e.g. an index with source disagreements)."""
    kinds = ["jump", "spike", "admin_change", "gap", "duplicate", "source_disagreement"]
    table = flags.groupby(["variable", "flag"]).size().unstack(fill_value=0).reindex(columns=kinds, fill_value=0)
    others = [name for name in table.index if name not in variables and name != "*"]
    return table.reindex([*variables, *others, "*"], fill_value=0).loc[lambda t: (t.index != "*") | (t.sum(axis=1) > 0)]


def window_table(flags: pd.DataFrame, cities: pd.DataFrame, variable: str, years: tuple[int, int],
                 screening: pd.DataFrame) -> pd.DataFrame:
    """The outcome's jump and administrative-change flags in the resilience window, with names and reasons, and
    whether the resilience stage's screening (scripts/resilience_profile.py) finds the city-year a fall below the
    city's own rolling trend: a flag on a screened shock may be a real shock rather than a data error."""
    hit = flags[flags["flag"].isin(MASKED_FLAGS) & (flags["variable"] == variable)
                & flags["year"].between(*years)].merge(cities[["city_code", "name_en"]], on="city_code", how="left")
    screened = screening[(screening["outcome"] == variable) & screening["shock"]].set_index(["city_code", "year"])["z"]
    hit["screened shock"] = [f"yes (z {screened[key]:+.1f})" if key in screened.index else ""
                             for key in zip(hit["city_code"], hit["year"])]
    hit["city"] = [f"{n} ({c})" if isinstance(n, str) else c for n, c in zip(hit["name_en"], hit["city_code"])]
    out = hit[["city", "year", "flag", "change", "z_city", "z_province", "screened shock", "reason"]].copy()
    for column, digits in (("change", 3), ("z_city", 1), ("z_province", 1)):
        out[column] = [f"{v:+.{digits}f}" if pd.notna(v) else "" for v in out[column]]
    return out.set_index("city")


def flag_map(cities: Any, flags: pd.DataFrame, variable: str, years: tuple[int, int], stem: Any, title: str) -> None:
    """Cities whose outcome is flagged in the resilience window, coloured by the first year flagged."""
    from scripts.render import draw_cities, map_frame, pyplot, save_figure

    plt = pyplot()
    hit = flags[flags["flag"].isin(MASKED_FLAGS) & (flags["variable"] == variable) & flags["year"].between(*years)]
    first = hit.groupby("city_code")["year"].min()
    frame = cities.assign(year=cities["city_code"].map(first.astype(int).astype(str)))
    fig, ax = plt.subplots(figsize=(8, 6.5))
    draw_cities(ax, frame, "#eeeeee", edgecolor="#999999")
    if len(first):
        frame[frame["year"].notna()].plot(ax=ax, column="year", categorical=True, cmap="plasma", legend=True,
                                          edgecolor="#333333", linewidth=0.3,
                                          legend_kwds={"title": "first flag", "fontsize": 7, "loc": "lower left"})
    map_frame(ax, cities)
    ax.set_title(title, fontsize=10)
    save_figure(fig, stem)
