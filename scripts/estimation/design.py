"""Designs: the cross-section design table (one row per city), estimation samples and the panel design (city × year).

Design (one row per city): the resilience measures of ``models.outcome``, the centralities C (aliases dc, cc, bc →
measures, from ``models.network`` in ``models.centrality_year``; z-scored within the sample when ``standardize``)
and the controls x at their year and transform. ``centralities``: ``joint`` (all), one alias (one at a time), or
``orthogonal`` (Gram–Schmidt in alias order: cc residualised on dc, bc on dc and cc, then z-scored — DC, CC and BC
are strongly correlated, so joint estimates are fragile).

Spec options: ``sample`` (all, region:<east|central|west|northeast>, size:<class> from models.size_classes,
unflagged: without cities flagged for data quality on the outcome), ``moderator`` (a models.moderators entry,
interacted with each centrality, both centred).
"""
from typing import Any

import numpy as np
import pandas as pd

from scripts.common import InputError, format_rows
from scripts.specs import control_name, holds_centralities


def transform(values: pd.Series, kind: str) -> pd.Series:
    """none | log (NaN where ≤ 0) | log1p (NaN where < 0)."""
    if kind == "log":
        return np.log(values.where(values > 0))
    if kind == "log1p":
        return np.log1p(values.where(values >= 0))
    return values



