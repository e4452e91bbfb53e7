"""Rule ``moran``: Moran's I of the resilience measures and the centralities under one weights matrix."""
from typing import Any

import pandas as pd

from scripts.common import run_rule, write_table
from scripts.moran import analysis_variables, moran_table


def main(smk: Any) -> None:
    """Moran's I table for one weights matrix."""
    import geopandas as gpd

    p = smk.params
    values = analysis_variables(pd.read_parquet(smk.input.resilience), pd.read_parquet(smk.input.centrality), p.models)
    cities = gpd.read_parquet(smk.input.cities)[["city_code", "lon", "lat"]]
    table = moran_table(values, pd.read_parquet(smk.input.weights), cities, p.weights, smk.wildcards.w,
                        p.permutations, p.seed)
    write_table(table, smk.output.moran, ["variable"])


if "snakemake" in globals():
    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
