"""Resilience indices against hand computation."""
import numpy as np
import pandas as pd
import pytest

from scripts.resilience import log_linear_gap, martin_sensitivity, resilience_table

SPEC = {"outcome": "y", "shock_year": 2020, "recovery_year": 2021, "pre_period": {"start": 2015, "end": 2019},
        "min_pre_years": 4}


def panel_from(series: dict[str, dict[int, float]]) -> pd.DataFrame:
    return pd.DataFrame([{"city_code": c, "year": y, "y": v} for c, s in series.items() for y, v in s.items()])


def test_exact_exponential_trend():
    # Y grows 10 % a year from 100 in 2015; in 2020 it is 95 % of trend, in 2021 it is back on trend.
    trend = {y: 100 * 1.1 ** (y - 2015) for y in range(2015, 2022)}
    series = {**trend, 2020: 0.95 * trend[2020], 2021: trend[2021]}
    table = resilience_table(panel_from({"a": series, "b": trend}), SPEC).set_index(["city_code", "measure"])
    assert table.at[("a", "drop"), "value"] == pytest.approx(np.log(0.95), abs=1e-12)
    assert table.at[("a", "recovery"), "value"] == pytest.approx(0.0, abs=1e-12)
    assert table.at[("a", "drop"), "n_pre_years"] == 5


def test_too_few_pre_years_gives_nan():
    series = pd.Series({2015: 1.0, 2016: 1.1, 2019: 1.3, 2020: 1.2})
    actual, fitted, n = log_linear_gap(series, list(range(2015, 2020)), 2020, 4)
    assert np.isnan(actual) and np.isnan(fitted) and n == 3


def test_martin_sensitivity_by_hand():
    # a: 100 → 90 (−10 %), b: 300 → 300 (0 %); national: 400 → 390 (−2.5 %). β_a = 4, β_b = 0.
    panel = panel_from({"a": {2019: 100.0, 2020: 90.0}, "b": {2019: 300.0, 2020: 300.0}})
    out = martin_sensitivity(panel, "y", 2020).set_index("city_code")["value"]
    assert out["a"] == pytest.approx(4.0)
    assert out["b"] == pytest.approx(0.0)
