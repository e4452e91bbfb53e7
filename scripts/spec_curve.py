"""Specification-curve data: every model's centrality coefficients (and their interactions) in one table.

One row per spec × term whose name starts with a centrality alias (dc, dc_x_post, dc_x_2020, W_dc …), with the
spec's attributes, so a figure or a referee can sort estimates across networks, weights, measures and estimators.
"""
from typing import Any

SPEC_COLUMNS = ["group", "estimator", "measure", "network", "weights", "cov", "centralities", "sample", "moderator",
                "shock_year"]


def curve_rows(model: dict[str, Any], aliases: list[str]) -> list[dict[str, Any]]:
    """Rows for one model result."""
    spec = model["spec"]
    base = {"model": model["model"], **{k: spec.get(k) for k in SPEC_COLUMNS}, "n": model["n"]}
    rows = []
    for coefficient in model["coefficients"]:
        term = coefficient["term"]
        stem = term.removeprefix("W_")
        if any(stem == a or stem.startswith(f"{a}_x_") for a in aliases):
            rows.append({**base, **{k: coefficient[k] for k in ("term", "estimate", "se", "p_value", "ci_low", "ci_high")}})
    return rows
