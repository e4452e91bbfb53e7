"""Resilience outputs for people: ranking table, one choropleth per measure, trajectory plots.

Ranks: 1 = most resilient (largest value; for the measures the registry marks as lower-is-resilient, the
sensitivity indices, the smallest). Maps are drawn for the report outcome (resilience.report.outcome) and, for the
shift-share measures, the shift-share label, centred on each measure's neutral value (scripts/registry.py).
Trajectory plots show ln Y and the counterfactual with its 95 % bootstrap band for the configured cities plus the
n least and n most resilient by the headline measure (report.headline_measure).
"""
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scripts.registry import MEASURES, lower_is_resilient
from scripts.render import choropleth, label_extremes, map_frame, pyplot, save_figure

LOWER_IS_RESILIENT = lower_is_resilient()


def ranking(table: pd.DataFrame, cities: pd.DataFrame, intervals: pd.DataFrame) -> pd.DataFrame:
    """Rank of every city within each shock × outcome × measure, with names and, where the measure has bootstrap
    draws (resilience_ranks.parquet), its 95 % rank interval and top/bottom-k probabilities."""
    names = cities[["city_code", "name_zh", "name_en"]]
    frames = []
    for (_, _, measure), group in table.dropna(subset=["value"]).groupby(["shock", "outcome", "measure"], sort=True):
        ascending = measure in LOWER_IS_RESILIENT
        ranked = group.sort_values(["value", "city_code"], ascending=[ascending, True], kind="mergesort")
        frames.append(ranked.assign(rank=np.arange(1, len(ranked) + 1)))
    keys = ["shock", "outcome", "measure", "city_code"]
    out = pd.concat(frames).merge(names, on="city_code", how="left").merge(
        intervals[[*keys, "rank_low", "rank_high", "p_top", "p_bottom", "k"]], on=keys, how="left")
    return out[["shock", "outcome", "measure", "rank", "city_code", "name_zh", "name_en", "value", "se", "ci_low",
                "ci_high", "rank_low", "rank_high", "p_top", "p_bottom", "k"]]


def ranking_extremes(ranks: pd.DataFrame, shock: str, outcome: str, measures: list[str], n: int = 10) -> pd.DataFrame:
    """Display table of the n most and n least resilient cities per measure for one shock and outcome, with the
    95 % rank interval and the probabilities of a top-k and a bottom-k rank where the measure has draws."""
    frames = []
    for measure in measures:
        part = ranks[(ranks["shock"] == shock) & (ranks["outcome"] == outcome) & (ranks["measure"] == measure)]
        shown = pd.concat([part.head(n), part.tail(n)]).drop_duplicates("city_code")
        frames.append(pd.DataFrame({
            "measure": measure, "rank": shown["rank"].to_numpy(),
            "city": [f"{en} ({code})" if isinstance(en, str) else code   # pinyin only: pdflatex has no CJK fonts
                     for en, code in zip(shown["name_en"], shown["city_code"])],
            "value": shown["value"].map("{:.4f}".format).to_numpy(),
            "95% CI": [f"[{lo:.4f}, {hi:.4f}]" if np.isfinite(lo) else "" for lo, hi in
                       zip(shown["ci_low"], shown["ci_high"])],
            "rank 95%": [f"{lo:.0f}–{hi:.0f}" if np.isfinite(lo) else "" for lo, hi in
                         zip(shown["rank_low"], shown["rank_high"])],
            "P(top k)": [f"{v:.2f}" if np.isfinite(v) else "" for v in shown["p_top"]],
            "P(bottom k)": [f"{v:.2f}" if np.isfinite(v) else "" for v in shown["p_bottom"]]}))
    return pd.concat(frames, ignore_index=True).set_index(["measure", "rank"])


