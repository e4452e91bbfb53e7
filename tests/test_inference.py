"""Conley (1999) spatial HAC and the restricted wild cluster bootstrap against hand computation, statsmodels'
covariances as limiting cases, full enumeration refitted with statsmodels, and a size simulation with few clusters."""
import itertools

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from scripts.estimation.inference import (
    _cr1_t,
    _wild_t,
    cluster_weights,
    conley_covariance,
    great_circle_km,
    panel_conley_covariance,
    wild_cluster_bootstrap,
    wild_p_value,
)


def test_great_circle_distance_by_hand():
    # one degree of longitude on the equator is 2πR/360 = 111.195 km; one degree of latitude anywhere the same
    d = great_circle_km(np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.0]))
    assert d[0, 1] == pytest.approx(2 * np.pi * 6371 / 360) and d[0, 2] == pytest.approx(d[0, 1])
    assert d[1, 2] == pytest.approx(np.degrees(np.arccos(np.cos(np.radians(1)) ** 2)) * 2 * np.pi * 6371 / 360)


def small_sample(n=6, seed=0):
    rng = np.random.default_rng(seed)
    x = np.column_stack([np.ones(n), rng.normal(size=n)])
    y = 1 + 0.5 * x[:, 1] + rng.normal(size=n)
    lat, lon = rng.uniform(20, 40, n), rng.uniform(100, 120, n)
    residuals = y - x @ np.linalg.lstsq(x, y, rcond=None)[0]
    return x, y, residuals, lat, lon


