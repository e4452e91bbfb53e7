"""Specification-curve data: every model's centrality coefficients (and their interactions) in one table.

One row per spec × term whose name starts with a centrality alias (dc, dc_x_post, dc_x_2020, W_dc …), with the
spec's attributes, so a figure or a referee can sort estimates across networks, weights, measures and estimators.
"""
import json
from pathlib import Path
from typing import Any

import pandas as pd

from scripts.common import write_table

SPEC_COLUMNS = ["group", "estimator", "measure", "network", "weights", "cov", "centralities", "sample", "moderator",
                "shock_year"]


def curve_rows(model: dict[str, Any], aliases: list[str]) -> list[dict[str, Any]]:
    """Rows for one model result."""
    spec = model["spec"]
    base = {"model": model["model"], **{k: spec.get(k) for k in SPEC_COLUMNS}, "n": model["n"]}
    rows = []
    for coefficient in model["coefficients"]:
        term = coefficient["term"]
        stem = term[2:] if term.startswith("W_") else term
        if any(stem == a or stem.startswith(f"{a}_x_") for a in aliases):
            rows.append({**base, **{k: coefficient[k] for k in ("term", "estimate", "se", "p_value", "ci_low", "ci_high")}})
    return rows


def main(smk: Any) -> None:
    """Snakemake entry: collect all model JSONs into tables/spec_curve.csv."""
    rows = []
    for path in smk.input.models:
        rows += curve_rows(json.loads(Path(path).read_text(encoding="utf-8")), smk.params.aliases)
    write_table(pd.DataFrame(rows), smk.output.table, ["model", "term"])


if "snakemake" in globals():
    from scripts.common import run_rule

    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
