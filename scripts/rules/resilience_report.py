"""Rule ``resilience_report``: ranking tables, one map per measure, trajectories against the counterfactual."""
from pathlib import Path
from typing import Any

import pandas as pd

from scripts.common import run_rule, write_table
from scripts.registry import MEASURES
from scripts.render import city_labels, write_all
from scripts.resilience_report import (
    plot_measure_map,
    plot_trajectories,
    ranking,
    ranking_extremes,
    trajectory_cities,
)


def main(smk: Any) -> None:
    """Ranking tables, maps per measure, trajectory plot."""
    import geopandas as gpd

    p = smk.params
    spec, headline = p.resilience, p.headline_measure
    report = spec.get("report", {})
    outcome = report.get("outcome", spec["outcomes"][0])
    demo = "DEMO (synthetic): " if p.demo else ""
    table = pd.read_parquet(smk.input.resilience)
    cities = gpd.read_parquet(smk.input.cities)
    ranks = ranking(table, cities)
    write_table(ranks, smk.output.ranking, ["outcome", "measure", "rank"])
    write_all(ranking_extremes(ranks, outcome, p.extremes), Path(smk.output.ranking_md).with_suffix(""),
              f"{demo}Most and least resilient cities, outcome {outcome} (rank 1 = most resilient)",
              ["Full ranking of every outcome and measure: resilience_ranking.csv."])
    names = city_labels(cities, p.city_names)
    n_labels = p.city_names["label_cities"]
    label_of = {m: spec["shift_share"]["label"] if MEASURES[m].outcome == "shift_share" else outcome
                for m in spec["measures"]}
    for measure, path in zip(spec["measures"], smk.output.maps):
        values = table[(table["outcome"] == label_of[measure]) & (table["measure"] == measure)]
        plot_measure_map(cities, values.set_index("city_code")["value"], measure, path,
                         f"{demo}{measure} ({label_of[measure]}, shock {spec['shock_year']})", names, n_labels)
    codes = trajectory_cities(table, outcome, report.get("trajectory_cities", []), report.get("n_extreme", 5),
                              headline)
    paths = pd.read_parquet(smk.input.paths)
    plot_trajectories(paths[paths["outcome"] == outcome], names, codes, spec["shock_year"], smk.output.trajectories,
                      f"{demo}{outcome}: actual (dots) vs {spec['counterfactual']} counterfactual (95% band)")


if "snakemake" in globals():
    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
