"""Cross-section estimators (one row per city; the design in scripts/estimation/design.py).

y_i = α + Σ_c β_c C_i + γ'x_i + ε_i, y a resilience measure of ``models.outcome``, C the centralities, x the controls.

- ``ols`` (statsmodels) with ``cov`` HC1 or HC3 (MacKinnon & White 1985), ``cluster_province``, ``conley`` (spatial
  HAC, Conley 1999: spec keys ``conley_km``, ``conley_kernel``) or ``wild_cluster_province`` (province-clustered CR1
  SEs; the centralities' p-values and 95 % CIs from the restricted wild cluster bootstrap, spec key
  ``wild_bootstrap: {draws, weights}``); VIFs reported. Formulas: scripts/estimation/inference.py.
- Spec option ``permutations`` (OLS: permutation p-values for the centralities).
- Spec option ``moderator``: centred interactions, with the centralities' marginal effects across the moderator
  (scripts/estimation/moderation.py).
"""
from typing import Any

import numpy as np
import pandas as pd

from scripts.common import InputError
from scripts.estimation.design import check_rank, province_groups
from scripts.estimation.inference import conley_covariance, wild_terms
from scripts.estimation.moderation import marginal_effects
from scripts.estimation.results import coefficient_rows, normal_coefficients
from scripts.registry import ESTIMATORS


def fit_ols(sample: pd.DataFrame, y: str, regressors: list[str], cov: str = "HC1",
            inference: dict[str, Any] | None = None, moderation: dict[str, Any] | None = None) -> dict[str, Any]:
    """OLS with HC1/HC3, province-clustered, Conley or wild-cluster-bootstrap inference; R², adj. R², robust F, AIC,
    VIF per regressor. ``inference`` (conley, wild_cluster_province): the spec's keys, the city coordinates
    (``cities``: lat, lon by city_code), the centrality ``terms`` and the ``seed``. ``moderation`` (specs with a
    moderator): its name, centrality ``terms`` and sample ``values`` before z-scoring → ``marginal_effects``."""
    from statsmodels.regression.linear_model import OLS  # not statsmodels.api: its imports cost ≈ 0.4 s a job
    from statsmodels.stats.outliers_influence import variance_inflation_factor
    from statsmodels.tools.tools import add_constant

    x = add_constant(sample[regressors].to_numpy(dtype=float), has_constant="add")
    names = ["const", *regressors]
    check_rank(x, names)
    model = OLS(sample[y].to_numpy(dtype=float), x)
    extra: dict[str, Any] = {}
    if cov in ("cluster_province", "wild_cluster_province"):
        groups = province_groups(sample.index, cov)
        fit = model.fit(cov_type="cluster", cov_kwds={"groups": groups})
        se_type = f"clustered by province ({len(set(groups))} clusters)"
    elif cov in ("HC1", "HC3"):
        fit = model.fit(cov_type=cov)
        se_type = f"{cov} (heteroskedasticity-robust)"
    elif cov == "conley":
        fit = model.fit()
        where = inference["cities"].set_index("city_code").loc[sample.index]
        vcov = conley_covariance(x, fit.resid, where["lat"].to_numpy(), where["lon"].to_numpy(),
                                 inference["conley_km"], inference["conley_kernel"])
        se_type = f"Conley (1999) spatial HAC, {inference['conley_kernel']} kernel, cutoff {inference['conley_km']:g} km"
    else:
        raise InputError(f"models: cov '{cov}' is not available for OLS; use one of {list(ESTIMATORS['ols'].covariances)}.")
    if cov == "conley":
        coefficients = normal_coefficients(names, fit.params, vcov)
        f_robust, f_p_value = wald_f(fit.params[1:], vcov[1:, 1:], int(fit.df_resid))
    else:
        vcov = np.asarray(fit.cov_params())
        coefficients = coefficient_rows(names, fit.params, fit.bse, fit.tvalues, fit.pvalues,
                                        *np.asarray(fit.conf_int()).T)
        f_robust, f_p_value = float(np.squeeze(fit.fvalue)), float(np.squeeze(fit.f_pvalue))
    if cov == "wild_cluster_province":
        extra["wild_bootstrap"] = wild_terms(x, model.endog, groups, names, inference)
        for row in coefficients:
            found = extra["wild_bootstrap"]["terms"].get(row["term"])
            if found:
                row.update(p_value=found["p_value"], ci_low=found["ci_low"], ci_high=found["ci_high"])
        options = extra["wild_bootstrap"]
        se_type += (f"; p-values and 95 % CIs of {', '.join(options['terms'])} from the restricted wild cluster "
                    f"bootstrap ({options['weights']} weights, {options['draws']} draws)")
    if moderation:
        extra["marginal_effects"] = marginal_effects(names, np.asarray(fit.params), vcov, moderation["terms"],
                                                     moderation["moderator"], moderation["values"])
    vif = {n: float(variance_inflation_factor(x, k)) for k, n in enumerate(names) if k > 0}
    return {"estimator": ESTIMATORS["ols"].label, "se_type": se_type, "n": int(fit.nobs), "coefficients": coefficients,
            "diagnostics": {"r2": float(fit.rsquared), "adj_r2": float(fit.rsquared_adj), "aic": float(fit.aic),
                            "f_robust": f_robust, "f_p_value": f_p_value,
                            "vif": vif, "max_vif": max(vif.values()) if vif else None,
                            "condition_number": float(fit.condition_number)}, **extra}


def wald_f(params: np.ndarray, vcov: np.ndarray, df_resid: int) -> tuple[float, float]:
    """Wald F of all slopes zero, F = b'V⁻¹b / q, and its p-value from F(q, n − K)."""
    from scipy import stats

    f = float(params @ np.linalg.solve(vcov, params) / len(params))
    return f, float(stats.f.sf(f, len(params), df_resid))


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
