"""Rule ``weights``: every spatial weights matrix of the config (raw, long) and its summary, in one process."""
from scripts.warm import hand_over

hand_over(globals())  # a warm run's job: a fork of the warm process runs it, and this process exits here

from typing import Any

import pandas as pd

from scripts.common import LOG, run_rule, write_json, write_table
from scripts.weights import build_weights


def main(smk: Any) -> None:
    """Each weights matrix and its summary (outputs in the order of config ``weights``)."""
    import geopandas as gpd

    cities, panel = gpd.read_parquet(smk.input.cities), pd.read_parquet(smk.input.panel)
    for name, weights_path, summary_path in zip(smk.params.weights, smk.output.weights, smk.output.summary):
        table, summary = build_weights(name, smk.params.weights, cities, panel)
        LOG.info("%s: %s", name, {k: v for k, v in summary.items() if not isinstance(v, (list, dict))})
        write_table(table, weights_path, ["focal", "neighbor"])
        write_json(summary, summary_path)


if "snakemake" in globals():
    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
