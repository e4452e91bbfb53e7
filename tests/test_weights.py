"""Spatial weights on hand-drawn grids: contiguity, knn, distance band, economic, nested; islands; Moran's I."""
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from scripts.common import InputError
from scripts.moran import moran_table
from scripts.network import great_circle_km
from scripts.weights import build_weights, contiguity_table, raw_table, sample_weights, summarize


def grid(n_rows=3, n_cols=3, extra=None):
    rows = [{"city_code": f"{r}{c}", "lon": c + 0.5, "lat": r + 0.5, "geometry": box(c, r, c + 1, r + 1)}
            for r in range(n_rows) for c in range(n_cols)]
    if extra:
        rows.append(extra)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


ISLAND = {"city_code": "zz", "lon": 10.5, "lat": 0.5, "geometry": box(10, 0, 11, 1)}


def test_queen_and_rook_counts_on_3x3_grid():
    queen = contiguity_table(grid()).groupby("focal").size()
    rook = contiguity_table(grid(), rook=True).groupby("focal").size()
    assert (queen["11"], queen["00"], queen["01"]) == (8, 3, 5)
    assert (rook["11"], rook["00"], rook["01"]) == (4, 2, 3)
    assert summarize(contiguity_table(grid()), grid()["city_code"].tolist())["components"] == 1


def test_knn_reselects_within_the_sample():
    cities = grid()
    table = raw_table("k", {"k": {"kind": "knn", "k": 2, "island_policy": "error"}}, cities, pd.DataFrame())
    spec = {"kind": "knn", "k": 2, "island_policy": "error"}
    w, kept, _ = sample_weights(table, ["00", "02", "22"], cities, spec, "k")
    assert sorted(w.neighbors["00"]) == ["02", "22"]  # its two nearest among the three, not in the full grid


def test_distance_band_weights_by_hand():
    cities = grid(1, 3)
    spec = {"kind": "distance_band", "band_km": 150.0, "power": 1.0, "island_policy": "error"}
    table = raw_table("d", {"d": spec}, cities, pd.DataFrame()).set_index(["focal", "neighbor"])["weight"]
    one_degree = great_circle_km(np.array([0.5, 1.5]), np.array([0.5, 0.5]))[0, 1]
    assert table[("00", "01")] == pytest.approx(1 / one_degree)
    assert ("00", "02") not in table.index  # two degrees ≈ 222 km > band


def test_economic_and_nested_weights_by_hand():
    cities = grid(1, 3)
    panel = pd.DataFrame({"city_code": ["00", "01", "02"], "year": 2019, "gdppc": [1.0, 3.0, 7.0]})
    specs = {"e": {"kind": "economic", "variable": "gdppc", "year": 2019, "island_policy": "error"},
             "g": {"kind": "queen", "island_policy": "error"},
             "n": {"kind": "nested", "geographic": "g", "economic": "e", "island_policy": "error"}}
    econ = raw_table("e", specs, cities, panel).set_index(["focal", "neighbor"])["weight"]
    assert econ[("00", "01")] == pytest.approx(1 / 2) and econ[("00", "02")] == pytest.approx(1 / 6)
    nested = raw_table("n", specs, cities, panel).set_index(["focal", "neighbor"])["weight"]
    assert nested[("01", "02")] == pytest.approx(1 / 4) and ("00", "02") not in nested.index
    tied = panel.assign(gdppc=[1.0, 1.0, 2.0])
    with pytest.raises(InputError, match="00 and 01 have the same gdppc"):
        raw_table("e", specs, cities, tied)


def test_island_policies():
    cities = grid(extra=ISLAND)
    table = contiguity_table(cities)
    codes = cities["city_code"].tolist()
    assert summarize(table, codes)["islands"] == ["zz"]
    w, kept, _ = sample_weights(table, codes, cities, {"kind": "queen", "island_policy": "drop"}, "q")
    assert "zz" not in kept and w.n == 9
    w, kept, report = sample_weights(table, codes, cities, {"kind": "queen", "island_policy": "nearest"}, "q")
    assert report["attached_to"]["zz"] == "02"          # nearest centroid (2.5, 0.5)
    np.testing.assert_allclose(w.full()[0].sum(axis=1), 1.0)


