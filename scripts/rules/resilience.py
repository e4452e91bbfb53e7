"""Rule ``resilience``: measures, attrition and counterfactual paths per outcome, the named further shocks, the
resilience profile (rank probabilities, weight sensitivity, screening) and the placebo shock years."""
from scripts.warm import hand_over

hand_over(globals())  # a warm run's job: a fork of the warm process runs it, and this process exits here

from typing import Any

import pandas as pd

from scripts.common import LOG, run_rule, write_table
from scripts.resilience import (
    ATTRITION_COLUMNS,
    OUTPUT_COLUMNS,
    gap_paths,
    placebo_tables,
    shock_specs,
    shock_tables,
    stacked,
)
from scripts.resilience_profile import RANK_COLUMNS, SCREENING_COLUMNS, SENSITIVITY_COLUMNS, screen


def main(smk: Any) -> None:
    """Every shock's measures from the analysis panel; the placebo measures the model specs ask for."""
    p = smk.params
    panel = pd.read_parquet(smk.input.panel)
    tables = shock_tables(panel, p.resilience, p.years, p.seed)
    main_shock = tables.pop(p.resilience["name"])
    table, dropped = main_shock.measures, main_shock.attrition
    for (outcome, measure), group in table.groupby(["outcome", "measure"], sort=True):
        lost = dropped[(dropped["outcome"] == outcome) & (dropped["measure"] == measure)]
        LOG.info("%s / %s: %d cities, %d left out%s", outcome, measure, group["value"].notna().sum(), len(lost),
                 f" (e.g. {lost['city_code'].iloc[0]}: {lost['reason'].iloc[0]})" if len(lost) else "")
    write_table(table, smk.output.resilience, ["outcome", "measure", "city_code"])
    write_table(dropped, smk.output.attrition, ["outcome", "measure", "city_code"])
    write_table(main_shock.paths, smk.output.paths, ["outcome", "city_code", "year"])
    LOG.info("named shocks: %s", sorted(tables) or "none")
    write_table(stacked(tables, "measures", OUTPUT_COLUMNS), smk.output.shocks, ["shock", "outcome", "measure",
                                                                                  "city_code"])
    write_table(stacked(tables, "attrition", ATTRITION_COLUMNS), smk.output.shocks_attrition,
                ["shock", "outcome", "measure", "city_code"])
    every = {p.resilience["name"]: main_shock, **tables}
    shock_year = {name: spec["shock_year"] for name, spec in shock_specs(p.resilience).items()}
    gaps = pd.concat([gap_paths(t.paths, name, shock_year[name]) for name, t in every.items()],
                     ignore_index=True)
    write_table(gaps, smk.output.gaps, ["shock", "outcome", "city_code", "year"])
    write_table(stacked(every, "ranks", RANK_COLUMNS), smk.output.ranks, ["shock", "outcome", "measure", "city_code"])
    write_table(stacked(every, "sensitivity", SENSITIVITY_COLUMNS), smk.output.sensitivity,
                ["shock", "outcome", "weight_set"])
    screening = p.resilience.get("profile", {}).get("screening")
    found = [screen(panel, outcome, screening) for outcome in p.resilience["outcomes"]] if screening else []
    found = pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=SCREENING_COLUMNS)
    LOG.info("screening: %d of %d city-years below their own rolling trend", found["shock"].sum(), len(found))
    write_table(found, smk.output.screening, ["outcome", "city_code", "year"])
    placebo = placebo_tables(panel, p.resilience, p.placebo, p.years, p.seed)
    LOG.info("placebo shock years: %s", [item["shock_year"] for item in p.placebo] or "none")
    write_table(placebo, smk.output.placebo, ["shock_year", "outcome", "measure", "city_code"])


if "snakemake" in globals():
    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
