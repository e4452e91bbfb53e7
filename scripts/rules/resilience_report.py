"""Rule ``resilience_report``: ranking tables with rank intervals, trajectories against the counterfactual, the
composite's rank intervals and weight sensitivity, and the screened shock years (the maps: rule resilience_maps)."""
from scripts.warm import hand_over

hand_over(globals())  # a warm run's job: a fork of the warm process runs it, and this process exits here

from pathlib import Path
from typing import Any

import pandas as pd

from scripts.common import run_rule, write_table
from scripts.render import city_labels, write_all
from scripts.resilience_report import (
    plot_rank_intervals,
    plot_trajectories,
    plot_weight_sensitivity,
    ranking,
    ranking_extremes,
    screening_counts,
    screening_table,
    trajectory_cities,
    weights_table,
)


def main(smk: Any) -> None:
    """Ranking tables, rank intervals, weight sensitivity, screening table, trajectory plot."""
    import geopandas as gpd

    p = smk.params
    spec, headline = p.resilience, p.headline_measure
    report, outcome = spec.get("report", {}), p.outcome
    demo = "DEMO (synthetic): " if p.demo else ""
    table = pd.read_parquet(smk.input.resilience)
    every = pd.concat([table.assign(shock=p.main_shock), pd.read_parquet(smk.input.shocks)], ignore_index=True)
    intervals = pd.read_parquet(smk.input.ranks)
    cities = gpd.read_parquet(smk.input.cities)
    ranks = ranking(every, cities, intervals)
    write_table(ranks, smk.output.ranking, ["shock", "outcome", "measure", "rank"])
    k_note = (f"Rank 95%: 2.5–97.5 % of the city's ranks over the bootstrap draws; P(top k), P(bottom k): share of "
              f"draws ranking it among the {p.top_share:.0%} most (least) resilient cities (k in resilience_ranking.csv)."
              if len(intervals) else "")
    write_all(ranking_extremes(ranks, p.main_shock, outcome, p.extremes), Path(smk.output.ranking_md).with_suffix(""),
              f"{demo}Most and least resilient cities, {p.main_shock}, outcome {outcome} (rank 1 = most resilient)",
              [k_note, "Full ranking of every shock, outcome and measure: resilience_ranking.csv."])
    plot_rank_intervals(intervals, outcome, "composite", smk.output.rank_intervals,
                        f"{demo}{outcome}: composite resilience rank with its 95 % bootstrap interval")
    sensitivity = pd.read_parquet(smk.input.sensitivity)
    write_all(weights_table(sensitivity, outcome), Path(smk.output.weights_md).with_suffix(""),
              f"{demo}Composite resilience ranking of {outcome} under other component weights",
              ["Spearman ρ and top-k kept: against the ranking with the configured weights (resilience.profile.weights)"
               "; random: mean over weight vectors drawn uniformly on the simplex.", "Cities with every component."],
              csv=sensitivity)
    plot_weight_sensitivity(sensitivity, outcome, smk.output.weights_figure,
                            f"{demo}{outcome}: composite ranking under other weights")
    counts = screening_counts(pd.read_parquet(smk.input.screening))
    write_all(screening_table(counts), Path(smk.output.screening_md).with_suffix(""),
              f"{demo}Cities whose own rolling trend screens the year as a shock (screened / with data)",
              ["A fall below the city's trend over the years before, one-sided p < resilience.profile.screening.alpha "
               "(scripts/resilience_profile.py screen); every city-year: resilience_screening.parquet."], csv=counts)
    names = city_labels(cities, p.city_names)
    codes = trajectory_cities(table, outcome, report.get("trajectory_cities", []), report.get("n_extreme", 5),
                              headline)
    paths = pd.read_parquet(smk.input.paths)
    plot_trajectories(paths[paths["outcome"] == outcome], names, codes, spec["shock_year"], smk.output.trajectories,
                      f"{demo}{outcome}: actual (dots) vs {spec['counterfactual']} counterfactual (95% band)")


if "snakemake" in globals():
    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
