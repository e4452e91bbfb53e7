"""Rule ``moran``: Moran's I of the resilience measures and the centralities under every weights matrix."""
from scripts.warm import hand_over

hand_over(globals())  # a warm run's job: a fork of the warm process runs it, and this process exits here

from typing import Any

import pandas as pd

from scripts.common import run_rule, write_table
from scripts.moran import analysis_variables, moran_table


def main(smk: Any) -> None:
    """One Moran's I table per weights matrix (outputs in the order of config ``weights``)."""
    import geopandas as gpd

    p = smk.params
    values = analysis_variables(pd.read_parquet(smk.input.resilience), pd.read_parquet(smk.input.centrality), p.models)
    cities = gpd.read_parquet(smk.input.cities)[["city_code", "lon", "lat"]]
    for name, weights_path, moran_path in zip(p.weights, smk.input.weights, smk.output.moran):
        table = moran_table(values, pd.read_parquet(weights_path), cities, p.weights[name], name, p.permutations,
                            p.seed)
        write_table(table, moran_path, ["variable"])


if "snakemake" in globals():
    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
