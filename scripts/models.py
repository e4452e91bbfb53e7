"""Models stage: the configured specifications (scripts/specs.py), fitted in batches per job, one JSON per spec.

Design (one row per city):  y_i = α + Σ_c β_c C_i + γ'x_i + ε_i, y a resilience measure of ``models.outcome``, C the
centralities (aliases dc, cc, bc → measures, from ``models.network`` in ``models.centrality_year``; z-scored within
the sample when ``standardize``), x the controls at their year and transform. ``centralities``: ``joint`` (all),
one alias (one at a time), or ``orthogonal`` (Gram–Schmidt in alias order: cc residualised on dc, bc on dc and cc,
then z-scored — DC, CC and BC are strongly correlated, so joint estimates are fragile).

Estimators:
- ``ols`` (statsmodels) with ``cov`` HC1 or HC3 (MacKinnon & White 1985) or ``cluster_province``; VIFs reported.
- spatial, W row-standardised on the sample: ``sar`` y = ρWy + Xβ + ε (spreg.ML_Lag), ``sem`` y = Xβ + u,
  u = λWu + ε (ML_Error), ``sdm`` y = ρWy + Xβ + WXθ + ε (ML_Lag with slx_lags=1), ``gm_lag`` (GM_Lag, 2SLS with
  WX, W²X instruments), ``gm_error`` (GM_Error_Het, Arraiz et al. 2010). OLS LM-lag, LM-error, their robust forms,
  SARMA and Moran's I of OLS residuals come with every spatial spec.
- panel (city × year): ``panel_fe`` and ``event_study`` with city and year fixed effects (linearmodels PanelOLS),
  SEs clustered by city or Driscoll–Kraay (fit_panel); spatial panels ``panel_sar`` / ``panel_sem`` (fit_spatial_panel).
- Spec options: ``sample`` (all, region:<east|central|west|northeast>, size:<class> from models.size_classes,
  unflagged: without cities flagged for data quality on the outcome), ``bias_correction`` (spatial panels:
  lee_yu),
  ``moderator`` (a models.moderators entry, interacted with each centrality, both centred), ``shock_year``
  (placebo: the counterfactual measures recomputed with every resilience year moved, centralities of the year
  before), ``permutations`` (OLS: permutation p-values for the centralities).
- Impacts (LeSage & Pace 2009, §2.7) for sar, sdm, gm_lag: S_k(W) = (I − ρW)⁻¹(β_k I + θ_k W);
  direct = tr(S_k)/n, total = 1'S_k 1/n, indirect = total − direct, computed exactly from the eigenvalues λ of W:
  tr((I − ρW)⁻¹) = Σ 1/(1 − ρλ), tr((I − ρW)⁻¹W) = Σ λ/(1 − ρλ), total = (β_k + θ_k)/(1 − ρ). SEs and 95 % intervals by
  simulating (ρ, β, θ) from their estimated asymptotic normal distribution (seeded; draws with |ρ| ≥ 1 discarded).
  spreg reports impacts without SEs, and for the SDM it splits the WX terms differently; these are computed here.
"""
import contextlib
import io
from typing import Any

import numpy as np
import pandas as pd

from scripts.common import InputError, write_json
from scripts.specs import expand_specs


def transform(values: pd.Series, kind: str) -> pd.Series:
    """none | log (NaN where ≤ 0) | log1p (NaN where < 0)."""
    if kind == "log":
        return np.log(values.where(values > 0))
    if kind == "log1p":
        return np.log1p(values.where(values >= 0))
    return values


def control_name(control: dict[str, Any]) -> str:
    """Column name of a control in the design, e.g. ``log_pop_grid_2019``."""
    prefix = "" if control["transform"] == "none" else f"{control['transform']}_"
    return f"{prefix}{control['variable']}_{control['year']}"


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


