"""Spatial estimators against independent references computed here from the textbook likelihoods and 2SLS.

The pipeline fits ML/GMM models through spreg; each test below re-derives the estimate without spreg, from the
formula in the cited source, on a dataset shipped inside an installed package (Columbus crime, libpysal) or on a
simulated lattice panel, and requires agreement to optimiser precision.

Why not Anselin's (1988) printed ML numbers? Anselin's ML lag for Columbus (ρ = 0.431, spdep ``COL.nb``) uses his
hand-edited contiguity list; libpysal ships the GeoDa queen file ``columbus.gal``, which differs in a few links, so
the printed ML numbers do not apply. The printed OLS numbers (W-free) are checked in test_models.py.
"""
import libpysal
import numpy as np
import pandas as pd
import pytest
from libpysal.examples import get_path
from scipy.optimize import minimize_scalar

from scripts.estimation.spatial import fit_spatial
from scripts.estimation.spatial_panel import fit_spatial_panel
from tests.test_models import queen_grid


def columbus():
    """(sample, row-standardised W) for Columbus: CRIME on INC and HOVAL, GeoDa queen contiguity."""
    db = libpysal.io.open(get_path("columbus.dbf"))
    sample = pd.DataFrame({"crime": db.by_col("CRIME"), "inc": db.by_col("INC"), "hoval": db.by_col("HOVAL")})
    w = libpysal.io.open(get_path("columbus.gal")).read()
    w.transform = "r"
    return sample, w


def ols(x, y):
    return np.linalg.lstsq(x, y, rcond=None)[0]


def ml_lag_by_hand(y, x, w, periods=1):
    """Concentrated log-likelihood of y = ρWy + Xβ + ε (Anselin 1988, eq. 6.19; LeSage & Pace 2009, §3.1):

    L(ρ) = −N/2 · ln(e(ρ)'e(ρ)/N) + periods · Σ_i ln(1 − ρ ω_i),   e(ρ) = e₀ − ρ e_L,
    with e₀, e_L the OLS residuals of y and Wy on X and ω the eigenvalues of W (one W per period when stacked).
    Returns ρ, β = b₀ − ρ b_L and the full log-likelihood.
    """
    n = len(y)
    omega = np.linalg.eigvals(w).real
    wy = np.kron(np.eye(periods), w) @ y
    b0, bl = ols(x, y), ols(x, wy)
    e0, el = y - x @ b0, wy - x @ bl

    def negative(rho):
        e = e0 - rho * el
        return n / 2 * np.log(e @ e / n) - periods * np.sum(np.log(1 - rho * omega))

    rho = minimize_scalar(negative, bounds=(-0.99, 0.99), method="bounded", options={"xatol": 1e-10}).x
    e = e0 - rho * el
    loglik = -n / 2 * (np.log(2 * np.pi) + np.log(e @ e / n) + 1) + periods * np.sum(np.log(1 - rho * omega))
    return rho, b0 - rho * bl, loglik


def ml_error_by_hand(y, x, w):
    """Concentrated log-likelihood of y = Xβ + u, u = λWu + ε (Anselin 1988, eq. 6.25):

    L(λ) = −N/2 · ln(e(λ)'e(λ)/N) + Σ ln(1 − λω_i), e(λ) = (I − λW)(y − Xβ(λ)), β(λ) the GLS estimate on the
    spatially filtered data (I − λW)y, (I − λW)X.
    """
    n = len(y)
    omega = np.linalg.eigvals(w).real
    a = np.eye(n)

    def residual(lam):
        ys, xs = (a - lam * w) @ y, (a - lam * w) @ x
        beta = ols(xs, ys)
        return ys - xs @ beta, beta

    def negative(lam):
        e = residual(lam)[0]
        return n / 2 * np.log(e @ e / n) - np.sum(np.log(1 - lam * omega))

    lam = minimize_scalar(negative, bounds=(-0.99, 0.99), method="bounded", options={"xatol": 1e-10}).x
    return lam, residual(lam)[1]


def coefficients(result):
    return {c["term"]: c for c in result["coefficients"]}


