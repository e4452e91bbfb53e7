"""Rule ``report``: regression table (every format) of the main specs."""
from scripts.warm import hand_over

hand_over(globals())  # a warm run's job: a fork of the warm process runs it, and this process exits here

from pathlib import Path
from typing import Any

from scripts.common import read_results, run_rule
from scripts.render import write_all
from scripts.report import coefficient_long, regression_cells, table_notes


def main(smk: Any) -> None:
    """Regression table in four formats (the CSV in long form: one row per model and term)."""
    p = smk.params
    models = read_results(smk.input.models, p.main_table)      # the columns in report.main_table's order
    title = "Resilience and network centrality" + (" (synthetic demo)" if p.demo else "")
    table, notes = regression_cells(models), table_notes(models, p.demo)
    long = coefficient_long(models).sort_values(["model", "term"], kind="mergesort")
    write_all(table, Path(smk.output.markdown).with_suffix(""), title, notes, csv=long)

if "snakemake" in globals():
    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
