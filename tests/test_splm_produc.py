"""Spatial panels against R's splm on Munnell's (1990) Produc data (Millo & Piras 2012, JSS 47(1), §5).

Data: 48 US states, 1970–1986, log(gsp) ~ log(pcap) + log(pc) + log(emp) + unemp (``linearmodels.datasets.munnell``
is the same panel). Weights: splm's ``usaww`` is queen contiguity of the lower 48 states, row-standardised ("Arizona
and Colorado are considered neighbours", man/usaww.Rd); it is rebuilt here from libpysal's ``us48`` shapes.

Reference values: ``spml(..., model = "within", lag = TRUE / spatial.error = "b")`` of splm 1.6-5 (R 4.5.2), from
the frozen dump tests/reference_parity/_fixtures/spatial_survey_R.json of brycewang-stanford/StatsPAI-JSS-replication
(e46ceb7); the individual-effects SAR and SEM agree to every printed digit with the ``summary()`` printouts of splm in
T. Shimamura's "Further Topics in Spatial Econometrics" (2020). The Durbin models there are ``lag = TRUE`` with W·x
built year by year, as cityres builds them. The direct approach's numerical-Hessian SEs are Stata xsmle 1.4.5's
(same dump, spatial_survey_stata.json); splm's SEs come from the analytic information matrix, which spreg also uses.
Random effects (``model = "random"``, individual effects, no year effects): the printed splm ``summary()`` in
Shimamura (2020), whose ``usa48.nb`` queen list reproduces the ``usaww`` fixed-effects results digit for digit.
"""
import numpy as np
import pandas as pd
import pytest

from scripts.estimation.spatial_panel import demeaned, estimate_panel, hausman, panel_ml, random_effects_ml

REGRESSORS = ["lpcap", "lpc", "lemp", "unemp"]
# (estimator, effects) → (coefficients in REGRESSORS order then W_·, spatial parameter), SEs in the same order,
# log-likelihood (None where the dump has none), σ²
SPLM = {
    ("panel_sar", "entity"): (
        [-0.04658189351004817, 0.18743251919083803, 0.62509017129879274, -0.0044815897740733638, 0.2746887117370741],
        [0.025442496875935576, 0.023044153507405261, 0.029704359325385711, 0.00086530358020187796,
         0.023516404664625443], 1609.7200298178018, 0.0011113794637591264),
    ("panel_sar", "twoway"): (
        [-0.034862110443371647, 0.15912609800588043, 0.68793064650944979, -0.0034726166182653426, 0.19666415999001172],
        [0.024778916396991126, 0.025450416268013663, 0.028518633409112929, 0.0010491677574404074,
         0.026935813567626709], 1659.4476944839853, 0.00099318940595895049),
    ("panel_sem", "entity"): (
        [0.0051438403048369111, 0.20530255942776668, 0.78225397920939299, -0.0022316652324266329, 0.55740130825087031],
        [0.025010864310296105, 0.023142677334505445, 0.027805721234470841, 0.0010709120074995011,
         0.03307490605753953], 1634.02068046886, 0.00097648618132748193),   # log-likelihood: xsmle's (same fit)
    ("panel_sem", "twoway"): (
        [-0.013370362456879023, 0.15580221597557303, 0.75884468383511494, -0.0030114729599356464, 0.39086402716182861],
        [0.024743607969169468, 0.025481753262759161, 0.02778775889208809, 0.0011517677972032684,
         0.039893289746461065], None, 0.00093332473423996952),
    ("panel_sdm", "entity"): (
        [-0.012136381919537394, 0.17718866129673003, 0.74324655565111286, -0.0015225217633743199,
         -0.058496177675790885, 0.062628838053975039, -0.41025553470682957, -0.0036405060073428541,
         0.49330434372915705],
        [0.025144463460811589, 0.025308985117162001, 0.029196665732466449, 0.0012454219741090281,
         0.042799679143794067, 0.03849850969956406, 0.048922221226344494, 0.0016131150600285577,
         0.035638329945240646], 1655.0190283385878, 0.00094788979066033824),
    ("panel_sdm", "twoway"): (
        [-0.009657931113267999, 0.15943695093062352, 0.75062814978648462, -0.0014633147280527282,
         -0.061959810156596767, 0.017610221457305182, -0.27940017596410616, -0.0031609028926089721,
         0.36884620959260001],
        [0.025269613435855841, 0.025618749285993201, 0.028837134182281326, 0.0012334379390374088,
         0.046321068451900094, 0.045857639090256481, 0.051864973376364351, 0.0018726752094124063,
         0.040412006905048398], 1680.4735320902228, 0.00091922274610329127),
}


