"""Resilience measures against hand computation, sign conventions, bootstrap coverage, and bad input."""
import numpy as np
import pandas as pd
import pytest

from scripts.common import InputError
from scripts.resilience import check_spec, resample, resilience_tables

YEARS = {"start": 2015, "end": 2021}
ALL = ["drop", "recovery", "gap_closed", "cumulative_gap", "sensitivity_contraction", "sensitivity_recovery",
       "resistance", "recoverability"]


def spec(**changes):
    base = {"outcomes": ["y"], "shock_year": 2020, "recovery_year": 2021, "pre_period": {"start": 2015, "end": 2019},
            "min_pre_years": 4, "counterfactual": "log_linear", "measures": ALL, "benchmark": {},
            "bootstrap": {"draws": 99, "block_length": 1}}
    return {**base, **changes}


def panel_from(series: dict[str, dict[int, float]], column: str = "y") -> pd.DataFrame:
    return pd.DataFrame([{"city_code": c, "year": y, column: v} for c, s in series.items() for y, v in s.items()])


def measures(panel, **changes):
    table, dropped, paths, *_ = resilience_tables(panel, spec(**changes), YEARS, seed=7)
    return table.set_index(["city_code", "measure"]), dropped, paths


def exponential(rate=0.1, start=100.0):
    return {y: start * (1 + rate) ** (y - 2015) for y in range(2015, 2022)}


def test_log_linear_drop_recovery_gap_closed_cumulative_by_hand():
    trend = exponential()
    series = {**trend, 2020: trend[2020] * np.exp(-0.10), 2021: trend[2021] * np.exp(-0.04)}
    table, _, _ = measures(panel_from({"a": series, "b": trend}))
    assert table.at[("a", "drop"), "value"] == pytest.approx(-0.10, abs=1e-12)
    assert table.at[("a", "recovery"), "value"] == pytest.approx(-0.04, abs=1e-12)
    assert table.at[("a", "gap_closed"), "value"] == pytest.approx(0.6)          # 1 − (−0.04 / −0.10)
    assert table.at[("a", "cumulative_gap"), "value"] == pytest.approx(-0.14)
    assert table.at[("a", "drop"), "se"] == pytest.approx(0.0, abs=1e-12)        # a perfect fit has no noise


def test_linear_counterfactual_by_hand():
    trend = {y: 100.0 + 10 * (y - 2015) for y in range(2015, 2022)}
    series = {**trend, 2020: 0.9 * trend[2020]}
    table, _, _ = measures(panel_from({"a": series}), counterfactual="linear")
    assert table.at[("a", "drop"), "value"] == pytest.approx(np.log(0.9))
    assert table.at[("a", "recovery"), "value"] == pytest.approx(0.0, abs=1e-12)


def test_mean_growth_counterfactual_by_hand():
    # growth 5 %, 15 %, 10 %, 10 % in log terms → mean 0.10; Ŷ2020 = Y2019 · e^0.10, Ŷ2021 = Y2019 · e^0.20
    logs = np.log(100.0) + np.cumsum([0.0, 0.05, 0.15, 0.10, 0.10])
    series = {2015 + k: float(np.exp(v)) for k, v in enumerate(logs)}
    series |= {2020: float(np.exp(logs[-1] + 0.10 - 0.08)), 2021: float(np.exp(logs[-1] + 0.20 - 0.02))}
    table, _, paths = measures(panel_from({"a": series}), counterfactual="mean_growth")
    assert table.at[("a", "drop"), "value"] == pytest.approx(-0.08)
    assert table.at[("a", "recovery"), "value"] == pytest.approx(-0.02)
    assert paths.loc[paths["year"] == 2017, "counterfactual_log"].isna().all()   # no counterfactual inside P


def test_ar1_counterfactual_by_hand():
    c, phi = 0.02, 0.6
    growth = [0.10]
    for _ in range(3):
        growth.append(c + phi * growth[-1])                # exact AR(1): the fit recovers c and φ
    logs = np.log(100.0) + np.concatenate([[0.0], np.cumsum(growth)])
    g2020 = c + phi * growth[-1]
    g2021 = c + phi * g2020
    series = {2015 + k: float(np.exp(v)) for k, v in enumerate(logs)}
    series |= {2020: float(np.exp(logs[-1] + g2020 - 0.05)), 2021: float(np.exp(logs[-1] + g2020 + g2021 - 0.01))}
    table, _, _ = measures(panel_from({"a": series}), counterfactual="ar1", min_pre_years=5)
    assert table.at[("a", "drop"), "value"] == pytest.approx(-0.05, abs=1e-9)
    assert table.at[("a", "recovery"), "value"] == pytest.approx(-0.01, abs=1e-9)


