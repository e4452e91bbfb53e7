"""Preflight (scripts/preflight.py): every spec is checked against what the configuration builds, before any job."""
import numpy as np
import pandas as pd
import pytest

from scripts.centrality import centralities
from scripts.common import InputError
from scripts.preflight import constant_measures, network_measures, spec_feasibility_errors
from scripts.specs import expand_specs
from tests.conftest import validation_message


def ring_edges(n, directed, complete):
    """Edges of n cities: every pair (complete) or a ring with chords 0–2 and 0–3 (triangles, so clustering varies;
    city 0 has 4 ties, so the top-3 share varies), both directions when directed."""
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)] if complete else \
        [(i, (i + 1) % n) for i in range(n)] + [(0, 2), (0, 3)]
    if directed:
        pairs += [(j, i) for i, j in pairs]
    return pd.DataFrame({"source": [f"{100000 + i}" for i, _ in pairs], "target": [f"{100000 + j}" for _, j in pairs],
                         "weight": np.random.default_rng(1).lognormal(0, 2, len(pairs))})


@pytest.mark.parametrize("kind, directed, backbone", [("gravity", False, "none"), ("gravity", True, "none"),
                                                      ("gravity", False, "top_k"), ("flows", None, "disparity")])
def test_network_measures_are_what_centralities_computes(kind, directed, backbone):
    spec = {"kind": kind, "backbone": {"method": backbone}, **({} if directed is None else {"directed": directed})}
    is_directed = bool(directed) or kind == "flows"
    complete = kind == "gravity" and backbone == "none"
    table = centralities(ring_edges(7, is_directed, complete), directed=is_directed)
    assert set(table.columns) - {"city_code"} == network_measures(spec)
    constant = {m for m in network_measures(spec) if table[m].nunique() == 1}
    assert constant == constant_measures(spec)


def test_default_config_passes_preflight(config):
    assert spec_feasibility_errors(config, expand_specs(config["models"])) == []


def test_centrality_year_outside_the_network_names_the_specs_and_the_fix(config):
    config["models"]["centrality_year"] = 2030
    errors = spec_feasibility_errors(config, expand_specs(config["models"]))
    assert any("baseline-drop" in e and "in 2030 but the network is built for 2010–2020" in e
               and "choose models.centrality_year" in e for e in errors)
    assert not any("panel-cluster_city" in e for e in errors)  # panels use lagged centralities, not the year


def test_panel_beyond_the_network_is_refused_before_any_job(config):
    config["network"]["gravity_resident"]["year_range"]["end"] = 2018
    message = validation_message(config)
    assert "panel-cluster_city" in message and "in 2019–2022" in message and "end models.panel.years by 2019" in message
    assert "panel_pre_shock" not in message   # held at its centrality year (2019, on network gravity)


def test_panel_years_outside_the_data(config):
    config["years"]["start"] = 2010
    config["models"]["panel"]["years"] = {"start": 2010, "end": 2021}
    errors = spec_feasibility_errors(config, expand_specs(config["models"]))
    assert any(e.startswith("models/panel/years: growth years 2010–2021 need levels in 2009–2021") for e in errors)


def test_measures_the_network_lacks_or_holds_constant(config):
    config["models"]["centralities"] = {"dc": "degree_in", "cc": "closeness", "bc": "betweenness_binary"}
    errors = spec_feasibility_errors(config, expand_specs(config["models"]))
    assert any("network 'gravity' does not compute ['degree_in']" in e for e in errors)
    assert any("['betweenness_binary'] are constant on network 'gravity'" in e for e in errors)
    assert not any("constant on network 'gravity_top10'" in e for e in errors)


def test_panel_design_names_years_without_lagged_centralities():
    from scripts.estimation.design import panel_design

    panel = pd.DataFrame([{"city_code": c, "year": y, "y": 100.0 + y + k} for k, c in enumerate(["110000", "120000"])
                          for y in range(2010, 2022)])
    centrality = pd.DataFrame([{"city_code": c, "year": y, "measure": "strength", "value": float(k + y % 3)}
                               for k, c in enumerate(["110000", "120000"]) for y in range(2010, 2019)])
    spec = {"outcome": "y", "estimator": "panel_fe", "network": "edges_net", "all_centralities": {"dc": "strength"},
            "centrality_year": 2019}
    with pytest.raises(InputError, match=r"network 'edges_net' has no centralities for the panel years 2020, 2021 "
                                         r"\(needed: the year before each, 2019, 2020\)"):
        panel_design(panel, centrality, spec, {"years": {"start": 2011, "end": 2021}})
    with pytest.raises(InputError, match=r"models.centralities: the network has no \['closeness'\]"):
        panel_design(panel, centrality, {**spec, "all_centralities": {"cc": "closeness"}},
                     {"years": {"start": 2011, "end": 2018}})
