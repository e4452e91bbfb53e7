"""Rule ``network_report``: combined diagnostics, centrality correlations across networks, links maps."""
from scripts.warm import hand_over

hand_over(globals())  # a warm run's job: a fork of the warm process runs it, and this process exits here

from typing import Any

import pandas as pd

from scripts.common import run_rule, write_table
from scripts.network_report import comparison_year, correlation_long, headline_wide, plot_heatmap, plot_links


def main(smk: Any) -> None:
    """Combined diagnostics, correlation table and heatmap, links maps."""
    import geopandas as gpd

    p = smk.params
    names = p.networks
    demo = "DEMO (synthetic): " if p.demo else ""
    diagnostics = pd.concat([pd.read_csv(path).assign(network=n) for n, path in zip(names, smk.input.diagnostics)])
    write_table(diagnostics[["network", *[c for c in diagnostics if c != "network"]]], smk.output.diagnostics,
                ["network", "year"])
    centrality = {n: pd.read_parquet(path) for n, path in zip(names, smk.input.centrality)}
    corr = correlation_long(headline_wide(centrality, p.centralities, p.centrality_year))
    write_table(corr, smk.output.correlation, ["a", "b"])
    plot_heatmap(corr, smk.output.heatmap, f"{demo}Spearman correlation of centralities across networks")
    cities = gpd.read_parquet(smk.input.cities)
    for net, edges_path, out in zip(names, smk.input.edges, smk.output.links):
        edges = pd.read_parquet(edges_path)
        year = comparison_year(edges["year"].to_numpy(), p.centrality_year)
        plot_links(cities, edges, year, p.top_links, out, f"{demo}{net}: {p.top_links} strongest ties, {year}")


if "snakemake" in globals():
    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