def test_ml_lag_matches_concentrated_likelihood_on_columbus():
    sample, w = columbus()
    x = np.column_stack([np.ones(len(sample)), sample[["inc", "hoval"]]])
    rho, beta, loglik = ml_lag_by_hand(sample["crime"].to_numpy(), x, w.full()[0])
    got = fit_spatial(sample, "crime", ["inc", "hoval"], w, "sar", seed=1, draws=50)
    coef = coefficients(got)
    assert coef["rho"]["estimate"] == pytest.approx(rho, abs=1e-6)
    for name, value in zip(("const", "inc", "hoval"), beta):
        assert coef[name]["estimate"] == pytest.approx(value, abs=1e-5)
    assert got["diagnostics"]["log_likelihood"] == pytest.approx(loglik, abs=1e-6)


def test_sdm_is_the_lag_model_with_lagged_regressors_on_columbus():
    sample, w = columbus()
    dense = w.full()[0]
    regressors = sample[["inc", "hoval"]].to_numpy()
    x = np.column_stack([np.ones(len(sample)), regressors, dense @ regressors])   # LeSage & Pace (2009), eq. 2.16
    rho, beta, _ = ml_lag_by_hand(sample["crime"].to_numpy(), x, dense)
    coef = coefficients(fit_spatial(sample, "crime", ["inc", "hoval"], w, "sdm", seed=1, draws=50))
    assert coef["rho"]["estimate"] == pytest.approx(rho, abs=1e-6)
    for name, value in zip(("const", "inc", "hoval", "W_inc", "W_hoval"), beta):
        assert coef[name]["estimate"] == pytest.approx(value, abs=1e-5)


def test_ml_error_matches_concentrated_likelihood_on_columbus():
    sample, w = columbus()
    x = np.column_stack([np.ones(len(sample)), sample[["inc", "hoval"]]])
    lam, beta = ml_error_by_hand(sample["crime"].to_numpy(), x, w.full()[0])
    coef = coefficients(fit_spatial(sample, "crime", ["inc", "hoval"], w, "sem", seed=1))
    assert coef["lambda"]["estimate"] == pytest.approx(lam, abs=1e-6)
    for name, value in zip(("const", "inc", "hoval"), beta):
        assert coef[name]["estimate"] == pytest.approx(value, abs=1e-5)


def test_gm_lag_is_two_stage_least_squares_with_spatial_instruments_on_columbus():
    """Kelejian & Prucha (1998); Anselin (1988, §7.2): Z = [1, X, Wy], instruments H = [1, X, WX, W²X],
    δ = (Ẑ'Z)⁻¹ Ẑ'y with Ẑ = H(H'H)⁻¹H'Z, Var δ = σ²(Ẑ'Ẑ)⁻¹ with σ² = e'e/N."""
    sample, w = columbus()
    dense = w.full()[0]
    y = sample["crime"].to_numpy()
    regressors = sample[["inc", "hoval"]].to_numpy()
    z = np.column_stack([np.ones(len(y)), regressors, dense @ y])
    h = np.column_stack([np.ones(len(y)), regressors, dense @ regressors, dense @ dense @ regressors])
    z_hat = h @ np.linalg.solve(h.T @ h, h.T @ z)
    delta = np.linalg.solve(z_hat.T @ z, z_hat.T @ y)
    e = y - z @ delta
    se = np.sqrt(np.diag(e @ e / len(y) * np.linalg.inv(z_hat.T @ z_hat)))
    coef = coefficients(fit_spatial(sample, "crime", ["inc", "hoval"], w, "gm_lag", seed=1, draws=50))
    for name, value, error in zip(("const", "inc", "hoval", "rho"), delta, se):
        assert coef[name]["estimate"] == pytest.approx(value, rel=1e-8)
        assert coef[name]["se"] == pytest.approx(error, rel=1e-8)