def test_martin_and_msgt_by_hand():
    # a: 100 → 90 → 99; b: 300 → 300 → 303. National: 400 → 390 (−2.5 %) → 402 (+3.08 %).
    panel = panel_from({"a": {2019: 100.0, 2020: 90.0, 2021: 99.0}, "b": {2019: 300.0, 2020: 300.0, 2021: 303.0}})
    table, _, _ = measures(panel, measures=["sensitivity_contraction", "sensitivity_recovery", "resistance",
                                              "recoverability"])
    assert table.at[("a", "sensitivity_contraction"), "value"] == pytest.approx(4.0)      # −10 % / −2.5 %
    assert table.at[("b", "sensitivity_contraction"), "value"] == pytest.approx(0.0)
    national = 402 / 390 - 1
    assert table.at[("a", "sensitivity_recovery"), "value"] == pytest.approx(0.10 / national)
    assert table.at[("a", "resistance"), "value"] == pytest.approx((-10 + 2.5) / 2.5)       # −3
    assert table.at[("b", "resistance"), "value"] == pytest.approx((0 + 7.5) / 7.5)         # +1
    expected_a = 90 * national
    assert table.at[("a", "recoverability"), "value"] == pytest.approx((9 - expected_a) / abs(expected_a))


def test_shift_share_resistance_by_hand():
    # Sector k1 grows nationally 0 %, k2 falls 20 %. a is all k2 (expected −20), b all k1 (expected 0 → |0|!).
    # So give b a little of k2: b = (90, 10). National: k1 90 → 90, k2 110 → 88 (−20 %).
    panel = pd.DataFrame({"city_code": ["a", "a", "b", "b"], "year": [2019, 2020, 2019, 2020],
                          "k1": [0.0, 0.0, 90.0, 90.0], "k2": [100.0, 70.0, 10.0, 18.0], "y": [1.0, 1.0, 1.0, 1.0]})
    s = spec(measures=["resistance_shift_share"], shift_share={"label": "va", "sectors": ["k1", "k2"]})
    table, *_ = resilience_tables(panel, s, {"start": 2015, "end": 2021}, seed=1)
    got = table.set_index("city_code")["value"]
    growth_k2 = 88 / 110 - 1
    assert got["a"] == pytest.approx((-30 - 100 * growth_k2) / abs(100 * growth_k2))
    assert got["b"] == pytest.approx((8 - 10 * growth_k2) / abs(10 * growth_k2))


def test_city_that_fell_more_is_less_resilient_under_every_measure():
    # A contraction: every city's output falls in 2020 (so the national benchmark falls too), "fell" most.
    def path(rate, fall):
        trend = exponential(rate)
        return {**trend, 2020: trend[2019] * (1 - fall), 2021: trend[2019] * (1 - fall) * (1 + rate)}
    table, _, _ = measures(panel_from({"fell": path(0.06, 0.15), "held": path(0.06, 0.01), "other": path(0.05, 0.05)}))
    value = table["value"]
    for measure in ("drop", "recovery", "cumulative_gap", "resistance"):
        assert value[("fell", measure)] < value[("held", measure)], measure
    assert value[("fell", "sensitivity_contraction")] > 1 > value[("held", "sensitivity_contraction")]


def test_bootstrap_interval_covers_a_planted_gap():
    rng = np.random.default_rng(11)
    gap, sigma, years = -0.05, 0.02, range(2008, 2021)
    series = {}
    for k in range(300):
        logs = np.log(100) + 0.06 * np.arange(len(years)) + rng.normal(0, sigma, len(years))
        logs[-2] += gap  # the shock year 2019
        series[f"c{k:03d}"] = dict(zip(years, np.exp(logs)))
    panel = panel_from(series)
    s = spec(pre_period={"start": 2008, "end": 2019}, measures=["drop"], bootstrap={"draws": 399},
             recovery_year=2020, shock_year=2019)
    s["pre_period"]["end"] = 2018
    table, *_ = resilience_tables(panel, s, {"start": 2008, "end": 2020}, seed=3)
    covered = ((table["ci_low"] <= gap) & (gap <= table["ci_high"])).mean()
    assert 0.90 <= covered <= 0.99, covered


