"""Marginal effects across a moderator, checked by re-centring: the centrality's coefficient in the same model with
the moderator centred at a value q (statsmodels, fitted directly) is its marginal effect at q, with the same SE."""
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from scripts.common import InputError
from scripts.estimation.cross_section import fit_ols
from scripts.estimation.design import standardize
from scripts.estimation.moderation import QUANTILES


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


def test_panel_moderation_recovers_a_planted_triple_interaction_and_its_marginal_effects():
    """growth += (−1.5 + 0.8·z(M))·z(C)·Post: the window effect at the moderator's quartiles is −1.5 + 0.8·a(q),
    and equals the coefficient of C·Post with the moderator centred at q (linearmodels, fitted directly)."""
    from linearmodels import PanelOLS

    from scripts.estimation.design import panel_design
    from scripts.estimation.panel import fit_panel
    from tests.test_models import simulated_panel

    panel, centrality = simulated_panel(n=300)
    spec = {"outcome": "y", "estimator": "panel_fe", "all_centralities": {"dc": "strength"}, "centralities": "joint",
            "centrality_year": 2019, "cov": "cluster_city", "moderator": "m"}
    settings = {"years": {"start": 2011, "end": 2021}, "shock_year": 2020}
    rows = panel_design(panel, centrality, spec, settings)
    cities = rows.index.get_level_values("city_code").unique()
    raw = pd.Series(np.random.default_rng(4).uniform(0, 10, len(cities)), index=cities, name="m")
    rows = rows.join(standardize(raw.to_frame(), ["m"]), on="city_code")
    post = (rows.index.get_level_values("year") >= 2020).astype(float)
    rows["growth"] = rows["growth"] + (-1.5 + 0.8 * rows["m"]) * rows["dc"] * post
    result = fit_panel(rows, spec, settings, moderator_values=raw)
    got = {c["term"]: c for c in result["coefficients"]}
    assert got["dc_x_post_x_m"]["ci_low"] < 0.8 < got["dc_x_post_x_m"]["ci_high"]
    assert {"m_x_post", "dc_x_m"} <= set(got)
    for row in result["marginal_effects"]["at"]:
        shift = (row["moderator_value"] - raw.mean()) / raw.std(ddof=1)
        assert row["ci_low"] < -1.5 + 0.8 * shift < row["ci_high"]
        centred = rows["m"] - shift   # the same model with the moderator centred at the quantile
        x = pd.DataFrame({"dc": rows["dc"], "dc_x_post": rows["dc"] * post, "m_x_post": centred * post,
                          "dc_x_m": rows["dc"] * centred, "dc_x_post_x_m": rows["dc"] * post * centred})
        reference = PanelOLS(rows["growth"], x, entity_effects=True, time_effects=True).fit(
            cov_type="clustered", cluster_entity=True)
        assert row["estimate"] == pytest.approx(reference.params["dc_x_post"], rel=1e-8)
        assert row["se"] == pytest.approx(reference.std_errors["dc_x_post"], rel=1e-8)


def test_a_network_moderator_reads_the_centrality_table_and_a_spiked_value_is_left_out():
    from scripts.estimation.design import moderator_values
    from scripts.estimation.fit import moderator_column

    network = pd.DataFrame({"city_code": ["a", "b", "a", "b"], "year": [2019, 2019, 2020, 2020],
                            "measure": ["clustering", "clustering", "clustering", "degree"],
                            "value": [0.5, 0.25, 0.9, 0.1]})
    entry = {"network": "top10", "measure": "clustering", "year": 2019, "transform": "none"}
    assert moderator_values(pd.DataFrame(), entry, {"top10": network}).to_dict() == {"a": 0.5, "b": 0.25}
    with pytest.raises(InputError, match="network 'top10' has no 'degree' in 2019"):
        moderator_values(pd.DataFrame(), {**entry, "measure": "degree"}, {"top10": network})
    panel = pd.DataFrame({"city_code": ["a", "b", "c"], "year": 2019, "depth": [2.0, 21.3, 2.5]})
    spikes = pd.DataFrame({"city_code": ["b", "c"], "year": [2019, 2018], "variable": ["depth", "depth"]})
    settings = {"moderators": {"capital": {"variable": "depth", "year": 2019, "transform": "none"}}}
    values, masked = moderator_column("capital", settings, {"panel": panel, "spikes": spikes})
    assert values.to_dict() == {"a": 2.0, "c": 2.5} and masked == ["b"]   # c's spike is in another year


def test_panel_specs_read_a_moderated_centrality_as_its_window_interaction():
    from scripts.hypotheses import term_for

    panel = {"family": "panel", "all_centralities": {"dc": "strength"}, "moderator": "capital"}
    assert term_for("dc_x_capital", panel) == "dc_x_post_x_capital"
    assert term_for("dc_x_capital", panel, "omicron_2022") == "dc_x_omicron_2022_x_capital"
    assert term_for("dc_x_capital", {**panel, "family": "cross_section"}) == "dc_x_capital"
    assert term_for("dc", panel) == "dc_x_post"
