"""Resilience profile (scripts/resilience_profile.py): components, scaling and composite by hand, rank probabilities
against simulations with a known ordering, weight sensitivity, shock screening, and config validation."""
import math
import statistics

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from scripts.config import profile_errors, schema_errors
from scripts.resilience import resilience_tables
from scripts.resilience_profile import (
    composite,
    gap_components,
    rank_probabilities,
    scale,
    screen,
    sensitivity,
    spearman,
    stability,
    transformation,
    weight_sets,
)

YEARS = {"start": 2015, "end": 2023}
SECTORS = ["k1", "k2", "k3"]
SIX = ("depth", "cumulative_gap", "recovery_time", "strength", "stability", "transformation")


def profile(**changes):
    base = {"weights": dict.fromkeys(SIX, 1), "scaling": "min_max", "sectors": SECTORS, "top_share": 0.3,
            "alternatives": {}, "random_weights": 0,
            "screening": {"method": "rolling_trend", "window": 5, "alpha": 0.01, "min_scale": 0.01}}
    return {**base, **changes}


def spec(**changes):
    base = {"outcomes": ["y"], "shock_year": 2020, "recovery_year": 2021, "pre_period": {"start": 2015, "end": 2019},
            "min_pre_years": 4, "counterfactual": "log_linear", "benchmark": {},
            "measures": ["drop", "cumulative_gap", "recovery_time", "depth", "strength", "stability",
                         "transformation", "composite"],
            "bootstrap": {"draws": 49, "block_length": 1}, "profile": profile()}
    return {**base, **changes}


def panel_from(series: dict[str, dict[int, float]], column: str = "y") -> pd.DataFrame:
    return pd.DataFrame([{"city_code": c, "year": y, column: v} for c, s in series.items() for y, v in s.items()])


def trend_with_gaps(gaps, rate=0.10, start=100.0, first=2015, shock=2020):
    """Exact exponential ln Y = ln start + rate·(t − first), with the log gaps planted from the shock year on."""
    logs = {y: math.log(start) + rate * (y - first) for y in range(first, shock + len(gaps))}
    return {y: math.exp(v + (gaps[y - shock] if y >= shock else 0.0)) for y, v in logs.items()}


# --- 1. components -----------------------------------------------------------------------------------------------

def test_gap_components_by_hand():
    """Gaps −0.10, −0.06, +0.01, +0.02 (H = 3): depth 0.10, cumulative −0.13, back on the path after 2 years,
    strength (0.02 − (−0.10)) / 3 = 0.04; the draws rows are processed the same way."""
    gaps = np.array([-0.10, -0.06, 0.01, 0.02])
    censored = np.array([-0.10, -0.05, -0.02, -0.01])     # never back by T*: H + 1 = 4
    never = np.array([0.0, 0.01, -0.02, 0.03])            # g_s ≥ 0: recovery 0; depth from the later dip 0.02
    got = gap_components(gaps, np.vstack([gaps, censored, never]))
    assert got["depth"].value == pytest.approx(0.10)
    assert got["cumulative_gap"].value == pytest.approx(-0.13)     # −0.10 − 0.06 + 0.01 + 0.02
    assert got["recovery_time"].value == 2.0
    assert got["strength"].value == pytest.approx(0.04)
    np.testing.assert_allclose(got["depth"].draws, [0.10, 0.10, 0.02])
    np.testing.assert_allclose(got["cumulative_gap"].draws, [-0.13, -0.18, 0.02])
    np.testing.assert_array_equal(got["recovery_time"].draws, [2.0, 4.0, 0.0])
    np.testing.assert_allclose(got["strength"].draws, [0.04, (-0.01 + 0.10) / 3, 0.03 / 3])


def test_gap_components_never_fell_and_censored_point_values():
    flat = gap_components(np.array([0.0, 0.01, 0.02]), np.zeros((2, 3)))
    assert flat["depth"].value == 0.0 and flat["recovery_time"].value == 0.0
    assert flat["strength"].value == pytest.approx(0.01)           # (0.02 − 0) / 2
    below = gap_components(np.array([-0.05, -0.04, -0.03]), np.zeros((2, 3)))
    assert below["recovery_time"].value == 3.0                     # censored: H + 1 = 2 + 1