def weights_table(sensitivity: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """Display table of the composite's ranking under each alternative weight set, per shock, for one outcome."""
    part = sensitivity[sensitivity["outcome"] == outcome]
    return pd.DataFrame({
        "shock": part["shock"], "weight set": part["weight_set"], "Spearman ρ": part["spearman"].map("{:.3f}".format),
        "top-k kept": part["top_k_overlap"].map("{:.2f}".format),
        "median rank shift": part["median_rank_shift"].map("{:.1f}".format),
        "max rank shift": part["max_rank_shift"].map("{:.0f}".format), "weights used": part["description"],
    }).set_index(["shock", "weight set"])


def screening_counts(screening: pd.DataFrame) -> pd.DataFrame:
    """Per outcome and year: cities screened as having their own shock, and cities with a full window."""
    counts = screening.groupby(["outcome", "year"])["shock"].agg(screened="sum", with_data="count")
    return counts.astype(int).reset_index()


def screening_table(counts: pd.DataFrame) -> pd.DataFrame:
    """Display table of screening_counts: outcomes (rows) × years (columns), "screened / with data"."""
    text = counts["screened"].astype(str) + " / " + counts["with_data"].astype(str)
    return text.set_axis(pd.MultiIndex.from_frame(counts[["outcome", "year"]])).unstack("year").fillna("")


def plot_rank_intervals(ranks: pd.DataFrame, outcome: str, measure: str, path: str, title: str) -> None:
    """Caterpillar plot per shock: each city's rank (dot, 1 = most resilient) with its 95 % bootstrap rank
    interval, cities ordered by rank; the top- and bottom-k bands shaded."""
    plt = pyplot()
    part = ranks[(ranks["outcome"] == outcome) & (ranks["measure"] == measure)]
    shocks = sorted(part["shock"].unique())
    fig, axes = plt.subplots(1, max(1, len(shocks)), figsize=(6 * max(1, len(shocks)), 4.5), squeeze=False)
    for ax, shock in zip(axes[0], shocks):
        one = part[part["shock"] == shock].sort_values(["rank", "city_code"], kind="mergesort")
        x = np.arange(1, len(one) + 1)
        k, n = int(one["k"].iloc[0]), int(one["n_cities"].iloc[0])
        ax.axhspan(0.5, k + 0.5, color="#1a9850", alpha=0.12, linewidth=0)
        ax.axhspan(n - k + 0.5, n + 0.5, color="#d73027", alpha=0.12, linewidth=0)
        ax.vlines(x, one["rank_low"], one["rank_high"], color="#4d4d4d", linewidth=0.6)
        ax.plot(x, one["rank"], "o", color="black", markersize=1.5)
        ax.set_ylim(n + 1, 0)
        ax.set_xlabel("cities ordered by rank")
        ax.set_ylabel("rank (1 = most resilient)")
        ax.set_title(f"{shock}: {measure}, top/bottom k = {k} of {n} shaded", fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save_figure(fig, Path(path).with_suffix(""))


def plot_weight_sensitivity(sensitivity: pd.DataFrame, outcome: str, path: str, title: str) -> None:
    """Spearman ρ of the composite's ranking under each alternative weight set with the default's, per shock."""
    plt = pyplot()
    part = sensitivity[sensitivity["outcome"] == outcome]
    sets = list(dict.fromkeys(part.sort_values("weight_set")["weight_set"]))
    shocks = sorted(part["shock"].unique())
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(sets) + 1.5))
    height = 0.8 / max(1, len(shocks))
    for j, shock in enumerate(shocks):
        rho = part[part["shock"] == shock].set_index("weight_set")["spearman"].reindex(sets)
        ax.barh(np.arange(len(sets)) + j * height, rho, height=height, label=shock)
    ax.set_yticks(np.arange(len(sets)) + height * (len(shocks) - 1) / 2, sets, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(min(0.0, float(part["spearman"].min()) - 0.05), 1.0)
    ax.set_xlabel("Spearman ρ with the default weights' ranking")
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    save_figure(fig, Path(path).with_suffix(""))


def plot_measure_map(cities: Any, values: pd.Series, measure: str, path: str, label: str, names: pd.Series,
                     n_labels: int) -> None:
    """Choropleth of one measure, diverging symmetrically around its neutral value, clipped at the 5th/95th
    percentiles; the n_labels most and least resilient cities named."""
    plt = pyplot()
    from matplotlib.colors import TwoSlopeNorm

    centre = MEASURES[measure].neutral
    finite = cities["city_code"].map(values).dropna()
    low, high = (np.percentile(finite, [5, 95]) if len(finite) else (centre - 1, centre + 1))
    half = max(abs(low - centre), abs(high - centre), 1e-9)  # symmetric scale: equal colours mean equal distances
    norm = TwoSlopeNorm(vcenter=centre, vmin=centre - half, vmax=centre + half)
    cmap = "RdBu_r" if measure in LOWER_IS_RESILIENT else "RdBu"
    fig, ax = plt.subplots(figsize=(8, 6.5))
    choropleth(ax, cities, values, cmap, norm, measure)
    map_frame(ax, cities)
    label_extremes(ax, cities, values, names, n_labels)
    ax.set_title(label, fontsize=10)
    save_figure(fig, Path(path).with_suffix(""))


def trajectory_cities(table: pd.DataFrame, outcome: str, fixed: list[str], n: int, measure: str = "drop") -> list[str]:
    """Configured cities, then the n cities with the lowest and the n with the highest `measure` (present in the
    table)."""
    drop = table[(table["outcome"] == outcome) & (table["measure"] == measure)].dropna(subset=["value"])
    ordered = drop.sort_values(["value", "city_code"], kind="mergesort")["city_code"].tolist()
    chosen = [c for c in fixed if c in set(drop["city_code"])] + ordered[:n] + ordered[-n:] if n else []
    return list(dict.fromkeys(chosen or [c for c in fixed if c in set(drop["city_code"])]))


def plot_trajectories(paths: pd.DataFrame, names: pd.Series, codes: list[str], shock_year: int, path: str,
                      title: str) -> None:
    """Small multiples: ln Y (dots) and the counterfactual (line) with its 95 % band; titled with names[code]."""
    plt = pyplot()
    columns = 4
    rows = max(1, -(-len(codes) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.5 * rows), squeeze=False)
    for ax, code in zip(axes.ravel(), codes):
        city = paths[paths["city_code"] == code].sort_values("year")
        ax.fill_between(city["year"], city["cf_low"], city["cf_high"], color="#92c5de", alpha=0.5, linewidth=0)
        ax.plot(city["year"], city["counterfactual_log"], color="#2166ac", linewidth=1)
        ax.plot(city["year"], city["actual_log"], "o", color="black", markersize=3)
        ax.axvline(shock_year, color="#b2182b", linewidth=0.8, linestyle="--")
        ax.set_title(f"{names.get(code, code)} ({code})", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(codes):]:
        ax.set_axis_off()
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save_figure(fig, Path(path).with_suffix(""))
