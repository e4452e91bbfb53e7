"""A named spec (scripts/specs.py) fitted end to end: its design, sample, estimator and the JSON-ready result.

``settings`` is what the spec's batch needs besides the spec itself (scripts.specs.batch_settings): seed,
sample-selection keys of the weights, panel years and balance rule, the real shock year, moderators, size classes.
``tables`` holds the inputs every spec of a batch shares: ``panel`` (the analysis panel), ``resilience``,
``placebo`` (the measures of placebo shock years, keyed by shock_year), ``shocks`` (those of the named shocks,
keyed by shock), ``cities`` (points), ``flagged`` (cities
flagged on the outcome: left out by ``sample: unflagged``) and ``networks`` (centrality tables by network, of the
moderators that read a network).

Spec option ``shock_year`` (placebo): the design takes the measures recomputed by the resilience stage with every
resilience year moved to that year, and the centralities of the year before it. Spec option ``shock`` (a key of
``resilience.shocks``, e.g. omicron_2022): the measures of that named shock (``shocks``), with the spec's own
centrality year (by default the pre-pandemic models.centrality_year).
"""
from typing import Any

import numpy as np
import pandas as pd

from scripts.estimation.cross_section import fit_ols, permutation_test
from scripts.estimation.design import (
    centrality_columns,
    centrality_terms,
    design_table,
    moderator_values,
    panel_design,
    prepared_sample,
    standardize,
    subsample,
)
from scripts.estimation.iv import fit_iv, instrument_name
from scripts.estimation.panel import fit_panel
from scripts.estimation.spatial import fit_spatial
from scripts.estimation.spatial_panel import fit_spatial_panel
from scripts.specs import INFERENCE_KEYS

MODERATOR_SPIKE = "moderator value flagged as a one-year spike"


def inference_settings(spec: dict[str, Any], cities: pd.DataFrame, seed: int) -> dict[str, Any]:
    """What the Conley and wild-bootstrap covariances read: the spec's inference keys, city points and the seed."""
    return {**{k: spec.get(k) for k in INFERENCE_KEYS}, "cities": cities, "seed": seed}


def moderator_column(name: str, settings: dict[str, Any], tables: dict[str, Any]) -> tuple[pd.Series, list[str]]:
    """A spec's moderator by city (design.moderator_values) and the cities whose value is set missing because the
    quality stage flagged it as a one-year spike that reverses (``tables["spikes"]``: city_code, year, variable),
    e.g. deposits ×11 in one year: one such value would otherwise set the moderator's range."""
    moderator = settings["moderators"][name]
    values = moderator_values(tables["panel"], moderator, tables.get("networks"))
    spikes = tables.get("spikes")
    if spikes is None:
        spikes = pd.DataFrame(columns=["city_code", "year", "variable"])
    hit = spikes[(spikes["variable"] == moderator.get("variable")) & (spikes["year"] == moderator["year"])]
    masked = sorted(set(hit["city_code"]) & set(values.dropna().index))
    return values.drop(masked), masked


def fit_spec(spec: dict[str, Any], design: pd.DataFrame, weights_table: pd.DataFrame, cities: pd.DataFrame,
             weights_spec: dict[str, Any], seed: int) -> dict[str, Any]:
    """Fit one cross-section or spatial spec on its design rows; the result dict written as the spec's JSON."""
    from scripts.weights import sample_weights

    instruments = [instrument_name(alias) for alias in centrality_terms(spec)] if spec["estimator"] == "iv" else []
    sample, regressors, dropped = prepared_sample(design, spec, instruments)
    extra: dict[str, Any] = {}
    if spec["estimator"] == "iv":
        terms = centrality_terms(spec)
        result = fit_iv(sample, spec["measure"], terms, [r for r in regressors if r not in terms], instruments,
                        spec["cov"])
        extra["instruments"] = spec["instruments"]
    elif spec["family"] == "cross_section":
        moderator = spec["moderator"]
        moderation = {"moderator": moderator, "terms": centrality_terms(spec),
                      "values": design.loc[sample.index, moderator]} if moderator != "none" else None
        result = fit_ols(sample, spec["measure"], regressors, spec["cov"],
                         {**inference_settings(spec, cities, seed), "terms": centrality_terms(spec)}, moderation)
        if spec.get("permutations"):
            extra["permutation"] = permutation_test(sample, spec["measure"], regressors, centrality_terms(spec),
                                                    spec["permutations"], seed)
    else:
        w, kept, island_report = sample_weights(weights_table, list(sample.index), cities, weights_spec,
                                              spec["weights"], f"model '{spec.get('name', spec['estimator'])}'")
        if len(kept) < len(sample):  # islands dropped: re-standardise within the smaller sample
            sample, regressors, _ = prepared_sample(design.loc[kept], spec)
            dropped["island in spatial weights"] = island_report["islands"]
        result = fit_spatial(sample.loc[kept], spec["measure"], regressors, w, spec["estimator"], seed)
        extra["weights"] = {"name": spec["weights"], **island_report}
    return {**result, "outcome": spec["measure"], "dropped": dropped, "sample": sorted(sample.index),
            "standardized": spec["standardize"], **extra}