def test_gap_components_one_year_path():
    got = gap_components(np.array([-0.05]), np.array([[-0.05], [0.01]]))
    assert np.isnan(got["strength"].value) and np.isnan(got["strength"].draws).all()
    assert got["depth"].value == pytest.approx(0.05)
    assert got["recovery_time"].value == 1.0                       # censored at H + 1 = 0 + 1
    np.testing.assert_array_equal(got["recovery_time"].draws, [1.0, 0.0])


def test_stability_by_hand():
    # pre growth 0.1, 0.2, 0.1: SD 0.1/√3; post growth 0.05, 0.10, 0.05: SD 0.05/√3
    pre, post = np.array([0.0, 0.1, 0.3, 0.4]), np.array([1.0, 1.05, 1.15, 1.20])
    assert stability(pre, post) == pytest.approx(0.1 / math.sqrt(3) - 0.05 / math.sqrt(3))
    assert stability(pre, post) == pytest.approx(statistics.stdev([0.1, 0.2, 0.1]) - statistics.stdev([0.05, 0.1, 0.05]))
    # a flat pre-period: σ_pre = 0
    assert stability(np.full(5, 2.0), post) == pytest.approx(-0.05 / math.sqrt(3))


def test_stability_needs_two_growth_rates_each_side():
    assert np.isnan(stability(np.array([0.0, 0.1, 0.3]), np.array([1.0, 1.1])))       # one post growth rate
    assert np.isnan(stability(np.array([0.0, 0.1]), np.array([1.0, 1.1, 1.3])))       # one pre growth rate
    assert np.isnan(stability(np.array([0.0, 0.1, 0.3]), np.array([1.0, 1.1, np.nan])))


def test_transformation_by_hand():
    """a: pre shares (0.2, 0.3, 0.5) in both pre years, (0.1, 0.4, 0.5) in 2018; 2019 lacks k3, so 2018 is the end
    year: √(0.1² + 0.1² + 0) = √0.02. d: pre shares (0.2, 0.3, 0.5) and (0.4, 0.3, 0.3), mean (0.3, 0.3, 0.4) =
    its end shares: 0. b has no complete year from the shock on, c no pre-period year: both absent; a year between
    the pre-period and the shock (a 2017) counts for neither."""
    rows = [("a", 2015, 20, 30, 50), ("a", 2016, 2, 3, 5), ("a", 2017, 3, 3, 4), ("a", 2018, 1, 4, 5),
            ("a", 2019, 5, 5, np.nan),
            ("d", 2015, 2, 3, 5), ("d", 2016, 4, 3, 3), ("d", 2019, 30, 30, 40),
            ("b", 2015, 1, 1, 1), ("b", 2016, 1, 1, 1), ("b", 2018, 1, np.nan, 1),
            ("c", 2018, 1, 1, 1)]
    panel = pd.DataFrame(rows, columns=["city_code", "year", *SECTORS])
    got = transformation(panel, SECTORS, range(2015, 2017), 2018)
    assert sorted(got.index) == ["a", "d"]
    assert got.at["a", "value"] == pytest.approx(math.sqrt(0.02))
    assert got.at["a", "end_year"] == 2018 and got.at["a", "n_pre_years"] == 2
    assert got.at["d", "value"] == pytest.approx(0.0, abs=1e-12)
    assert got.at["d", "end_year"] == 2019


