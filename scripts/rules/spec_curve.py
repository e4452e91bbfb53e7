"""Rule ``spec_curve``: every model's centrality coefficients in one table (tables/spec_curve.csv), and the units
each model left out, with names and reasons (tables/model_attrition.*)."""
from scripts.warm import hand_over

hand_over(globals())  # a warm run's job: a fork of the warm process runs it, and this process exits here

import json
from pathlib import Path
from typing import Any

import pandas as pd

from scripts.common import run_rule, write_table
from scripts.render import write_all
from scripts.spec_curve import ATTRITION_COLUMNS, attrition_display, attrition_rows, curve_rows


def main(smk: Any) -> None:
    """Collect all model JSONs into tables/spec_curve.csv and tables/model_attrition.*."""
    cities = pd.read_parquet(smk.input.cities, columns=["city_code", "name_en", "name_zh", "province_zh"])
    reasons = pd.concat([pd.read_csv(smk.input.attrition_resilience, dtype={"city_code": str}).assign(shock="none"),
                         pd.read_csv(smk.input.attrition_shocks, dtype={"city_code": str})], ignore_index=True)
    curve, lost = [], []
    for path in smk.input.models:
        model = json.loads(Path(path).read_text(encoding="utf-8"))
        curve += curve_rows(model, smk.params.aliases)
        lost += attrition_rows(model, cities, reasons)
    write_table(pd.DataFrame(curve), smk.output.table, ["model", "term"])
    lost_table = pd.DataFrame(lost, columns=ATTRITION_COLUMNS)
    demo = "DEMO (synthetic): " if smk.params.demo else ""
    write_all(attrition_display(lost_table), Path(smk.output.attrition).with_suffix(""),
              f"{demo}Units left out of each model, by reason",
              ["N: the model's estimation sample. Every unit of the geography not in it is listed once per model; "
               "model_attrition.csv has one row per model and unit (city_code, names, province, reason)."],
              csv=lost_table)


if "snakemake" in globals():
    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
