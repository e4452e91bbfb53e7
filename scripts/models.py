"""Models stage: cross-section OLS with robust SEs and a spatial lag model of resilience on centrality.

Design (one row per city):  y_i = α + β_DC·DC_i + β_CC·CC_i + β_BC·BC_i + γ'x_i + ε_i, with the centralities of
the configured network and year (models.centralities maps each alias, e.g. dc, to a measure such as strength;
z-scored when models.standardize is true, so β is the change in y per 1 SD) and controls
x_i taken at their configured year and transform (log, log1p, none).
- OLS: statsmodels, HC1 heteroskedasticity-robust SEs (MacKinnon & White 1985).
- Spatial lag: y = ρWy + Xβ + ε by maximum likelihood (spreg.ML_Lag; Anselin 1988; LeSage & Pace 2009),
  W row-standardised over the estimation sample. Reported β are the coefficients, not the impacts.
Results are plain JSON: coefficients, SE, z/t, p, 95% CI, N, the sample's dropped units, diagnostics.
"""

import contextlib
import io
from typing import Any

import numpy as np
import pandas as pd

from scripts.common import InputError, format_rows, write_json



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


def design_table(resilience: pd.DataFrame, centrality: pd.DataFrame, panel: pd.DataFrame,
                 spec: dict[str, Any]) -> pd.DataFrame:
    """One row per city: every resilience measure, the centralities of `centrality_year`, and the controls."""
    chosen_outcome = resilience[resilience["outcome"] == spec["outcome"]]
    if chosen_outcome.empty:
        raise InputError(f"models.outcome '{spec['outcome']}' has no resilience measures; add it to resilience.outcomes.")
    outcomes = chosen_outcome.pivot(index="city_code", columns="measure", values="value")
    year, aliases = spec["centrality_year"], spec["centralities"]
    chosen = centrality[(centrality["year"] == year) & centrality["measure"].isin(aliases.values())]
    if chosen.empty:
        raise InputError(f"models.centrality_year {year} has no centralities {list(aliases.values())}; choose a "
                         "year in the network's range.")
    wide = chosen.pivot(index="city_code", columns="measure", values="value")
    table = outcomes.join(wide.rename(columns={m: a for a, m in aliases.items()})[list(aliases)], how="left")
    for control in spec["controls"]:
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
    """z-score columns within the estimation sample (population SD uses ddof=1)."""
    out = sample.copy()
    for column in columns:
        sd = out[column].std(ddof=1)
        if not sd > 0:
            raise InputError(f"models: '{column}' does not vary in the sample; it cannot be standardised or estimated.")
        out[column] = (out[column] - out[column].mean()) / sd
    return out


def check_rank(x: np.ndarray, names: list[str]) -> None:
    """A singular design stops the run, naming the columns involved."""
    rank = np.linalg.matrix_rank(x)
    if rank < x.shape[1]:
        raise InputError(f"models: the design matrix is singular (rank {rank} < {x.shape[1]} columns: "
                         f"{names}). Remove a collinear control or centrality from config.yaml models.")


def _coefficients(names: list[str], params, se, stat, pvalues, ci) -> list[dict[str, Any]]:
    return [{"term": n, "estimate": float(b), "se": float(s), "statistic": float(t), "p_value": float(p),
             "ci_low": float(lo), "ci_high": float(hi)}
            for n, b, s, t, p, (lo, hi) in zip(names, params, se, stat, pvalues, ci)]


def fit_ols(sample: pd.DataFrame, y: str, regressors: list[str]) -> dict[str, Any]:
    """OLS with HC1 standard errors; diagnostics R², adj. R², F (robust), max VIF, condition number."""
    import statsmodels.api as sm
    from statsmodels.stats.outliers_influence import variance_inflation_factor

    x = sm.add_constant(sample[regressors].to_numpy(dtype=float), has_constant="add")
    names = ["const", *regressors]
    check_rank(x, names)
    fit = sm.OLS(sample[y].to_numpy(dtype=float), x).fit(cov_type="HC1")
    vif = [variance_inflation_factor(x, k) for k in range(1, x.shape[1])]
    return {"estimator": "OLS", "se_type": "HC1 (heteroskedasticity-robust)", "n": int(fit.nobs),
            "coefficients": _coefficients(names, fit.params, fit.bse, fit.tvalues, fit.pvalues, fit.conf_int()),
            "diagnostics": {"r2": float(fit.rsquared), "adj_r2": float(fit.rsquared_adj),
                            "f_robust": float(np.squeeze(fit.fvalue)), "f_p_value": float(np.squeeze(fit.f_pvalue)),
                            "max_vif": float(max(vif)) if vif else None,
                            "condition_number": float(fit.condition_number)}}


