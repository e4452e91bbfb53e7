"""Exports for Stata and R users, and codebooks: every exported or tabulated column with a label.

``results/<run>/export/`` holds the panel, the model design (one row per city) and the resilience measures (both
shocks) as Stata 118 ``.dta`` (variable labels; string columns with few distinct values become labelled integer
codes, i.e. value labels) and as Parquet, with ``codebook.csv``/``codebook.json``: file, column, label, unit,
source, formula. ``tables/codebook.csv`` labels every column of every CSV table in ``tables/``.

Labels come from the configuration (variables and derived variables: description, unit, source or formula), from
the registry (resilience measures) and from COLUMN_LABELS (the fixed columns of the pipeline's tables). A column
without a label is an error naming the file and column, so the codebooks cannot fall behind the tables.
"""
from pathlib import Path
from typing import Any

import pandas as pd

from scripts.common import InputError

STATA_LABEL_LENGTH = 80    # Stata's limit on variable labels
VALUE_LABEL_MAX_LEVELS = 50  # string columns with at most this many distinct values get value labels

# The fixed columns of the pipeline's tables and exports (schemas in the README's Outputs section).
COLUMN_LABELS = {
    "city_code": "City code (6 digits, 2020 boundaries)", "year": "Year", "province_code": "Province code",
    "city": "City", "name_zh": "City name (Chinese)", "name_en": "City name (English)",
    "province_zh": "Province (Chinese)", "outcome": "Outcome variable the measure is computed on",
    "measure": "Resilience measure (scripts/resilience.py)", "value": "Value of the measure",
    "se": "Standard error", "ci_low": "Lower bound of the 95% interval", "ci_high": "Upper bound of the 95% interval",
    "95% CI": "95% interval", "actual": "Actual value (ln Y for gaps; growth or change for the indices)",
    "expected": "Counterfactual or benchmark value (ln Ŷ for gaps)", "n_pre_years": "Pre-period years with data",
    "shock": "Shock (resilience.name or a key of resilience.shocks)", "rank": "Rank (1 = most resilient)",
    "rank_low": "2.5 % quantile of the city's rank over the bootstrap draws",
    "rank_high": "97.5 % quantile of the city's rank over the bootstrap draws", "rank 95%": "95% rank interval",
    "p_top": "Share of bootstrap draws ranking the city in the top k", "P(top k)": "Probability of a top-k rank",
    "p_bottom": "Share of bootstrap draws ranking the city in the bottom k",
    "P(bottom k)": "Probability of a bottom-k rank", "k": "k of the top/bottom-k probabilities (resilience.profile)",
    "weight_set": "Weight set of the composite (resilience.profile.alternatives, without_<component>, random)",
    "description": "Weights used", "n_cities": "Number of cities",
    "top_k_overlap": "Share of the default ranking's top k still in the top k",
    "median_rank_shift": "Median absolute rank change against the default weights",
    "max_rank_shift": "Largest absolute rank change against the default weights",
    "screened": "Cities screened as having their own shock that year", "with_data": "Cities with a full window",
    "screened shock": "Also a significant fall below the city's own rolling trend (resilience screening)",
    "model": "Model spec name", "term": "Model term", "estimate": "Estimate", "p_value": "p-value",
    "z": "z statistic", "impact": "Impact kind (direct, indirect, total)", "n": "Number of observations",
    "spec": "Model spec name", "estimator": "Estimator", "file": "Result file of the spec",
    "in_specs": "Counts in the hypothesis's share of agreeing specs", "primary": "Is the hypothesis's primary spec",
    "hypothesis": "Hypothesis id", "family": "Multiple-testing family", "statement": "The claim tested",
    "variable": "Variable or model term", "expected_sign": "Expected sign", "n_specs": "Specs testing the hypothesis",
    "median": "Median estimate over the specs", "min": "Minimum", "max": "Maximum",
    "share_expected_significant": "Share of specs significant with the expected sign",
    "primary_spec": "Primary (decisive) spec", "primary_estimate": "Estimate in the primary spec",
    "primary_n": "N of the primary spec", "primary_p": "p-value in the primary spec",
    "primary_p_adjusted": "Adjusted p-value (within the family)", "verdict": "Verdict of the decision rule",
    "unflagged_spec": "Spec without data-quality-flagged cities",
    "unflagged_estimate": "Estimate without flagged cities",
    "unflagged_p": "p-value without flagged cities",
    "unflagged_p_adjusted": "Adjusted p-value without flagged cities",
    "unflagged_verdict": "Verdict without flagged cities",
    "depends_on_flagged_cities": "Whether the verdict changes without flagged cities",
    "primary_file": "Result file of the primary spec", "note": "Note",
    "proxy": "What stands for the hypothesis' concept, when it is a proxy",
    "stage": "Pipeline stage", "source": "Source or variable", "what": "What happened",
    "n_units": "Number of units", "units": "Units concerned", "reason": "Reason",
    "a": "First item", "b": "Second item", "spearman": "Spearman rank correlation", "index": "Variable",
    "count": "Non-missing values", "mean": "Mean", "std": "Standard deviation", "25%": "25th percentile",
    "50%": "Median", "75%": "75th percentile", "network": "Network", "nodes": "Nodes", "edges": "Edges",
    "density": "Density", "components": "Connected components",
    "largest_component_share": "Share of nodes in the largest component", "weight_min": "Smallest tie weight",
    "weight_p25": "25th percentile of tie weights", "weight_median": "Median tie weight",
    "weight_p75": "75th percentile of tie weights", "weight_max": "Largest tie weight",
    "weight_mean": "Mean tie weight", "degree_mean": "Mean degree", "degree_sd": "SD of degree",
    "degree_min": "Smallest degree", "degree_max": "Largest degree", "flag": "Data-quality flag",
    "change": "Log change", "z_city": "Robust z against the city's own changes",
    "z_province": "Robust z against the province's changes", "group": "Spec group", "weights": "Spatial weights",
    "cov": "Covariance estimator", "centralities": "Centralities in the spec", "sample": "Sample rule",
    "moderator": "Moderator", "shock_year": "Placebo shock year", "jump": "Flags: jump", "spike": "Flags: spike",
    "admin_change": "Flags: territorial change", "gap": "Gap to the counterfactual, ln Y − ln Ŷ (or flags: gap)",
    "duplicate": "Flags: duplicate", "source_disagreement": "Flags: sources disagree",
    "cumulative_gap": "Cumulative gap since the shock year", "share_closed": "Share of the shock-year gap closed",
    "N": "Observations in the estimation sample", "who": "Units (name, province)",
    "point": "Quantile of the moderator in the sample", "moderator_value": "Moderator value (as transformed)",
}


