"""Rule ``weights``: one spatial weights matrix (raw, long) and its summary."""
from typing import Any

import pandas as pd

from scripts.common import LOG, run_rule, write_json, write_table
from scripts.weights import build_weights


def main(smk: Any) -> None:
    """One weights matrix and its summary."""
    import geopandas as gpd

    name = smk.wildcards.w
    table, summary = build_weights(name, smk.params.weights, gpd.read_parquet(smk.input.cities),
                                   pd.read_parquet(smk.input.panel))
    LOG.info("%s: %s", name, {k: v for k, v in summary.items() if not isinstance(v, (list, dict))})
    write_table(table, smk.output.weights, ["focal", "neighbor"])
    write_json(summary, smk.output.summary)


if "snakemake" in globals():
    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