def test_island_error_names_the_weights_matrix_and_the_fix():
    cities = grid(extra=ISLAND)
    table, codes = contiguity_table(cities), cities["city_code"].tolist()
    fix = (r"1 island\(s\), cities without neighbours \(zz\), and weights\.queen_w\.island_policy is 'error'\. "
           r"In config\.yaml set weights\.queen_w\.island_policy to 'drop' \(leave them out\) or 'nearest'")
    with pytest.raises(InputError, match=r"^weights\.queen_w \(whole geography\): " + fix):
        build_weights("queen_w", {"queen_w": {"kind": "queen", "island_policy": "error"}}, cities, pd.DataFrame())
    with pytest.raises(InputError, match=r"^weights\.queen_w \(estimation sample\): " + fix):
        sample_weights(table, codes, cities, {"kind": "queen", "island_policy": "error"}, "queen_w")
    values = pd.DataFrame({"city_code": codes, "variable": "drop", "value": np.arange(len(codes), dtype=float)})
    with pytest.raises(InputError, match=r"^weights\.queen_w \(Moran's I of 'drop'\): " + fix):
        moran_table(values, table, cities, {"kind": "queen", "island_policy": "error"}, "queen_w", 9, seed=1)


def test_subsetting_restandardises():
    cities = grid()
    w, _, _ = sample_weights(contiguity_table(cities), ["00", "01", "11"], cities,
                             {"kind": "queen", "island_policy": "error"}, "q")
    assert w.weights["00"] == [0.5, 0.5]


def test_moran_i_by_hand():
    # 1×4 line (rook = queen here), y = 1, 2, 3, 4; row-standardised W. I = (n/S0) Σ w_ij z_i z_j / Σ z_i².
    cities = grid(1, 4)
    table = contiguity_table(cities)
    y = np.array([1.0, 2.0, 3.0, 4.0])
    z = y - y.mean()
    w = np.array([[0, 1, 0, 0], [0.5, 0, 0.5, 0], [0, 0.5, 0, 0.5], [0, 0, 1, 0]])
    expected = (4 / w.sum()) * (z @ w @ z) / (z @ z)
    values = pd.DataFrame({"city_code": ["00", "01", "02", "03"], "variable": "y", "value": y})
    out = moran_table(values, table, cities, {"kind": "queen", "island_policy": "error"}, "q", 99, seed=1).iloc[0]
    assert out["moran_i"] == pytest.approx(expected)
    assert out["expected_i"] == pytest.approx(-1 / 3)


@pytest.mark.parametrize("seed", [1, 7])
def test_moran_permutation_p_equals_esdas_own_loop(seed):
    """The vectorised permutation test draws esda's permutations: same p_sim as esda.Moran with the same seed."""
    import esda

    cities = grid(5, 6)
    table = contiguity_table(cities)
    codes = cities["city_code"].tolist()
    y = np.random.default_rng(seed).normal(size=len(codes)) + np.repeat(np.arange(5), 6) * 0.3  # some clustering
    values = pd.DataFrame({"city_code": codes, "variable": "y", "value": y})
    out = moran_table(values, table, cities, {"kind": "queen", "island_policy": "error"}, "q", 199, seed).iloc[0]
    w, kept, _ = sample_weights(table, codes, cities, {"kind": "queen", "island_policy": "error"}, "q")
    np.random.seed(seed)
    reference = esda.Moran(y, w, permutations=199)
    assert kept == codes and out["p_sim"] == reference.p_sim and out["moran_i"] == pytest.approx(reference.I)


def test_moran_permutation_p_counts_exact_ties_by_hand():
    """y = 0, 0, 1, 1 on a line of four: 6 distinct arrangements, so most permutations tie exactly with another.
    #{I_r ≥ I} is counted in exact rational arithmetic over the same seeded permutations."""
    from fractions import Fraction

    cities = grid(1, 4)
    y = [0, 0, 1, 1]
    values = pd.DataFrame({"city_code": ["00", "01", "02", "03"], "variable": "y", "value": np.array(y, float)})
    out = moran_table(values, contiguity_table(cities), cities, {"kind": "queen", "island_policy": "error"}, "q",
                      99, seed=3).iloc[0]
    w = [[0, 1, 0, 0], [Fraction(1, 2), 0, Fraction(1, 2), 0], [0, Fraction(1, 2), 0, Fraction(1, 2)], [0, 0, 1, 0]]

    def moran_i(v):
        z = [Fraction(x) - Fraction(sum(v), 4) for x in v]
        return sum(w[i][j] * z[i] * z[j] for i in range(4) for j in range(4)) / sum(zi * zi for zi in z)

    observed = moran_i(y)
    np.random.seed(3)
    z = np.array(y, float) - 0.5
    at_least = sum(moran_i([int(v + 0.5) for v in np.random.permutation(z)]) >= observed for _ in range(99))
    assert out["p_sim"] == pytest.approx((min(at_least, 99 - at_least) + 1) / 100)
