"""Rule ``report``: regression table (every format) of the main specs, map of the headline measure and its
scatter on the centralities."""
from scripts.warm import hand_over

hand_over(globals())  # a warm run's job: a fork of the warm process runs it, and this process exits here

from pathlib import Path
from typing import Any

import pandas as pd

from scripts.common import read_results, run_rule
from scripts.registry import MEASURES
from scripts.render import city_labels, write_all
from scripts.report import coefficient_long, plot_scatter, regression_cells, table_notes
from scripts.resilience_report import plot_measure_map


def main(smk: Any) -> None:
    """Regression table in four formats and the two figures."""
    import geopandas as gpd

    p = smk.params
    models = read_results(smk.input.models, p.main_table)      # the columns in report.main_table's order
    title = "Resilience and network centrality" + (" (synthetic demo)" if p.demo else "")
    table, notes = regression_cells(models), table_notes(models, p.demo)
    long = coefficient_long(models).sort_values(["model", "term"], kind="mergesort")
    write_all(table, Path(smk.output.markdown).with_suffix(""), title, notes, csv=long)
    resilience = pd.read_parquet(smk.input.resilience)
    resilience = resilience[resilience["outcome"] == p.outcome]
    headline, measure = p.headline_measure, MEASURES[p.headline_measure]
    values = resilience[resilience["measure"] == headline].set_index("city_code")["value"]
    cities = gpd.read_parquet(smk.input.cities)
    plot_measure_map(cities, values, headline, smk.output.map,
                     ("DEMO (synthetic): " if p.demo else "") + measure.text(headline, "title"),
                     city_labels(cities, p.city_names), p.city_names["label_cities"])
    plot_scatter(pd.read_parquet(smk.input.design), p.centralities, headline, smk.output.scatter, p.demo)


if "snakemake" in globals():
    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
