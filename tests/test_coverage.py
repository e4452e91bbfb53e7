"""Repeated-seed coverage: the 95 % intervals of the cross-section and panel estimators cover planted effects.

Slow-ish (≈ 1 minute): each seed regenerates the demo (cross-section OLS and the panel event study) or a
simulated panel (panel_fe) and refits.
"""
import copy
import functools

import yaml

from scripts.centrality import centralities
from scripts.demo import demo_panel, event_study_truth
from scripts.estimation.design import design_table, panel_design
from scripts.estimation.fit import fit_spec
from scripts.estimation.panel import fit_panel
from scripts.network import gravity_edges
from scripts.resilience import resilience_tables
from scripts.specs import expand_specs
from tests.conftest import ROOT
from tests.test_models import simulated_panel

SEEDS = range(30)


def demo_config(seed: int) -> dict:
    from snakemake.utils import update_config

    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    update_config(config, yaml.safe_load((ROOT / "workflow" / "demo.yaml").read_text(encoding="utf-8")))
    config["seed"] = seed
    config["resilience"] = {**config["resilience"], "outcomes": [config["models"]["outcome"]],
                            "measures": ["drop"], "bootstrap": {"draws": 19}}
    config["resilience"].pop("shift_share")
    return config


def centrality_long(config, panel, cities):
    spec = config["network"][config["models"]["network"]]
    year = config["models"]["centrality_year"]
    nodes = panel[panel["year"] == year].merge(cities[["city_code", "lon", "lat"]], on="city_code")
    wide = centralities(gravity_edges(nodes, spec["mass"], spec["distance_decay"]))
    return wide.melt(id_vars="city_code", var_name="measure", value_name="value").assign(year=year)


@functools.cache
def demo_data(seed: int):
    """(config, panel, centrality) of the demo generated with `seed`."""
    config = demo_config(seed)
    panel, cities, _, _ = demo_panel(config)
    return config, panel, centrality_long(config, panel, cities)


def test_cross_section_coverage_over_demo_seeds():
    hits, total = 0, 0
    for seed in SEEDS:
        config, panel, centrality = demo_data(seed)
        resilience = resilience_tables(panel, config["resilience"], config["years"], seed)[0]
        models = config["models"]
        design = design_table(resilience, centrality, panel, models["outcome"],
                              models["centrality_year"], models["centralities"], models["controls"])
        spec = copy.deepcopy(expand_specs(models)["baseline-drop"])
        result = fit_spec(spec, design, None, None, {}, seed)
        for term, beta in config["demo"]["effects"].items():
            c = next(c for c in result["coefficients"] if c["term"] == term)
            hits += c["ci_low"] <= beta <= c["ci_high"]
            total += 1
    coverage = hits / total
    assert 0.85 <= coverage <= 1.0, coverage


def test_panel_coverage_over_seeds():
    spec = {"outcome": "y", "estimator": "panel_fe", "all_centralities": {"dc": "strength"}, "centralities": "joint",
            "centrality_year": 2019, "cov": "cluster_city"}
    settings = {"years": {"start": 2011, "end": 2021}, "shock_year": 2020}
    hits = 0
    for seed in SEEDS:
        panel, centrality = simulated_panel(seed=100 + seed, n=120)
        rows = panel_design(panel, centrality, spec, settings)
        post = rows.index.get_level_values("year") >= 2020
        rows["growth"] = rows["growth"] - 1.5 * rows["dc"] * post
        c = next(c for c in fit_panel(rows, spec, settings)["coefficients"] if c["term"] == "dc_x_post")
        hits += c["ci_low"] <= -1.5 <= c["ci_high"]
    assert 0.85 <= hits / len(SEEDS) <= 1.0, hits / len(SEEDS)


def test_event_study_coverage_over_demo_seeds():
    hits, total = 0, 0
    for seed in SEEDS:
        config, panel, centrality = demo_data(seed)
        spec = copy.deepcopy(expand_specs(config["models"])["event_study"])
        settings = {"years": config["models"]["panel"]["years"], "shock_year": config["resilience"]["shock_year"]}
        coefficients = {c["term"]: c for c in fit_panel(panel_design(panel, centrality, spec, settings), spec,
                                                        settings)["coefficients"]}
        for term, beta in event_study_truth(config).items():
            hits += coefficients[term]["ci_low"] <= beta <= coefficients[term]["ci_high"]
            total += 1
    assert 0.85 <= hits / total <= 1.0, hits / total
