"""Rule ``maps``: the figures of cities, from the design table: maps of the centralities, of the headline measure and
of its LISA clusters, and the headline's scatter on the centralities (PNG + PDF)."""
from scripts.warm import hand_over

hand_over(globals())  # a warm run's job: a fork of the warm process runs it, and this process exits here

from pathlib import Path
from typing import Any

import pandas as pd

from scripts.common import run_rule
from scripts.figures import category_map, lisa_labels, value_map
from scripts.registry import MEASURES
from scripts.render import city_labels
from scripts.report import plot_scatter
from scripts.resilience_report import plot_measure_map


def main(smk: Any) -> None:
    """The LISA map, one map per centrality, the headline measure's map and scatter."""
    import geopandas as gpd

    p = smk.params
    models = p.models
    demo = "DEMO (synthetic): " if p.demo else ""
    cities = gpd.read_parquet(smk.input.cities)
    design = pd.read_parquet(smk.input.design).set_index("city_code")
    headline, measure = p.headline_measure, MEASURES[p.headline_measure]
    labels = lisa_labels(design[headline], pd.read_parquet(smk.input.weights), cities[["city_code", "lon", "lat"]],
                         p.weights, p.weights_name, p.seed)
    noun = measure.text(headline, "noun_dated", shock_year=p.shock_year)
    category_map(cities, labels, Path(smk.output.lisa).with_suffix(""),
                 f"{demo}LISA clusters of {noun} ({p.weights_name} weights, p < 0.05)")
    names = city_labels(cities, p.city_names)
    for alias, path in zip(models["centralities"], smk.output.centrality_maps):
        value_map(cities, design[alias], Path(path).with_suffix(""),
                  f"{demo}{alias.upper()} ({models['centralities'][alias]}, {models['network']}, "
                  f"{models['centrality_year']})", alias.upper(), names, p.city_names["label_cities"])
    resilience = pd.read_parquet(smk.input.resilience)
    resilience = resilience[(resilience["outcome"] == models["outcome"]) & (resilience["measure"] == headline)]
    plot_measure_map(cities, resilience.set_index("city_code")["value"], headline, smk.output.map,
                     demo + measure.text(headline, "title"), names, p.city_names["label_cities"])
    plot_scatter(design.reset_index(), models["centralities"], headline, smk.output.scatter, p.demo)


if "snakemake" in globals():
    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