def test_moving_block_resample_keeps_runs():
    draws = resample(np.arange(10.0), 9, 50, np.random.default_rng(0), block=3)
    assert draws.shape == (50, 9)
    assert (np.diff(draws[:, :3], axis=1) == 1).all()   # the first block is three consecutive residuals


def test_missing_years_are_excluded_with_a_reason():
    trend = exponential()
    gappy = {y: v for y, v in trend.items() if y not in (2016, 2017)}
    table, dropped, _ = measures(panel_from({"a": trend, "gappy": gappy}))
    assert ("gappy", "drop") not in table.index
    reason = dropped.set_index(["city_code", "measure"]).at[("gappy", "drop"), "reason"]
    assert "3 of 5 pre-period years" in reason


def test_bad_input_stops_with_one_message():
    trend = exponential()
    with pytest.raises(InputError, match="'ar1' needs at least 5 pre-period years with data: raise min_pre_years"):
        measures(panel_from({"a": trend}), counterfactual="ar1", min_pre_years=4)
    with pytest.raises(InputError, match="a/2017"):
        measures(panel_from({"a": {**trend, 2017: 0.0}}))
    with pytest.raises(InputError, match="recovery_year 2022"):
        measures(panel_from({"a": trend}), recovery_year=2022)


@pytest.mark.parametrize("changes, advice", [
    ({"pre_period": {"start": 2016, "end": 2019}, "counterfactual": "ar1", "min_pre_years": 5},
     r"resilience\.pre_period 2016–2019 has 4 years but counterfactual 'ar1' needs at least 5: widen the pre_period "
     r"or choose a simpler resilience\.counterfactual \(log_linear, linear, mean_growth\)\.$"),
    ({"pre_period": {"start": 2015, "end": 2019}, "counterfactual": "ar1", "min_pre_years": 3},
     r"resilience\.min_pre_years is 3 but counterfactual 'ar1' needs at least 5 pre-period years with data: "
     r"raise min_pre_years to at least 5\.$"),
    ({"pre_period": {"start": 2016, "end": 2019}, "counterfactual": "log_linear", "min_pre_years": 5},
     r"resilience\.pre_period 2016–2019 has 4 years, fewer than min_pre_years = 5: widen the pre_period or lower "
     r"min_pre_years to 4 \(not below 3, the minimum of 'log_linear'\)\.$"),
])
def test_pre_period_advice_matches_the_cause(changes, advice):
    with pytest.raises(InputError, match=advice):
        check_spec(spec(**changes), YEARS)


def test_recovery_time_by_hand_with_censoring():
    """Gaps to a 10 % trend (pre-period 2015–2019), panel to 2023: 'quick' is back on the path in 2022 (2 years),
    'slow' never (censored at 2023), 'peak' falls below its 2019 peak and passes it in 2021, 'none' stays on the trend."""
    years = {"start": 2015, "end": 2023}
    trend = {y: 100 * 1.1 ** (y - 2015) for y in range(2015, 2024)}
    quick = {**trend, 2020: trend[2020] * np.exp(-0.10), 2021: trend[2021] * np.exp(-0.03)}
    slow = {**trend, **{y: trend[y] * np.exp(-0.05) for y in range(2020, 2024)}}
    peak = {**trend, 2020: trend[2019] * 0.95, 2021: trend[2019] * 1.01, 2022: trend[2019] * 1.05,
            2023: trend[2019] * 1.08}
    panel = panel_from({"quick": quick, "slow": slow, "peak": peak, "none": trend})
    table, dropped, *_ = resilience_tables(panel, spec(measures=["recovery_time", "recovery_time_peak"]), years, seed=1)
    value = table.set_index(["city_code", "measure"])["value"]
    reasons = dropped.set_index(["city_code", "measure"])["reason"]
    assert value[("quick", "recovery_time")] == 2.0          # gaps −0.10, −0.03, then 0 in 2022
    assert reasons[("slow", "recovery_time")] == ("censored: not back on the counterfactual path by 2023, the last "
                                                  "consecutive year with data")
    assert value[("peak", "recovery_time_peak")] == 1.0      # 2020: 0.95 × the 2019 peak, 2021: 1.01 ×
    assert reasons[("none", "recovery_time")].startswith("not below the counterfactual path in 2020")
    assert value[("quick", "recovery_time_peak")] == 1.0     # 2020: e^−0.10 × 1.1 = 0.995 × the 2019 peak
    assert reasons[("none", "recovery_time_peak")].startswith("not below the pre-shock peak in 2020")
    assert ("peak", "recovery_time") in reasons.index        # 5 % below 2019's level is far below its trend: censored


