"""Marginal effects across a moderator, checked by re-centring: the centrality's coefficient in the same model with
the moderator centred at a value q (statsmodels, fitted directly) is its marginal effect at q, with the same SE."""
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from scripts.estimation.cross_section import fit_ols
from scripts.estimation.design import standardize
from scripts.estimation.moderation import QUANTILES, marginal_effects


def moderated_sample(n=200, seed=5):
    """y = 1 + 0.5·dc + 0.3·m + 0.8·dc·(m − 3) + ε, m ~ U(1, 5): the effect of dc is 0.5 + 0.8·(m − 3)."""
    rng = np.random.default_rng(seed)
    dc, m = rng.normal(size=n), rng.uniform(1, 5, n)
    y = 1 + 0.5 * dc + 0.3 * m + 0.8 * dc * (m - 3) + rng.normal(scale=0.5, size=n)
    return pd.DataFrame({"y": y, "dc": dc, "m": m}, index=[f"{k:06d}" for k in range(n)])


def fitted(raw: pd.DataFrame, cov: str) -> dict:
    sample = standardize(raw, ["m"])
    sample["dc_x_m"] = sample["dc"] * sample["m"]
    return fit_ols(sample, "y", ["dc", "m", "dc_x_m"], cov,
                   moderation={"moderator": "m", "terms": ["dc"], "values": raw["m"]})


@pytest.mark.parametrize("cov", ["HC1", "HC3"])
def test_marginal_effects_equal_the_coefficient_with_the_moderator_centred_there(cov):
    raw = moderated_sample()
    effects = fitted(raw, cov)["marginal_effects"]
    for row in effects["at"]:
        q = raw["m"].quantile(QUANTILES[row["point"]])
        assert row["moderator_value"] == pytest.approx(q)
        shifted = (raw["m"] - q) / raw["m"].std(ddof=1)   # the same model, the moderator centred at q
        x = sm.add_constant(np.column_stack([raw["dc"], shifted, raw["dc"] * shifted]))
        reference = sm.OLS(raw["y"].to_numpy(), x).fit(cov_type=cov)
        assert row["estimate"] == pytest.approx(reference.params[1], rel=1e-9)
        assert row["se"] == pytest.approx(reference.bse[1], rel=1e-9)
        assert row["p_value"] == pytest.approx(reference.pvalues[1], rel=1e-7)


def test_marginal_effects_recover_the_planted_slope_and_the_grid_spans_the_range():
    raw = moderated_sample(n=2000)
    effects = fitted(raw, "HC1")["marginal_effects"]
    for row in effects["at"]:   # planted: 0.5 + 0.8·(m − 3)
        assert row["ci_low"] < 0.5 + 0.8 * (row["moderator_value"] - 3) < row["ci_high"]
    grid = effects["grid"]
    assert grid["moderator_value"][0] == raw["m"].min() and grid["moderator_value"][-1] == raw["m"].max()
    slope = np.polyfit(grid["moderator_value"], grid["dc"]["estimate"], 1)[0]
    assert slope == pytest.approx(0.8, abs=0.05)


def test_at_the_mean_the_marginal_effect_is_the_coefficient():
    raw = moderated_sample()
    result = fitted(raw, "HC1")
    coefficient = next(c for c in result["coefficients"] if c["term"] == "dc")
    names, params = ["const", "dc", "dc_x_m"], np.array([0.0, coefficient["estimate"], 1.0])
    vcov = np.diag([1.0, coefficient["se"] ** 2, 1.0])
    at_mean = marginal_effects(names, params, vcov, ["dc"], "m", pd.Series([1.0, 2.0, 3.0]))
    middle = next(r for r in at_mean["at"] if r["point"] == "p50")   # median = mean = 2
    assert middle["estimate"] == pytest.approx(coefficient["estimate"])
    assert middle["se"] == pytest.approx(coefficient["se"])
