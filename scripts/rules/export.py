"""Rule ``export``: panel, design and resilience measures as Stata .dta and Parquet with a codebook, and the
codebook of every table in tables/ (scripts/export.py)."""
from scripts.warm import hand_over

hand_over(globals())  # a warm run's job: a fork of the warm process runs it, and this process exits here

from pathlib import Path
from typing import Any

import pandas as pd

from scripts.common import LOG, run_rule, write_json, write_table
from scripts.export import codebook_rows, design_entries, variable_entries, write_stata


def main(smk: Any) -> None:
    """Write export/{panel,design,resilience}.{dta,parquet}, export/codebook.{csv,json}, tables/codebook.csv."""
    p = smk.params
    variables = variable_entries(p.variables, p.derived)
    frames = {"panel": (pd.read_parquet(smk.input.panel), variables, "City × year panel"),
              "design": (pd.read_parquet(smk.input.design), design_entries(p.models, variables),
                         f"Model design of {p.models['outcome']}: one row per city"),
              "resilience": (pd.concat([pd.read_parquet(smk.input.resilience).assign(shock=p.main_shock),
                                        pd.read_parquet(smk.input.shocks)], ignore_index=True),
                             {}, "Resilience measures by shock, outcome, measure and city")}
    codebook = []
    for (name, (frame, entries, title)), stata, parquet in zip(frames.items(), smk.output.stata, smk.output.parquet):
        rows = codebook_rows(f"{name}.dta / {name}.parquet", frame, entries)
        codebook += rows
        write_stata(frame, stata, {row["column"]: row["label"] for row in rows}, title)
        frame.to_parquet(parquet, index=False)
        LOG.info("export: %s, %d rows × %d columns", name, *frame.shape)
    table = pd.DataFrame(codebook)
    table.to_csv(smk.output.codebook, index=False, lineterminator="\n")
    write_json(codebook, smk.output.codebook_json)
    tables = []
    for path in sorted(smk.input.tables):
        tables += codebook_rows(Path(path).name, pd.read_csv(path, nrows=0), variables)
    write_table(pd.DataFrame(tables), smk.output.tables_codebook, ["file"])
    LOG.info("codebook: %d exported columns, %d table columns", len(codebook), len(tables))


if "snakemake" in globals():
    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
