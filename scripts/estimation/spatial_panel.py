"""Spatial panels (city × year): ``panel_sar`` / ``panel_sem`` with city and year fixed effects (fit_spatial_panel).

Spec option ``bias_correction`` (spatial panels: lee_yu): Lee & Yu's (2010) transformation approach (lee_yu_panel)
in place of spreg's direct approach.
"""
import contextlib
import io
from typing import Any

import numpy as np
import pandas as pd

from scripts.estimation.design import balanced, centrality_terms, check_rank, post_windows
from scripts.estimation.results import normal_coefficients
from scripts.estimation.spatial import lag_impacts
from scripts.registry import ESTIMATORS


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

    Regressors as in ``panel_fe`` (lagged centralities and their interactions with each shock's window). Balanced-panel rule:
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
                                     weights_spec, spec["weights"], f"model '{spec.get('name', spec['estimator'])}'")
    rows = rows[rows.index.get_level_values("city_code").isin(kept)]
    terms = centrality_terms(spec)
    windows = post_windows(rows.index.get_level_values("year"), settings)
    columns = {}
    for alias in terms:
        columns[alias] = rows[alias].to_numpy()
        for suffix, window in windows.items():
            columns[f"{alias}_x_{suffix}"] = rows[alias].to_numpy() * window
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
    result = {"estimator": ESTIMATORS[spec["estimator"]].label,
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
