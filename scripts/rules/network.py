"""Rule ``network``: one network's edge list per year and its attrition table."""
from scripts.warm import hand_over

hand_over(globals())  # a warm run's job: a fork of the warm process runs it, and this process exits here

from pathlib import Path
from typing import Any

import pandas as pd

from scripts.common import LOG, run_rule, write_table
from scripts.crosswalk import load_crosswalks
from scripts.network import build_network, tied_nodes


def main(smk: Any) -> None:
    """Build one network's edges from the panel (gravity) or its files (flows, edges)."""
    import geopandas as gpd

    name = smk.wildcards.net
    edges, attrition = build_network(smk.params.network, name, pd.read_parquet(smk.input.panel),
                                     gpd.read_parquet(smk.input.cities), load_crosswalks(list(smk.input.crosswalk)),
                                     [Path(p) for p in smk.input.files])
    for year, group in edges.groupby("year", sort=True):
        LOG.info("%s %s: %d nodes, %d ties", name, year, len(tied_nodes(group)), len(group))
    for row in attrition.itertuples(index=False):
        LOG.info("attrition: %s", " | ".join(str(v) for v in row))
    write_table(edges, smk.output.edges, ["year", "source", "target"])
    attrition.to_csv(smk.output.attrition, index=False, lineterminator="\n")


if "snakemake" in globals():
    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