def design_table(resilience: pd.DataFrame, centrality: pd.DataFrame, panel: pd.DataFrame, outcome: str, year: int,
                 aliases: dict[str, str], controls: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per city: the outcome's resilience measures, the centralities (by alias) and the controls."""
    chosen_outcome = resilience[resilience["outcome"] == outcome]
    if chosen_outcome.empty:
        raise InputError(f"models.outcome '{outcome}' has no resilience measures; add it to resilience.outcomes.")
    outcomes = chosen_outcome.pivot(index="city_code", columns="measure", values="value")
    chosen = centrality[(centrality["year"] == year) & centrality["measure"].isin(aliases.values())]
    if chosen.empty:
        raise InputError(f"models.centrality_year {year} has no centralities {list(aliases.values())}; choose a "
                         "year in the network's range.")
    wide = chosen.pivot(index="city_code", columns="measure", values="value")
    table = outcomes.join(wide.rename(columns={m: a for a, m in aliases.items()})[list(aliases)], how="left")
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


def centrality_terms(spec: dict[str, Any]) -> list[str]:
    """The centrality aliases a spec uses."""
    mode, aliases = spec["centralities"], list(spec["all_centralities"])
    return aliases if mode in ("joint", "orthogonal") else [mode]


def prepared_sample(design: pd.DataFrame, spec: dict[str, Any]) -> tuple[pd.DataFrame, list[str], dict]:
    """Estimation sample of a spec (centralities orthogonalised/standardised as configured), regressors, dropped."""
    measure, terms = spec["measure"], centrality_terms(spec)
    moderator = spec.get("moderator", "none")
    regressors = [*terms, *(control_name(c) for c in spec["controls"]), *([moderator] if moderator != "none" else [])]
    if measure not in design:
        raise InputError(f"models: measure '{measure}' was not computed for '{spec['outcome']}'; have "
                         f"{[c for c in design.columns if c not in regressors]}.")
    sample, dropped = estimation_sample(design, measure, regressors)
    if len(sample) <= len(regressors) + 1:
        raise InputError(f"models: spec '{spec.get('name')}' (sample {spec.get('sample', 'all')}) has only {len(sample)} "
                         f"complete cities for '{measure}' with {len(regressors)} regressors "
                         f"{regressors}; the largest loss is from "
                         f"{max(dropped, key=lambda k: len(dropped[k])) if dropped else 'none'}.")
    if spec["centralities"] == "orthogonal":
        sample = orthogonalise(sample, terms)
    if spec["standardize"] or spec["centralities"] == "orthogonal":
        sample = standardize(sample, terms)
    if moderator != "none":  # centred interactions: β_c is the effect at the mean moderator
        sample = standardize(sample, [moderator])
        for alias in terms:
            sample[f"{alias}_x_{moderator}"] = sample[alias] * sample[moderator]
            regressors.append(f"{alias}_x_{moderator}")
    return sample, regressors, dropped


def _coefficients(names, params, se, stat, pvalues, low, high) -> list[dict[str, Any]]:
    return [{"term": n, "estimate": float(b), "se": float(s), "statistic": float(t), "p_value": float(p),
             "ci_low": float(lo), "ci_high": float(hi)}
            for n, b, s, t, p, lo, hi in zip(names, params, se, stat, pvalues, low, high)]


def fit_ols(sample: pd.DataFrame, y: str, regressors: list[str], cov: str = "HC1") -> dict[str, Any]:
    """OLS with HC1/HC3 or province-clustered SEs; R², adj. R², robust F, AIC, VIF per regressor."""
    import statsmodels.api as sm
    from statsmodels.stats.outliers_influence import variance_inflation_factor

    x = sm.add_constant(sample[regressors].to_numpy(dtype=float), has_constant="add")
    names = ["const", *regressors]
    check_rank(x, names)
    model = sm.OLS(sample[y].to_numpy(dtype=float), x)
    if cov == "cluster_province":
        groups = pd.Index(sample.index).str[:2].factorize()[0]
        if len(set(groups)) < 2:
            raise InputError("models: cov 'cluster_province' needs cities from at least two provinces in the sample.")
        fit = model.fit(cov_type="cluster", cov_kwds={"groups": groups})
        se_type = f"clustered by province ({len(set(groups))} clusters)"
    elif cov in ("HC1", "HC3"):
        fit = model.fit(cov_type=cov)
        se_type = f"{cov} (heteroskedasticity-robust)"
    else:
        raise InputError(f"models: cov '{cov}' is not available for OLS; use HC1, HC3 or cluster_province.")
    low, high = np.asarray(fit.conf_int()).T
    vif = {n: float(variance_inflation_factor(x, k)) for k, n in enumerate(names) if k > 0}
    return {"estimator": "OLS", "se_type": se_type, "n": int(fit.nobs),
            "coefficients": _coefficients(names, fit.params, fit.bse, fit.tvalues, fit.pvalues, low, high),
            "diagnostics": {"r2": float(fit.rsquared), "adj_r2": float(fit.rsquared_adj), "aic": float(fit.aic),
                            "f_robust": float(np.squeeze(fit.fvalue)), "f_p_value": float(np.squeeze(fit.f_pvalue)),
                            "vif": vif, "max_vif": max(vif.values()) if vif else None,
                            "condition_number": float(fit.condition_number)}}


def impacts(rho: float, beta: np.ndarray, theta: np.ndarray, eigenvalues: np.ndarray) -> np.ndarray:
    """Direct, indirect and total impacts (rows) of each regressor (columns) — formulas in the module docstring."""
    n = len(eigenvalues)
    inverse_trace = np.sum(1.0 / (1.0 - rho * eigenvalues)).real
    lag_trace = np.sum(eigenvalues / (1.0 - rho * eigenvalues)).real
    direct = (beta * inverse_trace + theta * lag_trace) / n
    total = (beta + theta) / (1.0 - rho)
    return np.vstack([direct, total - direct, total])


def simulated_impacts(mean: np.ndarray, vcov: np.ndarray, rho_at: int, beta_at: list[int], theta_at: list[int] | None,
                      eigenvalues: np.ndarray, draws: int, seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Impacts of `draws` parameter vectors from N(mean, vcov): (draws × 3 × k array, point impacts, discarded)."""
    rng = np.random.default_rng(seed)
    sample = rng.multivariate_normal(mean, vcov, size=draws, method="eigh")
    stable = np.abs(sample[:, rho_at]) < 1
    def one(p):
        theta = p[theta_at] if theta_at else np.zeros(len(beta_at))
        return impacts(p[rho_at], p[beta_at], theta, eigenvalues)
    point = one(mean)
    return np.stack([one(p) for p in sample[stable]]), point, int((~stable).sum())


def impact_rows(names: list[str], point: np.ndarray, draws: np.ndarray) -> list[dict[str, Any]]:
    """One row per regressor and impact type with simulated SE, z, p and 95 % interval."""
    from scipy import stats

    rows = []
    for j, name in enumerate(names):
        for i, kind in enumerate(("direct", "indirect", "total")):
            values = draws[:, i, j]
            se = float(values.std(ddof=1))
            z = float(point[i, j] / se) if se > 0 else np.nan
            rows.append({"term": name, "impact": kind, "estimate": float(point[i, j]), "se": se, "z": z,
                         "p_value": float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else np.nan,
                         "ci_low": float(np.quantile(values, 0.025)), "ci_high": float(np.quantile(values, 0.975))})
    return rows


def normal_coefficients(names: list[str], params: np.ndarray, vcov: np.ndarray) -> list[dict[str, Any]]:
    """Coefficient rows of an ML/GMM fit: SEs from the asymptotic covariance, z, two-sided p, 95 % normal CI."""
    from scipy import stats

    se = np.sqrt(np.diag(vcov))
    z = params / se
    crit = stats.norm.ppf(0.975)
    return _coefficients(names, params, se, z, 2 * stats.norm.sf(np.abs(z)), params - crit * se, params + crit * se)


def lag_impacts(names: list[str], params: np.ndarray, vcov: np.ndarray, beta_at: list[int],
                theta_at: list[int] | None, w_dense: np.ndarray, draws: int, seed: int) -> dict[str, Any]:
    """The ``impacts`` and ``impacts_simulation`` entries of a lag model's result (ρ is the last parameter)."""
    sims, point, discarded = simulated_impacts(params, vcov, len(params) - 1, beta_at, theta_at,
                                               np.linalg.eigvals(w_dense), draws, seed)
    return {"impacts": impact_rows(names, point, sims),
            "impacts_simulation": {"draws": draws, "discarded_unstable": discarded, "seed": seed}}


def fit_spatial(sample: pd.DataFrame, y: str, regressors: list[str], w, estimator: str, seed: int,
                draws: int = 1000) -> dict[str, Any]:
    """ML/GMM spatial model with LM diagnostics and (for lag models) impacts with simulated SEs."""
    import spreg

    yv = sample[[y]].to_numpy(dtype=float)
    xv = sample[regressors].to_numpy(dtype=float)
    check_rank(np.column_stack([np.ones(len(xv)), xv]), ["const", *regressors])
    with contextlib.redirect_stdout(io.StringIO()):  # spreg prints the class name on every fit
        ols = spreg.OLS(yv, xv, w=w, spat_diag=True, moran=True, name_y=y, name_x=regressors)
        model = {"sar": lambda: spreg.ML_Lag(yv, xv, w=w, method="full"),
                 "sdm": lambda: spreg.ML_Lag(yv, xv, w=w, slx_lags=1, method="full"),
                 "sem": lambda: spreg.ML_Error(yv, xv, w=w, method="full"),
                 "gm_lag": lambda: spreg.GM_Lag(yv, xv, w=w, w_lags=2),
                 "gm_error": lambda: spreg.GM_Error_Het(yv, xv, w=w)}[estimator]()
    k = len(regressors)
    wx = [f"W_{r}" for r in regressors] if estimator == "sdm" else []
    spatial_term = "lambda" if estimator in ("sem", "gm_error") else "rho"
    names = ["const", *regressors, *wx, spatial_term]
    params, vcov = np.ravel(model.betas), np.asarray(model.vm)
    diagnostics = {"ols_moran_i_residuals": float(ols.moran_res[0]), "ols_moran_p_value": float(ols.moran_res[2]),
                   "lm_lag": float(ols.lm_lag[0]), "lm_lag_p_value": float(ols.lm_lag[1]),
                   "lm_error": float(ols.lm_error[0]), "lm_error_p_value": float(ols.lm_error[1]),
                   "robust_lm_lag": float(ols.rlm_lag[0]), "robust_lm_lag_p_value": float(ols.rlm_lag[1]),
                   "robust_lm_error": float(ols.rlm_error[0]), "robust_lm_error_p_value": float(ols.rlm_error[1]),
                   "lm_sarma": float(ols.lm_sarma[0]), "lm_sarma_p_value": float(ols.lm_sarma[1]),
                   spatial_term: float(params[-1])}
    for attribute, key in (("logll", "log_likelihood"), ("aic", "aic"), ("pr2", "pseudo_r2")):
        if hasattr(model, attribute):
            diagnostics[key] = float(np.ravel(getattr(model, attribute))[0])
    result = {"estimator": {"sar": "Spatial lag (ML)", "sdm": "Spatial Durbin (ML)", "sem": "Spatial error (ML)",
                            "gm_lag": "Spatial lag (GMM/2SLS)", "gm_error": "Spatial error (GMM, het.-robust)"}[estimator],
              "se_type": "ML asymptotic" if estimator in ("sar", "sdm", "sem") else "GMM asymptotic",
              "n": int(model.n), "coefficients": normal_coefficients(names, params, vcov), "diagnostics": diagnostics}
    if estimator in ("sar", "sdm", "gm_lag"):
        theta_at = list(range(1 + k, 1 + 2 * k)) if wx else None
        result |= lag_impacts(regressors, params, vcov, list(range(1, 1 + k)), theta_at, w.full()[0], draws, seed)
    return result


def panel_design(panel: pd.DataFrame, centrality: pd.DataFrame, spec: dict[str, Any],
                 settings: dict[str, Any]) -> pd.DataFrame:
    """City × year rows: growth = Δ ln Y_it (×100, %) and centralities (aliases) lagged one year, z-scored.

    Event studies instead hold each city's centralities at models.centrality_year (pre-shock).
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
    wide = centrality[centrality["measure"].isin(aliases.values())].pivot_table(
        index=["city_code", "year"], columns="measure", values="value").rename(columns={m: a for a, m in aliases.items()})
    wide = wide[list(aliases)].reset_index()
    if spec["estimator"] == "event_study":
        fixed = wide[wide["year"] == spec["centrality_year"]].drop(columns="year")
        rows = rows.merge(fixed, on="city_code", how="inner")
    else:
        rows = rows.merge(wide.assign(year=wide["year"] + 1), on=["city_code", "year"], how="inner")
    rows = rows.dropna()
    for alias in aliases:
        rows[alias] = (rows[alias] - rows[alias].mean()) / rows[alias].std(ddof=1)
    return rows.set_index(["city_code", "year"]).sort_index()


def fit_panel(rows: pd.DataFrame, spec: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """Two-way FE (city, year) regressions with linearmodels.PanelOLS.

    ``panel_fe``: growth_it = α_i + γ_t + Σ_c (δ_c C_{i,t−1} + β_c C_{i,t−1}·Post_t) + ε_it, Post_t = 1[t ≥ shock];
    β_c is how much more (or less) a 1-SD more central city grew after the shock.
    ``event_study``: growth_it = α_i + γ_t + Σ_c Σ_{τ≠ref} β_cτ C_{i,ref}·1[t = τ] + ε_it, ref = models.centrality_year.
    ``cov``: ``cluster_city`` or ``driscoll_kraay`` (Driscoll & Kraay 1998; Bartlett kernel; not for event studies,
    whose year-specific regressors have no cross-period variation for the kernel to use).
    """
    terms = centrality_terms(spec)
    years = rows.index.get_level_values("year")
    shock = settings["shock_year"]
    x = pd.DataFrame(index=rows.index)
    if spec["estimator"] == "panel_fe":
        for alias in terms:
            x[alias] = rows[alias]
            x[f"{alias}_x_post"] = rows[alias] * (years >= shock)
    else:
        reference = spec["centrality_year"]
        for alias in terms:
            for year in sorted(set(years) - {reference}):
                x[f"{alias}_x_{year}"] = rows[alias] * (years == year)
    result = fixed_effects(rows["growth"], x, spec["cov"], time_effects=True)
    label = {"panel_fe": "Panel two-way FE", "event_study": "Event study, two-way FE"}[spec["estimator"]]
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
        raise InputError(f"models: cov '{cov}' is not available for panel specs; use cluster_city or driscoll_kraay.")
    low, high = np.asarray(fit.conf_int()).T
    return {"se_type": se_type, "n": int(fit.nobs), "fixed_effects": ["city", *(["year"] if time_effects else [])],
            "coefficients": _coefficients(list(x.columns), fit.params, fit.std_errors, fit.tstats, fit.pvalues, low, high),
            "diagnostics": {"r2_within": float(fit.rsquared), "entities": int(fit.entity_info["total"]),
                            "periods": int(fit.time_info["total"])}}


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


def lee_yu_panel(y: np.ndarray, x: np.ndarray, w: np.ndarray, periods: int, kind: str) -> dict[str, Any]:
    """ML of a two-way fixed-effects spatial lag (``sar``) or error (``sem``) panel by Lee & Yu's (2010)
    transformation approach, which stays consistent in short panels where the direct approach (spreg) does not.

    y, x: two-way demeaned, stacked period by period (n cities in W's order within each); W row-standardised.
    With N* = (n − 1)(T − 1) effective observations and ω the eigenvalues of W (one of them 1):
        ln L = −N*/2 · ln(2πσ²) + (T − 1)·[Σ ln(1 − λω) − ln(1 − λ)] − V'V / (2σ²)
        V = (I − λW)y − Xβ (sar)   or   V = (I − λW)(y − Xβ) (sem)
    concentrated in β and σ² = V'V / N* and maximised over λ; the covariance of (β, λ, σ²) is the inverse of the
    negative numerical Hessian of ln L (statsmodels ``approx_hess3``). Written here because spreg implements only
    the direct approach, whose σ² (and, with time effects, λ) carries O(1/T) and O(1/n) biases.
    """
    from scipy.optimize import minimize_scalar
    from statsmodels.tools.numdiff import approx_hess3

    n = w.shape[0]
    effective = (n - 1) * (periods - 1)
    omega = np.linalg.eigvals(w)

    def lag(v: np.ndarray) -> np.ndarray:
        """(I_T ⊗ J_n W) v without forming nT × nT matrices: W y of a demeaned y is not demeaned across cities
        (W is not symmetric), and the transformation keeps only the within-period deviations."""
        lagged = np.einsum("ij,tj...->ti...", w, v.reshape(periods, n, *v.shape[1:]))
        return (lagged - lagged.mean(axis=1, keepdims=True)).reshape(v.shape)

    wy, wx = lag(y), lag(x)

    def residual(lam: float, beta: np.ndarray) -> np.ndarray:
        return y - lam * wy - x @ beta if kind == "sar" else (y - lam * wy) - (x - lam * wx) @ beta

    def beta_at(lam: float) -> np.ndarray:
        design = x if kind == "sar" else x - lam * wx
        return np.linalg.lstsq(design, y - lam * wy, rcond=None)[0]

    def log_jacobian(lam: float) -> float:   # ln|I − λW| without the unit eigenvalue's ln(1 − λ)
        return float(np.sum(np.log(np.abs(1 - lam * omega))) - np.log(1 - lam))

    def loglik(theta: np.ndarray) -> float:
        beta, lam, sigma2 = theta[:-2], theta[-2], theta[-1]
        v = residual(lam, beta)
        return -effective / 2 * np.log(2 * np.pi * sigma2) + (periods - 1) * log_jacobian(lam) - v @ v / (2 * sigma2)

    def concentrated(lam: float) -> float:   # minus ln L with β and σ² profiled out (constants dropped)
        v = residual(lam, beta_at(lam))
        return effective / 2 * np.log(v @ v / effective) - (periods - 1) * log_jacobian(lam)

    lam = minimize_scalar(concentrated, bounds=(-0.99, 0.99), method="bounded", options={"xatol": 1e-10}).x
    beta = beta_at(lam)
    v = residual(lam, beta)
    theta = np.concatenate([beta, [lam, v @ v / effective]])
    vcov = np.linalg.inv(-approx_hess3(theta, loglik))
    return {"params": theta[:-1], "vcov": vcov[:-1, :-1], "sigma2": float(theta[-1]), "log_likelihood": loglik(theta)}


def fit_spatial_panel(rows: pd.DataFrame, spec: dict[str, Any], settings: dict[str, Any], weights_table: pd.DataFrame,
                      cities: pd.DataFrame, weights_spec: dict[str, Any], seed: int) -> dict[str, Any]:
    """Fixed-effects spatial lag / error panel (Elhorst 2003; spreg.Panel_FE_Lag / Panel_FE_Error), two-way.

    Regressors as in ``panel_fe`` (lagged centralities and their post-shock interactions). Balanced-panel rule:
    cities missing any year are dropped (listed). Two-way effects: every variable is first demeaned by year
    (cross-section mean), then spreg removes city means (the direct approach). With spec ``bias_correction:
    lee_yu`` the model is instead fitted by Lee & Yu's (2010) transformation approach (``lee_yu_panel``), which
    removes the O(1/T) bias of σ² and λ that the direct approach has in short panels.
    """
    import spreg

    from scripts.weights import sample_weights

    years = list(range(settings["years"]["start"], settings["years"]["end"] + 1))
    rows, incomplete = balanced(rows, years, settings.get("balance", "drop_incomplete"))
    w, kept, report = sample_weights(weights_table, sorted(set(rows.index.get_level_values("city_code"))), cities,
                                     weights_spec)
    rows = rows[rows.index.get_level_values("city_code").isin(kept)]
    terms = centrality_terms(spec)
    post = (rows.index.get_level_values("year") >= settings["shock_year"]).astype(float)
    columns = {}
    for alias in terms:
        columns[alias] = rows[alias].to_numpy()
        columns[f"{alias}_x_post"] = rows[alias].to_numpy() * post
    frame = pd.DataFrame(columns, index=rows.index).assign(growth=rows["growth"])
    frame = frame - frame.groupby(level="year").transform("mean")
    names = [c for c in frame.columns if c != "growth"]
    # both fits stack (n·t) rows period by period, cities in W's order within each period
    stacked = frame.reset_index().sort_values(["year", "city_code"])
    check_rank(stacked[names].to_numpy(dtype=float), names)
    w_dense = w.full()[0]
    correction = spec.get("bias_correction", "none")
    if correction == "lee_yu":
        within = stacked[["growth", *names]] - stacked.groupby("city_code")[["growth", *names]].transform("mean")
        fit = lee_yu_panel(within["growth"].to_numpy(dtype=float), within[names].to_numpy(dtype=float), w_dense,
                           len(years), "sar" if spec["estimator"] == "panel_sar" else "sem")
        params, vcov, loglik, sigma2 = fit["params"], fit["vcov"], fit["log_likelihood"], fit["sigma2"]
    else:
        y, x = stacked[["growth"]].to_numpy(dtype=float), stacked[names].to_numpy(dtype=float)
        with contextlib.redirect_stdout(io.StringIO()):   # spreg prints the class name on every fit
            model = (spreg.Panel_FE_Lag if spec["estimator"] == "panel_sar" else spreg.Panel_FE_Error)(y, x, w)
        params, vcov, loglik = np.ravel(model.betas), np.asarray(model.vm), float(np.ravel(model.logll)[0])
        sigma2 = float(np.ravel(model.sig2)[0])
    term = "rho" if spec["estimator"] == "panel_sar" else "lambda"
    result = {"estimator": {"panel_sar": "Spatial lag panel, two-way FE (ML)",
                            "panel_sem": "Spatial error panel, two-way FE (ML)"}[spec["estimator"]],
              "se_type": "ML asymptotic", "n": len(stacked), "fixed_effects": ["city", "year"],
              "coefficients": normal_coefficients([*names, term], params, vcov),
              "diagnostics": {"log_likelihood": float(loglik), "entities": len(kept), "periods": len(years),
                              term: float(params[-1]), "sigma2": sigma2, "bias_correction": correction},
              "dropped": {"unbalanced (missing a year)": incomplete, "island in spatial weights":
                          report["islands"] if report["policy"] == "drop" else []},
              "weights": {"name": spec["weights"], **report}}
    if spec["estimator"] == "panel_sar":
        result |= lag_impacts(names, params, vcov, list(range(len(names))), None, w_dense, 1000, seed)
    return result


def permutation_test(sample: pd.DataFrame, y: str, regressors: list[str], terms: list[str], draws: int,
                     seed: int) -> dict[str, Any]:
    """Permutation p-values for the centrality coefficients, p = (1 + #{|β*| ≥ |β|}) / (draws + 1), two schemes:

    - ``reassign``: the centralities are reassigned (jointly, as one block) across cities — the test the seed asks
      for; it is exact only if centralities are unrelated to the controls, which they are not here (DC and the log
      of population are correlated), so it tends to reject too often;
    - ``freedman_lane`` (Freedman & Lane 1983): permute the residuals of y on the controls alone, add them back to
      the fitted values and refit; valid with correlated controls (Anderson & Legendre 1999).
    """
    rng = np.random.default_rng(seed)
    x = np.column_stack([np.ones(len(sample)), sample[regressors].to_numpy(dtype=float)])
    y_values = sample[y].to_numpy(dtype=float)
    at = [1 + regressors.index(t) for t in terms]
    reduced = np.delete(x, at, axis=1)
    fitted = reduced @ np.linalg.lstsq(reduced, y_values, rcond=None)[0]
    residual = y_values - fitted
    observed = np.abs(np.linalg.lstsq(x, y_values, rcond=None)[0][at])
    exceed = {"reassign": np.zeros(len(terms)), "freedman_lane": np.zeros(len(terms))}
    for _ in range(draws):
        shuffled = x.copy()
        shuffled[:, at] = x[rng.permutation(len(x))][:, at]
        exceed["reassign"] += np.abs(np.linalg.lstsq(shuffled, y_values, rcond=None)[0][at]) >= observed
        y_star = fitted + residual[rng.permutation(len(x))]
        exceed["freedman_lane"] += np.abs(np.linalg.lstsq(x, y_star, rcond=None)[0][at]) >= observed
    return {"draws": draws, "seed": seed,
            "p_value": {scheme: {t: float((1 + e) / (draws + 1)) for t, e in zip(terms, counts)}
                        for scheme, counts in exceed.items()}}


def fit_spec(spec: dict[str, Any], design: pd.DataFrame, weights_table: pd.DataFrame, cities: pd.DataFrame,
             weights_spec: dict[str, Any], seed: int) -> dict[str, Any]:
    """Fit one concrete spec on the design; the result dict written as the spec's JSON."""
    from scripts.weights import sample_weights

    sample, regressors, dropped = prepared_sample(design, spec)
    extra: dict[str, Any] = {}
    if spec["family"] == "cross_section":
        result = fit_ols(sample, spec["measure"], regressors, spec["cov"])
        if spec.get("permutations"):
            extra["permutation"] = permutation_test(sample, spec["measure"], regressors, centrality_terms(spec),
                                                    spec["permutations"], seed)
    else:
        w, kept, island_report = sample_weights(weights_table, list(sample.index), cities, weights_spec)
        if len(kept) < len(sample):  # islands dropped: re-standardise within the smaller sample
            sample, regressors, _ = prepared_sample(design.loc[kept], spec)
            dropped["island in spatial weights"] = island_report["islands"]
        result = fit_spatial(sample.loc[kept], spec["measure"], regressors, w, spec["estimator"], seed)
        extra["weights"] = {"name": spec["weights"], **island_report}
    return {**result, "outcome": spec["measure"], "dropped": dropped, "sample": sorted(sample.index),
            "standardized": spec["standardize"], **extra}


def placebo_resilience(panel: pd.DataFrame, config: dict[str, Any], spec: dict[str, Any]) -> pd.DataFrame:
    """The counterfactual measures of the spec's outcome with every resilience year moved to the placebo shock."""
    from scripts.resilience import COUNTERFACTUAL_MEASURES, resilience_tables

    base = config["resilience"]
    shift = spec["shock_year"] - base["shock_year"]
    moved = {**base, "outcomes": [spec["outcome"]], "shock_year": spec["shock_year"],
             "recovery_year": base["recovery_year"] + shift,
             "pre_period": {k: v + shift for k, v in base["pre_period"].items()},
             "measures": [m for m in base["measures"] if m in COUNTERFACTUAL_MEASURES],
             "bootstrap": {"draws": 19, "block_length": 1}}
    moved.pop("shift_share", None)
    return resilience_tables(panel, moved, config["years"], config["seed"])[0]


def cross_section_design(spec: dict[str, Any], config: dict[str, Any], resilience: pd.DataFrame,
                         centrality: pd.DataFrame, panel: pd.DataFrame, flagged: list[str] = ()) -> pd.DataFrame:
    """Design rows of a cross-section/spatial spec: placebo years, moderator column and subsample applied."""
    models = config["models"]
    year = spec["centrality_year"]
    if spec["shock_year"] not in (None, config["resilience"]["shock_year"]):
        resilience, year = placebo_resilience(panel, config, spec), spec["shock_year"] - 1
    design = design_table(resilience, centrality, panel, spec["outcome"], year, spec["all_centralities"],
                          spec["controls"])
    if spec["moderator"] != "none":
        moderator = models["moderators"][spec["moderator"]]
        values = panel.loc[panel["year"] == moderator["year"]].set_index("city_code")[moderator["variable"]]
        design[spec["moderator"]] = transform(values, moderator["transform"])
    return subsample(design, spec, panel, models, flagged)


def fit_named_spec(spec: dict[str, Any], config: dict[str, Any], tables: dict[str, pd.DataFrame],
                   centrality: pd.DataFrame, weights: pd.DataFrame) -> dict[str, Any]:
    """The JSON result of one concrete spec, from the shared tables (panel, resilience, cities, flagged) and its
    own centralities and weights. ``sample: unflagged`` leaves out the flagged cities (listed under dropped)."""
    panel, cities, flagged = tables["panel"], tables["cities"], tables["flagged"]
    public = {"model": spec["name"], "spec": {k: v for k, v in spec.items() if k != "all_centralities"}}
    weights_spec = config["weights"].get(spec["weights"], {})
    if spec["family"] in ("panel", "spatial_panel"):
        settings = {"years": config["models"]["panel"]["years"], "shock_year": config["resilience"]["shock_year"],
                    "balance": config["models"]["panel"].get("balance", "drop_incomplete")}
        rows = panel_design(panel, centrality, {**spec, "estimator": "panel_fe"} if spec["family"] == "spatial_panel"
                            else spec, settings)
        available = set(rows.index.get_level_values("city_code"))
        if spec["sample"] == "unflagged":   # panels take no other sample (validated in scripts/config.py)
            rows = rows[~rows.index.get_level_values("city_code").isin(flagged)]
        fitted = fit_panel(rows, spec, settings) if spec["family"] == "panel" else \
            fit_spatial_panel(rows, spec, settings, weights, cities, weights_spec, config["seed"])
        result = {**public, **fitted, "outcome": "growth",
                  "sample": sorted(set(rows.index.get_level_values("city_code")))}
    else:
        design = cross_section_design(spec, config, tables["resilience"], centrality, panel, flagged)
        available = set(tables["resilience"].loc[tables["resilience"]["measure"] == spec["measure"], "city_code"])
        result = {**public, **fit_spec(spec, design, weights, cities, weights_spec, config["seed"])}
    if spec["sample"] == "unflagged":
        result.setdefault("dropped", {})["data-quality flag on the outcome"] = sorted(set(flagged) & available)
    return result


def flagged_outcome_cities(flags: pd.DataFrame, config: dict[str, Any]) -> list[str]:
    """Cities with a data-quality flag on the models' outcome between the pre-period start and the recovery year."""
    from scripts.quality import flagged_cities

    window = (config["resilience"]["pre_period"]["start"], config["resilience"]["recovery_year"])
    return flagged_cities(flags, config["models"]["outcome"], window)


def model_tables(paths: Any, config: dict[str, Any]) -> dict[str, Any]:
    """The tables every spec shares: panel (flagged city-years of the outcome masked when
    quality.exclude_flagged is on, as the resilience stage does), resilience, city points, flagged cities."""
    from scripts.quality import mask_flagged

    flags = pd.read_csv(paths.flags, dtype={"city_code": str})
    panel = pd.read_parquet(paths.panel)
    if config["quality"]["exclude_flagged"]:
        panel = mask_flagged(panel, flags, [config["models"]["outcome"]])
    return {"panel": panel, "resilience": pd.read_parquet(paths.resilience),
            "cities": pd.read_parquet(paths.cities, columns=["city_code", "lon", "lat"]),   # no geometry needed
            "flagged": flagged_outcome_cities(flags, config)}


def main(smk: Any) -> None:
    """Snakemake entry: fit the specs of the job (params.names: one spec, or a batch) and write one JSON each.

    params.paths maps each spec to its centrality (and weights) file; every file is read once per job.
    """
    config = smk.config
    specs = expand_specs(config["models"])
    tables = model_tables(smk.input, config)
    cache: dict[str, pd.DataFrame] = {}

    def read(path: str | None) -> pd.DataFrame:
        if path is None:
            return pd.DataFrame()
        if path not in cache:
            cache[path] = pd.read_parquet(path)
        return cache[path]

    outputs = [smk.output.models] if isinstance(smk.output.models, str) else list(smk.output.models)
    for name, output in zip(smk.params.names, outputs):
        paths = smk.params.paths[name]
        write_json(fit_named_spec(specs[name], config, tables, read(paths["centrality"]), read(paths.get("weights"))),
                   output)


if "snakemake" in globals():
    from scripts.common import run_rule

    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
