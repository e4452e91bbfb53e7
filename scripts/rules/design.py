"""Rule ``design``: the design table of the default model settings, for figures and descriptives.

Columns: city_code, every resilience measure of models.outcome, the centrality aliases (raw), the controls.
"""
from typing import Any

import pandas as pd

from scripts.common import LOG, run_rule
from scripts.estimation.design import design_table


def main(smk: Any) -> None:
    """Write models/design.parquet."""
    models = smk.params.models
    design = design_table(pd.read_parquet(smk.input.resilience), pd.read_parquet(smk.input.centrality),
                          pd.read_parquet(smk.input.panel), models["outcome"], models["centrality_year"],
                          models["centralities"], models["controls"])
    LOG.info("design: %d cities, complete cases per column %s", len(design), design.notna().sum().to_dict())
    design.reset_index().to_parquet(smk.output.design, index=False)


if "snakemake" in globals():
    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
