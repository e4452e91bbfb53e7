"""Spatial panels (city × year): ``panel_sar`` / ``panel_sem`` / ``panel_sdm`` (fit_spatial_panel).

Spec options: ``effects`` (entity | time | twoway | random), ``bias_correction`` (none | lee_yu: Lee & Yu's 2010
transformation approach, ``panel_ml``, in place of spreg's direct approach).
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

# the data transformation of each fixed-effects choice: the index levels whose means are removed, in order
EFFECTS = {"entity": ("city_code",), "time": ("year",), "twoway": ("year", "city_code")}


def likelihood_constants(n: int, periods: int, effects: str, correction: str) -> tuple[int, int, bool]:
    """(N*, the Jacobian's multiplier, whether W's unit eigenvalue leaves the Jacobian) of the panel likelihood.

    Direct approach (``none``; Elhorst 2003): the demeaned data count as nT observations, Jacobian T·ln|I − λW|.
    Lee & Yu (2010) transformation approach: the orthonormal transformations that remove the effects leave
    n(T − 1) observations and (T − 1)·ln|I − λW| with city effects, (n − 1)T and T·[ln|I − λW| − ln(1 − λ)] with
    year effects (W row-standardised), (n − 1)(T − 1) and (T − 1)·[ln|I − λW| − ln(1 − λ)] with both."""
    if correction == "none":
        return n * periods, periods, False
    return {"entity": (n * (periods - 1), periods - 1, False), "time": ((n - 1) * periods, periods, True),
            "twoway": ((n - 1) * (periods - 1), periods - 1, True)}[effects]


def panel_ml(y: np.ndarray, x: np.ndarray, w: np.ndarray, periods: int, kind: str, effects: str = "twoway",
             correction: str = "lee_yu") -> dict[str, Any]:
    """ML of a fixed-effects spatial lag (``sar``) or error (``sem``) panel, by Lee & Yu's (2010) transformation
    approach (``correction="lee_yu"``), which stays consistent in short panels, or by the direct approach.

    y, x: demeaned as ``effects`` says (EFFECTS), stacked period by period (n cities in W's order within each); W
    row-standardised. With N*, m and the unit-eigenvalue rule of ``likelihood_constants`` and ω the eigenvalues of W:
        ln L = −N*/2 · ln(2πσ²) + m·[Σ ln(1 − λω) (− ln(1 − λ))] − V'V / (2σ²)
        V = (I − λW)y − Xβ (sar)   or   V = (I − λW)(y − Xβ) (sem)
    concentrated in β and σ² = V'V / N* and maximised over λ; the covariance of (β, λ, σ²) is the inverse of the
    negative numerical Hessian of ln L (statsmodels ``approx_hess3``). Written here because spreg implements only
    the direct approach with city effects, whose σ² (and, with time effects, λ) carries O(1/T) and O(1/n) biases.
    """
    from scipy.optimize import minimize_scalar
    from statsmodels.tools.numdiff import approx_hess3

    n = w.shape[0]
    effective, multiplier, drop_unit = likelihood_constants(n, periods, effects, correction)
    omega = np.linalg.eigvals(w)
    across_cities = "year" in EFFECTS[effects]

    def lag(v: np.ndarray) -> np.ndarray:
        """(I_T ⊗ W) v without forming nT × nT matrices; with year effects, W v is demeaned across cities again (W is
        not symmetric, so W y of a demeaned y is not demeaned, and the transformation keeps only the deviations)."""
        lagged = np.einsum("ij,tj...->ti...", w, v.reshape(periods, n, *v.shape[1:]))
        if across_cities:
            lagged = lagged - lagged.mean(axis=1, keepdims=True)
        return lagged.reshape(v.shape)

    wy, wx = lag(y), lag(x)

    def residual(lam: float, beta: np.ndarray) -> np.ndarray:
        return y - lam * wy - x @ beta if kind == "sar" else (y - lam * wy) - (x - lam * wx) @ beta

    def beta_at(lam: float) -> np.ndarray:
        design = x if kind == "sar" else x - lam * wx
        return np.linalg.lstsq(design, y - lam * wy, rcond=None)[0]

    def log_jacobian(lam: float) -> float:
        return float(np.sum(np.log(np.abs(1 - lam * omega))) - (np.log(1 - lam) if drop_unit else 0.0))

    def loglik(theta: np.ndarray) -> float:
        beta, lam, sigma2 = theta[:-2], theta[-2], theta[-1]
        v = residual(lam, beta)
        return -effective / 2 * np.log(2 * np.pi * sigma2) + multiplier * log_jacobian(lam) - v @ v / (2 * sigma2)

    def concentrated(lam: float) -> float:   # minus ln L with β and σ² profiled out (constants dropped)
        v = residual(lam, beta_at(lam))
        return effective / 2 * np.log(v @ v / effective) - multiplier * log_jacobian(lam)

    lam = minimize_scalar(concentrated, bounds=(-0.99, 0.99), method="bounded", options={"xatol": 1e-10}).x
    beta = beta_at(lam)
    v = residual(lam, beta)
    theta = np.concatenate([beta, [lam, v @ v / effective]])
    vcov = np.linalg.inv(-approx_hess3(theta, loglik))
    return {"params": theta[:-1], "vcov": vcov[:-1, :-1], "sigma2": float(theta[-1]), "log_likelihood": loglik(theta)}


def panel_design(rows: pd.DataFrame, spec: dict[str, Any], settings: dict[str, Any]) -> pd.DataFrame:
    """Regressors (lagged centralities and their interactions with each shock's window, as ``panel_fe``) and
    ``growth``, indexed by city and year."""
    windows = post_windows(rows.index.get_level_values("year"), settings)
    columns = {}
    for alias in centrality_terms(spec):
        columns[alias] = rows[alias].to_numpy()
        for suffix, window in windows.items():
            columns[f"{alias}_x_{suffix}"] = rows[alias].to_numpy() * window
    return pd.DataFrame(columns, index=rows.index).assign(growth=rows["growth"])


def spatial_lags(frame: pd.DataFrame, w: np.ndarray) -> pd.DataFrame:
    """W·x of every column, year by year (``frame`` indexed by city and year, cities sorted as W's rows), named
    ``W_<column>``: the Durbin terms (LeSage & Pace 2009, §2.6)."""
    by_year = frame.reset_index().sort_values(["year", "city_code"]).set_index(["year", "city_code"])
    lagged = by_year.groupby(level="year").transform(lambda v: w @ v.to_numpy())
    return lagged.add_prefix("W_").reorder_levels(["city_code", "year"]).loc[frame.index]


def demeaned(frame: pd.DataFrame, levels: tuple[str, ...]) -> pd.DataFrame:
    """`frame` minus its means by each index level in turn (year, then city: the two-way within transformation)."""
    for level in levels:
        frame = frame - frame.groupby(level=level).transform("mean")
    return frame


def fit_spatial_panel(rows: pd.DataFrame, spec: dict[str, Any], settings: dict[str, Any], weights_table: pd.DataFrame,
                      cities: pd.DataFrame, weights_spec: dict[str, Any], seed: int) -> dict[str, Any]:
    """Spatial lag / error / Durbin panel (Elhorst 2003, 2014) with city, year or both fixed effects, or random city
    effects.

    Regressors as in ``panel_fe`` (lagged centralities and their interactions with each shock's window); ``panel_sdm``
    adds their spatial lags W·x (LeSage & Pace 2009, §2.6). Balanced-panel rule: cities missing any year are dropped
    (listed). Spec ``effects``: ``twoway`` (default: variables demeaned by year, then spreg's within transformation
    removes city means, the direct approach), ``entity`` (spreg alone; splm's default), ``time`` (year-demeaned,
    ``panel_ml``), ``random`` (random city effects with year dummies, ``random_effects_fit``, with a Hausman test
    against the fixed-effects fit). With ``bias_correction: lee_yu`` the model is instead fitted by Lee & Yu's
    (2010) transformation approach (``panel_ml``), which removes the O(1/T) bias of σ² (and, with year effects, of
    λ) of the direct approach.
    Lag models report short-run direct / indirect / total impacts with simulated SEs (scripts.estimation.spatial).
    """
    from scripts.weights import sample_weights

    years = list(range(settings["years"]["start"], settings["years"]["end"] + 1))
    rows, incomplete = balanced(rows, years, settings.get("balance", "drop_incomplete"))
    w, kept, report = sample_weights(weights_table, sorted(set(rows.index.get_level_values("city_code"))), cities,
                                     weights_spec, spec["weights"], f"model '{spec.get('name', spec['estimator'])}'")
    rows = rows[rows.index.get_level_values("city_code").isin(kept)]
    result = estimate_panel(panel_design(rows, spec, settings), w, spec["estimator"], spec.get("effects", "twoway"),
                            spec.get("bias_correction", "none"), seed)
    result["diagnostics"] |= {"entities": len(kept), "periods": len(years)}
    return result | {"dropped": {"unbalanced (missing a year)": incomplete, "island in spatial weights":
                                 report["islands"] if report["policy"] == "drop" else []},
                     "weights": {"name": spec["weights"], **report}}


def random_effects_ml(y: np.ndarray, x: np.ndarray, w: np.ndarray, periods: int, kind: str) -> dict[str, Any]:
    """ML of the random-effects spatial lag (``sar``) or error (``sem``) panel; y, x stacked period by period (cities
    in W's order), x with the constant. Parameters (β, ρ or λ, φ = σ²_μ/σ², σ²); covariance: the inverse of the
    negative Hessian of ln L (``partly_analytic_hessian``), and ``gls_vcov``, β's GLS covariance σ²(X*'X*)⁻¹ given
    (ρ, φ) (splm's β SEs).

    Lag (Anselin, Le Gallo & Jayet 2008; Elhorst 2014, §3.4): with θ² = 1/(1 + Tφ) and z* = z − (1 − θ)z̄_i,
        ln L = −nT/2 · ln(2πσ²) + n/2 · ln θ² + T·Σ ln(1 − ρω) − e'e/(2σ²),  e = y* − ρ(Wy)* − X*β.
    Error, u = μ + ε, ε_t = λWε_t + v_t (Baltagi, Song & Koh 2003; splm's ``spatial.error = "b"``), B = I − λW:
        ln L = −nT/2 · ln(2πσ²) − ½ ln|TφB'B + I| + T·ln|B| − Q/(2σ²),
        Q = T·ū'(TφI + (B'B)⁻¹)⁻¹ū + Σ_t (u_t − ū)'B'B(u_t − ū).
    β and σ² are concentrated out (GLS), (ρ, φ) found by Nelder–Mead. Written here because spreg's Panel_RE_Lag
    does not reproduce splm on Munnell's data (ρ 0.087 against splm's 0.162, which this likelihood gives) and
    Panel_RE_Error stops on a singular matrix on simple lattices (tests/test_splm_produc.py).
    """
    from scipy.optimize import minimize

    n = w.shape[0]
    observations = n * periods
    omega = np.linalg.eigvals(w)
    ys, xs = y.reshape(periods, n), x.reshape(periods, n, -1)
    ybar, xbar = ys.mean(axis=0), xs.mean(axis=0)

    def log_jacobian(spatial: float) -> float:
        return float(np.sum(np.log(np.abs(1 - spatial * omega))))

    if kind == "sar":
        wy = np.einsum("ij,tj->ti", w, ys)

        def whitened(rho: float, phi: float) -> tuple[np.ndarray, np.ndarray]:
            theta = np.sqrt(1 / (1 + periods * phi))
            z = ys - rho * wy
            return (z - (1 - theta) * z.mean(axis=0)).ravel(), (xs - (1 - theta) * xbar).reshape(observations, -1)

        def log_determinants(rho: float, phi: float) -> float:
            return -n / 2 * np.log(1 + periods * phi) + periods * log_jacobian(rho)
    else:
        def whitened(lam: float, phi: float) -> tuple[np.ndarray, np.ndarray]:
            b = np.eye(n) - lam * w
            between = np.linalg.inv(periods * phi * np.eye(n) + np.linalg.inv(b.T @ b))
            root = np.sqrt(periods) * np.linalg.cholesky(between).T       # Q's between part = ||root ū||²
            # B·(z_t − z̄) for every t as one matrix product: np.einsum does not use BLAS here (15 ms against 1 ms
            # per call, four fifths of the fit)
            return (np.concatenate([root @ ybar, ((ys - ybar) @ b.T).ravel()]),
                    np.vstack([root @ xbar, (b @ (xs - xbar)).reshape(observations, -1)]))

        def log_determinants(lam: float, phi: float) -> float:
            b = np.eye(n) - lam * w
            return -0.5 * np.linalg.slogdet(periods * phi * b.T @ b + np.eye(n))[1] + periods * log_jacobian(lam)

    def gls(spatial: float, phi: float) -> tuple[np.ndarray, float]:
        ty, tx = whitened(spatial, phi)
        beta = np.linalg.lstsq(tx, ty, rcond=None)[0]
        return beta, float(np.sum((ty - tx @ beta) ** 2))

    def concentrated(p: np.ndarray) -> float:   # minus ln L with β and σ² profiled out (constants dropped)
        if not (-0.99 < p[0] < 0.99 and p[1] >= 0):
            return np.inf
        return observations / 2 * np.log(gls(*p)[1] / observations) - log_determinants(*p)

    spatial, phi = minimize(concentrated, [0.0, 1.0], method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000}).x
    beta, q = gls(spatial, phi)

    def loglik(theta: np.ndarray) -> float:
        ty, tx = whitened(theta[-3], theta[-2])
        e = ty - tx @ theta[:-3]
        return -observations / 2 * np.log(2 * np.pi * theta[-1]) + log_determinants(theta[-3], theta[-2]) \
            - e @ e / (2 * theta[-1])

    theta = np.concatenate([beta, [spatial, phi, q / observations]])
    hessian = partly_analytic_hessian(theta, whitened, loglik)
    whitened_x = whitened(spatial, phi)[1]
    return {"params": theta, "vcov": np.linalg.inv(-hessian), "log_likelihood": loglik(theta),
            "gls_vcov": q / observations * np.linalg.inv(whitened_x.T @ whitened_x)}


def partly_analytic_hessian(theta: np.ndarray, whitened: Any, loglik: Any) -> np.ndarray:
    """Hessian of a GLS-type log-likelihood in (β, ψ₁, ψ₂, σ²), ln L = … − e'e/(2σ²), e = y*(ψ) − X*(ψ)β.

    The β rows are analytic: ∂²/∂β² = −X*'X*/σ², ∂²/∂β∂σ² = −X*'e/σ⁴, and ∂²/∂β∂ψ the central difference of the
    score X*'e/σ² in ψ (two whitenings per ψ); only the 3 × 3 block of (ψ, σ²) is fully numerical (statsmodels
    ``approx_hess3``). The same matrix as a numerical Hessian of every parameter, in ~40 likelihood evaluations
    instead of ~4p² (tests/test_splm_produc.py)."""
    from statsmodels.tools.numdiff import approx_hess3

    k = len(theta) - 3
    beta, sigma2 = theta[:k], theta[-1]

    def score(psi: np.ndarray) -> np.ndarray:
        ty, tx = whitened(*psi)
        return tx.T @ (ty - tx @ beta) / sigma2

    ty, tx = whitened(*theta[k:k + 2])
    hessian = np.zeros((k + 3, k + 3))
    hessian[:k, :k] = -tx.T @ tx / sigma2
    hessian[:k, -1] = hessian[-1, :k] = -tx.T @ (ty - tx @ beta) / sigma2 ** 2
    for j in range(2):
        step = np.zeros(2)
        step[j] = 1e-6 * max(abs(theta[k + j]), 1e-2)
        hessian[:k, k + j] = hessian[k + j, :k] = (score(theta[k:k + 2] + step) - score(theta[k:k + 2] - step)) / (2 * step[j])
    hessian[k:, k:] = approx_hess3(theta[k:], lambda psi: loglik(np.concatenate([beta, psi])))
    return hessian


def hausman(fixed: tuple[np.ndarray, np.ndarray], random: tuple[np.ndarray, np.ndarray]) -> dict[str, Any]:
    """Hausman (1978) comparison of the regressors' coefficients, as splm's ``sphtest`` (Millo & Piras 2012, §5):
    H = d'(V_FE − V_RE)⁻¹d, d = b_FE − b_RE, χ²(k) under random effects; a pseudo-inverse (and a flag) when
    V_FE − V_RE is not positive definite."""
    from scipy import stats

    difference, variance = fixed[0] - random[0], fixed[1] - random[1]
    statistic = float(difference @ np.linalg.pinv(variance) @ difference)
    return {"hausman_statistic": statistic, "hausman_df": len(difference),
            "hausman_p_value": float(stats.chi2.sf(statistic, len(difference))),
            "hausman_variance_positive_definite": bool(np.all(np.linalg.eigvalsh((variance + variance.T) / 2) > 0))}


def spreg_within(y: np.ndarray, x: np.ndarray, w: Any, kind: str) -> dict[str, Any]:
    """spreg's fixed-effects lag / error panel (direct approach; city means removed by spreg)."""
    import spreg

    with contextlib.redirect_stdout(io.StringIO()):   # spreg prints the class name on every fit
        model = (spreg.Panel_FE_Lag if kind == "sar" else spreg.Panel_FE_Error)(y, x, w)
    # spreg's "full" log-likelihood leaves out nT/2·ln(nT) (its concentrated form has ln e'e, not ln(e'e/nT)); with
    # it the value is splm's and Stata xsmle's (tests/test_splm_produc.py)
    return {"params": np.ravel(model.betas), "vcov": np.asarray(model.vm), "sigma2": float(np.ravel(model.sig2)[0]),
            "log_likelihood": float(np.ravel(model.logll)[0]) + len(y) / 2 * np.log(len(y))}


def fixed_effects_fit(frame: pd.DataFrame, names: list[str], w: Any, w_dense: np.ndarray, kind: str, effects: str,
                      correction: str) -> dict[str, Any]:
    """Fixed effects: spreg's direct approach with city effects (``entity``, and ``twoway`` after year-demeaning),
    else ``panel_ml`` on data demeaned as ``effects`` says. Parameters: β, then the spatial parameter."""
    by_spreg = correction == "none" and effects != "time"       # spreg's direct approach removes city means itself
    removed = tuple(level for level in EFFECTS[effects] if not by_spreg or level == "year")
    # the fits stack (n·t) rows period by period, cities in W's order within each period
    stacked = demeaned(frame, removed).reset_index().sort_values(["year", "city_code"])
    check_rank(stacked[names].to_numpy(dtype=float), names)
    y, x = stacked[["growth"]].to_numpy(dtype=float), stacked[names].to_numpy(dtype=float)
    if by_spreg:
        return {"names": names, **spreg_within(y, x, w, kind)}
    return {"names": names, **panel_ml(y.ravel(), x, w_dense, stacked["year"].nunique(), kind, effects, correction)}


def random_effects_fit(frame: pd.DataFrame, names: list[str], w: Any, w_dense: np.ndarray, kind: str
                       ) -> dict[str, Any]:
    """Random city effects with year dummies (``random_effects_ml``), and the Hausman comparison with spreg's
    fixed-effects fit of the same design, on β's GLS covariance as splm's ``sphtest`` does (the full-likelihood
    covariance of the random-effects β is larger than the fixed effects' and would make V_FE − V_RE indefinite).
    Parameters: constant, β, the spatial parameter (dummies left out)."""
    stacked = frame.reset_index().sort_values(["year", "city_code"])
    years = stacked["year"].to_numpy()
    dummies = (years[:, None] == np.unique(years)[None, 1:]).astype(float)
    x = np.column_stack([np.ones(len(stacked)), stacked[names].to_numpy(dtype=float), dummies])
    check_rank(x, ["const", *names, *(f"year_{t}" for t in np.unique(years)[1:])])
    y = stacked["growth"].to_numpy(dtype=float)
    fit = random_effects_ml(y, x, w_dense, len(np.unique(years)), kind)
    k = len(names)
    keep = [*range(k + 1), len(fit["params"]) - 3]
    fixed = spreg_within(y[:, None], x[:, 1:], w, kind)
    comparison = hausman((fixed["params"][:k], fixed["vcov"][:k, :k]),
                         (fit["params"][1:k + 1], fit["gls_vcov"][1:k + 1, 1:k + 1]))
    return {"names": ["const", *names], "params": fit["params"][keep], "vcov": fit["vcov"][np.ix_(keep, keep)],
            "log_likelihood": fit["log_likelihood"], "sigma2": float(fit["params"][-1]),
            "diagnostics": {"phi": float(fit["params"][-2]), **comparison}}


def estimate_panel(frame: pd.DataFrame, w: Any, estimator: str, effects: str, correction: str, seed: int
                   ) -> dict[str, Any]:
    """Fit one spatial panel on a balanced design: ``frame`` holds the regressors and ``growth`` (the dependent
    variable), indexed by city_code and year, cities those of the libpysal W (row-standardised, sorted codes).
    Returns the result's estimator, n, fixed effects, coefficients, diagnostics and (lag models) impacts."""
    kind = "sem" if estimator == "panel_sem" else "sar"
    durbin = ESTIMATORS[estimator].durbin
    w_dense = w.full()[0]
    regressors = [c for c in frame.columns if c != "growth"]
    if durbin:
        frame = frame.join(spatial_lags(frame[regressors], w_dense))
    names = [c for c in frame.columns if c != "growth"]
    fit = (random_effects_fit(frame, names, w, w_dense, kind) if effects == "random"
           else fixed_effects_fit(frame, names, w, w_dense, kind, effects, correction))
    params, vcov = fit["params"], fit["vcov"]
    term = "rho" if kind == "sar" else "lambda"
    result = {"estimator": ESTIMATORS[estimator].label, "se_type": "ML asymptotic", "n": len(frame),
              "fixed_effects": {"entity": ["city"], "time": ["year"], "twoway": ["city", "year"],
                                "random": ["year (dummies); random city effects"]}[effects],
              "coefficients": normal_coefficients([*fit["names"], term], params, vcov),
              "diagnostics": {"log_likelihood": float(fit["log_likelihood"]), term: float(params[-1]),
                              "sigma2": fit["sigma2"], "bias_correction": correction, **fit.get("diagnostics", {})}}
    if ESTIMATORS[estimator].impacts:
        first, k = len(fit["names"]) - len(names), len(regressors)
        theta_at = list(range(first + k, first + 2 * k)) if durbin else None
        result |= lag_impacts(regressors, params, vcov, list(range(first, first + k)), theta_at, w_dense, 1000, seed)
    return result
