"""Rule ``quality_report``: the tables and the map of the data-quality flags."""
from scripts.warm import hand_over

hand_over(globals())  # a warm run's job: a fork of the warm process runs it, and this process exits here

from pathlib import Path
from typing import Any

import pandas as pd

from scripts.common import run_rule
from scripts.quality import counts_table, flag_map, window_table
from scripts.render import write_all


def main(smk: Any) -> None:
    """Tables of flag counts and of the outcome's flags in the resilience window; map of the flagged cities."""
    import geopandas as gpd

    p = smk.params
    flags = pd.read_csv(smk.input.flags, dtype={"city_code": str})
    outcome, window, settings = p.outcome, tuple(p.window), p.thresholds
    demo = "DEMO (synthetic): " if p.demo else ""
    notes = [f"Jump: |robust z| > {settings['city_z']} against the city's own log changes and > "
             f"{settings['province_z']} against its province's that year (Iglewicz & Hoaglin 1993); scales floored at "
             f"{settings['min_scale']}.", "Every flagged row with its reason: quality_flags.csv."]
    write_all(counts_table(flags, p.variables), Path(smk.output.counts).with_suffix(""),
              f"{demo}Data-quality flags by variable", notes)
    cities = gpd.read_parquet(smk.input.cities)
    screening = pd.read_parquet(smk.input.screening)
    write_all(window_table(flags, cities, outcome, window, screening), Path(smk.output.window).with_suffix(""),
              f"{demo}Flags on {outcome}, {window[0]}–{window[1]} (cities left out by `sample: unflagged`)",
              [*notes, "Screened shock: the year is also a significant fall below the city's own rolling trend "
                       "(resilience_screening.parquet), so the flag may mark a real shock rather than a data error."])
    flag_map(cities, flags, outcome, window, Path(smk.output.map).with_suffix(""),
             f"{demo}{outcome}: cities with a jump or territorial change flagged in {window[0]}–{window[1]}")


if "snakemake" in globals():
    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
