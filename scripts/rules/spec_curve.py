"""Rule ``spec_curve``: every model's centrality coefficients in one table (tables/spec_curve.csv)."""
import json
from pathlib import Path
from typing import Any

import pandas as pd

from scripts.common import run_rule, write_table
from scripts.spec_curve import curve_rows


def main(smk: Any) -> None:
    """Collect all model JSONs into tables/spec_curve.csv."""
    rows = []
    for path in smk.input.models:
        rows += curve_rows(json.loads(Path(path).read_text(encoding="utf-8")), smk.params.aliases)
    write_table(pd.DataFrame(rows), smk.output.table, ["model", "term"])


if "snakemake" in globals():
    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
