"""Hypotheses: Holm/BH adjustment and verdicts by hand; panel terms; config errors for bad hypotheses."""
import numpy as np
import pytest

from scripts.common import InputError
from scripts.hypotheses import adjust, evidence, term_for
from tests.conftest import validation_message

DECISION = {"alpha": 0.05, "correction": "holm", "min_share": 0.5}


def result(name, estimate, p, family="cross_section", term="dc", se=0.01):
    spec = {"estimator": "ols", "family": family}
    return name, {"model": name, "spec": spec, "spec_aliases": {"dc": "strength"}, "n": 100,
                  "coefficients": [{"term": term, "estimate": estimate, "se": se, "p_value": p,
                                    "ci_low": estimate - 2 * se, "ci_high": estimate + 2 * se}]}


def test_holm_and_bh_adjustments_by_hand():
    p = [0.01, 0.04, 0.03]
    # Holm: sorted 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 → running max 0.06
    np.testing.assert_allclose(adjust(p, "holm"), [0.03, 0.06, 0.06])
    # BH: sorted 0.01·3/1 = 0.03, 0.03·3/2 = 0.045, 0.04·3/3 = 0.04 → running min from the top: 0.03, 0.04, 0.04
    np.testing.assert_allclose(adjust(p, "bh"), [0.03, 0.04, 0.04])


def test_verdicts_follow_the_decision_rule():
    results = dict([result("a1", 0.02, 0.001), result("a2", 0.02, 0.002), result("a3", 0.01, 0.3),
                    result("b1", -0.03, 0.001), result("c1", 0.02, 0.004), result("c2", 0.01, 0.5),
                    result("c3", 0.01, 0.6), result("d1", 0.02, 0.2)])
    files = {n: f"models/{n}.json" for n in results}
    tests = {"A": {"statement": "s", "variable": "dc", "sign": "+", "primary": "a1", "specs": ["a*"]},
             "B": {"statement": "s", "variable": "dc", "sign": "+", "primary": "b1", "specs": ["b*"]},
             "C": {"statement": "s", "variable": "dc", "sign": "+", "primary": "c1", "specs": ["c*"]},
             "D": {"statement": "s", "variable": "dc", "sign": "−", "primary": "d1", "specs": ["d*"]},
             "E": {"statement": "s", "variable": "dc_x_trust", "sign": "+", "primary": "e", "specs": ["e*"],
                   "requires_moderator": "trust"}}
    summary, long = evidence({"decision": DECISION, "tests": tests}, results, files, moderators={})
    got = dict(zip(summary["hypothesis"], summary["verdict"]))
    # Holm over the four primary p-values 0.001, 0.001, 0.004, 0.2 → 0.004, 0.004, 0.008, 0.2
    np.testing.assert_allclose(summary["primary_p_adjusted"].iloc[:4], [0.004, 0.004, 0.008, 0.2])
    assert got == {"A": "supported", "B": "contradicted", "C": "fragile", "D": "not supported", "E": "inactive"}
    assert summary.set_index("hypothesis").at["C", "share_expected_significant"] == pytest.approx(1 / 3)
    assert set(long["file"]) == {f"models/{n}.json" for n in results}


def test_panel_specs_read_a_centrality_as_its_post_shock_interaction():
    assert term_for("dc", {"family": "panel", "all_centralities": {"dc": "strength"}}) == "dc_x_post"
    assert term_for("dc", {"family": "panel", "all_centralities": {"dc": "strength"}}, "omicron_2022") == \
        "dc_x_omicron_2022"
    assert term_for("dc", {"family": "spatial", "all_centralities": {"dc": "strength"}}) == "dc"
    assert term_for("log_pop_grid_2019", {"family": "panel", "all_centralities": {"dc": "strength"}}) == \
        "log_pop_grid_2019"


def test_bad_hypotheses_are_named(config):
    tests = config["hypotheses"]["tests"]
    tests["H1a"]["sign"] = "positive"
    tests["H2a"]["variable"] = "closeness_centrality"
    tests["H3a"]["specs"].append("baseline-dorp")
    message = validation_message(config)
    assert "hypotheses/tests/H1a/sign: 'positive' is not + or −" in message
    assert "hypotheses/tests/H2a/variable: 'closeness_centrality' is not a model term" in message
    assert "hypotheses/tests/H3a: spec 'baseline-dorp' matches no model spec" in message


def test_one_evidence_row_per_hypothesis_and_shock_in_one_family():
    """A hypothesis with a named shock gets a second row from that shock's specs (panel: its own interaction);
    Holm runs over the primary p-values of both rows (0.001·2, 0.02·1 → 0.002, 0.02)."""
    results = dict([result("cs", 0.02, 0.001), result("om", -0.03, 0.02),
                    ("pan", {"model": "pan", "spec": {"estimator": "panel_fe", "family": "panel"},
                             "spec_aliases": {"dc": "strength"}, "n": 900, "coefficients": [
                                 {"term": t, "estimate": e, "se": 0.1, "p_value": p, "ci_low": e - 0.2,
                                  "ci_high": e + 0.2} for t, e, p in (("dc_x_post", 0.5, 0.01),
                                                                     ("dc_x_omicron_2022", -0.4, 0.03))]})])
    files = {n: f"models/{n}.json" for n in results}
    tests = {"A": {"statement": "s", "variable": "dc", "sign": "+", "primary": "cs", "specs": ["cs"],
                   "shocks": {"omicron_2022": {"primary": "om", "specs": ["om"]}}},
             "C": {"statement": "s", "variable": "dc", "sign": "+", "primary": "pan", "specs": ["pan"],
                   "shocks": {"omicron_2022": {"primary": "pan", "specs": ["pan"]}}}}
    summary, long = evidence({"decision": {**DECISION, "correction": "none"}, "tests": tests}, results, files, {},
                             main_shock="covid_2020")
    rows = summary.set_index(["hypothesis", "shock"])
    assert list(rows.index) == [("A", "covid_2020"), ("A", "omicron_2022"), ("C", "covid_2020"), ("C", "omicron_2022")]
    assert rows.at[("A", "omicron_2022"), "primary_estimate"] == -0.03
    assert rows.at[("C", "omicron_2022"), "primary_estimate"] == -0.4 and rows.at[("C", "covid_2020"),
                                                                                  "primary_estimate"] == 0.5
    assert rows["verdict"].tolist() == ["supported", "contradicted", "supported", "contradicted"]
    assert set(long.loc[long["shock"] == "omicron_2022", "term"]) == {"dc", "dc_x_omicron_2022"}
    holm, _ = evidence({"decision": DECISION, "tests": {"A": tests["A"]}}, results, files, {})
    np.testing.assert_allclose(holm["primary_p_adjusted"], [0.002, 0.02])


