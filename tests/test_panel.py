"""Derived variables and source consistency (scripts/panel.py), checked by hand on tiny panels."""
import numpy as np
import pandas as pd
import pytest

from scripts.panel import chain_index, derive, source_consistency


def tiny_panel():
    """Two cities, 2013–2017: a primary index with gaps that a second index fills, and nominal levels."""
    return pd.DataFrame({"city_code": ["a"] * 5 + ["b"] * 5, "year": list(range(2013, 2018)) * 2,
                         "i1": [np.nan, 110, 105, 102, np.nan, 100, 100, 100, np.nan, 100],
                         "i2": [np.nan, 999, 999, 999, 90, np.nan, np.nan, np.nan, 120, 100],
                         "lv": [1, 2, 100, 4, 5, 7, 7, 50, 7, 7]})


def test_chain_index_by_hand():
    got = chain_index(tiny_panel(), ["i1", "i2"], ["lv"], 2015)
    # a: Y2015 = 100 (nominal); 2016 = 100·1.02; 2017 = 102·0.90 (i1 missing → i2); 2014 = 100/1.05; 2013 = 2014/1.10
    # b: Y2015 = 50; 2016 = 50·1.20 (i1 missing → i2); 2017 = 60·1.00; 2014 = 50/1.00; 2013 = 50/1.00
    expected = [100 / 1.05 / 1.10, 100 / 1.05, 100, 102, 91.8, 50, 50, 50, 60, 60]
    assert got.to_numpy() == pytest.approx(expected)


def test_a_missing_index_breaks_the_chain_beyond_it():
    panel = tiny_panel()
    panel.loc[3, "i1"] = np.nan         # city a, 2016: no index from either source
    panel.loc[3, "i2"] = np.nan
    got = chain_index(panel, ["i1", "i2"], ["lv"], 2015)
    assert got.iloc[2] == pytest.approx(100) and got.iloc[3:5].isna().all()


def test_index_from_growth_and_chain_in_derive():
    panel = pd.DataFrame({"city_code": ["a"] * 3, "year": [2019, 2020, 2021], "province_code": "110000",
                          "g": [6.0, 2.0, 8.0], "gdp": [10.0, 11.0, 12.0]})
    derived = {"idx": {"kind": "index_from_growth", "of": "g"},
               "real": {"kind": "chain_index", "index": ["idx"], "level": ["gdp"], "base_year": 2019}}
    out = derive(panel, derived, None)
    assert out["idx"].tolist() == [106.0, 102.0, 108.0]
    assert out["real"].to_numpy() == pytest.approx([10.0, 10.2, 10.2 * 1.08])


def test_first_available_fills_one_source_from_another():
    panel = pd.DataFrame({"city_code": ["a"] * 3, "year": [2020, 2021, 2022], "province_code": "110000",
                          "registered": [5.0, None, None], "resident": [7.0, 7.1, None]})
    out = derive(panel, {"filled": {"kind": "first_available", "priority": ["registered", "resident"]}}, None)
    assert out["filled"].tolist()[:2] == [5.0, 7.1] and pd.isna(out["filled"].iloc[2])


def test_source_consistency_flags_beyond_tolerance():
    panel = pd.DataFrame({"city_code": ["a", "a", "b"], "year": [2020, 2021, 2020], "x": [100.0, 110.0, 50.0],
                          "y": [102.0, 100.0, np.nan], "ix": [102.0, 108.5, 101.0], "iy": [102.4, 106.0, 101.0]})
    pairs = {"level": {"a": "x", "b": "y", "measure": "relative", "tolerance": 0.05},
             "index": {"a": "ix", "b": "iy", "measure": "points", "tolerance": 1.0}}
    table = source_consistency(panel, pairs)
    level = table[table["pair"] == "level"]
    assert level["difference"].to_numpy() == pytest.approx([abs(100 / 102 - 1), 0.1])   # b 2020: one source only
    assert level["beyond_tolerance"].tolist() == [False, True]
    index = table[table["pair"] == "index"]
    assert index["difference"].to_numpy() == pytest.approx([0.4, 2.5, 0.0])
    assert index["beyond_tolerance"].tolist() == [False, True, False]


def test_province_share_and_herfindahl_by_hand():
    """Province 11 has cities with GDP 6, 3, 1 (one without a value) and province 12 one city: shares 60, 30, 10 and
    100 %; HHI 0.36 + 0.09 + 0.01 = 0.46 in 11 and 1 in 12; the city without GDP has neither."""
    panel = pd.DataFrame({"city_code": ["110100", "110200", "110300", "110400", "120100"],
                          "province_code": ["110000"] * 4 + ["120000"], "year": 2019,
                          "gdp": [6.0, 3.0, 1.0, np.nan, 5.0]})
    out = derive(panel, {"share": {"kind": "province_share", "of": "gdp"},
                         "hhi": {"kind": "province_hhi", "of": "gdp"}}, None)
    np.testing.assert_allclose(out["share"], [60.0, 30.0, 10.0, np.nan, 100.0])
    np.testing.assert_allclose(out["hhi"], [0.46, 0.46, 0.46, np.nan, 1.0])


def test_financial_depth_from_a_sum_and_a_ratio_by_hand():
    """(loans + deposits) / GDP: (2 + 3) / 2.5 = 2; a missing deposit leaves the sum, and the depth, missing."""
    panel = pd.DataFrame({"loans": [2.0, 1.0], "deposits": [3.0, np.nan], "gdp": [2.5, 4.0]})
    out = derive(panel, {"credit": {"kind": "sum", "total": ["loans", "deposits"]},
                         "depth": {"kind": "ratio", "of": "credit", "by": "gdp"},
                         "urban": {"kind": "ratio", "of": "loans", "by": "gdp", "scale": 100}}, None)
    np.testing.assert_allclose(out["credit"], [5.0, np.nan])
    np.testing.assert_allclose(out["depth"], [2.0, np.nan])
    np.testing.assert_allclose(out["urban"], [80.0, 25.0])
