"""Rule ``figures``: coefficient plot, specification curve, event study (when a spec fits one), LISA map of the
headline measure, centrality maps (PNG + PDF)."""
from scripts.warm import hand_over

hand_over(globals())  # a warm run's job: a fork of the warm process runs it, and this process exits here

import json
from pathlib import Path
from typing import Any

import pandas as pd

from scripts.common import read_results, run_rule
from scripts.figures import category_map, coefficient_plot, event_study_plot, lisa_labels, spec_curve_plot, value_map
from scripts.registry import ESTIMATORS, MEASURES
from scripts.render import city_labels

CROSS_SECTION = [name for name, e in ESTIMATORS.items() if e.family in ("cross_section", "spatial")]


def main(smk: Any) -> None:
    """All figures of this stage."""
    import geopandas as gpd

    p = smk.params
    models = p.models
    aliases = list(models["centralities"])
    demo = "DEMO (synthetic): " if p.demo else ""
    table_models = read_results(smk.input.table_models, p.main_table)
    coefficient_plot(table_models, aliases, Path(smk.output.coefficients).with_suffix(""),
                     f"{demo}Centrality coefficients of the main specifications")
    curve = pd.read_csv(smk.input.spec_curve)
    curve = curve[curve["estimator"].isin(CROSS_SECTION)]
    spec_curve_plot(curve, aliases, Path(smk.output.spec_curve).with_suffix(""), f"{demo}Specification curve")
    if "event_study" in smk.input.keys():        # no event-study spec, no event-study figure
        event = json.loads(Path(smk.input.event_study).read_text(encoding="utf-8"))
        event_study_plot(event, aliases, models["centrality_year"], Path(smk.output.event_study).with_suffix(""),
                         f"{demo}Event study: growth by pre-shock centrality, city and year FE")
    cities = gpd.read_parquet(smk.input.cities)
    design = pd.read_parquet(smk.input.design).set_index("city_code")
    headline = p.headline_measure
    labels = lisa_labels(design[headline], pd.read_parquet(smk.input.weights), cities[["city_code", "lon", "lat"]],
                         p.weights, p.weights_name, p.seed)
    noun = MEASURES[headline].text(headline, "noun_dated", shock_year=p.shock_year)
    category_map(cities, labels, Path(smk.output.lisa).with_suffix(""),
                 f"{demo}LISA clusters of {noun} ({p.weights_name} weights, p < 0.05)")
    names = city_labels(cities, p.city_names)
    for alias, path in zip(aliases, smk.output.centrality_maps):
        value_map(cities, design[alias], Path(path).with_suffix(""),
                  f"{demo}{alias.upper()} ({models['centralities'][alias]}, {models['network']}, "
                  f"{models['centrality_year']})", alias.upper(), names, p.city_names["label_cities"])


if "snakemake" in globals():
    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