def test_a_hypothesis_on_an_unknown_shock_or_spec_is_named(config):
    tests = config["hypotheses"]["tests"]
    tests["H1a"]["shocks"]["omicron_2023"] = {"primary": "omicron-drop", "specs": ["omicron-drop"]}
    tests["H2b"]["shocks"]["omicron_2022"]["primary"] = "omicron-recvery"
    message = validation_message(config)
    assert "hypotheses/tests/H1a/shocks: 'omicron_2023' is not a key of resilience.shocks ['omicron_2022']" in message
    assert "hypotheses/tests/H2b/shocks/omicron_2022: spec 'omicron-recvery' matches no model spec" in message


def test_inactive_hypotheses_are_not_checked_until_their_moderator_is_supplied(config):
    from scripts.config import validate_config

    for group in ("moderation", "moderation_omicron", "moderation_panel"):   # without the proxies' moderators and
        del config["models"]["specs"][group]                                  # their groups …
    config["models"]["moderators"] = {}
    validate_config(config)                                   # … H5a–e are inactive: H5e names specs not there yet
    config["models"]["moderators"] = {"innovation": {"variable": "gdp_per_capita", "year": 2019, "transform": "log"}}
    with pytest.raises(InputError, match=r"H5e: spec 'moderation\*' matches no model spec"):
        validate_config(config)
    config["models"]["specs"]["moderation"] = {"estimator": "ols", "measure": "drop", "moderator": ["innovation"]}
    validate_config(config)


def test_flag_thresholds_must_be_positive(config):
    from scripts.config import validate_config

    config["quality"]["city_z"] = 0
    with pytest.raises(InputError, match=r"quality/city_z: 0 is less than or equal to the minimum of 0"):
        validate_config(config)


def test_a_hypothesis_whose_specs_lack_the_variable_is_not_supported():
    results = dict([result("a1", 0.02, 0.001, term="cc")])
    tests = {"A": {"statement": "s", "variable": "dc", "sign": "+", "primary": "a1", "specs": ["a*"]}}
    summary, long = evidence({"decision": DECISION, "tests": tests}, results, {"a1": "models/a1.json"}, {})
    assert summary.at[0, "verdict"] == "not supported" and summary.at[0, "n_specs"] == 0 and long.empty


def test_families_switches_and_network_restrictions():
    """A user family does not move the seed's adjusted p-values; enabled: false leaves a test out; networks keeps
    only the specs on those networks (the primary's N is reported)."""
    results = dict([result("a1", 0.02, 0.01), result("b1", 0.02, 0.02), result("u1", 0.02, 0.04)])
    results["a2"] = {**result("a2", -0.02, 0.001)[1], "spec": {"estimator": "ols", "family": "cross_section",
                                                               "network": "gravity_top10"}}
    for name in ("a1", "b1", "u1"):
        results[name]["spec"]["network"] = "gravity"
    files = {n: f"models/{n}.json" for n in results}
    seed = {"A": {"statement": "s", "variable": "dc", "sign": "+", "primary": "a1", "specs": ["a*"]},
            "B": {"statement": "s", "variable": "dc", "sign": "+", "primary": "b1", "specs": ["b*"]}}
    alone, _ = evidence({"decision": DECISION, "tests": seed}, results, files, {})
    mine = {"U": {"statement": "s", "variable": "dc", "sign": "+", "primary": "u1", "specs": ["u*"], "family": "user"},
            "X": {"statement": "s", "variable": "dc", "sign": "+", "primary": "a1", "specs": ["a*"], "enabled": False}}
    both, _ = evidence({"decision": DECISION, "tests": {**seed, **mine}}, results, files, {})
    np.testing.assert_allclose(both["primary_p_adjusted"].iloc[:2], alone["primary_p_adjusted"])   # 0.02, 0.02
    assert both["hypothesis"].tolist() == ["A", "B", "U"] and both.at[2, "family"] == "user"
    assert both.at[2, "primary_p_adjusted"] == pytest.approx(0.04) and both.at[0, "primary_n"] == 100
    assert both.at[0, "n_specs"] == 2 and both.at[0, "share_expected_significant"] == 0.5
    only_gravity, _ = evidence({"decision": DECISION, "tests": {"A": {**seed["A"], "networks": ["gravity"]}}},
                               results, files, {})
    assert only_gravity.at[0, "n_specs"] == 1 and only_gravity.at[0, "verdict"] == "supported"