def cross_section_design(spec: dict[str, Any], settings: dict[str, Any], tables: dict[str, Any],
                         centrality: pd.DataFrame,
                         instruments: pd.DataFrame | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Design rows of a cross-section/spatial spec: placebo years, moderator column, the IV instruments (the
    centralities of ``instruments.network`` in ``instruments.year``, as ``<alias>_instrument``) and subsample; and
    the cities whose moderator value was left out as a spike (moderator_column)."""
    panel, resilience, year = tables["panel"], tables["resilience"], spec["centrality_year"]
    if spec.get("shock", "none") != "none":
        shocks = tables["shocks"]
        resilience = shocks[shocks["shock"] == spec["shock"]].drop(columns="shock")
    elif spec["shock_year"] not in (None, settings.get("shock_year")):
        placebo = tables["placebo"]
        resilience = placebo[placebo["shock_year"] == spec["shock_year"]].drop(columns="shock_year")
        year = spec["shock_year"] - 1
    design = design_table(resilience, centrality, panel, spec["outcome"], year, spec["all_centralities"],
                          spec["controls"])
    masked: list[str] = []
    if spec["moderator"] != "none":
        design[spec["moderator"]], masked = moderator_column(spec["moderator"], settings, tables)
    if spec["estimator"] == "iv":
        design = design.join(instrument_columns(spec, instruments), how="left")
    design = subsample(design, spec, panel, settings, tables["flagged"])
    return design, sorted(set(masked) & set(design.index))


def instrument_columns(spec: dict[str, Any], instruments: pd.DataFrame) -> pd.DataFrame:
    """One row per city: the centralities of ``instruments.network`` in ``instruments.year``, as
    ``<alias>_instrument``."""
    found = centrality_columns(instruments, spec["instruments"]["year"], spec["all_centralities"])
    return found.rename(columns=instrument_name)


def fit_named_spec(spec: dict[str, Any], settings: dict[str, Any], tables: dict[str, Any], centrality: pd.DataFrame,
                   weights: pd.DataFrame, instruments: pd.DataFrame | None = None) -> dict[str, Any]:
    """The JSON result of one concrete spec, from the shared tables and its own centralities and weights.
    ``sample: unflagged`` leaves out the flagged cities (listed under dropped)."""
    panel, cities, flagged = tables["panel"], tables["cities"], tables["flagged"]
    public = {"model": spec["name"], "spec": {k: v for k, v in spec.items() if k != "all_centralities"}}
    weights_spec = settings.get("weights", {}).get(spec["weights"], {})
    seed = settings["seed"]
    if spec["family"] in ("panel", "spatial_panel"):
        panel_settings = {**settings["panel"], "shock_year": settings["shock_year"]}
        rows = panel_design(panel, centrality, {**spec, "estimator": "panel_fe"} if spec["family"] == "spatial_panel"
                            else spec, panel_settings)
        if spec["estimator"] == "panel_iv":   # z-scored over the panel's cities, as the centralities
            found = instrument_columns(spec, instruments)
            rows = rows.join(standardize(found, list(found.columns)), on="city_code", how="inner").dropna()
        available = set(rows.index.get_level_values("city_code"))
        if spec["sample"] == "unflagged":   # panels take no other sample (validated in scripts/config.py)
            rows = rows[~rows.index.get_level_values("city_code").isin(flagged)]
        values, dropped = None, {}
        if spec["moderator"] != "none":       # z-scored over the panel's cities, as the centralities
            values, masked = moderator_column(spec["moderator"], settings, tables)
            in_panel = rows.index.get_level_values("city_code").unique()
            values = values.reindex(in_panel)[lambda v: np.isfinite(v)]
            dropped[spec["moderator"]] = sorted(set(in_panel) - set(values.index) - set(masked))
            dropped[MODERATOR_SPIKE] = sorted(set(masked) & set(in_panel))
            rows = rows.join(standardize(values.rename(spec["moderator"]).to_frame(), [spec["moderator"]]),
                             on="city_code", how="inner")
        fitted = fit_panel(rows, spec, panel_settings, inference_settings(spec, cities, seed), values) \
            if spec["family"] == "panel" else \
            fit_spatial_panel(rows, spec, panel_settings, weights, cities, weights_spec, seed)
        result = {**public, **fitted, "outcome": "growth", **({"dropped": dropped} if dropped else {}),
                  "sample": sorted(set(rows.index.get_level_values("city_code")))}
    else:
        design, masked = cross_section_design(spec, settings, tables, centrality, instruments)
        available = set(tables["resilience"].loc[tables["resilience"]["measure"] == spec["measure"], "city_code"])
        result = {**public, **fit_spec(spec, design, weights, cities, weights_spec, seed)}
        if spec["moderator"] != "none":   # listed by reason, not under the moderator's column
            found = result["dropped"].pop(spec["moderator"], [])
            result["dropped"] |= {spec["moderator"]: sorted(set(found) - set(masked)), MODERATOR_SPIKE: masked}
    if spec["sample"] == "unflagged":
        result.setdefault("dropped", {})["data-quality flag on the outcome"] = sorted(set(flagged) & available)
    return result