@pytest.fixture(scope="module")
def produc():
    """(panel indexed by state and year, row-standardised queen W of the lower 48 states in sorted-code order)."""
    import geopandas as gpd
    import libpysal
    from libpysal.examples import get_path
    from linearmodels.datasets import munnell

    data = munnell.load()
    frame = pd.DataFrame({"city_code": data["ST_ABB"], "year": data["YR"], "lpcap": np.log(data["P_CAP"]),
                          "lpc": np.log(data["PC"]), "lemp": np.log(data["EMP"]), "unemp": data["UNEMP"],
                          "growth": np.log(data["GSP"])}).set_index(["city_code", "year"]).sort_index()
    states = gpd.read_file(get_path("us48.shp"))
    queen = libpysal.weights.Queen.from_dataframe(states, ids=states["STATE_ABBR"].tolist(), use_index=False)
    w = libpysal.weights.W(queen.neighbors, id_order=sorted(queen.id_order))
    w.transform = "r"
    assert "CO" in w.neighbors["AZ"] and len(frame) == 48 * 17   # the Four Corners touch, as in usaww
    return frame, w


@pytest.mark.parametrize("estimator,effects", list(SPLM))
def test_fixed_effects_spatial_panels_reproduce_splm(produc, estimator, effects):
    frame, w = produc
    estimates, ses, loglik, sigma2 = SPLM[(estimator, effects)]
    result = estimate_panel(frame, w, estimator, effects, "none", seed=1)
    got = pd.DataFrame(result["coefficients"]).set_index("term")
    spatial = "lambda" if estimator == "panel_sem" else "rho"
    terms = [*REGRESSORS, *(f"W_{r}" for r in REGRESSORS if estimator == "panel_sdm"), spatial]
    np.testing.assert_allclose(got.loc[terms, "estimate"], estimates, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(got.loc[terms, "se"], ses, rtol=1e-4)
    assert result["diagnostics"]["sigma2"] == pytest.approx(sigma2, rel=1e-5)
    if loglik is not None:
        assert result["diagnostics"]["log_likelihood"] == pytest.approx(loglik, abs=1e-4)


def test_direct_approach_by_hand_likelihood_is_splms_with_xsmles_hessian_ses(produc):
    """panel_ml without the correction is the direct approach: splm's estimates and log-likelihood, and (numerical
    Hessian of the full likelihood) xsmle's SEs: ρ 0.02108514, log(pcap) 0.02540008."""
    frame, w = produc
    stacked = demeaned(frame, ("city_code",)).reset_index().sort_values(["year", "city_code"])
    fit = panel_ml(stacked["growth"].to_numpy(), stacked[REGRESSORS].to_numpy(), w.full()[0], 17, "sar", "entity",
                   "none")
    np.testing.assert_allclose(fit["params"], SPLM[("panel_sar", "entity")][0], rtol=1e-5)
    assert fit["log_likelihood"] == pytest.approx(1609.7200298178018, abs=1e-4)
    np.testing.assert_allclose(np.sqrt(np.diag(fit["vcov"]))[[0, -1]], [0.02540008, 0.02108514], rtol=1e-4)


def test_spatial_durbin_panel_impacts_follow_from_its_coefficients(produc):
    """Short-run impacts of the two-way SDM (LeSage & Pace 2009, §2.7) recomputed from splm's coefficients with the
    dense matrix formula S_k = (I − ρW)⁻¹(β_k I + θ_k W): direct = tr(S_k)/n, total = 1'S_k1/n."""
    frame, w = produc
    result = estimate_panel(frame, w, "panel_sdm", "twoway", "none", seed=1)
    coefficients, rho = SPLM[("panel_sdm", "twoway")][0][:-1], SPLM[("panel_sdm", "twoway")][0][-1]
    dense = w.full()[0]
    inverse = np.linalg.inv(np.eye(48) - rho * dense)
    impacts = pd.DataFrame(result["impacts"]).set_index(["term", "impact"])
    for k, term in enumerate(REGRESSORS):
        s = inverse @ (coefficients[k] * np.eye(48) + coefficients[4 + k] * dense)
        assert impacts.loc[(term, "direct"), "estimate"] == pytest.approx(np.trace(s) / 48, rel=1e-4)
        assert impacts.loc[(term, "total"), "estimate"] == pytest.approx(s.sum() / 48, rel=1e-4)
        row = impacts.loc[(term, "total")]
        assert row["se"] > 0 and row["ci_low"] < row["estimate"] < row["ci_high"]


# splm summary() printouts, model = "random": (constant, REGRESSORS, spatial parameter, φ) and their SEs
SPLM_RANDOM = {
    "sar": ([1.65814995, 0.01294505, 0.22555376, 0.67081075, -0.00579716, 0.161615, 21.3175],
            [0.15071855, 0.02493997, 0.02163422, 0.02642113, 0.00089175, 0.029099, 8.3017]),
    "sem": ([2.3868275, 0.0424138, 0.2418396, 0.7423454, -0.0034279, 0.53888, 7.49518],
            [0.1393798, 0.0222037, 0.0202892, 0.0244061, 0.0010614, 0.03371, 1.73081]),
}


@pytest.mark.parametrize("kind", ["sar", "sem"])
def test_random_effects_spatial_panels_reproduce_splm(produc, kind):
    """Estimates and the spatial parameter's and φ's SEs are splm's. splm's β SEs are the GLS covariance
    σ²(X*'X*)⁻¹ given (ρ, φ) — recomputed here by hand at our estimates, they are splm's printed SEs to 1e-4 —
    while cityres reports the inverse Hessian of the full likelihood, which also carries the uncertainty of (ρ, φ)
    (larger, by up to 17 % here)."""
    frame, w = produc
    stacked = frame.reset_index().sort_values(["year", "city_code"])
    x = np.column_stack([np.ones(len(stacked)), stacked[REGRESSORS].to_numpy()])
    dense = w.full()[0]
    fit = random_effects_ml(stacked["growth"].to_numpy(), x, dense, 17, kind)
    estimates, ses = SPLM_RANDOM[kind]
    np.testing.assert_allclose(fit["params"][:-1], estimates, rtol=2e-5, atol=2e-7)
    se = np.sqrt(np.diag(fit["vcov"]))
    np.testing.assert_allclose(se[5:7], ses[5:], rtol=5e-3)
    spatial, phi, sigma2 = fit["params"][5:]
    xs = x.reshape(17, 48, -1)
    if kind == "sar":
        theta = np.sqrt(1 / (1 + 17 * phi))
        whitened = (xs - (1 - theta) * xs.mean(axis=0)).reshape(816, -1)
    else:
        b = np.eye(48) - spatial * dense
        between = np.linalg.cholesky(np.linalg.inv(17 * phi * np.eye(48) + np.linalg.inv(b.T @ b))).T
        whitened = np.vstack([np.sqrt(17) * between @ xs.mean(axis=0),
                              np.einsum("ij,tjk->tik", b, xs - xs.mean(axis=0)).reshape(816, -1)])
    gls_se = np.sqrt(np.diag(sigma2 * np.linalg.inv(whitened.T @ whitened)))
    np.testing.assert_allclose(gls_se, ses[:5], rtol=2e-4)
    assert np.all(se[:5] >= gls_se * 0.999) and np.all(se[:5] <= gls_se * 1.2)


def test_hausman_statistic_by_hand(produc):
    """The random-effects spec's Hausman test, d'(V_FE − V_RE)⁻¹d over the regressors, recomputed with numpy from
    the fixed-effects fit with the same year dummies (spreg) and the random-effects β's GLS covariance."""
    from scipy import stats

    from scripts.estimation.spatial_panel import spreg_within

    frame, w = produc
    result = estimate_panel(frame, w, "panel_sar", "random", "none", seed=1)
    stacked = frame.reset_index().sort_values(["year", "city_code"])
    dummies = (stacked["year"].to_numpy()[:, None] == np.arange(1971, 1987)[None, :]).astype(float)
    x = np.column_stack([stacked[REGRESSORS].to_numpy(), dummies])
    y = stacked["growth"].to_numpy()
    fixed = spreg_within(y[:, None], x, w, "sar")
    random = random_effects_ml(y, np.column_stack([np.ones(len(y)), x]), w.full()[0], 17, "sar")
    d = fixed["params"][:4] - random["params"][1:5]
    statistic = d @ np.linalg.solve(fixed["vcov"][:4, :4] - random["gls_vcov"][1:5, 1:5], d)
    diagnostics = result["diagnostics"]
    assert diagnostics["hausman_statistic"] == pytest.approx(statistic, rel=1e-6) and diagnostics["hausman_df"] == 4
    assert diagnostics["hausman_p_value"] == pytest.approx(stats.chi2.sf(statistic, 4))
    assert result["fixed_effects"][0].startswith("year (dummies)")
    by_hand = hausman((np.array([1.0, 2.0]), np.diag([0.5, 0.3])), (np.array([0.5, 2.5]), np.diag([0.25, 0.1])))
    assert by_hand["hausman_statistic"] == pytest.approx(0.25 / 0.25 + 0.25 / 0.2)


@pytest.mark.parametrize("kind", ["sar", "sem"])
def test_random_effects_hessian_equals_a_fully_numerical_one(produc, kind, monkeypatch):
    """The partly analytic Hessian (β rows analytic) against statsmodels' numerical Hessian of every parameter."""
    from statsmodels.tools.numdiff import approx_hess3

    import scripts.estimation.spatial_panel as module

    frame, w = produc
    stacked = frame.reset_index().sort_values(["year", "city_code"])
    x = np.column_stack([np.ones(len(stacked)), stacked[REGRESSORS].to_numpy()])
    y = stacked["growth"].to_numpy()
    fit = random_effects_ml(y, x, w.full()[0], 17, kind)
    monkeypatch.setattr(module, "partly_analytic_hessian", lambda theta, whitened, loglik: approx_hess3(theta, loglik))
    numerical = module.random_effects_ml(y, x, w.full()[0], 17, kind)
    np.testing.assert_allclose(np.sqrt(np.diag(fit["vcov"])), np.sqrt(np.diag(numerical["vcov"])), rtol=1e-3)
