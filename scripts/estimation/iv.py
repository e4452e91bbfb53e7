"""Instrumental variables for the cross-section: 2SLS of a resilience measure on centralities instrumented by the
centralities of another network (spec key ``instruments: {network, year}``: the same aliases, e.g. a gravity
network of the 2010 census population, or the models' network in an earlier year).

y = α + Σ_c β_c C_c + γ'x + ε, C instrumented by Z (one instrument per centrality alias), 2SLS by linearmodels'
IV2SLS: β̂ = (X'P_W X)⁻¹ X'P_W y with X = [1, C, x] and W = [1, Z, x]; ``cov`` HC1 (heteroskedasticity-robust,
small-sample scaled n/(n − K)) or ``cluster_province``.

Reported beside the estimates:
- first stage, per instrumented centrality: partial R², Shea's partial R² and the robust partial F of the excluded
  instruments (linearmodels ``first_stage``), and with several instrumented centralities the Sanderson–Windmeijer
  (2016) conditional F (``conditional_f``; the smallest is ``min_first_stage_f``). With one instrumented centrality and one instrument this F is the
  effective F of Montiel Olea & Pflueger (2013), to be read against their critical value 23.1 (5 % test, worst-case
  bias 10 %) rather than the rule of thumb 10;
- the Anderson–Rubin (1949) test of H0: β = β0 for one instrumented centrality (the spec's ``centralities`` one
  alias): regress y − β0 C on [1, Z, x] and test the coefficients of Z with the spec's robust covariance; the 95 %
  AR set {β0 : p(β0) > 0.05} over a grid of β̂ ± 20 SE (bounds at the grid's edge are reported as unbounded). Its
  size is right however weak the instrument (weak-instrument-robust), unlike the 2SLS Wald interval.
"""
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from scripts.common import InputError
from scripts.estimation.design import check_rank, province_groups
from scripts.estimation.inference import cluster_sums
from scripts.estimation.results import coefficient_rows
from scripts.registry import ESTIMATORS

AR_GRID = 801          # grid points of the Anderson–Rubin set
AR_HALF_WIDTH = 20.0   # in 2SLS standard errors either side of the estimate


def instrument_name(alias: str) -> str:
    """The design column of the instrument of a centrality alias."""
    return f"{alias}_instrument"


def fit_iv(sample: pd.DataFrame, y: str, endogenous: list[str], controls: list[str], instruments: list[str],
           cov: str = "HC1", absorbed: bool = False) -> dict[str, Any]:
    """2SLS with first-stage diagnostics and, for one instrumented centrality, the Anderson–Rubin set.
    ``absorbed``: the data are within-transformed (panel IV), so no constant; ``cov`` may then be ``cluster_city``
    (the sample's index has a city_code level)."""
    from linearmodels.iv import IV2SLS

    constant = [] if absorbed else [pd.Series(1.0, index=sample.index, name="const")]
    exog = pd.concat([*constant, sample[controls]], axis=1)
    names = [*(["const"] if not absorbed else []), *endogenous, *controls]
    check_rank(pd.concat([exog, sample[endogenous]], axis=1).to_numpy(dtype=float), names)
    check_rank(pd.concat([exog, sample[instruments]], axis=1).to_numpy(dtype=float), [*exog.columns, *instruments])
    model = IV2SLS(sample[y], exog if len(exog.columns) else None, sample[endogenous], sample[instruments])
    groups = None
    if cov == "cluster_province":
        groups = province_groups(sample.index, cov)
    elif cov == "cluster_city":
        groups = sample.index.get_level_values("city_code").factorize()[0]
    if groups is not None:
        fit = model.fit(cov_type="clustered", clusters=groups, debiased=True)
        se_type = f"clustered by {cov.removeprefix('cluster_')} ({len(set(groups))} clusters)"
    elif cov == "HC1":
        fit = model.fit(cov_type="robust", debiased=True)
        se_type = "HC1 (heteroskedasticity-robust)"
    else:
        raise InputError(f"models: cov '{cov}' is not available for IV; use one of {list(ESTIMATORS['iv'].covariances)}.")
    params = fit.params[names]
    low, high = fit.conf_int().loc[names].to_numpy().T
    diagnostics = fit.first_stage.diagnostics
    first_stage = {term: {"partial_r2": float(diagnostics.at[term, "partial.rsquared"]),
                          "shea_r2": float(diagnostics.at[term, "shea.rsquared"]),
                          "f_stat": first_stage_f(diagnostics, term, len(instruments)),
                          "f_p_value": float(diagnostics.at[term, "f.pval"])} for term in endogenous}
    exog_values = exog.to_numpy(dtype=float).reshape(len(sample), -1)
    if len(endogenous) > 1:
        conditional = conditional_f(sample[endogenous].to_numpy(dtype=float), exog_values,
                                    sample[instruments].to_numpy(dtype=float), groups)
        for term, f in zip(endogenous, conditional):
            first_stage[term]["sw_f"] = float(f)
    result = {"estimator": ESTIMATORS["iv"].label, "se_type": se_type, "n": int(fit.nobs),
              "coefficients": coefficient_rows(names, params, fit.std_errors[names], fit.tstats[names],
                                               fit.pvalues[names], low, high),
              "diagnostics": {"r2": float(fit.rsquared), "instruments": instruments, "first_stage": first_stage,
                              "min_first_stage_f": min(v.get("sw_f", v["f_stat"]) for v in first_stage.values())}}
    if len(endogenous) == 1:
        result["anderson_rubin"] = anderson_rubin_set(
            sample[y].to_numpy(dtype=float), sample[endogenous[0]].to_numpy(dtype=float), exog_values,
            sample[instruments].to_numpy(dtype=float), float(params[endogenous[0]]),
            float(fit.std_errors[endogenous[0]]), groups)
    return result


