"""Network comparison: diagnostics of every network, correlation of the headline centralities within and across
network definitions (Spearman, pairwise complete), and a map of each network's strongest links.

The comparison year of a network is its year closest to models.centrality_year (ties: the earlier year).
"""
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scripts.render import draw_cities, map_frame, pyplot, save_figure


def comparison_year(years: np.ndarray, target: int) -> int:
    """The available year closest to `target` (earlier on ties)."""
    years = np.sort(np.unique(years))
    return int(years[np.argmin(np.abs(years - target))])


def headline_wide(centrality: dict[str, pd.DataFrame], aliases: dict[str, str], target: int) -> pd.DataFrame:
    """City × (network:alias) table of the headline measures at each network's comparison year."""
    columns = {}
    for net, table in centrality.items():
        year = comparison_year(table["year"].to_numpy(), target)
        this = table[(table["year"] == year)]
        for alias, measure in aliases.items():
            columns[f"{net}:{alias}"] = this[this["measure"] == measure].set_index("city_code")["value"]
    return pd.DataFrame(columns).sort_index()


def correlation_long(wide: pd.DataFrame) -> pd.DataFrame:
    """Spearman ρ and N for every pair of columns (pairwise complete cities)."""
    rows = []
    for a in wide.columns:
        for b in wide.columns:
            pair = wide[[a, b]].dropna()
            rho = pair.iloc[:, 0].corr(pair.iloc[:, 1], method="spearman") if len(pair) > 2 else np.nan
            rows.append({"a": a, "b": b, "spearman": rho, "n": len(pair)})
    return pd.DataFrame(rows)


def plot_heatmap(corr: pd.DataFrame, path: str, title: str) -> None:
    """Heatmap of the Spearman matrix with values printed in the cells."""
    plt = pyplot()

    labels = list(dict.fromkeys(corr["a"]))
    matrix = corr.pivot(index="a", columns="b", values="spearman").loc[labels, labels].to_numpy()
    fig, ax = plt.subplots(figsize=(1 + 0.6 * len(labels), 0.8 + 0.6 * len(labels)))
    image = ax.imshow(matrix, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    for (i, j), value in np.ndenumerate(matrix):
        if np.isfinite(value):
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=6)
    fig.colorbar(image, ax=ax, shrink=0.7, label="Spearman ρ")
    ax.set_title(title, fontsize=9)
    save_figure(fig, Path(path).with_suffix(""))


def plot_links(cities: Any, edges: pd.DataFrame, year: int, top: int, path: str, title: str) -> None:
    """The `top` strongest ties of a year as lines between centroids, width ∝ weight, over the boundaries."""
    plt = pyplot()

    strongest = edges[edges["year"] == year].nlargest(top, "weight", keep="first")
    xy = cities.set_index("city_code")[["lon", "lat"]]
    fig, ax = plt.subplots(figsize=(9, 7))
    draw_cities(ax, cities, "#f2f2f2", edgecolor="#bbbbbb")
    widths = 0.3 + 2.5 * strongest["weight"] / strongest["weight"].max()
    for (source, target), width in zip(strongest[["source", "target"]].itertuples(index=False), widths):
        ax.plot(*zip(xy.loc[source], xy.loc[target]), color="#b2182b", linewidth=width, alpha=0.6)
    map_frame(ax, cities)
    ax.set_title(title)
    save_figure(fig, Path(path).with_suffix(""))
