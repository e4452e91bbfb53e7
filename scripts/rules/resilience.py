"""Rule ``resilience``: measures, attrition and counterfactual paths per outcome, the placebo shock years and the
named further shocks."""
from typing import Any

import pandas as pd

from scripts.common import LOG, run_rule, write_table
from scripts.resilience import gap_paths, named_shock_tables, placebo_tables, resilience_tables


def main(smk: Any) -> None:
    """Measures, attrition and paths from the analysis panel; the placebo measures the model specs ask for."""
    p = smk.params
    panel = pd.read_parquet(smk.input.panel)
    table, dropped, paths = resilience_tables(panel, p.resilience, p.years, p.seed)
    for (outcome, measure), group in table.groupby(["outcome", "measure"], sort=True):
        lost = dropped[(dropped["outcome"] == outcome) & (dropped["measure"] == measure)]
        LOG.info("%s / %s: %d cities, %d left out%s", outcome, measure, group["value"].notna().sum(), len(lost),
                 f" (e.g. {lost['city_code'].iloc[0]}: {lost['reason'].iloc[0]})" if len(lost) else "")
    write_table(table, smk.output.resilience, ["outcome", "measure", "city_code"])
    write_table(dropped, smk.output.attrition, ["outcome", "measure", "city_code"])
    write_table(paths, smk.output.paths, ["outcome", "city_code", "year"])
    placebo = placebo_tables(panel, p.resilience, p.placebo, p.years, p.seed)
    LOG.info("placebo shock years: %s", [item["shock_year"] for item in p.placebo] or "none")
    write_table(placebo, smk.output.placebo, ["shock_year", "outcome", "measure", "city_code"])
    shocks, lost, named_gaps = named_shock_tables(panel, p.resilience, p.years, p.seed)
    LOG.info("named shocks: %s", sorted(p.resilience.get("shocks", {})) or "none")
    write_table(shocks, smk.output.shocks, ["shock", "outcome", "measure", "city_code"])
    write_table(lost, smk.output.shocks_attrition, ["shock", "outcome", "measure", "city_code"])
    gaps = pd.concat([gap_paths(paths, p.resilience["name"], p.resilience["shock_year"]), named_gaps],
                     ignore_index=True)
    write_table(gaps, smk.output.gaps, ["shock", "outcome", "city_code", "year"])


if "snakemake" in globals():
    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
