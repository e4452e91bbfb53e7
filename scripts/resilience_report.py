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
from scripts.render import label_extremes, map_frame, pyplot, save_figure

LOWER_IS_RESILIENT = lower_is_resilient()


def ranking(table: pd.DataFrame, cities: pd.DataFrame) -> pd.DataFrame:
    """Rank of every city within each outcome × measure, with names."""
    names = cities[["city_code", "name_zh", "name_en"]]
    frames = []
    for (outcome, measure), group in table.dropna(subset=["value"]).groupby(["outcome", "measure"], sort=True):
        ascending = measure in LOWER_IS_RESILIENT
        ranked = group.sort_values(["value", "city_code"], ascending=[ascending, True], kind="mergesort")
        frames.append(ranked.assign(rank=np.arange(1, len(ranked) + 1)))
    out = pd.concat(frames).merge(names, on="city_code", how="left")
    return out[["outcome", "measure", "rank", "city_code", "name_zh", "name_en", "value", "se", "ci_low", "ci_high"]]


def ranking_extremes(ranks: pd.DataFrame, outcome: str, measures: list[str], n: int = 10) -> pd.DataFrame:
    """Display table of the n most and n least resilient cities per measure for one outcome."""
    frames = []
    for measure in measures:
        part = ranks[(ranks["outcome"] == outcome) & (ranks["measure"] == measure)]
        shown = pd.concat([part.head(n), part.tail(n)]).drop_duplicates("city_code")
        frames.append(pd.DataFrame({
            "measure": measure, "rank": shown["rank"].to_numpy(),
            "city": [f"{en} ({code})" if isinstance(en, str) else code   # pinyin only: pdflatex has no CJK fonts
                     for en, code in zip(shown["name_en"], shown["city_code"])],
            "value": shown["value"].map("{:.4f}".format).to_numpy(),
            "95% CI": [f"[{lo:.4f}, {hi:.4f}]" if np.isfinite(lo) else "" for lo, hi in
                       zip(shown["ci_low"], shown["ci_high"])]}))
    return pd.concat(frames, ignore_index=True).set_index(["measure", "rank"])


def plot_measure_map(cities: Any, values: pd.Series, measure: str, path: str, label: str, names: pd.Series,
                     n_labels: int) -> None:
    """Choropleth of one measure, diverging symmetrically around its neutral value, clipped at the 5th/95th
    percentiles; the n_labels most and least resilient cities named."""
    plt = pyplot()
    from matplotlib.colors import TwoSlopeNorm

    frame = cities.assign(value=cities["city_code"].map(values))
    centre = MEASURES[measure].neutral
    finite = frame["value"].dropna()
    low, high = (np.percentile(finite, [5, 95]) if len(finite) else (centre - 1, centre + 1))
    half = max(abs(low - centre), abs(high - centre), 1e-9)  # symmetric scale: equal colours mean equal distances
    norm = TwoSlopeNorm(vcenter=centre, vmin=centre - half, vmax=centre + half)
    cmap = "RdBu_r" if measure in LOWER_IS_RESILIENT else "RdBu"
    fig, ax = plt.subplots(figsize=(8, 6.5))
    frame[frame["value"].isna()].plot(ax=ax, color="#dddddd", edgecolor="white", linewidth=0.2)
    frame[frame["value"].notna()].plot(ax=ax, column="value", cmap=cmap, norm=norm, legend=True, edgecolor="white",
                                       linewidth=0.2, legend_kwds={"shrink": 0.6, "label": measure})
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
