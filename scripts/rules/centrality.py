"""Rule ``centrality``: centralities (long) and diagnostics of one network, every year."""
from scripts.warm import hand_over

hand_over(globals())  # a warm run's job: a fork of the warm process runs it, and this process exits here

from typing import Any

import pandas as pd

from scripts.centrality import centrality_table
from scripts.common import LOG, run_rule, write_table


def main(smk: Any) -> None:
    """Centralities and diagnostics of one network."""
    spec, settings = smk.params.network, smk.params.centrality
    if settings.get("engine") == "networkit":
        import networkit as nk

        nk.setNumberOfThreads(smk.threads)   # the rule's declared threads (default OpenMP would take every core)
    edges = pd.read_parquet(smk.input.edges)
    table, summary = centrality_table(edges, spec, settings)
    LOG.info("%s: %d measures for %d cities in %d years (engine %s)", smk.wildcards.net, table["measure"].nunique(),
             table["city_code"].nunique(), table["year"].nunique(), settings.get("engine", "igraph"))
    write_table(table, smk.output.centrality, ["city_code", "year", "measure"])
    write_table(summary, smk.output.diagnostics, ["year"])


if "snakemake" in globals():
    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
