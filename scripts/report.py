"""Report stage: regression table (Markdown, LaTeX, HTML, CSV) from the model JSON files, and two figures.

Tables are rendered from the JSON results only, so numbers can be diffed without parsing LaTeX.
Cells: estimate with significance stars (* p<0.10, ** p<0.05, *** p<0.01), standard error in parentheses.
"""

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scripts.render import pyplot, save_figure

DIAGNOSTIC_ROWS = {"n": "N", "r2": "R²", "adj_r2": "Adj. R²", "r2_within": "Within R²",
                   "log_likelihood": "Log-likelihood", "fixed_effects": "Fixed effects", "se_type": "SE"}


def stars(p: float) -> str:
    """Significance stars for a p-value."""
    return "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.10 else ""


def coefficient_long(models: list[dict[str, Any]]) -> pd.DataFrame:
    """Long table model, term, estimate, se, p_value, ci_low, ci_high (the CSV a referee diffs)."""
    rows = [{"model": m["model"], **{k: c[k] for k in ("term", "estimate", "se", "p_value", "ci_low", "ci_high")}}
            for m in models for c in m["coefficients"]]
    return pd.DataFrame(rows)


def regression_cells(models: list[dict[str, Any]], digits: int = 4) -> pd.DataFrame:
    """Wide display table: rows = terms (estimate row, SE row) then diagnostics; columns = models."""
    terms: list[str] = []
    for model in models:
        terms += [c["term"] for c in model["coefficients"] if c["term"] not in terms]
    terms = [t for t in terms if t != "const"] + ["const"]
    rows: list[tuple[str, list[str]]] = []
    for term in terms:
        est, se = [], []
        for model in models:
            coef = next((c for c in model["coefficients"] if c["term"] == term), None)
            est.append(f"{coef['estimate']:.{digits}f}{stars(coef['p_value'])}" if coef else "")
            se.append(f"({coef['se']:.{digits}f})" if coef else "")
        rows += [(term, est), ("", se)]
    for key, label in DIAGNOSTIC_ROWS.items():
        cells = []
        for model in models:
            value = model.get(key, model["diagnostics"].get(key))
            if isinstance(value, list):
                value = ", ".join(value)
            cells.append("" if value is None else str(value) if isinstance(value, (int, str)) else f"{value:.{digits}f}")
        rows.append((label, cells))
    header = [f"({k + 1}) {m['model']}" for k, m in enumerate(models)]
    return pd.DataFrame([cells for _, cells in rows], index=[label for label, _ in rows], columns=header)


def table_notes(models: list[dict[str, Any]], demo: bool) -> list[str]:
    """Footnotes: SE types, standardisation, stars, and the demo label."""
    notes = [f"({k + 1}) {m['estimator']}, outcome '{m['outcome']}', SE: {m['se_type']}." for k, m in enumerate(models)]
    if any(m.get("standardized") for m in models):
        notes.append("Centralities dc, cc, bc are z-scores within each estimation sample.")
    notes.append("* p<0.10, ** p<0.05, *** p<0.01.")
    if demo:
        notes.insert(0, "SYNTHETIC DEMO DATA: planted effects, not real cities.")
    return notes


def plot_scatter(design: pd.DataFrame, centralities: list[str], measure: str, path: str, demo: bool) -> None:
    """Scatter of each centrality (z-score) against a resilience measure (report.headline_measure), with the OLS
    line."""
    from scripts.registry import MEASURES

    plt = pyplot()

    fig, axes = plt.subplots(1, len(centralities), figsize=(4 * len(centralities), 3.6), sharey=True)
    for ax, name in zip(np.atleast_1d(axes), centralities):
        data = design[[name, measure]].dropna()
        x = (data[name] - data[name].mean()) / data[name].std(ddof=1)
        ax.scatter(x, data[measure], s=8, alpha=0.6)
        slope, intercept = np.polyfit(x, data[measure], 1)
        grid = np.linspace(x.min(), x.max(), 50)
        ax.plot(grid, intercept + slope * grid, color="black", linewidth=1)
        ax.set_xlabel(f"{name.upper()} (z-score)")
        ax.set_title(f"slope {slope:.4f}, n = {len(data)}")
    np.atleast_1d(axes)[0].set_ylabel(MEASURES[measure].text(measure, "axis"))
    fig.suptitle(("DEMO (synthetic): " if demo else "") + f"Network centrality and {MEASURES[measure].text(measure, 'noun')}")
    save_figure(fig, Path(path).with_suffix(""))