def lattice_panel(side=8, years=range(2011, 2022), rho=0.4, beta=(1.0, -0.5), seed=4):
    """Balanced city × year panel on a queen lattice with a two-way FE spatial lag process."""
    cities, table, codes, w = queen_grid(side)
    rng = np.random.default_rng(seed)
    city_effect = rng.normal(0, 1, len(codes))
    frames = []
    for year in years:
        dc = rng.normal(size=len(codes))
        post = float(year >= 2020)
        mean = city_effect + 0.3 * (year - 2015) + beta[0] * dc + beta[1] * dc * post
        growth = np.linalg.solve(np.eye(len(codes)) - rho * w, mean + rng.normal(0, 0.5, len(codes)))
        frames.append(pd.DataFrame({"city_code": codes, "year": year, "dc": dc, "growth": growth}))
    rows = pd.concat(frames).set_index(["city_code", "year"]).sort_index()
    return rows, table, cities, w


def test_spatial_panel_lag_matches_two_way_demeaned_likelihood():
    """Elhorst (2014, §3.4): with city and year effects removed by demeaning, the concentrated log-likelihood is
    −NT/2 · ln(e'e/NT) + T · Σ ln(1 − ρω_i) — the cross-section formula with T copies of W."""
    rows, table, cities, w = lattice_panel()
    spec = {"estimator": "panel_sar", "centralities": "joint", "all_centralities": {"dc": "strength"},
            "weights": "queen"}
    settings = {"years": {"start": 2011, "end": 2021}, "shock_year": 2020}
    got = coefficients(fit_spatial_panel(rows, spec, settings, table, cities,
                                         {"kind": "queen", "island_policy": "error"}, seed=1))
    frame = rows.assign(dc_x_post=rows["dc"] * (rows.index.get_level_values("year") >= 2020))
    frame = frame - frame.groupby(level="year").transform("mean")
    frame = frame - frame.groupby(level="city_code").transform("mean")
    stacked = frame.reset_index().sort_values(["year", "city_code"])
    rho, beta, _ = ml_lag_by_hand(stacked["growth"].to_numpy(), stacked[["dc", "dc_x_post"]].to_numpy(), w,
                                  periods=11)
    assert got["rho"]["estimate"] == pytest.approx(rho, abs=1e-6)
    assert got["dc"]["estimate"] == pytest.approx(beta[0], abs=1e-5)
    assert got["dc_x_post"]["estimate"] == pytest.approx(beta[1], abs=1e-5)
    assert got["dc_x_post"]["ci_low"] < -0.5 < got["dc_x_post"]["ci_high"]   # and the planted values are covered
    assert got["rho"]["ci_low"] < 0.4 < got["rho"]["ci_high"]


def test_unbalanced_spatial_panel_without_a_sample_rule_is_an_error():
    from scripts.common import InputError

    rows, table, cities, _ = lattice_panel(side=4)
    rows = rows.drop(index=[("100005", 2013), ("100005", 2014)])
    spec = {"estimator": "panel_sar", "centralities": "joint", "all_centralities": {"dc": "strength"},
            "weights": "queen"}
    settings = {"years": {"start": 2011, "end": 2021}, "shock_year": 2020, "balance": "require"}
    with pytest.raises(InputError, match=r"1 cities are incomplete \(100005 missing \[2013, 2014\]\).*drop_incomplete"):
        fit_spatial_panel(rows, spec, settings, table, cities, {"kind": "queen", "island_policy": "error"}, seed=1)
    result = fit_spatial_panel(rows, spec, {**settings, "balance": "drop_incomplete"}, table, cities,
                               {"kind": "queen", "island_policy": "error"}, seed=1)
    assert result["dropped"]["unbalanced (missing a year)"] == ["100005"] and result["n"] == 15 * 11


def test_weights_that_do_not_match_the_sample_are_an_error():
    from scripts.common import InputError
    from scripts.weights import sample_weights

    _, table, cities, _ = lattice_panel(side=3)
    with pytest.raises(InputError, match=r"2 sample cities are not in the weights' geography \(999998, 999999\)"):
        sample_weights(table, [*cities["city_code"], "999998", "999999"], cities,
                       {"kind": "queen", "island_policy": "error"}, "queen")