def test_a_named_shock_has_its_own_years_and_the_pre_pandemic_trend():
    """omicron_2022 against the 2015–2019 trend: a planted −8 % in 2022 and −3 % in 2023 are its drop and recovery,
    whatever happened in 2020–2021 (which a shifted pre-period, as the placebos use, would have learnt from)."""
    from scripts.resilience import OUTPUT_COLUMNS, gap_paths, shock_tables, stacked

    years = {"start": 2015, "end": 2023}
    trend = {y: 100 * 1.08 ** (y - 2015) for y in range(2015, 2024)}
    series = {**trend, 2020: trend[2020] * 0.9, 2022: trend[2022] * np.exp(-0.08), 2023: trend[2023] * np.exp(-0.03)}
    shocks = {"omicron_2022": {"shock_year": 2022, "recovery_year": 2023}}
    named = {"omicron_2022": shock_tables(panel_from({"a": series, "b": trend}),
                                          spec(measures=["drop", "recovery"], shocks=shocks), years, seed=2)[
        "omicron_2022"]}
    table, lost = stacked(named, "measures", OUTPUT_COLUMNS), named["omicron_2022"].attrition
    gaps = gap_paths(named["omicron_2022"].paths, "omicron_2022", 2022)
    value = table.set_index(["shock", "city_code", "measure"])["value"]
    assert value[("omicron_2022", "a", "drop")] == pytest.approx(-0.08, abs=1e-12)
    assert value[("omicron_2022", "a", "recovery")] == pytest.approx(-0.03, abs=1e-12)
    assert value[("omicron_2022", "b", "drop")] == pytest.approx(0.0, abs=1e-12)
    assert list(table.columns[:2]) == ["shock", "city_code"] and lost.empty
    path = gaps[gaps["city_code"] == "a"].set_index("year")    # the gap path of the named shock, from 2022
    assert list(path.index) == [2022, 2023] and set(path["shock"]) == {"omicron_2022"}
    assert path.at[2023, "share_closed"] == pytest.approx(1 - 0.03 / 0.08)


def test_gap_path_cumulative_loss_and_share_closed_by_hand():
    """Gaps −0.10, −0.04, +0.02, (none), −0.01 from 2020: running sums −0.10, −0.14, −0.12, then missing (the run
    of consecutive years is broken); shares closed 1 − g_t / −0.10 = 0.6, 1.2, missing, 0.9; a city above its path
    in the shock year has nothing to close."""
    from scripts.resilience import gap_paths

    gaps = {2019: 0.0, 2020: -0.10, 2021: -0.04, 2022: 0.02, 2023: np.nan, 2024: -0.01}
    paths = pd.DataFrame([{"city_code": c, "outcome": "y", "year": y, "actual_log": 1.0 + (g if c == "a" else 0.05),
                           "counterfactual_log": 1.0} for c in ("a", "b") for y, g in gaps.items()])
    table = gap_paths(paths, "covid_2020", 2020)
    a = table[table["city_code"] == "a"].set_index("year")
    assert list(a.index) == [2020, 2021, 2022, 2023, 2024]
    np.testing.assert_allclose(a["cumulative_gap"], [-0.10, -0.14, -0.12, np.nan, np.nan], atol=1e-12)
    np.testing.assert_allclose(a["share_closed"], [np.nan, 0.6, 1.2, np.nan, 0.9], atol=1e-12)
    assert table.loc[table["city_code"] == "b", "share_closed"].isna().all()
    assert list(table.columns) == ["shock", "outcome", "city_code", "year", "gap", "cumulative_gap", "share_closed"]


def test_growth_shortfall_by_hand():
    """Pre-period growth 10 % a year (log 0.0953); 2022 growth 2 % after a 2020 fall: shortfall ln 1.02 − ln 1.1."""
    years = {"start": 2015, "end": 2023}
    series = {y: 100 * 1.1 ** (y - 2015) for y in range(2015, 2020)}
    series |= {2020: series[2019] * 0.9, 2021: series[2019] * 0.99, 2022: series[2019] * 0.99 * 1.02, 2023: 130.0}
    shock = spec(measures=["growth_shortfall"], shock_year=2022, recovery_year=2023)
    table, *_ = resilience_tables(panel_from({"a": series}), shock, years, seed=1)
    row = table.set_index("measure").loc["growth_shortfall"]
    assert row["value"] == pytest.approx(np.log(1.02) - np.log(1.1))
    assert row["actual"] == pytest.approx(np.log(1.02)) and row["expected"] == pytest.approx(np.log(1.1))