def derived_formula(spec: dict[str, Any]) -> str:
    """A derived variable's formula in words, from its config entry."""
    kind = spec["kind"]
    if kind == "chain_index":
        return f"chain_index: level {spec['level']} in {spec['base_year']} × product of indices {spec['index']} / 100"
    if kind == "first_available":
        return f"first_available of {spec['priority']}"
    if kind == "sum":
        return " + ".join(spec["total"])
    if kind == "share":
        return f"100 × {spec['of']} / ({' + '.join(spec['total'])})"
    if kind == "ratio":
        return f"{spec['of']} / {spec['by']} × {spec.get('scale', 1)}"
    if kind == "deflate":
        return f"{spec['of']} / provincial price index"
    if kind == "province_share":
        return f"100 × {spec['of']} / sum of {spec['of']} over the province's cities"
    if kind == "province_hhi":
        return f"sum over the province's cities of their squared shares of the province's {spec['of']}"
    return f"100 + {spec['of']}"   # index_from_growth


def variable_entries(variables: dict[str, Any], derived: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Codebook entries of the panel variables: label, unit, source, formula."""
    entries = {name: {"label": spec.get("description", name), "unit": spec.get("unit", ""),
                      "source": spec["source"], "formula": f"column '{spec['column']}'"}
               for name, spec in variables.items()}
    entries |= {name: {"label": spec.get("description", name), "unit": spec.get("unit", ""), "source": "derived",
                       "formula": derived_formula(spec)} for name, spec in derived.items()}
    return entries


def design_entries(models: dict[str, Any], variables: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Codebook entries of the design's columns: resilience measures, centralities, controls, moderators."""
    from scripts.registry import MEASURES
    from scripts.specs import control_name

    outcome = models["outcome"]
    entries = {name: {"label": f"{measure.description} ({outcome})", "unit": "", "source": "resilience/resilience.parquet",
                      "formula": f"scripts/resilience.py and scripts/resilience_profile.py, measure {name}"} for name, measure in MEASURES.items()}
    network, year = models["network"], models["centrality_year"]
    entries |= {alias: {"label": f"{measure} centrality, network {network}, {year} (raw)", "unit": "",
                        "source": f"centrality/{network}/centrality.parquet", "formula": measure}
                for alias, measure in models["centralities"].items()}
    for control in [*models["controls"], *(m for m in models.get("moderators", {}).values() if "variable" in m)]:
        base = variables.get(control["variable"], {"label": control["variable"], "unit": ""})
        entries[control_name(control)] = {"label": f"{control['transform']} of {base['label']} in {control['year']}",
                                          "unit": base["unit"], "source": control["variable"],
                                          "formula": f"{control['transform']}({control['variable']}_{control['year']})"}
    for name, moderator in models.get("moderators", {}).items():
        if "network" in moderator:
            entries[name] = {"label": f"Moderator {name}: {moderator['transform']} of {moderator['measure']}, network "
                                      f"{moderator['network']}, {moderator['year']}", "unit": "",
                             "source": f"centrality/{moderator['network']}/centrality.parquet",
                             "formula": f"{moderator['transform']}({moderator['measure']}_{moderator['year']})"}
        else:
            entries[name] = {**entries[control_name(moderator)], "label": f"Moderator {name}: "
                             + entries[control_name(moderator)]["label"]}
    return entries


def codebook_rows(file: str, frame: pd.DataFrame, entries: dict[str, dict[str, str]]) -> list[dict[str, str]]:
    """One codebook row per column of `frame`; a column without a label stops the run naming file and column."""
    rows = []
    for column in frame.columns:
        entry = entries.get(column) or ({"label": COLUMN_LABELS[column]} if column in COLUMN_LABELS else None)
        if entry is None:
            raise InputError(f"codebook: column '{column}' of {file} has no label; add it to "
                             "scripts/export.py COLUMN_LABELS (or a description in config.yaml).")
        rows.append({"file": file, "column": column, "label": entry["label"], "unit": entry.get("unit", ""),
                     "source": entry.get("source", ""), "formula": entry.get("formula", "")})
    return rows


def stata_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame Stata can hold: string columns with few levels as categoricals (written as value labels), other
    strings as text, booleans as 0/1."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == bool:
            out[column] = out[column].astype("int8")
        elif out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            values = out[column].astype("string")
            levels = sorted(values.dropna().unique())
            is_code = column in ("city_code", "province_code")
            out[column] = (values.astype("category").cat.set_categories(levels)
                           if len(levels) <= VALUE_LABEL_MAX_LEVELS and not is_code else values.fillna("").astype(str))
    return out


def write_stata(frame: pd.DataFrame, path: str | Path, labels: dict[str, str], title: str) -> None:
    """Stata 118 (Unicode) .dta with variable labels (≤ 80 characters) and value labels for categoricals.
    No timestamp: the file's time stamp is fixed so that two runs write the same bytes."""
    import datetime

    frame = stata_frame(frame)
    frame.to_stata(path, write_index=False, version=118, data_label=title[:STATA_LABEL_LENGTH],
                   variable_labels={c: labels[c][:STATA_LABEL_LENGTH] for c in frame.columns},
                   time_stamp=datetime.datetime(2000, 1, 1))
