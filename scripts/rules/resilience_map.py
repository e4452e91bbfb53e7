"""Rule ``resilience_map``: the map of one resilience measure (PNG + PDF), diverging around its neutral value, the
most and least resilient cities named."""
from scripts.warm import hand_over

hand_over(globals())  # a warm run's job: a fork of the warm process runs it, and this process exits here

from typing import Any

import pandas as pd

from scripts.common import run_rule
from scripts.render import city_labels
from scripts.resilience_report import plot_measure_map


def main(smk: Any) -> None:
    """The map of the measure named by the job's wildcard, for the outcome in params."""
    import geopandas as gpd

    p, measure = smk.params, smk.wildcards.measure
    table = pd.read_parquet(smk.input.resilience)
    values = table[(table["outcome"] == p.outcome) & (table["measure"] == measure)].set_index("city_code")["value"]
    cities = gpd.read_parquet(smk.input.cities)
    plot_measure_map(cities, values, measure, smk.output.png,
                     f"{'DEMO (synthetic): ' if p.demo else ''}{measure} ({p.outcome}, shock {p.shock_year})",
                     city_labels(cities, p.city_names), p.city_names["label_cities"])


if "snakemake" in globals():
    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
