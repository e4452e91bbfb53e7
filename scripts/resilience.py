"""Resilience stage: output gap in the shock year, gap in the recovery year, Martin's sensitivity index.

Sign convention: larger values mean a more resilient city (smaller loss), except the sensitivity index,
where a larger value means a stronger reaction to the shock than the benchmark (Martin 2012).

- ``drop``: ln Y_{i,s} − ln Ŷ_{i,s}, with ln Ŷ from a log-linear trend ln Y_it = a_i + g_i t fitted by OLS on the
  pre-shock years (pre_period; at least min_pre_years of them present). ≈ the % shortfall below trend.
- ``recovery``: the same gap in the recovery year r against the same counterfactual.
- ``sensitivity``: β_i = (ΔY_i / Y_i) / (ΔY_N / Y_N) over (s−1) → s, with Y_N the sum over cities that have
  both years (Martin 2012, "Regional economic resilience, hysteresis and recessionary shocks", JEG 12(1)).
  Note: it is only a contraction measure when the benchmark falls; when national output grows (China's real
  GDP grew in 2020), β < 1 marks cities that grew less than the benchmark and negative β those that shrank.
"""

from typing import Any

import numpy as np
import pandas as pd

from scripts.common import InputError, write_table

OUTPUT_COLUMNS = ["city_code", "measure", "value", "actual_log", "counterfactual_log", "n_pre_years"]


def log_linear_gap(series: pd.Series, pre_years: list[int], target_year: int, min_pre_years: int) -> tuple[float, float, int]:
    """(ln Y_target, fitted ln Ŷ_target, number of pre years used) for one city's series indexed by year."""
    pre = series.reindex(pre_years).dropna()
    pre = pre[pre > 0]
    if len(pre) < min_pre_years or target_year not in series.index or not series[target_year] > 0:
        return np.nan, np.nan, len(pre)
    slope, intercept = np.polyfit(pre.index.to_numpy(dtype=float), np.log(pre.to_numpy()), 1)
    return float(np.log(series[target_year])), float(intercept + slope * target_year), len(pre)


def trend_gaps(panel: pd.DataFrame, outcome: str, spec: dict[str, Any]) -> pd.DataFrame:
    """`drop` and `recovery` rows for every city (NaN value where the series is too short)."""
    pre_years = list(range(spec["pre_period"]["start"], spec["pre_period"]["end"] + 1))
    rows = []
    for city, group in panel.groupby("city_code", sort=True):
        series = group.set_index("year")[outcome]
        for measure, year in (("drop", spec["shock_year"]), ("recovery", spec["recovery_year"])):
            actual, fitted, n_pre = log_linear_gap(series, pre_years, year, spec["min_pre_years"])
            rows.append({"city_code": city, "measure": measure, "value": actual - fitted,
                         "actual_log": actual, "counterfactual_log": fitted, "n_pre_years": n_pre})
    return pd.DataFrame(rows)


def martin_sensitivity(panel: pd.DataFrame, outcome: str, shock_year: int) -> pd.DataFrame:
    """`sensitivity` rows: β_i = (ΔY_i/Y_i) / (ΔY_N/Y_N), benchmark = sum over cities with both years."""
    wide = panel.pivot(index="city_code", columns="year", values=outcome)
    if shock_year - 1 not in wide or shock_year not in wide:
        raise InputError(f"resilience: '{outcome}' has no {shock_year - 1} or {shock_year} column in the panel.")
    both = wide[[shock_year - 1, shock_year]].dropna()
    both = both[both[shock_year - 1] > 0]
    national = both[shock_year].sum() / both[shock_year - 1].sum() - 1.0
    if national == 0:
        raise InputError("resilience: the benchmark's change is exactly zero; the sensitivity index is undefined.")
    city = wide[shock_year] / wide[shock_year - 1] - 1.0
    return pd.DataFrame({"city_code": wide.index, "measure": "sensitivity", "value": (city / national).to_numpy(),
                         "actual_log": np.nan, "counterfactual_log": np.nan, "n_pre_years": 0})


def resilience_table(panel: pd.DataFrame, spec: dict[str, Any]) -> pd.DataFrame:
    """All configured measures, long: city_code, measure, value, actual_log, counterfactual_log, n_pre_years."""
    outcome = spec["outcome"]
    if outcome not in panel:
        raise InputError(f"resilience.outcome '{outcome}' is not a panel column; choose one of "
                         f"{[c for c in panel.columns if c not in ('city_code', 'year', 'province_code')]}.")
    table = pd.concat([trend_gaps(panel, outcome, spec), martin_sensitivity(panel, outcome, spec["shock_year"])],
                      ignore_index=True)
    table["n_pre_years"] = table["n_pre_years"].astype(int)
    return table[OUTPUT_COLUMNS]


def main(smk: Any) -> None:
    """Snakemake entry: resilience measures for every city."""
    table = resilience_table(pd.read_parquet(smk.input.panel), smk.config["resilience"])
    write_table(table, smk.output.resilience, ["city_code", "measure"])


if "snakemake" in globals():
    from scripts.common import run_rule

    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
