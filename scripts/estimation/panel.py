"""Panel estimators (city × year; the design in scripts/estimation/design.py, panel_design).

``panel_fe`` and ``event_study`` with city and year fixed effects (linearmodels PanelOLS), SEs clustered by city,
Driscoll–Kraay, Conley–Hsiang spatial and serial HAC, or province-clustered with the restricted wild cluster bootstrap
(fit_panel; formulas in scripts/estimation/inference.py).
"""
from typing import Any

import numpy as np
import pandas as pd

from scripts.common import InputError
from scripts.estimation.design import centrality_terms, check_rank, post_windows, province_groups
from scripts.estimation.inference import panel_conley_covariance, wild_terms
from scripts.estimation.iv import fit_iv, instrument_name
from scripts.estimation.moderation import marginal_effects
from scripts.estimation.results import coefficient_rows, normal_coefficients
from scripts.registry import ESTIMATORS
from scripts.specs import holds_centralities


def fit_panel(rows: pd.DataFrame, spec: dict[str, Any], settings: dict[str, Any],
              inference: dict[str, Any] | None = None, moderator_values: pd.Series | None = None) -> dict[str, Any]:
    """Two-way FE (city, year) regressions with linearmodels.PanelOLS.

    ``panel_fe``: growth_it = α_i + γ_t + Σ_c (δ_c C_{i,t−1} + Σ_k β_ck C_{i,t−1}·Post^k_t) + ε_it, Post^k the
    window of shock k (``post_windows``); β_ck is how much more (or less) a 1-SD more central city grew in shock k's
    window. With a spec ``moderator`` M (z-scored over the panel's cities; ``moderator_values``: its raw values by
    city), moderated_terms adds M·Post^k, C·M and C·Post^k·M, and the result the window effects' marginal effects
    across M. With spec ``panel_centralities: pre_shock`` C is held at the spec's centrality year (time-invariant, so
    δ_c is absorbed by the city effects and only the interactions are estimated).
    ``event_study``: growth_it = α_i + γ_t + Σ_c Σ_{τ≠ref} β_cτ C_{i,ref}·1[t = τ] + ε_it, ref = the spec's
    centrality year (models.centrality_year unless the spec sets its own).
    ``cov``: ``cluster_city`` or ``driscoll_kraay`` (Driscoll & Kraay 1998; Bartlett kernel; not for event studies,
    whose year-specific regressors have no cross-period variation for the kernel to use); for ``panel_fe`` also
    ``conley`` (spatial HAC within each year plus serial correlation within city, Hsiang 2010: spec keys
    ``conley_km``, ``conley_kernel``, ``conley_lag``) and ``wild_cluster_province`` (province-clustered SEs; each
    term's p-value and 95 % CI from the restricted wild cluster bootstrap on the within-transformed design, spec key
    ``wild_bootstrap``). ``inference``: those keys, the city coordinates (``cities``) and the ``seed``.
    """
    if spec["estimator"] == "panel_iv":
        return fit_panel_iv(rows, spec, settings)
    terms = centrality_terms(spec)
    years = rows.index.get_level_values("year")
    x, moderation = pd.DataFrame(index=rows.index), None
    if spec["estimator"] == "panel_fe":
        windows = post_windows(years, settings)
        moderator = spec.get("moderator", "none")
        for alias in terms:
            if not holds_centralities(spec):
                x[alias] = rows[alias]
            for suffix, window in windows.items():
                x[f"{alias}_x_{suffix}"] = rows[alias] * window
        if moderator != "none":
            x = x.join(moderated_terms(rows, terms, moderator, windows, holds_centralities(spec)))
            moderation = {"moderator": moderator, "terms": [f"{a}_x_{s}" for a in terms for s in windows],
                          "values": moderator_values}
    else:
        reference = spec["centrality_year"]
        for alias in terms:
            for year in sorted(set(years) - {reference}):
                x[f"{alias}_x_{year}"] = rows[alias] * (years == year)
    result = fixed_effects(rows["growth"], x, spec["cov"], time_effects=True, inference=inference,
                           moderation=moderation)
    label = ESTIMATORS[spec["estimator"]].label
    return {**result, "estimator": label, "diagnostics": {**result["diagnostics"], "outcome": "100·Δln Y (% growth)"}}