def test_profile_through_resilience_tables_by_hand():
    """Exact exponentials (10 % a year, log-linear fit exact) with planted log gaps 2020–2023, plus a city with a
    flat (constant) pre-period; pre-period sector shares (0.2, 0.3, 0.5).

    a:     gaps −0.10, −0.06, 0.01, 0.02 → depth 0.10, cumulative −0.13, recovery 2, strength 0.04; post growth −
           trend = 0.04, 0.07, 0.01 → SD 0.03, stability 0 − 0.03; shares (0.1, 0.4, 0.5) in 2022 (2023 lacks k3)
           → transformation √0.02
    flat:  Y = 100 in 2015–2019, gaps −0.05, −0.02, −0.01, −0.03 → depth 0.05, cumulative −0.11, censored: recovery
           H + 1 = 4, strength 0.02/3, stability 0 − SD(0.03, 0.01, −0.02) = −√(0.0019/3); shares unchanged → 0
    never: gaps 0, 0.01, 0.02, 0.03 → depth 0, cumulative 0.06, recovery 0, strength 0.01, stability 0; shares
           (0.4, 0.2, 0.4) → √(0.04 + 0.01 + 0.01) = √0.06
    d:     on its trend, no sectors → no transformation, so no composite."""
    series = {"a": trend_with_gaps([-0.10, -0.06, 0.01, 0.02]),
              "flat": {**{y: 100.0 for y in range(2015, 2020)},
                       **{2020 + k: 100.0 * math.exp(g) for k, g in enumerate([-0.05, -0.02, -0.01, -0.03])}},
              "never": trend_with_gaps([0.0, 0.01, 0.02, 0.03]),
              "d": trend_with_gaps([0.0, 0.0, 0.0, 0.0])}
    panel = panel_from(series)
    shares = {("a", y): (0.1, 0.4, 0.5) for y in (2020, 2021, 2022)} | {("a", 2023): (0.2, 0.2, np.nan)}
    shares |= {("never", y): (0.4, 0.2, 0.4) for y in range(2020, 2024)}
    for k, sector in enumerate(SECTORS):
        panel[sector] = [np.nan if c == "d" else 100 * shares.get((c, y), (0.2, 0.3, 0.5))[k]
                         for c, y in zip(panel["city_code"], panel["year"])]
    weights = dict.fromkeys(SIX, 1)
    tables = resilience_tables(panel, spec(profile=profile(alternatives={"same": weights})), YEARS, seed=5)
    value = tables.measures.set_index(["city_code", "measure"])["value"]
    expected = {"a": {"depth": 0.10, "cumulative_gap": -0.13, "strength": 0.04, "stability": -0.03,
                      "recovery_time": 2.0, "transformation": math.sqrt(0.02)},
                "flat": {"depth": 0.05, "cumulative_gap": -0.11, "strength": 0.02 / 3,
                         "stability": -math.sqrt(0.0019 / 3), "transformation": 0.0},
                "never": {"depth": 0.0, "cumulative_gap": 0.06, "strength": 0.01, "stability": 0.0,
                          "transformation": math.sqrt(0.06)}}
    for city, measures in expected.items():
        for measure, number in measures.items():
            assert value[(city, measure)] == pytest.approx(number, abs=1e-9), (city, measure)
    assert value[("flat", "drop")] == pytest.approx(-0.05, abs=1e-12)       # flat counterfactual: exact gaps
    reasons = tables.attrition.set_index(["city_code", "measure"])["reason"]
    assert reasons[("flat", "recovery_time")].startswith("censored")
    assert reasons[("never", "recovery_time")].startswith("not below")
    assert reasons[("d", "composite")] == "no transformation"
    assert ("d", "transformation") in reasons.index

    # composite, min-max per component (100 = most resilient), equal weights:
    #   depth (smaller better)   a 0, flat 50, never 100
    #   cumulative_gap           a 0, flat 100·0.02/0.19, never 100
    #   recovery_time (smaller)  a 100·(4 − 2)/4 = 50, flat 0, never 100
    #   strength                 a 100, flat 0, never 100·(0.01 − 0.02/3)/(0.04 − 0.02/3) = 10
    #   stability                a 0, flat 100·(0.03 − √(0.0019/3))/0.03, never 100
    #   transformation           a 100·√0.02/√0.06 = 100/√3, flat 0, never 100
    composite_a = (0 + 0 + 50 + 100 + 0 + 100 / math.sqrt(3)) / 6
    composite_flat = (50 + 100 * 0.02 / 0.19 + 0 + 0 + 100 * (0.03 - math.sqrt(0.0019 / 3)) / 0.03 + 0) / 6
    assert value[("a", "composite")] == pytest.approx(composite_a, abs=1e-6)
    assert value[("flat", "composite")] == pytest.approx(composite_flat, abs=1e-6)
    assert value[("never", "composite")] == pytest.approx((5 * 100 + 10) / 6, abs=1e-6)

    ranks = tables.ranks[tables.ranks["measure"] == "composite"].set_index("city_code")
    assert ranks["rank"].to_dict() == {"a": 2, "flat": 3, "never": 1}
    assert (ranks["k"] == 1).all() and (ranks["n_cities"] == 3).all()           # ⌈0.3 · 3⌉ = 1
    assert ranks["p_top"].to_dict() == {"a": 0, "flat": 0, "never": 1}            # exact fits: no spread
    assert ranks["p_bottom"].to_dict() == {"a": 0, "flat": 1, "never": 0}
    compared = tables.sensitivity.set_index("weight_set")
    assert set(compared.index) == {"same", *(f"without_{k}" for k in SIX)}
    assert compared.loc["same", ["spearman", "top_k_overlap"]].tolist() == pytest.approx([1.0, 1.0])
    assert compared.loc["same", ["median_rank_shift", "max_rank_shift"]].tolist() == [0, 0]


