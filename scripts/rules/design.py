"""Rule ``design``: the design table of the default model settings, for figures and descriptives.

Columns: city_code, every resilience measure of models.outcome, the centrality aliases (raw), the controls and the
moderators of models.moderators (transformed, named by the moderator), so the descriptives cover every model
variable.
"""
from scripts.warm import hand_over

hand_over(globals())  # a warm run's job: a fork of the warm process runs it, and this process exits here

from typing import Any

import pandas as pd

from scripts.common import LOG, run_rule
from scripts.estimation.design import design_table, moderator_values


def main(smk: Any) -> None:
    """Write models/design.parquet."""
    models = smk.params.models
    panel = pd.read_parquet(smk.input.panel)
    design = design_table(pd.read_parquet(smk.input.resilience), pd.read_parquet(smk.input.centrality),
                          panel, models["outcome"], models["centrality_year"],
                          models["centralities"], models["controls"])
    networks = {net: pd.read_parquet(path) for net, path in zip(smk.params.moderator_networks,
                                                                 smk.input.moderator_networks)}
    for name, moderator in models.get("moderators", {}).items():
        design[name] = moderator_values(panel, moderator, networks).reindex(design.index)
    LOG.info("design: %d cities, complete cases per column %s", len(design), design.notna().sum().to_dict())
    design.reset_index().to_parquet(smk.output.design, index=False)


if "snakemake" in globals():
    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