def moderated_terms(rows: pd.DataFrame, terms: list[str], moderator: str, windows: dict[str, np.ndarray],
                    held: bool) -> pd.DataFrame:
    """The moderator's terms of a ``panel_fe`` spec (triple interaction; the moderator M_i is time-invariant and
    centred, so its own level is absorbed by the city effects): M_i·Post^k_t, C_{i,t−1}·M_i (not with held
    centralities, where it is absorbed too) and C·Post^k·M, whose coefficient is how much the window effect β_ck
    changes per SD of the moderator."""
    m = rows[moderator]
    x = pd.DataFrame({f"{moderator}_x_{suffix}": m * window for suffix, window in windows.items()}, index=rows.index)
    for alias in terms:
        if not held:
            x[f"{alias}_x_{moderator}"] = rows[alias] * m
        for suffix, window in windows.items():
            x[f"{alias}_x_{suffix}_x_{moderator}"] = rows[alias] * window * m
    return x


def fit_panel_iv(rows: pd.DataFrame, spec: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """Panel 2SLS with city and year effects: growth_it = α_i + γ_t + Σ_c Σ_k β_ck C_i·Post^k_t + ε_it, each
    C_i·Post^k_t (C_i held at the spec's centrality year) instrumented by Z_i·Post^k_t, Z_i the same alias's
    centrality of ``instruments: {network, year}``. Both sides are two-way within-transformed (``within``) and
    fitted by ``fit_iv`` (linearmodels IV2SLS) with SEs clustered by city: the city effects are nested in the
    clusters, so the small-sample scaling leaves them out (as Stata's reghdfe/ivreghdfe); first-stage strength per
    term and, with several, Sanderson–Windmeijer conditional F."""
    windows = post_windows(rows.index.get_level_values("year"), settings)
    columns, endogenous, instruments = {"growth": rows["growth"]}, [], []
    for alias in centrality_terms(spec):
        for suffix, window in windows.items():
            endogenous.append(f"{alias}_x_{suffix}")
            instruments.append(f"{instrument_name(alias)}_x_{suffix}")
            columns[endogenous[-1]] = rows[alias] * window
            columns[instruments[-1]] = rows[instrument_name(alias)] * window
    transformed = within(pd.DataFrame(columns, index=rows.index))
    result = fit_iv(transformed, "growth", endogenous, [], instruments, "cluster_city", absorbed=True)
    return {**result, "estimator": ESTIMATORS["panel_iv"].label, "fixed_effects": ["city", "year"],
            "diagnostics": {**result["diagnostics"], "outcome": "100·Δln Y (% growth)",
                            "entities": int(rows.index.get_level_values("city_code").nunique()),
                            "periods": int(rows.index.get_level_values("year").nunique())}}


def within(frame: pd.DataFrame) -> pd.DataFrame:
    """The two-way within transformation (city and year means removed; iterated to convergence when the panel is
    unbalanced: linearmodels' PanelData.demean), in the frame's row order. OLS on it gives PanelOLS's β (FWL)."""
    from linearmodels.panel.data import PanelData

    return PanelData(frame).demean("both").dataframe.loc[frame.index]


def fixed_effects(y: pd.Series, x: pd.DataFrame, cov: str, time_effects: bool = True,
                  inference: dict[str, Any] | None = None, moderation: dict[str, Any] | None = None) -> dict[str, Any]:
    """PanelOLS with entity (and time) effects; SEs clustered by entity, Driscoll–Kraay, Conley–Hsiang, or by
    province with wild-bootstrap inference (``fit_panel``). ``moderation``: the moderator, the window ``terms``
    (c_x_<window>) and the cities' moderator ``values`` → their ``marginal_effects`` across the moderator (the
    wild-bootstrap specs from their province-clustered covariance).

    ``r2_within`` is the R² of the regression after the fixed effects are removed (linearmodels ``rsquared``).
    """
    from linearmodels import PanelOLS

    check_rank(x.to_numpy(dtype=float), list(x.columns))
    model = PanelOLS(y, x, entity_effects=True, time_effects=time_effects, drop_absorbed=False)
    extra: dict[str, Any] = {}
    if cov == "cluster_city":
        fit, se_type = model.fit(cov_type="clustered", cluster_entity=True), "clustered by city"
    elif cov == "driscoll_kraay":
        fit, se_type = model.fit(cov_type="kernel", kernel="bartlett"), "Driscoll–Kraay (Bartlett kernel)"
    elif cov == "unadjusted":
        fit, se_type = model.fit(), "homoskedastic"
    elif cov == "wild_cluster_province":
        groups = province_groups(y.index.get_level_values("city_code"), cov)
        fit = model.fit(cov_type="clustered", clusters=pd.DataFrame({"province": groups}, index=y.index))
        se_type = f"clustered by province ({len(set(groups))} clusters)"
    elif cov == "conley":
        fit = model.fit()
        se_type = (f"Conley–Hsiang spatial HAC, {inference['conley_kernel']} kernel, cutoff {inference['conley_km']:g} km,"
                   f" serial correlation within city to {inference['conley_lag']} year(s)")
    else:
        raise InputError(f"models: cov '{cov}' is not available for panel specs; use one of "
                         f"{list(ESTIMATORS['panel_fe'].covariances)}.")
    names = list(x.columns)
    if cov in ("conley", "wild_cluster_province"):
        transformed = within(pd.concat([y.rename("__y"), x], axis=1))
        x_within, y_within = transformed[names].to_numpy(dtype=float), transformed["__y"].to_numpy(dtype=float)
    if cov == "conley":
        where = inference["cities"].set_index("city_code").loc[y.index.get_level_values("city_code")]
        residuals = y_within - x_within @ np.asarray(fit.params)
        vcov = panel_conley_covariance(x_within, residuals, where["lat"].to_numpy(),
                                       where["lon"].to_numpy(), y.index.get_level_values("city_code").to_numpy(),
                                       y.index.get_level_values("year").to_numpy(), inference["conley_km"],
                                       inference["conley_kernel"], inference["conley_lag"])
        coefficients = normal_coefficients(names, np.asarray(fit.params), vcov)
    else:
        vcov = np.asarray(fit.cov)
        low, high = np.asarray(fit.conf_int()).T
        coefficients = coefficient_rows(names, fit.params, fit.std_errors, fit.tstats, fit.pvalues, low, high)
    if cov == "wild_cluster_province":
        extra["wild_bootstrap"] = wild_terms(x_within, y_within, groups, names, {**inference, "terms": names})
        for row in coefficients:
            row.update({k: extra["wild_bootstrap"]["terms"][row["term"]][k] for k in ("p_value", "ci_low", "ci_high")})
        se_type += (f"; p-values and 95 % CIs from the restricted wild cluster bootstrap on the within-transformed "
                    f"design ({extra['wild_bootstrap']['weights']} weights, {extra['wild_bootstrap']['draws']} draws)")
    if moderation:
        extra["marginal_effects"] = marginal_effects(names, np.asarray(fit.params), vcov, moderation["terms"],
                                                     moderation["moderator"], moderation["values"])
    return {"se_type": se_type, "n": int(fit.nobs), "fixed_effects": ["city", *(["year"] if time_effects else [])],
            "coefficients": coefficients,
            "diagnostics": {"r2_within": float(fit.rsquared), "entities": int(fit.entity_info["total"]),
                            "periods": int(fit.time_info["total"])}, **extra}
