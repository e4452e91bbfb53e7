"""Rule ``figures``: coefficient plot, specification curve and event study (when a spec fits one), PNG + PDF."""
from scripts.warm import hand_over

hand_over(globals())  # a warm run's job: a fork of the warm process runs it, and this process exits here

import json
from pathlib import Path
from typing import Any

import pandas as pd

from scripts.common import read_results, run_rule
from scripts.figures import coefficient_plot, event_study_plot, spec_curve_plot
from scripts.registry import ESTIMATORS

CROSS_SECTION = [name for name, e in ESTIMATORS.items() if e.family in ("cross_section", "spatial")]


def main(smk: Any) -> None:
    """The figures of the models."""
    p = smk.params
    models = p.models
    aliases = list(models["centralities"])
    demo = "DEMO (synthetic): " if p.demo else ""
    table_models = read_results(smk.input.table_models, p.main_table)
    coefficient_plot(table_models, aliases, Path(smk.output.coefficients).with_suffix(""),
                     f"{demo}Centrality coefficients of the main specifications")
    curve = pd.read_csv(smk.input.spec_curve)
    curve = curve[curve["estimator"].isin(CROSS_SECTION)]
    spec_curve_plot(curve, aliases, Path(smk.output.spec_curve).with_suffix(""), f"{demo}Specification curve")
    if "event_study" in smk.input.keys():        # no event-study spec, no event-study figure
        event = json.loads(Path(smk.input.event_study).read_text(encoding="utf-8"))
        event_study_plot(event, aliases, models["centrality_year"], Path(smk.output.event_study).with_suffix(""),
                         f"{demo}Event study: growth by pre-shock centrality, city and year FE")

if "snakemake" in globals():
    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