def test_a_city_whose_data_end_in_the_shock_year():
    """'short' has data to 2020 only (gap −0.10): depth 0.10 and a censored recovery (H + 1 = 1), but no strength
    (needs H ≥ 1) and no stability, so no composite; the other cities are unaffected."""
    series = {"a": trend_with_gaps([-0.10, -0.06, 0.01, 0.02]), "b": trend_with_gaps([0.0, 0.0, 0.0, 0.0]),
              "c": trend_with_gaps([-0.2, -0.1, 0.0, 0.0]), "short": trend_with_gaps([-0.10])}
    panel = panel_from(series).assign(k1=20.0, k2=30.0, k3=50.0)
    tables = resilience_tables(panel, spec(), YEARS, seed=5)
    value = tables.measures.set_index(["city_code", "measure"])["value"]
    reasons = tables.attrition.set_index(["city_code", "measure"])["reason"]
    assert value[("short", "depth")] == pytest.approx(0.10, abs=1e-9)
    assert reasons[("short", "strength")] == "needs a year with data after the shock year (the data end in 2020)"
    assert reasons[("short", "stability")] == "needs two post-shock growth rates (the data end in 2020)"
    assert reasons[("short", "composite")] == "no strength, stability"
    assert {("a", "composite"), ("b", "composite"), ("c", "composite")} <= set(value.index)


# --- 2. scaling and composite ------------------------------------------------------------------------------------

def test_min_max_scale_by_hand():
    np.testing.assert_allclose(scale(np.array([1.0, 2.0, 3.0]), False, "min_max"), [0, 50, 100])
    np.testing.assert_allclose(scale(np.array([1.0, 2.0, 3.0]), True, "min_max"), [100, 50, 0])
    np.testing.assert_allclose(scale(np.array([1.0, 1.5, 3.0]), False, "min_max"), [0, 25, 100])   # 0.5 / 2
    np.testing.assert_allclose(scale(np.array([4.0, 4.0, 4.0]), True, "min_max"), [50, 50, 50])
    np.testing.assert_allclose(scale(np.array([1.0, np.nan, 3.0]), False, "min_max"), [0, np.nan, 100])


def test_rank_scale_with_ties_by_hand():
    # average ranks 1, 2.5, 2.5, 4 → 100·(r − 1)/3
    np.testing.assert_allclose(scale(np.array([1.0, 2.0, 2.0, 4.0]), False, "rank"), [0, 50, 50, 100])
    np.testing.assert_allclose(scale(np.array([1.0, 2.0, 2.0, 4.0]), True, "rank"), [100, 50, 50, 0])
    # NaN stays NaN and does not count: ranks 3, –, 1, 2 among three → 100, –, 0, 50
    np.testing.assert_allclose(scale(np.array([30.0, np.nan, 1.0, 2.0]), False, "rank"), [100, np.nan, 0, 50])
    np.testing.assert_allclose(scale(np.array([7.0, 7.0]), False, "rank"), [50, 50])


