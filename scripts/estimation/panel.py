"""Panel estimators (city × year; the design in scripts/estimation/design.py, panel_design).

``panel_fe`` and ``event_study`` with city and year fixed effects (linearmodels PanelOLS), SEs clustered by city or
Driscoll–Kraay (fit_panel).
"""
from typing import Any

import numpy as np
import pandas as pd

from scripts.common import InputError
from scripts.estimation.design import centrality_terms, check_rank, post_windows
from scripts.estimation.results import coefficient_rows
from scripts.registry import ESTIMATORS
from scripts.specs import holds_centralities


def fit_panel(rows: pd.DataFrame, spec: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """Two-way FE (city, year) regressions with linearmodels.PanelOLS.

    ``panel_fe``: growth_it = α_i + γ_t + Σ_c (δ_c C_{i,t−1} + Σ_k β_ck C_{i,t−1}·Post^k_t) + ε_it, Post^k the
    window of shock k (``post_windows``); β_ck is how much more (or less) a 1-SD more central city grew in shock k's
    window. With spec ``panel_centralities: pre_shock`` C is held at the spec's centrality year (time-invariant, so
    δ_c is absorbed by the city effects and only the interactions are estimated).
    ``event_study``: growth_it = α_i + γ_t + Σ_c Σ_{τ≠ref} β_cτ C_{i,ref}·1[t = τ] + ε_it, ref = the spec's
    centrality year (models.centrality_year unless the spec sets its own).
    ``cov``: ``cluster_city`` or ``driscoll_kraay`` (Driscoll & Kraay 1998; Bartlett kernel; not for event studies,
    whose year-specific regressors have no cross-period variation for the kernel to use).
    """
    terms = centrality_terms(spec)
    years = rows.index.get_level_values("year")
    x = pd.DataFrame(index=rows.index)
    if spec["estimator"] == "panel_fe":
        windows = post_windows(years, settings)
        for alias in terms:
            if not holds_centralities(spec):
                x[alias] = rows[alias]
            for suffix, window in windows.items():
                x[f"{alias}_x_{suffix}"] = rows[alias] * window
    else:
        reference = spec["centrality_year"]
        for alias in terms:
            for year in sorted(set(years) - {reference}):
                x[f"{alias}_x_{year}"] = rows[alias] * (years == year)
    result = fixed_effects(rows["growth"], x, spec["cov"], time_effects=True)
    label = ESTIMATORS[spec["estimator"]].label
    return {**result, "estimator": label, "diagnostics": {**result["diagnostics"], "outcome": "100·Δln Y (% growth)"}}


def fixed_effects(y: pd.Series, x: pd.DataFrame, cov: str, time_effects: bool = True) -> dict[str, Any]:
    """PanelOLS with entity (and time) effects; SEs clustered by entity or Driscoll–Kraay.

    ``r2_within`` is the R² of the regression after the fixed effects are removed (linearmodels ``rsquared``).
    """
    from linearmodels import PanelOLS

    check_rank(x.to_numpy(dtype=float), list(x.columns))
    model = PanelOLS(y, x, entity_effects=True, time_effects=time_effects, drop_absorbed=False)
    if cov == "cluster_city":
        fit, se_type = model.fit(cov_type="clustered", cluster_entity=True), "clustered by city"
    elif cov == "driscoll_kraay":
        fit, se_type = model.fit(cov_type="kernel", kernel="bartlett"), "Driscoll–Kraay (Bartlett kernel)"
    elif cov == "unadjusted":
        fit, se_type = model.fit(), "homoskedastic"
    else:
        raise InputError(f"models: cov '{cov}' is not available for panel specs; use one of "
                         f"{list(ESTIMATORS['panel_fe'].covariances)}.")
    low, high = np.asarray(fit.conf_int()).T
    return {"se_type": se_type, "n": int(fit.nobs), "fixed_effects": ["city", *(["year"] if time_effects else [])],
            "coefficients": coefficient_rows(list(x.columns), fit.params, fit.std_errors, fit.tstats, fit.pvalues, low, high),
            "diagnostics": {"r2_within": float(fit.rsquared), "entities": int(fit.entity_info["total"]),
                            "periods": int(fit.time_info["total"])}}