@pytest.mark.parametrize("kernel", ["uniform", "bartlett"])
def test_conley_covariance_by_a_double_loop(kernel):
    """V = (X'X)⁻¹ Σ_i Σ_j K(d_ij) x_i e_i e_j x_j' (X'X)⁻¹, summed pair by pair with the haversine written out."""
    x, _, e, lat, lon = small_sample()
    cutoff = 1000.0
    meat = np.zeros((2, 2))
    for i, j in itertools.product(range(len(e)), repeat=2):
        p1, p2, dl = np.radians(lat[i]), np.radians(lat[j]), np.radians(lon[i] - lon[j])
        h = np.sin((p1 - p2) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
        d = 2 * 6371 * np.arcsin(np.sqrt(h))
        k = float(d <= cutoff) if kernel == "uniform" else max(0.0, 1 - d / cutoff)
        meat += k * np.outer(x[i] * e[i], x[j] * e[j])
    bread = np.linalg.inv(x.T @ x)
    np.testing.assert_allclose(conley_covariance(x, e, lat, lon, cutoff, kernel), bread @ meat @ bread, rtol=1e-12)


def test_conley_limits_are_white_and_the_cluster_covariance():
    """Cutoff → 0: White's HC0; uniform kernel on points that coincide within clusters far apart: CR0."""
    rng = np.random.default_rng(3)
    groups = np.repeat(np.arange(8), 5)
    x = np.column_stack([np.ones(40), rng.normal(size=40)])
    y = x @ [1.0, 0.3] + rng.normal(size=40)
    fit = sm.OLS(y, x).fit()
    lat, lon = rng.uniform(20, 40, 40), rng.uniform(100, 120, 40)
    np.testing.assert_allclose(conley_covariance(x, fit.resid, lat, lon, 1e-6, "uniform"),
                               fit.get_robustcov_results("HC0").cov_params(), rtol=1e-10)
    centre_lat, centre_lon = np.arange(8) * 10.0 - 35, np.arange(8) * 20.0   # ≥ 1,000 km between cluster centres
    cluster = fit.get_robustcov_results("cluster", groups=groups, use_correction=False).cov_params()
    np.testing.assert_allclose(conley_covariance(x, fit.resid, centre_lat[groups], centre_lon[groups], 100.0,
                                                 "uniform"), cluster, rtol=1e-10)


def clustered_sample(clusters, rng, beta=0.0):
    """Unbalanced clusters (5–59 cities), a regressor with a cluster component and errors whose cluster component
    grows with it: the design where the analytic cluster SE over-rejects with few clusters."""
    sizes = rng.integers(5, 60, size=clusters)
    groups = np.repeat(np.arange(clusters), sizes)
    x_cluster = rng.normal(size=clusters)
    x1 = x_cluster[groups] + 0.3 * rng.normal(size=len(groups))
    errors = (rng.normal(size=clusters) * np.abs(x_cluster))[groups] + rng.normal(size=len(groups))
    x = np.column_stack([np.ones(len(groups)), x1])
    return x, beta * x1 + errors, groups


def test_bootstrap_t_matches_statsmodels_cluster_se_under_full_enumeration():
    """Six clusters, all 2⁶ Rademacher sign vectors: each bootstrap sample refitted with statsmodels (CR1 cluster
    SE, its default small-sample factor) gives the same t* and so the same p-value."""
    rng = np.random.default_rng(5)
    x, y, groups = clustered_sample(6, rng, beta=0.2)
    weights = np.array(list(itertools.product([-1.0, 1.0], repeat=6))).T       # 6 × 64
    restricted = sm.OLS(y, x[:, [0]]).fit()                                      # H0: β1 = 0
    t_star = []
    for v in weights.T:
        y_star = restricted.fittedvalues + restricted.resid * v[groups]
        fit = sm.OLS(y_star, x).fit(cov_type="cluster", cov_kwds={"groups": groups})
        t_star.append(fit.params[1] / fit.bse[1])
    t = sm.OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": groups})
    expected = np.mean(np.abs(t_star) >= abs(t.params[1] / t.bse[1]))
    assert wild_p_value(x, y, groups, 1, 0.0, weights) == pytest.approx(expected, abs=1e-12)
    np.testing.assert_allclose(_cr1_t(x, y[:, None], groups, 1, 0.0)[0], t.params[1] / t.bse[1], rtol=1e-10)


def test_wild_bootstrap_keeps_its_size_where_the_cluster_se_over_rejects():
    """12 clusters, β = 0, 300 samples: the restricted wild bootstrap (Webb, 199 draws) rejects at 5 % about 5 % of
    the time; the analytic CR1 t-test against the normal rejects far more often (Cameron, Gelbach & Miller 2008)."""
    rng = np.random.default_rng(2008)
    wild = analytic = 0
    samples = 300
    for _ in range(samples):
        x, y, groups = clustered_sample(12, rng)
        wild += wild_p_value(x, y, groups, 1, 0.0, cluster_weights(12, 199, "webb", rng)) < 0.05
        analytic += abs(_cr1_t(x, y[:, None], groups, 1, 0.0)[0]) > stats.norm.ppf(0.975)
    # binomial SD of a 5 % rate over 300 samples: 1.26 points
    assert 0.015 <= wild / samples <= 0.09
    assert analytic / samples >= 0.10 and analytic / samples > wild / samples + 0.04


def test_wild_bootstrap_interval_inverts_the_test():
    """At the interval's ends the bootstrap p-value crosses 5 %; with 40 clusters the interval is close to the
    analytic CR1 interval β ± 1.96 se."""
    rng = np.random.default_rng(11)
    groups = np.repeat(np.arange(40), 10)                     # 40 equal clusters, homoskedastic cluster effects
    x = np.column_stack([np.ones(400), rng.normal(size=40)[groups] + rng.normal(size=400)])
    y = 0.3 * x[:, 1] + rng.normal(size=40)[groups] + rng.normal(size=400)
    result = wild_cluster_bootstrap(x, y, groups, 1, 999, "webb", np.random.default_rng(1))
    weights = cluster_weights(40, 999, "webb", np.random.default_rng(1))
    assert wild_p_value(x, y, groups, 1, result["ci_low"] - 1e-6, weights) <= 0.05
    assert wild_p_value(x, y, groups, 1, result["ci_low"] + 1e-3, weights) > 0.05
    assert wild_p_value(x, y, groups, 1, result["ci_high"] + 1e-6, weights) <= 0.05
    fit = sm.OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": groups})
    analytic = fit.params[1] + np.array([-1, 1]) * stats.norm.ppf(0.975) * fit.bse[1]
    width = analytic[1] - analytic[0]           # each end within 15 % of the analytic interval's width
    np.testing.assert_allclose([result["ci_low"], result["ci_high"]], analytic, atol=0.15 * width, rtol=0)
    assert result["clusters"] == 40 and result["p_value"] < 0.05


def city_sample(n=60, seed=4):
    """A cross-section keyed by 6-digit city codes in six provinces, with coordinates."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    codes = [f"{11 + k % 6}{k:04d}" for k in range(n)]
    sample = pd.DataFrame({"y": rng.normal(size=n), "dc": rng.normal(size=n), "pop": rng.normal(size=n)}, index=codes)
    cities = pd.DataFrame({"city_code": codes, "lat": rng.uniform(20, 45, n), "lon": rng.uniform(100, 125, n)})
    return sample, cities


def test_ols_with_conley_and_wild_bootstrap_inference():
    """cov conley: SEs are √diag of the Conley covariance, and with a vanishing cutoff statsmodels' HC0 SEs;
    cov wild_cluster_province: CR1 SEs with the centrality's p-value and CI from the bootstrap."""
    from scripts.estimation.cross_section import fit_ols

    sample, cities = city_sample()
    inference = {"cities": cities, "conley_km": 1e-6, "conley_kernel": "bartlett", "terms": ["dc"], "seed": 1,
                 "wild_bootstrap": {"draws": 199, "weights": "webb"}}
    got = {c["term"]: c["se"] for c in fit_ols(sample, "y", ["dc", "pop"], "conley", inference)["coefficients"]}
    hc0 = sm.OLS(sample["y"], sm.add_constant(sample[["dc", "pop"]])).fit(cov_type="HC0")
    assert got["dc"] == pytest.approx(hc0.bse["dc"], rel=1e-10) and got["pop"] == pytest.approx(hc0.bse["pop"])
    wide = fit_ols(sample, "y", ["dc", "pop"], "conley", {**inference, "conley_km": 800.0})
    assert "cutoff 800 km" in wide["se_type"]
    wild = fit_ols(sample, "y", ["dc", "pop"], "wild_cluster_province", inference)
    row = next(c for c in wild["coefficients"] if c["term"] == "dc")
    assert row["p_value"] == wild["wild_bootstrap"]["terms"]["dc"]["p_value"] and wild["wild_bootstrap"]["clusters"] == 6
    assert row["ci_low"] < row["estimate"] < row["ci_high"] and "wild cluster bootstrap" in wild["se_type"]


def test_conley_specs_carry_their_cutoff_and_only_their_own_keys():
    from scripts.common import InputError
    from scripts.specs import expand_group

    models = {"outcome": "real_gdp", "network": "gravity", "spatial": {"weights": "queen"}, "centrality_year": 2019,
              "controls": [], "standardize": True, "measures": ["drop"], "centralities": {"dc": "degree"}}
    specs = expand_group("si", {"estimator": "ols", "cov": ["HC1", "conley", "wild_cluster_province"],
                                "conley_km": [250, 500], "wild_bootstrap": {"draws": 499}}, models)
    assert sorted(specs) == ["si-HC1", "si-conley250km", "si-conley500km", "si-wild_cluster_province"]
    assert specs["si-conley250km"]["conley_kernel"] == "bartlett" and "conley_km" not in specs["si-HC1"]
    assert specs["si-wild_cluster_province"]["wild_bootstrap"] == {"draws": 499, "weights": "webb"}
    only_cutoff = expand_group("c", {"estimator": "ols", "cov": "conley", "conley_km": [100, 200]}, models)
    assert sorted(only_cutoff) == ["c-conley100km", "c-conley200km"]
    with pytest.raises(InputError, match="conley_km is read only by cov: conley"):
        expand_group("h", {"estimator": "ols", "cov": "HC1", "conley_km": [100, 200]}, models)


def small_panel(cities=6, years=5, seed=3):
    """A balanced city × year panel in three provinces: (rows with growth and dc, city points)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    codes = [f"{11 + k % 3}{k:04d}" for k in range(cities)]
    index = pd.MultiIndex.from_product([codes, range(2015, 2015 + years)], names=["city_code", "year"])
    dc = rng.normal(size=len(index))
    growth = 0.3 * dc + np.repeat(rng.normal(size=cities), years) + np.tile(rng.normal(size=years), cities) \
        + rng.normal(size=len(index))
    points = pd.DataFrame({"city_code": codes, "lat": rng.uniform(25, 35, cities), "lon": rng.uniform(105, 115, cities)})
    frame = pd.DataFrame({"growth": growth, "dc": dc, "dc_x_post": dc * (index.get_level_values("year") >= 2018)},
                         index=index)
    return frame.sort_index(), points


def two_way_demeaned(frame):
    """Balanced panel: z_it − z̄_i − z̄_t + z̄, by numpy on the city × year arrays."""
    out = {}
    for column in frame:
        z = frame[column].unstack("year").to_numpy()
        out[column] = (z - z.mean(axis=1, keepdims=True) - z.mean(axis=0, keepdims=True) + z.mean()).ravel()
    return out


@pytest.mark.parametrize("kernel,lag", [("uniform", 1), ("bartlett", 2)])
def test_panel_conley_covariance_by_a_double_loop(kernel, lag):
    """Hsiang (2010): pairs in the same year weighted by K(d_ij), the same city's other years by 1 − |t − s|/(L + 1)."""
    rng = np.random.default_rng(5)
    cities, years = np.repeat(np.arange(4), 3), np.tile(np.arange(3), 4)
    lat, lon = np.repeat(rng.uniform(25, 35, 4), 3), np.repeat(rng.uniform(105, 115, 4), 3)
    x, e = rng.normal(size=(12, 2)), rng.normal(size=12)
    cutoff = 800.0
    meat = np.zeros((2, 2))
    for i, j in itertools.product(range(12), repeat=2):
        if years[i] == years[j]:
            d = great_circle_km(lat[[i, j]], lon[[i, j]])[0, 1]
            weight = float(d <= cutoff) if kernel == "uniform" else max(0.0, 1 - d / cutoff)
        elif cities[i] == cities[j]:
            weight = max(0.0, 1 - abs(years[i] - years[j]) / (lag + 1))
        else:
            weight = 0.0
        meat += weight * np.outer(x[i] * e[i], x[j] * e[j])
    bread = np.linalg.inv(x.T @ x)
    got = panel_conley_covariance(x, e, lat, lon, cities, years, cutoff, kernel, lag)
    np.testing.assert_allclose(got, bread @ meat @ bread, rtol=1e-12)
    hc0 = panel_conley_covariance(x, e, lat, lon, cities, years, 1e-9, "uniform", 0)   # no pairs: White's HC0
    np.testing.assert_allclose(hc0, bread @ (x.T * e ** 2) @ x @ bread, rtol=1e-12)


def test_panel_fe_conley_and_wild_bootstrap_on_a_by_hand_within_transformation():
    """fit_panel's Conley SEs and wild-bootstrap p-values/CIs equal the formulas applied to the two-way demeaned data
    computed here by hand, with PanelOLS's coefficients."""
    from scripts.estimation.inference import wild_terms
    from scripts.estimation.panel import fixed_effects

    rows, points = small_panel(cities=12, years=6)
    x = rows[["dc", "dc_x_post"]]
    options = {"conley_km": 600, "conley_kernel": "bartlett", "conley_lag": 1, "cities": points, "seed": 4,
               "wild_bootstrap": {"draws": 199, "weights": "webb"}}
    conley = fixed_effects(rows["growth"], x, "conley", inference=options)
    wild = fixed_effects(rows["growth"], x, "wild_cluster_province", inference=options)
    demeaned = two_way_demeaned(rows[["growth", "dc", "dc_x_post"]])
    xt, yt = np.column_stack([demeaned["dc"], demeaned["dc_x_post"]]), demeaned["growth"]
    beta = np.linalg.lstsq(xt, yt, rcond=None)[0]
    where = points.set_index("city_code").loc[rows.index.get_level_values("city_code")]
    vcov = panel_conley_covariance(xt, yt - xt @ beta, where["lat"].to_numpy(), where["lon"].to_numpy(),
                                   rows.index.get_level_values("city_code").to_numpy(),
                                   rows.index.get_level_values("year").to_numpy(), 600, "bartlett", 1)
    assert [c["estimate"] for c in conley["coefficients"]] == pytest.approx(beta)
    assert [c["se"] for c in conley["coefficients"]] == pytest.approx(np.sqrt(np.diag(vcov)))
    groups = rows.index.get_level_values("city_code").str[:2].factorize()[0]
    reference = wild_terms(xt, yt, groups, ["dc", "dc_x_post"], {**options, "terms": ["dc", "dc_x_post"]})["terms"]
    for row in wild["coefficients"]:
        expected = reference[row["term"]]
        assert (row["p_value"], row["ci_low"], row["ci_high"]) == pytest.approx(
            (expected["p_value"], expected["ci_low"], expected["ci_high"]), rel=1e-6)
    assert wild["wild_bootstrap"]["clusters"] == 3 and "province (3 clusters)" in wild["se_type"]


def test_fast_wild_t_equals_refitting_every_bootstrap_sample():
    """The cluster-sum algorithm against forming each y*_b = f + ũ ⊙ v_g(i),b and refitting (_cr1_t)."""
    rng = np.random.default_rng(9)
    n, clusters = 60, 7
    groups = rng.integers(0, clusters, n)
    groups[:clusters] = np.arange(clusters)
    x = np.column_stack([np.ones(n), rng.normal(size=(n, 2))])
    fitted, residuals = rng.normal(size=n), rng.normal(size=n)
    weights = cluster_weights(clusters, 50, "webb", rng)
    slow = _cr1_t(x, fitted[:, None] + residuals[:, None] * weights[groups], groups, 1, 0.3)
    np.testing.assert_allclose(_wild_t(x, groups, 1, 0.3, fitted, residuals, weights), slow, rtol=1e-10)
