"""Rule ``tables``: impacts, descriptives, centrality correlation matrix and attrition summary, every format."""
from scripts.warm import hand_over

hand_over(globals())  # a warm run's job: a fork of the warm process runs it, and this process exits here

import json
from pathlib import Path
from typing import Any

import pandas as pd

from scripts.common import run_rule
from scripts.render import write_all
from scripts.tables import attrition_summary, correlation_matrix, descriptives, impacts_table


def main(smk: Any) -> None:
    """The four table families."""
    demo = ["SYNTHETIC DEMO DATA."] if smk.params.demo else []
    models = [json.loads(Path(p).read_text(encoding="utf-8")) for p in smk.input.impact_models]
    table, long = impacts_table(models, smk.params.aliases)
    notes = [*demo, "Impacts of a 1-SD change (LeSage & Pace 2009): exact from W's eigenvalues; SE from 1,000 "
             "simulated parameter draws. * p<0.10, ** p<0.05, *** p<0.01."]
    write_all(table, Path(smk.output.impacts).with_suffix(""), "Direct, indirect and total impacts", notes, csv=long)
    design = pd.read_parquet(smk.input.design)
    write_all(descriptives(design), Path(smk.output.descriptives).with_suffix(""),
              "Descriptive statistics of the model variables", [*demo, "Centralities unstandardised."])
    correlation = pd.read_csv(smk.input.correlation)
    write_all(correlation_matrix(correlation), Path(smk.output.correlation).with_suffix(""),
              "Spearman correlation of centralities across networks", demo, csv=correlation)
    summary = attrition_summary(pd.read_csv(smk.input.attrition, dtype={"units": str}),
                                pd.read_csv(smk.input.attrition_resilience, dtype={"city_code": str}))
    write_all(summary, Path(smk.output.attrition).with_suffix(""), "Attrition: source joins and resilience "
              "exclusions", [*demo, "Unit lists and reasons per unit: attrition.csv and attrition_resilience.csv."])


if "snakemake" in globals():
    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
