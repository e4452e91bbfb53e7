"""Estimators against textbook formulas and planted effects in simulated data."""
import numpy as np
import pandas as pd
import pytest

from scripts.common import InputError
from scripts.models import design_table, estimation_sample, fit_ols, fit_spatial_lag


def test_ols_hc1_matches_sandwich_formula():
    rng = np.random.default_rng(0)
    n = 60
    x = rng.normal(size=(n, 2))
    y = 1.0 + x @ np.array([0.5, -0.3]) + rng.normal(size=n) * (1 + np.abs(x[:, 0]))
    sample = pd.DataFrame({"y": y, "a": x[:, 0], "b": x[:, 1]})
    result = fit_ols(sample, "y", ["a", "b"])
    design = np.column_stack([np.ones(n), x])
    bread = np.linalg.inv(design.T @ design)
    beta = bread @ design.T @ y
    resid = y - design @ beta
    cov = n / (n - 3) * bread @ (design.T * resid**2) @ design @ bread  # HC1 (MacKinnon & White 1985)
    got = pd.DataFrame(result["coefficients"]).set_index("term")
    np.testing.assert_allclose(got["estimate"], beta, rtol=1e-10)
    np.testing.assert_allclose(got["se"], np.sqrt(np.diag(cov)), rtol=1e-10)
    assert result["n"] == n


def test_ols_recovers_planted_effects():
    rng = np.random.default_rng(1)
    n = 3000
    sample = pd.DataFrame({"dc": rng.normal(size=n), "cc": rng.normal(size=n)})
    sample["y"] = -0.05 + 0.02 * sample["dc"] - 0.01 * sample["cc"] + rng.normal(0, 0.01, n)
    got = {c["term"]: c for c in fit_ols(sample, "y", ["dc", "cc"])["coefficients"]}
    for term, truth in (("dc", 0.02), ("cc", -0.01)):
        assert got[term]["ci_low"] < truth < got[term]["ci_high"]


def test_singular_design_is_an_error():
    sample = pd.DataFrame({"y": [1.0, 2, 3, 4], "a": [1.0, 2, 3, 4], "b": [2.0, 4, 6, 8]})
    with pytest.raises(InputError, match="singular"):
        fit_ols(sample, "y", ["a", "b"])


def test_spatial_lag_recovers_rho_and_beta():
    from libpysal.weights import lat2W

    rng = np.random.default_rng(2)
    w = lat2W(25, 25, rook=False)
    w.transform = "r"
    n, rho, beta = w.n, 0.5, np.array([1.0, 2.0])
    x = rng.normal(size=n)
    eps = rng.normal(0, 1, n)
    y = np.linalg.solve(np.eye(n) - rho * w.full()[0], beta[0] + beta[1] * x + eps)  # y = (I − ρW)⁻¹(Xβ + ε)
    sample = pd.DataFrame({"y": y, "x": x}, index=[str(i) for i in w.id_order])
    got = {c["term"]: c for c in fit_spatial_lag(sample, "y", ["x"], w)["coefficients"]}
    assert got["rho"]["ci_low"] < rho < got["rho"]["ci_high"]
    assert got["x"]["ci_low"] < beta[1] < got["x"]["ci_high"]


def test_design_and_sample_report_dropped_units():
    resilience = pd.DataFrame({"city_code": ["a", "b", "c", "a", "b", "c"],
                               "measure": ["drop"] * 3 + ["recovery"] * 3,
                               "value": [-0.1, np.nan, -0.05, 0.0, 0.1, 0.2], "outcome": "y"})
    centrality = pd.DataFrame({"city_code": list("abc"), "year": 2019, "measure": "strength", "value": [1.0, 2, 3]})
    panel = pd.DataFrame({"city_code": list("abc"), "year": 2019, "pop": [100.0, 10.0, 0.0]})
    spec = {"outcome": "y", "centrality_year": 2019, "centralities": {"dc": "strength"},
            "controls": [{"variable": "pop", "year": 2019, "transform": "log"}]}
    design = design_table(resilience, centrality, panel, spec)
    assert design.at["a", "log_pop_2019"] == pytest.approx(np.log(100))
    assert design.at["c", "dc"] == 3.0
    sample, dropped = estimation_sample(design, "drop", ["dc", "log_pop_2019"])
    assert list(sample.index) == ["a"]
    assert dropped == {"drop": ["b"], "log_pop_2019": ["c"]}


def test_fit_all_drop_policy_keeps_missing_data_report():
    import geopandas as gpd
    from shapely.geometry import box

    from scripts.models import fit_all
    from scripts.weights import contiguity_table

    rng = np.random.default_rng(3)
    cells = [(f"{r}{c}", c, r) for r in range(5) for c in range(5)] + [("zz", 20, 0)]
    cities = gpd.GeoDataFrame([{"city_code": k, "lon": x + 0.5, "lat": y + 0.5, "geometry": box(x, y, x + 1, y + 1)}
                               for k, x, y in cells], geometry="geometry", crs="EPSG:4326")
    design = pd.DataFrame({"drop": rng.normal(size=26), "dc": rng.normal(size=26)},
                          index=pd.Index([k for k, _, _ in cells], name="city_code"))
    design.loc["44", "drop"] = np.nan
    spec = {"centralities": {"dc": "strength"}, "controls": [], "standardize": True, "measures": ["drop"],
            "spatial": {"measure": "drop", "weights": "queen", "method": "ML_Lag"}}
    results = fit_all(design, contiguity_table(cities), cities, spec, {"queen": {"kind": "queen", "island_policy": "drop"}})
    sar = results["sar_drop"]
    assert sar["n"] == 24 and "zz" not in sar["sample"]
    assert sar["dropped"] == {"drop": ["44"], "island in spatial weights": ["zz"]}
    assert results["ols_drop"]["n"] == 25
