"""Figures stage (PNG + PDF, one style): coefficient plot, specification curve, event study, LISA cluster map and
centrality maps, all drawn from result files."""
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scripts.render import choropleth, draw_cities, label_extremes, map_frame, pyplot, save_figure

LISA_COLOURS = {"HH": "#b2182b", "LL": "#2166ac", "HL": "#f4a582", "LH": "#92c5de", "not significant": "#eeeeee"}


def coefficient_plot(models: list[dict[str, Any]], aliases: list[str], stem: Path, title: str) -> None:
    """Point estimates and 95 % CIs of the centrality terms, one row per model × term, one panel per estimator
    family (cross-section gaps in log points and panel growth in percentage points do not share a scale)."""
    plt = pyplot()
    families: dict[str, list] = {}
    for m in models:
        family = m.get("spec", {}).get("family", "cross_section")
        families.setdefault(family, [])
        families[family] += [(m["model"], c) for c in m["coefficients"] if c["term"] in aliases]
    heights = [max(len(rows), 1) for rows in families.values()]
    fig, axes = plt.subplots(len(families), 1, figsize=(6.5, 0.28 * sum(heights) + 1.0 * len(families)),
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    for ax, (family, rows) in zip(axes[:, 0], families.items()):
        for k, (model, c) in enumerate(rows):
            ax.plot([c["ci_low"], c["ci_high"]], [k, k], color="#555555", linewidth=1)
            ax.plot(c["estimate"], k, "o", color="#2166ac", markersize=4)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_yticks(range(len(rows)), [f"{m}: {c['term']}" for m, c in rows], fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel(f"{family.replace('_', ' ')} coefficient (95% CI)", fontsize=8)
    axes[0, 0].set_title(title)
    fig.tight_layout()
    save_figure(fig, stem)


def spec_curve_plot(curve: pd.DataFrame, aliases: list[str], stem: Path, title: str) -> None:
    """Per centrality, every spec's estimate sorted by size with its 95 % CI; filled = p < 0.05."""
    plt = pyplot()
    fig, axes = plt.subplots(len(aliases), 1, figsize=(8, 2.2 * len(aliases)), squeeze=False)
    for ax, alias in zip(axes[:, 0], aliases):
        part = curve[curve["term"] == alias].sort_values(["estimate", "model"], kind="mergesort")
        x = np.arange(len(part))
        ax.vlines(x, part["ci_low"], part["ci_high"], color="#999999", linewidth=0.8)
        significant = part["p_value"] < 0.05
        ax.scatter(x[significant], part["estimate"][significant], s=12, color="#b2182b", label="p < 0.05")
        ax.scatter(x[~significant], part["estimate"][~significant], s=12, facecolors="none", edgecolors="#2166ac",
                   label="p ≥ 0.05")
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_ylabel(alias.upper())
        ax.set_xticks([])
    axes[0, 0].legend(fontsize=7, loc="upper left")
    axes[0, 0].set_title(title)
    axes[-1, 0].set_xlabel("specifications, sorted by estimate (cross-section and spatial)")
    save_figure(fig, stem)


def event_study_plot(model: dict[str, Any], aliases: list[str], reference: int, stem: Path, title: str) -> None:
    """Year-by-year coefficients of centrality × year with 95 % CIs; the reference year is 0 by construction."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for offset, alias in zip((-0.15, 0.0, 0.15), aliases):
        terms = [c for c in model["coefficients"] if c["term"].startswith(f"{alias}_x_")]
        years = np.array([int(c["term"].rsplit("_", 1)[1]) for c in terms] + [reference])
        estimate = np.array([c["estimate"] for c in terms] + [0.0])
        low = np.array([c["ci_low"] for c in terms] + [0.0])
        high = np.array([c["ci_high"] for c in terms] + [0.0])
        order = np.argsort(years)
        ax.errorbar(years[order] + offset, estimate[order], yerr=[estimate[order] - low[order],
                    high[order] - estimate[order]], fmt="o-", markersize=3, linewidth=1, capsize=2, label=alias.upper())
    ax.axhline(0, color="black", linewidth=0.8)
    ax.axvline(reference + 0.5, color="#b2182b", linestyle="--", linewidth=0.8)
    ax.set_xlabel("year")
    ax.set_ylabel("growth difference per 1 SD (pp)")
    ax.legend(fontsize=7)
    ax.set_title(title)
    save_figure(fig, stem)


def lisa_labels(values: pd.Series, table: pd.DataFrame, cities: pd.DataFrame, spec: dict[str, Any], name: str,
                seed: int, permutations: int = 999) -> pd.Series:
    """Local Moran (Anselin 1995) cluster label per city: HH, LL, HL, LH where p_sim < 0.05, else not significant."""
    import esda

    from scripts.weights import sample_weights

    values = values.dropna()
    w, kept, _ = sample_weights(table, list(values.index), cities, spec, name, "LISA map")
    local = esda.Moran_Local(values.loc[kept].to_numpy(dtype=float), w, permutations=permutations, seed=seed)
    quadrant = pd.Series(local.q, index=kept).map({1: "HH", 2: "LH", 3: "LL", 4: "HL"})
    return quadrant.where(local.p_sim < 0.05, "not significant")


def category_map(cities: Any, labels: pd.Series, stem: Path, title: str) -> None:
    """Choropleth of categorical labels (LISA clusters); cities without a label in light grey."""
    plt = pyplot()
    from matplotlib.patches import Patch

    fig, ax = plt.subplots(figsize=(8, 6.5))
    draw_cities(ax, cities, cities["city_code"].map(labels).map(LISA_COLOURS).fillna("#ffffff").tolist(),
                edgecolor="#999999")
    map_frame(ax, cities)
    ax.legend(handles=[Patch(color=c, label=k) for k, c in LISA_COLOURS.items()], fontsize=7, loc="lower left")
    ax.set_title(title)
    save_figure(fig, stem)


def value_map(cities: Any, values: pd.Series, stem: Path, title: str, label: str, names: pd.Series,
              n_labels: int) -> None:
    """Continuous choropleth clipped at the 5th/95th percentiles; the n_labels highest and lowest cities named."""
    plt = pyplot()
    from matplotlib.colors import Normalize

    finite = cities["city_code"].map(values).dropna()
    low, high = np.percentile(finite, [5, 95]) if len(finite) else (0.0, 1.0)
    fig, ax = plt.subplots(figsize=(8, 6.5))
    choropleth(ax, cities, values, "viridis", Normalize(vmin=low, vmax=high), label)
    map_frame(ax, cities)
    label_extremes(ax, cities, values, names, n_labels)
    ax.set_title(title)
    save_figure(fig, stem)


def marginal_effects_plot(series: list[tuple[str, dict[str, Any], dict[str, str]]], aliases: list[str], xlabel: str,
                          ylabel: str, stem: Path, title: str) -> None:
    """Per centrality, its marginal effect across the moderator's range with the 95 % band, one line per series
    (label, a result's ``marginal_effects``, the term holding each alias: e.g. one series per shock), the quartiles
    marked and the cities' moderator values as a rug (scripts/estimation/moderation.py)."""
    plt = pyplot()
    shown = [a for a in aliases if any(terms.get(a) in effects["grid"] for _, effects, terms in series)]
    fig, axes = plt.subplots(1, len(shown), figsize=(3.2 * len(shown), 3.2), squeeze=False, sharey=True)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, alias in zip(axes[0], shown):
        for k, (label, effects, terms) in enumerate(series):
            term, colour = terms[alias], colours[k % len(colours)]
            grid, curve = effects["grid"]["moderator_value"], effects["grid"][term]
            ax.fill_between(grid, curve["ci_low"], curve["ci_high"], color=colour, alpha=0.18, linewidth=0)
            ax.plot(grid, curve["estimate"], color=colour, linewidth=1.4, label=label)
            at = [r for r in effects["at"] if r["term"] == term]
            ax.plot([r["moderator_value"] for r in at], [r["estimate"] for r in at], "o", color=colour, markersize=3)
            ax.plot(effects["values"], np.zeros(len(effects["values"])), "|", color="#777777", markersize=6,
                    transform=ax.get_xaxis_transform())
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_title(alias.upper(), fontsize=9)
        ax.set_xlabel(xlabel, fontsize=8)
    axes[0, 0].set_ylabel(ylabel, fontsize=8)
    axes[0, 0].legend(fontsize=7, frameon=False)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save_figure(fig, stem)
