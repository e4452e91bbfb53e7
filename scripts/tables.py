"""Tables stage: impacts, descriptive statistics, centrality correlations and attrition, each as Markdown, LaTeX,
HTML and CSV, rendered from the result files (never re-estimated)."""
from typing import Any

import pandas as pd

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


def marginal_effects_table(models: list[dict[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The centralities' marginal effects at the moderator's quartiles (scripts/estimation/moderation.py): display
    table (rows: model × term; the moderator, its quartiles, and one column per quartile with 'estimate*** (se)')
    and its long CSV."""
    long = pd.DataFrame([{"model": m["model"], "moderator": m["marginal_effects"]["moderator"], **row}
                         for m in models for row in m["marginal_effects"]["at"]])
    rows = []
    for (model, term), group in long.groupby(["model", "term"], sort=False):
        rows.append({"": f"{model}: {term}", "moderator": group["moderator"].iloc[0],
                     "quartiles": " / ".join(f"{v:.4g}" for v in group["moderator_value"]),
                     **{f"at {point}": f"{e:.4f}{stars(p)} ({s:.4f})" for point, e, p, s in
                        zip(group["point"], group["estimate"], group["p_value"], group["se"])}})
    return pd.DataFrame(rows).set_index(""), long.sort_values(["model", "term", "point"], kind="mergesort")