def fit_spatial_lag(sample: pd.DataFrame, y: str, regressors: list[str], w) -> dict[str, Any]:
    """ML spatial lag model (spreg.ML_Lag) plus OLS Lagrange-multiplier tests and Moran's I of OLS residuals."""
    import spreg
    from scipy import stats

    yv = sample[[y]].to_numpy(dtype=float)
    xv = sample[regressors].to_numpy(dtype=float)
    check_rank(np.column_stack([np.ones(len(xv)), xv]), ["const", *regressors])
    with contextlib.redirect_stdout(io.StringIO()):  # spreg prints the class name on every fit
        lag = spreg.ML_Lag(yv, xv, w=w, name_y=y, name_x=regressors, method="full")
        ols = spreg.OLS(yv, xv, w=w, spat_diag=True, moran=True, name_y=y, name_x=regressors)
    names = ["const", *regressors, "rho"]
    params = np.ravel(lag.betas)
    se = np.ravel(lag.std_err)
    zstat = np.array([z for z, _ in lag.z_stat])
    pvalues = np.array([p for _, p in lag.z_stat])
    crit = stats.norm.ppf(0.975)
    ci = list(zip(params - crit * se, params + crit * se))
    return {"estimator": "Spatial lag (ML)", "se_type": "ML asymptotic", "n": int(lag.n),
            "coefficients": _coefficients(names, params, se, zstat, pvalues, ci),
            "diagnostics": {"rho": float(np.ravel(lag.rho)[0]), "log_likelihood": float(lag.logll),
                            "aic": float(lag.aic), "pseudo_r2": float(lag.pr2),
                            "ols_moran_i_residuals": float(ols.moran_res[0]),
                            "ols_moran_p_value": float(ols.moran_res[2]),
                            "lm_lag": float(ols.lm_lag[0]), "lm_lag_p_value": float(ols.lm_lag[1]),
                            "lm_error": float(ols.lm_error[0]), "lm_error_p_value": float(ols.lm_error[1])}}


def regressor_names(spec: dict[str, Any]) -> list[str]:
    """Centralities then controls, as they appear in the design."""
    return [*spec["centralities"], *(control_name(c) for c in spec["controls"])]  # centrality aliases first


def prepared_sample(design: pd.DataFrame, outcome: str, spec: dict[str, Any]):
    """Estimation sample (standardised centralities if configured) and its dropped-unit report."""
    regressors = regressor_names(spec)
    if outcome not in design:
        raise InputError(f"models: measure '{outcome}' was not computed; have {list(design.columns)}.")
    sample, dropped = estimation_sample(design, outcome, regressors)
    if len(sample) <= len(regressors) + 1:
        raise InputError(f"models: only {len(sample)} complete cities for '{outcome}' with {regressors}; "
                         f"missing values dropped {sum(map(len, dropped.values()))} cities, mostly by "
                         f"{max(dropped, key=lambda k: len(dropped[k])) if dropped else 'none'}.")
    if spec["standardize"]:
        sample = standardize(sample, list(spec["centralities"]))
    return sample, regressors, dropped


def fit_all(design: pd.DataFrame, weights_table: pd.DataFrame, cities: pd.DataFrame,
            spec: dict[str, Any], weights_spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every configured model: ols_<measure> for each measure, and the spatial model; name → result dict."""
    from scripts.weights import sample_weights

    results: dict[str, dict[str, Any]] = {}
    for outcome in spec["measures"]:
        sample, regressors, dropped = prepared_sample(design, outcome, spec)
        result = fit_ols(sample, outcome, regressors)
        results[f"ols_{outcome}"] = {**result, "outcome": outcome, "dropped": dropped,
                                     "sample": sorted(sample.index), "standardized": spec["standardize"]}
    spatial = spec["spatial"]
    sample, regressors, dropped = prepared_sample(design, spatial["measure"], spec)
    w, kept, island_report = sample_weights(weights_table, list(sample.index), cities,
                                            weights_spec[spatial["weights"]])
    if len(kept) < len(sample):  # islands dropped: re-standardise within the smaller sample
        sample, regressors, _ = prepared_sample(design.loc[kept], spatial["measure"], spec)
        dropped["island in spatial weights"] = island_report["islands"]
    result = fit_spatial_lag(sample.loc[kept], spatial["measure"], regressors, w)
    results[f"sar_{spatial['measure']}"] = {**result, "outcome": spatial["measure"], "dropped": dropped,
                                           "sample": kept, "standardized": spec["standardize"],
                                           "weights": {"name": spatial["weights"], **island_report}}
    return results


def main(smk: Any) -> None:
    """Snakemake entry: fit every model and write one JSON per model plus the design table."""
    import geopandas as gpd

    spec = smk.config["models"]
    design = design_table(pd.read_parquet(smk.input.resilience), pd.read_parquet(smk.input.centrality),
                          pd.read_parquet(smk.input.panel), spec)
    design.reset_index().to_parquet(smk.output.design, index=False)
    cities = gpd.read_parquet(smk.input.cities)[["city_code", "lon", "lat"]]
    results = fit_all(design, pd.read_parquet(smk.input.weights), cities, spec, smk.config["weights"])
    for name, path in zip(smk.params.model_names, smk.output.models):
        write_json({"model": name, **results[name]}, path)


if "snakemake" in globals():
    from scripts.common import run_rule

    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
