"""Design table of the default model settings (models.outcome, network, centralities, controls), for figures.

Columns: city_code, every resilience measure of the outcome, the centrality aliases (raw), the controls.
"""
from typing import Any

import pandas as pd

from scripts.models import design_table


def main(smk: Any) -> None:
    """Snakemake entry: write models/design.parquet."""
    models = smk.config["models"]
    design = design_table(pd.read_parquet(smk.input.resilience), pd.read_parquet(smk.input.centrality),
                          pd.read_parquet(smk.input.panel), models["outcome"], models["centrality_year"],
                          models["centralities"], models["controls"])
    design.reset_index().to_parquet(smk.output.design, index=False)


if "snakemake" in globals():
    from scripts.common import run_rule

    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