@pytest.mark.parametrize("method", ["min_max", "rank"])
def test_scale_columns_independently(method):
    values = np.array([[1.0, 10.0], [2.0, 30.0], [3.0, 20.0]])
    # column 0: 1, 2, 3 → 0, 50, 100; column 1: 10, 30, 20 → 0, 100, 50 (both evenly spaced: ranks agree)
    np.testing.assert_allclose(scale(values, False, method), [[0, 0], [50, 100], [100, 50]])


def test_composite_is_the_weighted_mean_of_scaled_components():
    """depth 0.1, 0.2, 0.3 (smaller better) → 100, 50, 0; strength 0, 0.03, 0.01 → 0, 100, 100/3;
    weights depth 1, strength 3, stability 0 (ignored, even with an unscalable value)."""
    parts = {"depth": np.array([0.1, 0.2, 0.3]), "strength": np.array([0.0, 0.03, 0.01]),
             "stability": np.array([np.nan, 5.0, 1.0])}
    got = composite(parts, {"depth": 1, "strength": 3, "stability": 0}, "min_max")
    np.testing.assert_allclose(got, [(100 + 0) / 4, (50 + 300) / 4, (0 + 100) / 4])


# --- 3. rank probabilities ---------------------------------------------------------------------------------------

def test_rank_probabilities_well_separated_cities():
    rng = np.random.default_rng(1)
    means = rng.permutation(10).astype(float)                 # city i has mean means[i], true rank 10 − means[i]
    draws = means[:, None] + rng.normal(0, 0.01, (10, 500))
    got = rank_probabilities(means, draws, 0.2)              # k = ⌈0.2 · 10⌉ = 2
    true_rank = 10 - means
    assert (got["k"] == 2).all() and (got["n_cities"] == 10).all()
    np.testing.assert_array_equal(got["rank"], true_rank)
    np.testing.assert_array_equal(got["rank_low"], true_rank)
    np.testing.assert_array_equal(got["rank_high"], true_rank)
    np.testing.assert_array_equal(got["p_top"], (true_rank <= 2).astype(float))
    np.testing.assert_array_equal(got["p_bottom"], (true_rank >= 9).astype(float))


def test_rank_probabilities_two_identical_cities_share_the_top():
    n_draws = 4000
    rng = np.random.default_rng(2)
    draws = np.vstack([rng.normal(10, 1, (2, n_draws)), np.arange(8.0)[:, None] - 20 + rng.normal(0, 0.01, (8, n_draws))])
    got = rank_probabilities(draws.mean(axis=1), draws, 0.1)   # k = ⌈0.1 · 10⌉ = 1
    assert (got["k"] == 1).all()
    tolerance = 4 * math.sqrt(0.5 * 0.5 / n_draws)           # 4 binomial SDs
    assert got["p_top"].iloc[0] == pytest.approx(0.5, abs=tolerance)
    assert got["p_top"].iloc[1] == pytest.approx(0.5, abs=tolerance)
    assert got["p_top"].iloc[0] + got["p_top"].iloc[1] == pytest.approx(1.0)
    assert got["rank_low"].iloc[:2].tolist() == [1, 1] and got["rank_high"].iloc[:2].tolist() == [2, 2]
    assert (got["p_top"].iloc[2:] == 0).all() and (got["p_bottom"].iloc[:2] == 0).all()


def test_rank_probability_matches_the_normal_calculation():
    """N(0, 1) against N(1, 1): P(second ahead) = P(X₂ − X₁ > 0), X₂ − X₁ ~ N(1, 2): Φ(1/√2) ≈ 0.760."""
    n_draws = 4000
    rng = np.random.default_rng(3)
    far_below = -50 + np.arange(6.0)[:, None] + rng.normal(0, 0.01, (6, n_draws))
    draws = np.vstack([rng.normal(0, 1, n_draws), rng.normal(1, 1, n_draws), far_below])
    got = rank_probabilities(np.array([0.0, 1.0, *range(-50, -44)]), draws, 0.125)   # k = ⌈0.125 · 8⌉ = 1
    truth = stats.norm.cdf(1 / math.sqrt(2))
    tolerance = 4 * math.sqrt(truth * (1 - truth) / n_draws)
    assert got["p_top"].iloc[1] == pytest.approx(truth, abs=tolerance)
    assert got["p_top"].iloc[0] == pytest.approx(1 - truth, abs=tolerance)
    assert got["rank"].iloc[:2].tolist() == [2, 1]


