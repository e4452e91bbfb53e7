"""Rule ``quality``: data-quality flags, their summary, and the analysis panel later stages read."""
from scripts.warm import hand_over

hand_over(globals())  # a warm run's job: a fork of the warm process runs it, and this process exits here

from typing import Any

import pandas as pd

from scripts.common import LOG, run_rule, write_json, write_table
from scripts.crosswalk import load_crosswalks
from scripts.quality import analysis_panel, flagged_cities, quality_flags


def main(smk: Any) -> None:
    """Flags table and summary; the analysis panel (flagged city-years of the outcomes masked when exclude_flagged
    is on)."""
    p = smk.params
    settings = p.thresholds
    panel = pd.read_parquet(smk.input.panel)
    crosswalk = load_crosswalks(list(smk.input.crosswalk))
    consistency = pd.read_csv(smk.input.consistency, dtype={"city_code": str})
    flags = quality_flags(panel, crosswalk, p.variables, settings, consistency)
    write_table(flags, smk.output.flags, ["city_code", "year", "variable", "flag"])
    for kind, count in flags["flag"].value_counts().sort_index().items():
        LOG.info("flags: %d %s", count, kind)
    analysis, masked = analysis_panel(panel, flags, p.masked, p.exclude_flagged)
    if masked:
        LOG.info("analysis panel: flagged city-years of %s set to missing", masked)
    else:
        LOG.info("analysis panel: the panel unchanged (quality.exclude_flagged is off)")
    write_table(analysis, smk.output.analysis_panel, ["city_code", "year"])
    outcome, window = p.outcome, tuple(p.window)
    excluded = flagged_cities(flags, outcome, window)
    LOG.info("unflagged samples leave out %d cities flagged on %s in %s–%s", len(excluded), outcome, *window)
    write_json({"thresholds": settings,
                "flags_by_kind": {k: int(v) for k, v in flags["flag"].value_counts().sort_index().items()},
                "cities_flagged": int(flags["city_code"].nunique()), "outcome": outcome, "window": list(window),
                "cities_left_out_by_unflagged_samples": excluded}, smk.output.summary)


if "snakemake" in globals():
    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