def first_stage_f(diagnostics: pd.DataFrame, term: str, instruments: int) -> float:
    """The first-stage F of the excluded instruments: linearmodels reports the Wald χ²(q) under robust and
    clustered covariances (its ``f.stat``), which is divided here by q so that every row is an F."""
    wald = float(diagnostics.at[term, "f.stat"])
    return wald / instruments if str(diagnostics.at[term, "f.dist"]).startswith("chi2") else wald


def conditional_f(endogenous: np.ndarray, exog: np.ndarray, z: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
    """Sanderson & Windmeijer (2016) conditional first-stage F of each of K > 1 instrumented regressors: x_j's
    strength once the other instrumented regressors are accounted for. With W = [exog, Z] (L excluded instruments):
    2SLS of x_j on [exog, X_−j] with instruments W gives residuals ê_j; F_j = robust Wald(Z in ê_j ~ W)/(L − K + 1),
    HC1 or CR1 as the fit (robust_wald). With K = 1 it is the usual first-stage F; two regressors moved by one
    combination of the instruments get small F_j although each has a large partial F."""
    w = np.column_stack([exog, z])
    fitted = w @ np.linalg.lstsq(w, endogenous, rcond=None)[0]
    dof = z.shape[1] - endogenous.shape[1] + 1
    statistics = []
    for j in range(endogenous.shape[1]):
        regressors = np.column_stack([exog, np.delete(endogenous, j, axis=1)])
        projected = np.column_stack([exog, np.delete(fitted, j, axis=1)])
        delta = np.linalg.solve(projected.T @ regressors, projected.T @ endogenous[:, j])
        residuals = endogenous[:, j] - regressors @ delta
        statistics.append(robust_wald(w, residuals[:, None], slice(exog.shape[1], w.shape[1]), groups)[0] / dof)
    return np.array(statistics)


def robust_wald(w: np.ndarray, y: np.ndarray, tested: slice, groups: np.ndarray | None) -> np.ndarray:
    """Wald statistics (χ²) of the coefficients ``tested`` of OLS of each column of y (n × G) on w, with HC1 or
    CR1 (groups) covariance; b'V⁺b with a pseudo-inverse where V is singular."""
    n, k = w.shape
    bread = np.linalg.inv(w.T @ w)
    beta = bread @ w.T @ y
    residuals = y - w @ beta
    scores = w[:, :, None] * residuals[:, None, :]                      # n × k × G
    if groups is not None:
        summed = cluster_sums(groups, scores)
        clusters = groups.max() + 1
        factor = clusters / (clusters - 1) * (n - 1) / (n - k)
    else:
        summed, factor = scores, n / (n - k)
    meat = np.einsum("gkc,glc->ckl", summed, summed)                    # G × k × k
    vcov = factor * bread[None] @ meat @ bread[None]
    b = beta[tested].T                                                  # G × q
    # a pseudo-inverse: in the panel IV (time-invariant instruments × common windows) the clustered covariance of a
    # conditional first stage can be singular, and the Wald is then taken over the directions the data identify
    inverse = np.linalg.pinv(vcov[:, tested, tested], rcond=1e-10, hermitian=True)
    return np.einsum("cq,cqr,cr->c", b, inverse, b)


def anderson_rubin_p(y: np.ndarray, x: np.ndarray, exog: np.ndarray, z: np.ndarray, beta0: np.ndarray,
                     groups: np.ndarray | None) -> np.ndarray:
    """AR p-values of H0: β = β0 for each β0: robust Wald (χ², q instruments) of z in y − β0 x ~ exog + z."""
    w = np.column_stack([exog, z])
    statistic = robust_wald(w, y[:, None] - x[:, None] * beta0[None, :], slice(exog.shape[1], w.shape[1]), groups)
    return stats.chi2.sf(statistic, z.shape[1])


def anderson_rubin_set(y: np.ndarray, x: np.ndarray, exog: np.ndarray, z: np.ndarray, estimate: float, se: float,
                       groups: np.ndarray | None, alpha: float = 0.05) -> dict[str, Any]:
    """The AR test of β = 0 and the (1 − alpha) AR set over a grid (module docstring)."""
    grid = estimate + np.linspace(-AR_HALF_WIDTH, AR_HALF_WIDTH, AR_GRID) * se
    p_grid = anderson_rubin_p(y, x, exog, z, grid, groups)
    p_zero = float(anderson_rubin_p(y, x, exog, z, np.zeros(1), groups)[0])
    accepted = grid[p_grid > alpha]
    if not len(accepted):
        return {"p_value": p_zero, "ci_low": None, "ci_high": None, "bounded": True, "empty": True}
    low = None if p_grid[0] > alpha else float(accepted.min())
    high = None if p_grid[-1] > alpha else float(accepted.max())
    connected = bool(np.all(p_grid[(grid >= accepted.min()) & (grid <= accepted.max())] > alpha))
    return {"p_value": p_zero, "ci_low": low, "ci_high": high, "bounded": low is not None and high is not None,
            "connected": connected, "empty": False}
