"""Rule ``resilience_maps``: one map per resilience measure (PNG + PDF), diverging around the measure's neutral value,
the most and least resilient cities named."""
from scripts.warm import hand_over

hand_over(globals())  # a warm run's job: a fork of the warm process runs it, and this process exits here

from typing import Any

import pandas as pd

from scripts.common import run_rule
from scripts.render import city_labels
from scripts.resilience_report import plot_measure_map


def main(smk: Any) -> None:
    """The map of every measure in params.outcomes, for the outcome named there."""
    import geopandas as gpd

    p = smk.params
    table = pd.read_parquet(smk.input.resilience)
    cities = gpd.read_parquet(smk.input.cities)
    names = city_labels(cities, p.city_names)
    for (measure, outcome), path in zip(p.outcomes.items(), smk.output.maps):
        values = table[(table["outcome"] == outcome) & (table["measure"] == measure)].set_index("city_code")["value"]
        plot_measure_map(cities, values, measure, path,
                         f"{'DEMO (synthetic): ' if p.demo else ''}{measure} ({outcome}, shock {p.shock_year})",
                         names, p.city_names["label_cities"])


if "snakemake" in globals():
    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