REGIONS = {  # NBS four economic regions, by the first two digits of the code
    "east": ("11", "12", "13", "31", "32", "33", "35", "37", "44", "46"),
    "central": ("14", "34", "36", "41", "42", "43"),
    "west": ("15", "45", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"),
    "northeast": ("21", "22", "23"),
}


def region_of(codes: pd.Index) -> pd.Series:
    """NBS region (east, central, west, northeast) of each city code; other codes get 'other'."""
    lookup = {prefix: region for region, prefixes in REGIONS.items() for prefix in prefixes}
    return pd.Series([lookup.get(str(c)[:2], "other") for c in codes], index=codes)


def size_class(values: pd.Series, classes: list[dict[str, Any]]) -> pd.Series:
    """Largest class whose ``min`` the value reaches (classes given in any order); missing values stay missing."""
    ordered = sorted(classes, key=lambda c: c["min"], reverse=True)
    def label(v):
        return next((c["name"] for c in ordered if v >= c["min"]), None) if pd.notna(v) else None
    return values.map(label)


def subsample(design: pd.DataFrame, spec: dict[str, Any], panel: pd.DataFrame, models: dict[str, Any],
              flagged: list[str] = ()) -> pd.DataFrame:
    """Rows of the spec's ``sample``: all, ``region:<east|central|west|northeast>``, ``size:<class name>`` or
    ``unflagged`` (without the cities in `flagged`: data-quality flags on the outcome, scripts/quality.py)."""
    rule = spec.get("sample", "all")
    if rule == "all":
        return design
    kind, _, value = rule.partition(":")
    if kind == "unflagged":
        keep = pd.Series(~design.index.isin(list(flagged)), index=design.index)
    elif kind == "region":
        keep = region_of(design.index) == value
    elif kind == "size":
        config = models["size_classes"]
        values = panel.loc[panel["year"] == config["year"]].set_index("city_code")[config["variable"]]
        keep = size_class(values.reindex(design.index), config["classes"]) == value
    else:
        raise InputError(f"models: sample '{rule}' is not known; use all, unflagged, region:<name> or size:<class>.")
    return design[keep.to_numpy()]


def require_measures(available, aliases: dict[str, str], year: Any) -> None:
    """Stop naming the centrality measures (models.centralities) the network table lacks."""
    missing = sorted(set(aliases.values()) - set(available))
    if missing:
        raise InputError(f"models.centralities: the network has no {missing} in {year} (it has "
                         f"{sorted(available)}); choose measures it computes.")


def moderator_values(panel: pd.DataFrame, moderator: dict[str, Any],
                     networks: dict[str, pd.DataFrame] | None = None) -> pd.Series:
    """A models.moderators entry by city, transformed: its panel ``variable`` in its year, or the ``measure`` of a
    ``network``'s centralities in its year (``networks``: centrality tables by network name)."""
    if "network" in moderator:
        table = (networks or {})[moderator["network"]]
        chosen = table[(table["year"] == moderator["year"]) & (table["measure"] == moderator["measure"])]
        if chosen.empty:
            raise InputError(f"models.moderators: network '{moderator['network']}' has no '{moderator['measure']}' "
                             f"in {moderator['year']}; choose a measure it computes and a year in its range.")
        values = chosen.set_index("city_code")["value"]
    else:
        values = panel.loc[panel["year"] == moderator["year"]].set_index("city_code")[moderator["variable"]]
    return transform(values, moderator["transform"])


def centrality_columns(centrality: pd.DataFrame, year: int, aliases: dict[str, str]) -> pd.DataFrame:
    """One row per city, one column per alias: the network's centralities in ``year``."""
    chosen = centrality[(centrality["year"] == year) & centrality["measure"].isin(aliases.values())]
    if chosen.empty:
        raise InputError(f"models: year {year} has no centralities {list(aliases.values())}; choose a year in the "
                         "network's range (models.centrality_year, or a spec's centrality_year or instruments.year).")
    wide = chosen.pivot(index="city_code", columns="measure", values="value")
    require_measures(wide.columns, aliases, year)
    return wide.rename(columns={m: a for a, m in aliases.items()})[list(aliases)]


def design_table(resilience: pd.DataFrame, centrality: pd.DataFrame, panel: pd.DataFrame, outcome: str, year: int,
                 aliases: dict[str, str], controls: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per city: the outcome's resilience measures, the centralities (by alias) and the controls."""
    chosen_outcome = resilience[resilience["outcome"] == outcome]
    if chosen_outcome.empty:
        raise InputError(f"models.outcome '{outcome}' has no resilience measures; add it to resilience.outcomes.")
    outcomes = chosen_outcome.pivot(index="city_code", columns="measure", values="value")
    table = outcomes.join(centrality_columns(centrality, year, aliases), how="left")
    for control in controls:
        var = control["variable"]
        if var not in panel:
            raise InputError(f"models.controls: '{var}' is not a panel variable; add it under variables or derived.")
        values = panel.loc[panel["year"] == control["year"]].set_index("city_code")[var]
        table[control_name(control)] = transform(values, control["transform"])
    return table.sort_index()


def estimation_sample(design: pd.DataFrame, y: str, regressors: list[str]) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Complete cases for y and the regressors, and the dropped cities listed by the first missing column."""
    columns = [y, *regressors]
    finite = design[columns].apply(lambda s: np.isfinite(s.astype(float)))
    dropped: dict[str, list[str]] = {}
    for city in design.index[~finite.all(axis=1)]:
        first = next(c for c in columns if not finite.at[city, c])
        dropped.setdefault(first, []).append(city)
    return design.loc[finite.all(axis=1), columns].copy(), dropped


def standardize(sample: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """z-score columns within the estimation sample (SD with ddof = 1)."""
    out = sample.copy()
    for column in columns:
        sd = out[column].std(ddof=1)
        if not sd > 0:
            raise InputError(f"models: '{column}' does not vary in the sample; it cannot be standardised or estimated.")
        out[column] = (out[column] - out[column].mean()) / sd
    return out


def orthogonalise(sample: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Gram–Schmidt in the given order: each column replaced by its residual on a constant and the earlier ones."""
    out = sample.copy()
    for k, column in enumerate(columns[1:], start=1):
        x = np.column_stack([np.ones(len(out)), out[columns[:k]].to_numpy(dtype=float)])
        beta, *_ = np.linalg.lstsq(x, out[column].to_numpy(dtype=float), rcond=None)
        out[column] = out[column] - x @ beta
    return out


def check_rank(x: np.ndarray, names: list[str]) -> None:
    """A singular design stops the run, naming the columns involved."""
    rank = np.linalg.matrix_rank(x)
    if rank < x.shape[1]:
        raise InputError(f"models: the design matrix is singular (rank {rank} < {x.shape[1]} columns: "
                         f"{names}). Remove a collinear control or centrality from config.yaml models.")


def province_groups(index: pd.Index, cov: str) -> np.ndarray:
    """Province cluster ids (first two digits of the city code) of the sample's cities; fewer than two provinces
    stop the run naming the covariance that needs them."""
    groups = pd.Index(index).str[:2].factorize()[0]
    if len(set(groups)) < 2:
        raise InputError(f"models: cov '{cov}' needs cities from at least two provinces in the sample.")
    return groups


def centrality_terms(spec: dict[str, Any]) -> list[str]:
    """The centrality aliases a spec uses."""
    mode, aliases = spec["centralities"], list(spec["all_centralities"])
    return aliases if mode in ("joint", "orthogonal") else [mode]


def prepared_sample(design: pd.DataFrame, spec: dict[str, Any],
                    instruments: list[str] = ()) -> tuple[pd.DataFrame, list[str], dict]:
    """Estimation sample of a spec (centralities orthogonalised/standardised as configured), regressors, dropped.
    ``instruments`` (IV) must be complete too, and are standardised with the centralities."""
    measure, terms = spec["measure"], centrality_terms(spec)
    moderator = spec.get("moderator", "none")
    regressors = [*terms, *(control_name(c) for c in spec["controls"]), *([moderator] if moderator != "none" else [])]
    if measure not in design:
        raise InputError(f"models: measure '{measure}' was not computed for '{spec['outcome']}'; have "
                         f"{[c for c in design.columns if c not in regressors]}.")
    sample, dropped = estimation_sample(design, measure, [*regressors, *instruments])
    if len(sample) <= len(regressors) + 1:
        raise InputError(f"models: spec '{spec.get('name')}' (sample {spec.get('sample', 'all')}) has only {len(sample)} "
                         f"complete cities for '{measure}' with {len(regressors)} regressors "
                         f"{regressors}; the largest loss is from "
                         f"{max(dropped, key=lambda k: len(dropped[k])) if dropped else 'none'}.")
    if spec["centralities"] == "orthogonal":
        sample = orthogonalise(sample, terms)
    if spec["standardize"] or spec["centralities"] == "orthogonal":
        sample = standardize(sample, [*terms, *instruments])
    if moderator != "none":  # centred interactions: β_c is the effect at the mean moderator
        sample = standardize(sample, [moderator])
        for alias in terms:
            sample[f"{alias}_x_{moderator}"] = sample[alias] * sample[moderator]
            regressors.append(f"{alias}_x_{moderator}")
    return sample, regressors, dropped


def panel_design(panel: pd.DataFrame, centrality: pd.DataFrame, spec: dict[str, Any],
                 settings: dict[str, Any]) -> pd.DataFrame:
    """City × year rows: growth = Δ ln Y_it (×100, %) and centralities (aliases) lagged one year, z-scored.

    Event studies, and panel specs with ``panel_centralities: pre_shock``, instead hold each city's centralities at
    the spec's centrality year (pre-shock).
    """
    outcome = spec["outcome"]
    if outcome not in panel:
        raise InputError(f"models: panel specs need '{outcome}' as a panel variable; it is a resilience label only.")
    series = panel.pivot(index="city_code", columns="year", values=outcome).sort_index(axis=1)
    growth = 100 * np.log(series.where(series > 0)).diff(axis=1)
    rows = growth.stack().rename("growth").reset_index()
    first, last = settings["years"]["start"], settings["years"]["end"]
    rows = rows[rows["year"].between(first, last)]
    aliases = spec["all_centralities"]
    require_measures(centrality["measure"].unique(), aliases, "any year")
    wide = centrality[centrality["measure"].isin(aliases.values())].pivot_table(
        index=["city_code", "year"], columns="measure", values="value").rename(columns={m: a for a, m in aliases.items()})
    wide = wide[list(aliases)].reset_index()
    wanted = sorted(rows["year"].unique())
    held = holds_centralities(spec)
    if held:
        fixed = wide[wide["year"] == spec["centrality_year"]].drop(columns="year")
        rows = rows.merge(fixed, on="city_code", how="inner")
    else:
        rows = rows.merge(wide.assign(year=wide["year"] + 1), on=["city_code", "year"], how="inner")
    uncovered = sorted(set(wanted) - set(rows["year"]))
    if uncovered:
        needed = (f"the centrality year {spec['centrality_year']}" if held
                  else f"the year before each, {format_rows(y - 1 for y in uncovered)}")
        raise InputError(f"models ({spec.get('name', spec['estimator'])}): network '{spec.get('network', '')}' has no "
                         f"centralities for the panel years {format_rows(uncovered)} (needed: {needed}); end "
                         "models.panel.years where the network ends or extend the network's years.")
    rows = rows.dropna()
    for alias in aliases:
        rows[alias] = (rows[alias] - rows[alias].mean()) / rows[alias].std(ddof=1)
    return rows.set_index(["city_code", "year"]).sort_index()


def post_windows(years: pd.Index, settings: dict[str, Any]) -> dict[str, np.ndarray]:
    """Post-shock indicators of the panel interactions, by term suffix: ``post`` = 1[s ≤ t < s_1] for the main
    shock s (resilience.shock_year) and, for each named shock k of models.panel.shocks, ``<k>`` = 1[s_k ≤ t <
    s_{k+1}]: each window ends where the next shock's begins, the last stays open. Without named shocks, Post_t =
    1[t ≥ s]. So β_c·post is the effect in 2020–2021 and β_c·omicron_2022 the effect from 2022 on, not an increment."""
    starts = sorted([(settings["shock_year"], "post"), *((y, k) for k, y in settings.get("shocks", {}).items())])
    ends = [y for y, _ in starts[1:]] + [np.inf]
    year = np.asarray(years)
    return {suffix: ((year >= start) & (year < end)).astype(float) for (start, suffix), end in zip(starts, ends)}


def balanced(rows: pd.DataFrame, years: list[int], rule: str = "drop_incomplete") -> tuple[pd.DataFrame, list[str]]:
    """Sample rule for spatial panels: keep the cities observed in every year; return rows and the dropped cities.

    rule ``require`` (no sample rule) stops the run instead, naming the incomplete cities and their missing years.
    """
    observed = rows.reset_index().groupby("city_code")["year"].agg(set)
    missing = {city: sorted(set(years) - have) for city, have in observed.items() if set(years) - have}
    if missing and rule == "require":
        listed = "; ".join(f"{city} missing {gaps}" for city, gaps in list(missing.items())[:10])
        raise InputError(f"models: the spatial panel needs a balanced panel over {years[0]}–{years[-1]} but "
                         f"{len(missing)} cities are incomplete ({listed}{' …' if len(missing) > 10 else ''}). Set "
                         "models.panel.balance: drop_incomplete to drop them (they are listed in the spec JSON).")
    return rows[~rows.index.get_level_values("city_code").isin(list(missing))], sorted(missing)
