"""Spatial cross-section estimators, W row-standardised on the sample, and the impacts of the lag models.

- ``sar`` y = ρWy + Xβ + ε (spreg.ML_Lag), ``sem`` y = Xβ + u, u = λWu + ε (ML_Error), ``sdm`` y = ρWy + Xβ + WXθ + ε
  (ML_Lag with slx_lags=1), ``gm_lag`` (GM_Lag, 2SLS with WX, W²X instruments), ``gm_error`` (GM_Error_Het, Arraiz
  et al. 2010). OLS LM-lag, LM-error, their robust forms, SARMA and Moran's I of OLS residuals come with every
  spatial spec.
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

from scripts.estimation.design import check_rank
from scripts.estimation.results import normal_coefficients
from scripts.registry import ESTIMATORS


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
    wx = [f"W_{r}" for r in regressors] if ESTIMATORS[estimator].durbin else []
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
    result = {"estimator": ESTIMATORS[estimator].label,
              "se_type": "ML asymptotic" if estimator in ("sar", "sdm", "sem") else "GMM asymptotic",
              "n": int(model.n), "coefficients": normal_coefficients(names, params, vcov), "diagnostics": diagnostics}
    if ESTIMATORS[estimator].impacts:
        theta_at = list(range(1 + k, 1 + 2 * k)) if wx else None
        result |= lag_impacts(regressors, params, vcov, list(range(1, 1 + k)), theta_at, w.full()[0], draws, seed)
    return result