def orthonormal_complement(size):
    """F (size × size−1): orthonormal eigenvectors of J = I − 11'/size with eigenvalue 1 (Lee & Yu 2010)."""
    values, vectors = np.linalg.eigh(np.eye(size) - np.ones((size, size)) / size)
    return vectors[:, values > 0.5]


@pytest.mark.parametrize("effects", ["twoway", "entity", "time"])
@pytest.mark.parametrize("kind", ["sar", "sem"])
def test_lee_yu_equals_ml_on_explicitly_transformed_data(kind, effects):
    """Lee & Yu (2010): with F_T, F_n the orthonormal complements of the constant, Y** = F_T' Y F_n (city effects:
    F_T' Y; year effects: Y F_n) has no effects left, and the FE SAR (SEM) is an ordinary SAR (SEM) on the
    (T−1)(n−1), (T−1)n or T(n−1) transformed observations with W* = F_n' W F_n (city effects only: W). Fitting that
    by the hand likelihoods of this file must give the transformation approach."""
    from scripts.estimation.spatial_panel import EFFECTS, demeaned, panel_ml

    rows, _, _, w = lattice_panel(side=6, years=range(2016, 2021), seed=11)
    rows = rows.assign(dc_x_post=rows["dc"] * (rows.index.get_level_values("year") >= 2020))
    n, periods = w.shape[0], 5
    f_t = orthonormal_complement(periods) if effects != "time" else np.eye(periods)
    f_n = orthonormal_complement(n) if effects != "entity" else np.eye(n)

    def transformed(column):   # T × n (periods × cities, cities in W's order) → stacked, period by period
        matrix = rows[column].unstack("city_code").to_numpy()
        return (f_t.T @ matrix @ f_n).ravel()

    y = transformed("growth")
    x = np.column_stack([transformed("dc"), transformed("dc_x_post")])
    w_star = f_n.T @ w @ f_n
    if kind == "sar":
        rho, beta, _ = ml_lag_by_hand(y, x, w_star, periods=f_t.shape[1])
    else:
        rho, beta = ml_error_by_hand(y, x, np.kron(np.eye(f_t.shape[1]), w_star))
    frame = demeaned(rows[["growth", "dc", "dc_x_post"]], EFFECTS[effects]).reset_index().sort_values(["year", "city_code"])
    fit = panel_ml(frame["growth"].to_numpy(), frame[["dc", "dc_x_post"]].to_numpy(), w, periods, kind, effects)
    assert fit["params"][-1] == pytest.approx(rho, abs=1e-6)
    np.testing.assert_allclose(fit["params"][:2], beta, atol=1e-5)


def test_lee_yu_removes_the_short_panel_bias_of_sigma2():
    """Monte Carlo, T = 3, σ² = 0.25 (noise SD 0.5 in lattice_panel): the direct approach's σ² is biased by
    about (T − 1)/T, the transformation approach's is not."""
    spec = {"estimator": "panel_sar", "centralities": "joint", "all_centralities": {"dc": "strength"},
            "weights": "queen"}
    settings = {"years": {"start": 2018, "end": 2020}, "shock_year": 2020}
    direct, corrected, covered = [], [], 0
    for seed in range(25):
        rows, table, cities, _ = lattice_panel(side=7, years=range(2018, 2021), seed=100 + seed)
        for correction, out in (("none", direct), ("lee_yu", corrected)):
            result = fit_spatial_panel(rows, {**spec, "bias_correction": correction}, settings, table, cities,
                                       {"kind": "queen", "island_policy": "error"}, seed=1)
            out.append(result["diagnostics"]["sigma2"])
        rho = coefficients(result)["rho"]                    # the Lee–Yu fit: its 95 % interval covers ρ = 0.4
        covered += rho["ci_low"] <= 0.4 <= rho["ci_high"]
    assert np.mean(corrected) == pytest.approx(0.25, rel=0.06)
    assert np.mean(direct) == pytest.approx(0.25 * 2 / 3, rel=0.08)
    assert covered >= 20
