"""Tables stage: impacts, descriptive statistics, centrality correlations and attrition, each as Markdown, LaTeX,
HTML and CSV, rendered from the result files (never re-estimated)."""
import json
from pathlib import Path
from typing import Any

import pandas as pd

from scripts.render import write_all
from scripts.report import stars

DESCRIPTIVE_STATS = ["count", "mean", "std", "min", "25%", "50%", "75%", "max"]


def impacts_table(models: list[dict[str, Any]], aliases: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Display table (rows: term × impact; columns: models; cell 'estimate*** (se)') and its long CSV."""
    long = pd.DataFrame([{"model": m["model"], **row} for m in models for row in m.get("impacts", [])])
    if long.empty:
        return pd.DataFrame(), long
    shown = long[long["term"].isin(aliases)]
    cells = shown.assign(cell=[f"{e:.4f}{stars(p)} ({s:.4f})" for e, p, s in zip(shown["estimate"], shown["p_value"],
                                                                                     shown["se"])])
    table = cells.pivot_table(index=["term", "impact"], columns="model", values="cell", aggfunc="first")
    order = [(t, i) for t in aliases for i in ("direct", "indirect", "total") if (t, i) in table.index]
    table = table.loc[order]
    table.index = [f"{t} {i}" for t, i in table.index]
    return table.fillna(""), long.sort_values(["model", "term", "impact"], kind="mergesort")


def descriptives(design: pd.DataFrame) -> pd.DataFrame:
    """N, mean, SD and quantiles of every column of the design (one row per variable)."""
    stats = design.drop(columns=["city_code"], errors="ignore").describe().T[DESCRIPTIVE_STATS]
    stats["count"] = stats["count"].astype(int)
    return stats.round(4)


def correlation_matrix(correlation: pd.DataFrame) -> pd.DataFrame:
    """The long Spearman table as a matrix with two decimals."""
    labels = list(dict.fromkeys(correlation["a"]))
    return correlation.pivot(index="a", columns="b", values="spearman").loc[labels, labels].round(2)


def attrition_summary(panel_attrition: pd.DataFrame, resilience_attrition: pd.DataFrame) -> pd.DataFrame:
    """Units per source and join outcome, and cities left out per resilience outcome, measure and reason."""
    joins = panel_attrition[panel_attrition["stage"] == "join"]
    joins = joins.groupby(["source", "outcome"], sort=True)["n_units"].sum().reset_index()
    joins = joins.rename(columns={"outcome": "what"}).assign(stage="join")
    left = resilience_attrition.groupby(["outcome", "measure", "reason"], sort=True).size().rename("n_units").reset_index()
    left = left.assign(stage="resilience", source=left["outcome"] + " / " + left["measure"]).rename(
        columns={"reason": "what"})
    return pd.concat([joins, left[["stage", "source", "what", "n_units"]]], ignore_index=True)[
        ["stage", "source", "what", "n_units"]].set_index(["stage", "source"])


def main(smk: Any) -> None:
    """Snakemake entry: the four table families."""
    config = smk.config
    demo = ["SYNTHETIC DEMO DATA."] if config["demo"]["enabled"] else []
    models = [json.loads(Path(p).read_text(encoding="utf-8")) for p in smk.input.impact_models]
    aliases = list(config["models"]["centralities"])
    table, long = impacts_table(models, aliases)
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
    from scripts.common import run_rule

    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