def test_rank_probabilities_k_counts_the_ranked_cities():
    point = np.array([5.0, 4.0, np.nan, 3.0, 2.0, 1.0, 0.0, -1.0, -2.0, -3.0])
    draws = np.tile(point[:, None], (1, 20))
    got = rank_probabilities(point, draws, 0.25)
    assert (got["n_cities"] == 9).all() and (got["k"] == math.ceil(0.25 * 9)).all()   # ⌈2.25⌉ = 3
    assert np.isnan(got["rank"].iloc[2]) and np.isnan(got["p_top"].iloc[2])
    np.testing.assert_array_equal(got["p_top"].drop(index=2), [1, 1, 1, 0, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(got["p_bottom"].drop(index=2), [0, 0, 0, 0, 0, 0, 1, 1, 1])


# --- 4. weight sensitivity ---------------------------------------------------------------------------------------

def test_weight_sets_leave_out_every_positive_available_component():
    weights = {"depth": 1, "strength": 2, "stability": 0, "transformation": 1}
    sets = weight_sets({"weights": weights, "alternatives": {"only_t": {"transformation": 1}, "loss": {"depth": 1}}},
                       ["depth", "strength", "stability"])            # transformation not available
    assert set(sets) == {"loss", "without_depth", "without_strength"}  # only_t has no available weight left
    assert sets["without_depth"][0] == {"strength": 2.0, "stability": 0.0}
    assert sets["without_strength"][0] == {"depth": 1.0, "stability": 0.0}
    assert weight_sets({"weights": {"depth": 1, "strength": 0}}, ["depth", "strength"]) == {}   # nothing left


def test_sensitivity_by_hand():
    """depth 0.1, 0.2, 0.3, 0.4 → 100, 200/3, 100/3, 0; strength 0, 0.6, 0.2, 0.3 → 0, 100, 100/3, 50;
    default (equal) 50, 250/3, 100/3, 25 → ranks 2, 1, 3, 4.
    without_depth (strength only) ranks 4, 1, 3, 2: d = −2, 0, 0, 2 → ρ = 1 − 6·8/(4·15) = 0.2, top 2 {c2, c4}
    vs {c1, c2} → overlap 1/2, shifts 2, 0, 0, 2 → median 1, max 2.
    without_strength (depth only) ranks 1, 2, 3, 4: d = 1, −1, 0, 0 → ρ = 1 − 6·2/60 = 0.8, overlap 1, shifts
    1, 1, 0, 0 → median 0.5, max 1."""
    parts = {"depth": np.array([0.1, 0.2, 0.3, 0.4]), "strength": np.array([0.0, 0.6, 0.2, 0.3])}
    settings = {"weights": {"depth": 1, "strength": 1}, "scaling": "min_max", "top_share": 0.5,
                "alternatives": {"same": {"depth": 2, "strength": 2}}, "random_weights": 0}
    default = composite(parts, settings["weights"], "min_max")
    np.testing.assert_allclose(default, [50, 250 / 3, 100 / 3, 25])
    got = sensitivity(parts, settings, ["depth", "strength"], default, np.random.default_rng(0)).set_index("weight_set")
    columns = ["spearman", "top_k_overlap", "median_rank_shift", "max_rank_shift"]
    np.testing.assert_allclose(got.loc["same", columns].astype(float), [1, 1, 0, 0])
    np.testing.assert_allclose(got.loc["without_depth", columns].astype(float), [0.2, 0.5, 1, 2])
    np.testing.assert_allclose(got.loc["without_strength", columns].astype(float), [0.8, 1, 0.5, 1])
    assert (got["n_cities"] == 4).all()


def test_sensitivity_random_weights_give_one_summary_row():
    parts = {"depth": np.array([0.1, 0.2, 0.3, 0.4, 0.5]), "strength": np.array([0.5, 0.4, 0.3, 0.2, 0.1])}
    settings = {"weights": {"depth": 1, "strength": 1}, "scaling": "rank", "top_share": 0.2, "random_weights": 200}
    default = composite(parts, settings["weights"], "rank")
    got = sensitivity(parts, settings, ["depth", "strength"], default, np.random.default_rng(0)).set_index("weight_set")
    # both components order the cities the same way: every weight vector gives the same ranks
    np.testing.assert_allclose(got.loc["random", ["spearman", "top_k_overlap", "max_rank_shift"]].astype(float),
                               [1, 1, 0])


def test_spearman_agrees_with_scipy():
    rng = np.random.default_rng(4)
    x = rng.integers(0, 6, 30).astype(float)               # ties on both sides
    columns = np.column_stack([rng.integers(0, 4, 30), x + rng.normal(0, 1, 30), -x]).astype(float)
    got = spearman(x, columns)
    for j in range(columns.shape[1]):
        assert got[j] == pytest.approx(stats.spearmanr(x, columns[:, j]).statistic, abs=1e-12)


# --- 5. screening ------------------------------------------------------------------------------------------------

def screening_panel():
    """'drop': ln Y = ln 100 + 0.05·(t − 2010), 2010–2024, 10 % lower from 2018 on; 'steady' on the trend."""
    trend = {y: math.log(100) + 0.05 * (y - 2010) for y in range(2010, 2025)}
    shifted = {y: math.exp(v + (math.log(0.9) if y >= 2018 else 0.0)) for y, v in trend.items()}
    return panel_from({"drop": shifted, "steady": {y: math.exp(v) for y, v in trend.items()}})


def test_screen_rolling_trend_by_hand():
    """Window 5, t = −5..−1, t̄ = −3, Σ(t − t̄)² = 10: se = s·√(1 + 1/5 + 9/10) = s·√2.1. With c = −ln 0.9 and the
    window's deviations e from the trend (OLS on e; residual SD on 3 df):
    2018 e = 0,0,0,0,0: s floored at 0.01, z = ln 0.9 / (0.01·√2.1) ≈ −7.27
    2019 e = 0,0,0,0,−c: slope −c/5, fit at t = 0 −4c/5, residual SD c·√(0.4/3): z = (−c/5) / (c·√(0.4/3)·√2.1)
         = −1/(5·√0.28) ≈ −0.378
    2020 e = 0,0,0,−c,−c: mean −2c/5, slope −3c/10, fit −13c/10, SD c·√0.1: z = 0.3/√0.21 ≈ +0.65
    2021 e = 0,0,−c,−c,−c: fit −3c/5 − 9c/10 = −3c/2, SD c·√0.1: z = 0.5/√0.21 ≈ +1.09
    2022 e = 0,−c,−c,−c,−c: fit −4c/5 − 6c/10 = −7c/5, SD c·√(0.4/3): z = 0.4/√0.28 ≈ +0.76
    2023 e all −c: exact fit, z = 0."""
    settings = {"method": "rolling_trend", "window": 5, "alpha": 0.01, "min_scale": 0.01}
    got = screen(screening_panel(), "y", settings)
    drop = got[got["city_code"] == "drop"].set_index("year")
    z = {2018: math.log(0.9) / (0.01 * math.sqrt(2.1)), 2019: -1 / (5 * math.sqrt(0.28)), 2020: 0.3 / math.sqrt(0.21),
         2021: 0.5 / math.sqrt(0.21), 2022: 0.4 / math.sqrt(0.28), 2023: 0.0, 2024: 0.0, 2017: 0.0}
    for year, number in z.items():
        assert drop.at[year, "z"] == pytest.approx(number, abs=1e-6), year
        assert drop.at[year, "p_value"] == pytest.approx(stats.t.cdf(number, df=3), abs=1e-6), year
    assert drop.at[2018, "p_value"] < 0.01 < stats.t.cdf(-1 / (5 * math.sqrt(0.28)), df=3)
    assert drop.loc[drop["shock"]].index.tolist() == [2018]
    assert drop.at[2018, "expected_log"] == pytest.approx(math.log(100) + 0.05 * 8)      # the trend in 2018
    assert drop.at[2018, "actual_log"] == pytest.approx(math.log(100) + 0.05 * 8 + math.log(0.9))
    assert not got.loc[got["city_code"] == "steady", "shock"].any()
    assert list(got.columns) == ["outcome", "city_code", "year", "actual_log", "expected_log", "z", "p_value", "shock"]


def test_screen_rolling_trend_starts_at_the_first_full_window():
    """The docstring's rule (the window years before t, all with data) first holds in 2015 (2010–2014)."""
    got = screen(screening_panel(), "y", {"method": "rolling_trend", "window": 5, "alpha": 0.01, "min_scale": 0.01})
    assert got["year"].min() == 2015


def test_screen_robust_growth_by_hand():
    """Growth rates 0.05 in every window before 2018: median 0.05, MAD 0 → scale 0.01; 2018's growth 0.05 + ln 0.9:
    z = ln 0.9 / 0.01 ≈ −10.5. After it the window holds one growth of 0.05 + ln 0.9: the median stays 0.05, the
    MAD 0, and each year's growth is 0.05 again: z = 0."""
    settings = {"method": "robust_growth", "window": 5, "alpha": 0.01, "min_scale": 0.01}
    got = screen(screening_panel(), "y", settings)
    drop = got[got["city_code"] == "drop"].set_index("year")
    assert drop.index.min() == 2016                     # five growth rates 2011–2015 need 2010–2015
    assert drop.at[2018, "z"] == pytest.approx(math.log(0.9) / 0.01)
    assert drop.at[2018, "p_value"] == pytest.approx(stats.norm.cdf(math.log(0.9) / 0.01))
    np.testing.assert_allclose(drop["z"].drop(index=2018), 0.0, atol=1e-9)
    assert drop.loc[drop["shock"]].index.tolist() == [2018]


# --- 6. config validation ----------------------------------------------------------------------------------------

def test_profile_errors():
    known = {"y", *SECTORS}
    assert profile_errors({"measures": ["drop", "composite"], "profile": profile()}, known) == []
    zero = profile(weights=dict.fromkeys(SIX, 0))
    assert profile_errors({"measures": ["composite"], "profile": zero}, known) == [
        "resilience/profile/weights: every weight is 0; give at least one component a positive weight"]
    unknown = profile(sectors=["k1", "k9"])
    assert profile_errors({"measures": ["composite"], "profile": unknown}, known) == [
        "resilience/profile/sectors: 'k9' is not a variable"]


def test_the_schema_requires_a_profile(config):
    """transformation and composite read resilience.profile: the schema makes it a required key."""
    assert schema_errors(config) == []
    config["resilience"].pop("profile")
    assert schema_errors(config) == ["resilience: 'profile' is a required property"]


def test_a_component_no_city_has_is_left_out_of_the_composite():
    """Every city's data end in the shock year (night lights end in 2020): no city has strength or stability, so
    the composite weighs the other four (depth, cumulative gap, recovery time, transformation) and strength has an
    empty ranking instead of stopping the run."""
    after = dict.fromkeys(range(2021, 2024), np.nan)
    series = {c: {**trend_with_gaps([gap]), **after} for c, gap in (("a", -0.10), ("b", 0.0), ("c", -0.2))}
    panel = panel_from(series).assign(k1=20.0, k2=30.0, k3=50.0)
    tables = resilience_tables(panel, spec(), YEARS, seed=5)
    value = tables.measures.set_index(["city_code", "measure"])["value"]
    # depth 0.10, 0, 0.20 → 50, 100, 0; cumulative −0.10, 0, −0.20 → 50, 100, 0; recovery time 1, 0, 1 → 0, 100, 0;
    # transformation 0 for all → 50: composite (50 + 50 + 0 + 50) / 4, (100 + 100 + 100 + 50) / 4, (0 + 0 + 0 + 50) / 4
    assert [value[(c, "composite")] for c in "abc"] == pytest.approx([37.5, 87.5, 12.5])
    assert tables.ranks[tables.ranks["measure"] == "strength"].empty
