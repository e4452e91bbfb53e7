"""Resilience stage: how far each city's output fell in the shock year and how it recovered.

Sign convention: for every measure except the two sensitivity indices, **larger = more resilient**.

Counterfactual measures (outcome Y, shock year s, recovery year r, pre-period P, last panel year T):
- ``drop``            g_s = ln Y_s − ln Ŷ_s: the shock-year gap to the counterfactual (≈ % shortfall);
- ``recovery``        g_r = ln Y_r − ln Ŷ_r: the recovery-year gap to the same counterfactual;
- ``gap_closed``      1 − g_r / g_s: share of the shock-year shortfall closed by r (only when g_s < 0);
- ``cumulative_gap``  Σ_{t=s..T} g_t over the consecutive post-shock years with data (cumulative loss is −this);
- ``growth_shortfall`` Δln Y_s − mean_{t∈P} Δln Y_t: the shock year's growth against the city's own pre-period
                      growth (needs no trend extrapolation, so a shock years after the pre-period, e.g. 2022, is
                      not mixed up with the gap an earlier shock left; no bootstrap interval);
- ``recovery_time``   min{k ≥ 1: g_{s+k} ≥ 0}: years until output is back on the counterfactual path (only when
                      g_s < 0); ``recovery_time_peak`` min{k ≥ 1: Y_{s+k} ≥ max_{P_start ≤ t < s} Y_t}: years until
                      output is back above its pre-shock peak (only when Y_s is below it). Smaller = more resilient.
                      Not reached by the last consecutive year with data: *censored*, reported in the attrition
                      table with that year, never as a number (a duration model, not OLS, is the tool for them).
                      No bootstrap interval (censored draws have no value).
Counterfactual Ŷ fitted on P (``counterfactual``): ``log_linear`` (ln Y = a + b t), ``linear`` (Y = a + b t),
``mean_growth`` (ln Ŷ_{P_end+h} = ln Y_{P_end} + h·ḡ, ḡ the mean log growth) or ``ar1`` (log growth
g_t = c + φ g_{t−1} + ε, forecast recursively). Uncertainty: residual bootstrap (iid, or moving blocks of
``block_length``) of the fit — residuals rescaled by √(n/(n−p)) — refitted per draw, with resampled innovations
added to the forecast, so the percentile interval is a prediction interval for the counterfactual (Davison &
Hinkley 1997, ch. 6–8); se = SD of the draws. Draws are seeded per city from config ``seed``.

Benchmark measures (no fitted counterfactual, se missing):
- ``sensitivity_contraction`` β = (ΔY_i/Y_i) / (ΔY_N/Y_N) over (s−1) → s and ``sensitivity_recovery`` over s → r
  (Martin 2012, J. Econ. Geogr. 12(1):1–32); larger = *more* sensitive. Only a contraction measure when the
  benchmark falls; China's real GDP grew in 2020, so read it as relative growth.
- ``resistance`` (s−1 → s) and ``recoverability`` (s → r) (Martin, Sunley, Gardiner & Tyler 2016, Reg. Stud.
  50(4):561–585): (ΔY_i − ΔY_i^exp) / |ΔY_i^exp|, ΔY_i^exp = Y_i,t0 · (Y_N,t1/Y_N,t0 − 1).
- ``resistance_shift_share`` / ``recoverability_shift_share``: the same with ΔY_i^exp = Σ_k Y_ik,t0 · g_N,k over the
  configured sectors k, on their sum (reported under outcome = ``shift_share.label``).
The benchmark N is the sum over cities with both years (``sum_of_cities``) or a configured national series.

Resilience profile (``profile``; formulas in scripts/resilience_profile.py): the components ``depth``, ``strength``
and ``stability`` from each city's gap path, ``transformation`` from its sector shares, the 0–100 ``composite`` with
bootstrap intervals, rank probabilities and weight sensitivity.
"""
import zlib
from collections import defaultdict
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from scripts.common import InputError, format_rows
from scripts.registry import counterfactual_measure_names
from scripts.resilience_profile import (
    COMPONENTS,
    RANK_COLUMNS,
    RANKED,
    ROUNDING,
    SENSITIVITY_COLUMNS,
    Component,
    composite,
    gap_components,
    rank_probabilities,
    sensitivity,
    smaller_is_resilient,
    stability,
    transformation,
)

MIN_PRE_YEARS = {"log_linear": 3, "linear": 3, "mean_growth": 3, "ar1": 5}
COUNTERFACTUAL_MEASURES = counterfactual_measure_names()
OUTPUT_COLUMNS = ["city_code", "outcome", "measure", "value", "se", "ci_low", "ci_high", "actual", "expected",
                  "n_pre_years"]
ATTRITION_COLUMNS = ["city_code", "outcome", "measure", "reason"]
DRAWS = "draws"   # a row's bootstrap draws until with_intervals summarises them


def check_spec(spec: dict[str, Any], years: dict[str, int]) -> None:
    """Years and counterfactual consistent with each other and the panel; one message per problem."""
    pre, model, floor = spec["pre_period"], spec["counterfactual"], spec["min_pre_years"]
    length, need = pre["end"] - pre["start"] + 1, MIN_PRE_YEARS[model]
    period = f"resilience.pre_period {pre['start']}–{pre['end']} has {length} years"
    if length < need:
        simpler = [m for m, n in MIN_PRE_YEARS.items() if n <= length]
        choice = f" or choose a simpler resilience.counterfactual ({format_rows(simpler)})" if simpler else ""
        raise InputError(f"{period} but counterfactual '{model}' needs at least {need}: widen the pre_period{choice}.")
    if floor < need:
        raise InputError(f"resilience.min_pre_years is {floor} but counterfactual '{model}' needs at least {need} "
                         f"pre-period years with data: raise min_pre_years to at least {need}.")
    if length < floor:
        raise InputError(f"{period}, fewer than min_pre_years = {floor}: widen the pre_period or lower "
                         f"min_pre_years to {length} (not below {need}, the minimum of '{model}').")
    if not pre["end"] < spec["shock_year"] < spec["recovery_year"]:
        raise InputError("resilience: years must satisfy pre_period.end < shock_year < recovery_year.")
    if spec["recovery_year"] > years["end"] or pre["start"] < years["start"]:
        raise InputError(f"resilience: recovery_year {spec['recovery_year']} or pre_period start {pre['start']} lies "
                         f"outside the panel years {years['start']}–{years['end']}; change years or resilience.")


def resample(residuals: np.ndarray, size: int, draws: int, rng: np.random.Generator, block: int) -> np.ndarray:
    """draws × size residuals: iid (block = 1) or moving blocks of consecutive residuals (Künsch 1989)."""
    n = len(residuals)
    if block <= 1 or n <= block:
        return residuals[rng.integers(0, n, size=(draws, size))]
    starts = rng.integers(0, n - block + 1, size=(draws, -(-size // block)))
    index = (starts[:, :, None] + np.arange(block)).reshape(draws, -1)[:, :size]
    return residuals[index]


def _scaled(residuals: np.ndarray, params: int) -> np.ndarray:
    n = len(residuals)
    return residuals * np.sqrt(n / (n - params)) if n > params else residuals


def forecast_trend(t: np.ndarray, y: np.ndarray, targets: np.ndarray, draws: int, rng: np.random.Generator,
                   block: int) -> tuple[np.ndarray, np.ndarray]:
    """OLS trend y = a + b t: point forecasts at targets and draws × targets bootstrap forecasts."""
    x = np.column_stack([np.ones_like(t), t - t.mean()])
    x_new = np.column_stack([np.ones_like(targets), targets - t.mean()])
    pinv = np.linalg.pinv(x)
    beta = pinv @ y
    residuals = _scaled(y - x @ beta, 2)
    y_star = (x @ beta)[None, :] + resample(residuals, len(y), draws, rng, block)
    beta_star = y_star @ pinv.T
    innovations = resample(residuals, len(targets), draws, rng, 1)
    return x_new @ beta, beta_star @ x_new.T + innovations


def forecast_mean_growth(log_y: np.ndarray, horizons: np.ndarray, draws: int, rng: np.random.Generator,
                         block: int) -> tuple[np.ndarray, np.ndarray]:
    """ln Ŷ_{end+h} = ln Y_end + h·ḡ; draws resample the growth rates (mean) and h future deviations."""
    growth = np.diff(log_y)
    mean = growth.mean()
    deviations = _scaled(growth - mean, 1)
    mean_star = mean + resample(deviations, len(growth), draws, rng, block).mean(axis=1)
    steps = resample(deviations, int(horizons.max()), draws, rng, 1).cumsum(axis=1)[:, horizons - 1]
    return log_y[-1] + horizons * mean, log_y[-1] + horizons[None, :] * mean_star[:, None] + steps


def _ar1_fit(growth: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """OLS of g_t on (1, g_{t−1}) for each row of `growth` (draws × T): (c, φ, residuals)."""
    growth = np.atleast_2d(growth)
    lagged, current = growth[:, :-1], growth[:, 1:]
    lag_dev = lagged - lagged.mean(axis=1, keepdims=True)
    phi = (lag_dev * (current - current.mean(axis=1, keepdims=True))).sum(axis=1) / (lag_dev**2).sum(axis=1)
    c = current.mean(axis=1) - phi * lagged.mean(axis=1)
    return c, phi, current - (c[:, None] + phi[:, None] * lagged)


def _ar1_path(last_growth: np.ndarray, c: np.ndarray, phi: np.ndarray, shocks: np.ndarray) -> np.ndarray:
    growth, path = last_growth, []
    for step in range(shocks.shape[-1]):
        growth = c + phi * growth + shocks[..., step]
        path.append(growth)
    return np.cumsum(np.stack(path, axis=-1), axis=-1)


def forecast_ar1(log_y: np.ndarray, horizons: np.ndarray, draws: int, rng: np.random.Generator,
                 block: int) -> tuple[np.ndarray, np.ndarray]:
    """AR(1) in log growth, recursive forecasts; draws rebuild the growth series from resampled residuals."""
    growth = np.diff(log_y)
    c, phi, residuals = _ar1_fit(growth)
    residuals = _scaled(residuals[0], 2)
    longest = int(horizons.max())
    point = log_y[-1] + _ar1_path(growth[-1], c[0], phi[0], np.zeros(longest))[horizons - 1]
    shocks = resample(residuals, len(growth) - 1, draws, rng, block)
    star = np.empty((draws, len(growth)))
    star[:, 0] = growth[0]
    for k in range(1, len(growth)):
        star[:, k] = c[0] + phi[0] * star[:, k - 1] + shocks[:, k - 1]
    c_star, phi_star, _ = _ar1_fit(star)
    paths = _ar1_path(np.full(draws, growth[-1]), c_star, phi_star, resample(residuals, longest, draws, rng, 1))
    return point, log_y[-1] + paths[:, horizons - 1]


def counterfactual(values: np.ndarray, spec: dict[str, Any], targets: np.ndarray, rng: np.random.Generator):
    """(ln Ŷ at targets, draws × targets, n pre years) or a reason string why it cannot be fitted; ``values`` is Y at
    ``targets``, the years from the pre-period's start on."""
    pre_years = np.arange(spec["pre_period"]["start"], spec["pre_period"]["end"] + 1)
    has = np.isfinite(values[:len(pre_years)])
    model, draws, block = spec["counterfactual"], spec["bootstrap"]["draws"], spec["bootstrap"].get("block_length", 1)
    if has.sum() < spec["min_pre_years"]:
        return f"only {has.sum()} of {len(pre_years)} pre-period years have data (min_pre_years {spec['min_pre_years']})"
    if model in ("mean_growth", "ar1") and not has.all():
        return f"'{model}' needs every pre-period year; missing {[int(y) for y in pre_years[~has]]}"
    t, pre = pre_years[has].astype(float), values[:len(pre_years)][has]
    if model == "linear":
        point, star = forecast_trend(t, pre, targets.astype(float), draws, rng, block)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.log(np.where(point > 0, point, np.nan)), np.log(np.where(star > 0, star, np.nan)), len(pre)
    log_y = np.log(pre)
    if model == "log_linear":
        return (*forecast_trend(t, log_y, targets.astype(float), draws, rng, block), len(pre))
    # growth models forecast only after the pre-period; their counterfactual inside it is left missing
    future = targets > pre_years[-1]
    forecaster: Callable = forecast_mean_growth if model == "mean_growth" else forecast_ar1
    point_future, star_future = forecaster(log_y, (targets[future] - pre_years[-1]).astype(int), draws, rng, block)
    point, star = np.full(len(targets), np.nan), np.full((draws, len(targets)), np.nan)
    point[future], star[:, future] = point_future, star_future
    return point, star, len(pre)


def band(draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """2.5 % and 97.5 % quantiles per column of bootstrap draws, NaN where a column has no finite draw."""
    finite = np.isfinite(draws)
    if finite.all():   # the usual case: np.quantile works on all columns at once (nanquantile goes column by column)
        low, high = np.quantile(draws, [0.025, 0.975], axis=0)
        return low, high
    low, high = np.full(draws.shape[1], np.nan), np.full(draws.shape[1], np.nan)
    usable = finite.any(axis=0)
    low[usable], high[usable] = np.nanquantile(draws[:, usable], [0.025, 0.975], axis=0)
    return low, high


def city_rng(seed: int, city: str, outcome: str) -> np.random.Generator:
    """Independent, order-free random stream per (city, outcome)."""
    return np.random.default_rng([seed, zlib.crc32(city.encode()), zlib.crc32(outcome.encode())])


def _row(city, outcome, measure, value, draws=None, actual=np.nan, expected=np.nan, n_pre=0) -> dict[str, Any]:
    """A measure's row; its bootstrap draws wait under DRAWS for with_intervals."""
    return {"city_code": city, "outcome": outcome, "measure": measure, "value": value, "se": np.nan,
            "ci_low": np.nan, "ci_high": np.nan, "actual": actual, "expected": expected, "n_pre_years": n_pre,
            DRAWS: draws}


def with_intervals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each row's se (SD of its finite draws) and 95 % percentile interval, where it has two finite draws or more.
    Rows are summarised together by number of finite draws: one np.quantile over a matrix instead of one call per
    row (the same numbers, in a fraction of the time)."""
    groups = defaultdict(list)
    for row in rows:
        draws = row.pop(DRAWS)
        finite = draws[np.isfinite(draws)] if draws is not None else ()
        if len(finite) > 1:
            groups[len(finite)].append((row, finite))
    for items in groups.values():
        matrix = np.stack([finite for _, finite in items])
        low, high = np.quantile(matrix, [0.025, 0.975], axis=1)
        for (row, _), se, lo, hi in zip(items, matrix.std(axis=1, ddof=1), low, high):
            row.update(se=se, ci_low=lo, ci_high=hi)
    return rows


def counterfactual_measures(panel: pd.DataFrame, outcome: str, spec: dict[str, Any], last_year: int,
                            seed: int) -> tuple[list[dict], list[dict], list[dict], dict[str, dict]]:
    """Rows of the counterfactual measures, attrition rows, trajectory rows, and each city's profile components
    with their draws (scripts/resilience_profile.py), for one outcome."""
    s, r = spec["shock_year"], spec["recovery_year"]
    wanted = [m for m in COUNTERFACTUAL_MEASURES if m in spec["measures"]]
    targets = np.arange(spec["pre_period"]["start"], last_year + 1)
    post = targets[targets >= s]
    rows, dropped, paths, components = [], [], [], {}
    wide = panel.pivot(index="city_code", columns="year", values=outcome).reindex(columns=targets).sort_index()
    for city, values in zip(wide.index, wide.to_numpy(dtype=float)):
        fitted = counterfactual(values, spec, targets, city_rng(seed, city, outcome))
        if isinstance(fitted, str):
            dropped += [{"city_code": city, "outcome": outcome, "measure": m, "reason": fitted} for m in wanted]
            continue
        point, star, n_pre = fitted
        actual = np.log(values)
        gaps, gaps_star = actual - point, actual[None, :] - star
        low, high = band(star)
        paths += [{"city_code": city, "outcome": outcome, "year": int(y), "actual_log": a, "counterfactual_log": p,
                   "cf_low": lo, "cf_high": hi} for y, a, p, lo, hi in zip(targets, actual, point, low, high)]
        at = {int(y): k for k, y in enumerate(targets)}
        run = consecutive_run(gaps, [at[int(y)] for y in post])
        if run:
            components[city] = city_components(gaps, gaps_star, actual, at, run, spec["pre_period"], n_pre)
        for measure in wanted:
            row, reason = _counterfactual_row(measure, city, outcome, gaps, gaps_star, actual, point, at, s, r,
                                              post, n_pre, spec["pre_period"], run, components.get(city))
            if reason:
                dropped.append({"city_code": city, "outcome": outcome, "measure": measure, "reason": reason})
            else:
                rows.append(row)
    return rows, dropped, paths, components


def consecutive_run(gaps: np.ndarray, post: list[int]) -> list[int]:
    """Indices of the consecutive post-shock years with a gap, from the shock year on."""
    run = []
    for k in post:
        if not np.isfinite(gaps[k]):
            break
        run.append(k)
    return run


def city_components(gaps, gaps_star, actual, at, run, pre_period, n_pre) -> dict[str, Any]:
    """The profile components of one city that come from its own path, the shock-year gap (ranked with
    draws), and its number of pre-period years."""
    pre = actual[at[pre_period["start"]]:at[pre_period["end"]] + 1]
    return {**gap_components(gaps[run], gaps_star[:, run]), "drop": Component(gaps[run[0]], gaps_star[:, run[0]]),
            "stability": Component(stability(pre, actual[run]), None), "n_pre": n_pre}


def _counterfactual_row(measure, city, outcome, gaps, gaps_star, actual, point, at, s, r, post, n_pre, pre_period,
                        run, components):
    """One measure from the gap series: (row, None) or (None, reason)."""
    if measure == "growth_shortfall":
        return _growth_shortfall(city, outcome, actual, at, s, pre_period, n_pre)
    if measure in ("drop", "recovery"):
        k = at[s if measure == "drop" else r]
        if not np.isfinite(gaps[k]):
            return None, f"no {outcome} (or no positive counterfactual) in {s if measure == 'drop' else r}"
        return _row(city, outcome, measure, gaps[k], gaps_star[:, k], actual[k], point[k], n_pre), None
    if measure in ("recovery_time", "recovery_time_peak"):
        return _recovery_time(measure, city, outcome, gaps, actual, point, at, s, post, n_pre)
    ks, kr = at[s], at[r]
    if measure == "gap_closed":
        if not (np.isfinite(gaps[ks]) and np.isfinite(gaps[kr])):
            return None, f"no {outcome} in {s} or {r}"
        if gaps[ks] >= 0:
            return None, f"no shortfall in {s} (gap ≥ 0): nothing to close"
        with np.errstate(divide="ignore", invalid="ignore"):
            draws = np.where(gaps_star[:, ks] < 0, 1 - gaps_star[:, kr] / gaps_star[:, ks], np.nan)
        return _row(city, outcome, measure, 1 - gaps[kr] / gaps[ks], draws, gaps[kr], gaps[ks], n_pre), None
    if not run:
        return None, f"no {outcome} in the shock year {s}"
    if measure == "cumulative_gap":
        return _row(city, outcome, measure, gaps[run].sum(), gaps_star[:, run].sum(axis=1),
                    actual[run].sum(), point[run].sum(), n_pre), None
    component = components[measure]
    if not np.isfinite(component.value):
        needs = "two post-shock growth rates" if measure == "stability" else "a year with data after the shock year"
        return None, f"needs {needs} (the data end in {s + len(run) - 1})"
    return _row(city, outcome, measure, component.value, component.draws, n_pre=n_pre), None


def _growth_shortfall(city, outcome, actual, at, s, pre_period, n_pre):
    """Shock-year log growth minus the city's mean log growth over the pre-period: (row, None) or (None, reason)."""
    growth = np.diff(actual[at[pre_period["start"]]:at[pre_period["end"]] + 1])
    growth = growth[np.isfinite(growth)]
    shock_growth = actual[at[s]] - actual[at[s - 1]]
    if not np.isfinite(shock_growth):
        return None, f"no {outcome} in {s - 1} or {s}"
    if not len(growth):
        return None, f"no two consecutive pre-period years with {outcome}"
    return _row(city, outcome, "growth_shortfall", shock_growth - growth.mean(), None, shock_growth, growth.mean(),
                n_pre), None


def _recovery_time(measure, city, outcome, gaps, actual, point, at, s, post, n_pre):
    """Years from the shock until the gap closes (recovery_time) or output passes its pre-shock peak
    (recovery_time_peak): (row, None), or (None, reason) when there was nothing to recover or it is censored."""
    ks = at[s]
    if not np.isfinite(gaps[ks] if measure == "recovery_time" else actual[ks]):
        return None, f"no {outcome} in the shock year {s}"
    if measure == "recovery_time":
        below, level, reference = gaps, 0.0, "the counterfactual path"
    else:
        before = actual[:ks][np.isfinite(actual[:ks])]
        if not len(before):
            return None, f"no {outcome} before the shock year {s}"
        below, level, reference = actual, before.max(), "the pre-shock peak"
    if below[ks] >= level - ROUNDING:
        return None, f"not below {reference} in {s}: nothing to recover"
    last = s
    for year in post[1:]:
        k = at[int(year)]
        if not np.isfinite(below[k]):
            break
        last = int(year)
        if below[k] >= level - ROUNDING:
            return _row(city, outcome, measure, float(year - s), None, actual[k], point[k], n_pre), None
    return None, f"censored: not back on {reference} by {last}, the last consecutive year with data"


def national_growth(wide: pd.DataFrame, start: int, end: int, series: dict[int, float] | None) -> float:
    """Benchmark growth Y_N,end / Y_N,start − 1: configured national series, or the sum over cities with both."""
    if series:
        growth = series[end] / series[start] - 1.0
    else:
        both = wide[[start, end]].dropna()
        growth = both[end].sum() / both[start].sum() - 1.0
    if growth == 0:
        raise InputError(f"resilience: the benchmark does not change between {start} and {end}; the sensitivity and "
                         "resistance indices divide by its change.")
    return growth


def benchmark_measures(panel: pd.DataFrame, outcome: str, spec: dict[str, Any]) -> tuple[list[dict], list[dict]]:
    """Martin (2012) sensitivity and MSGT (2016) resistance/recoverability for one outcome."""
    s, r = spec["shock_year"], spec["recovery_year"]
    wide = panel.pivot(index="city_code", columns="year", values=outcome)
    series = spec.get("benchmark", {}).get("national_series", {}).get(outcome)
    phases = {"sensitivity_contraction": (s - 1, s), "sensitivity_recovery": (s, r),
              "resistance": (s - 1, s), "recoverability": (s, r)}
    rows, dropped = [], []
    for measure, (t0, t1) in phases.items():
        if measure not in spec["measures"]:
            continue
        if not (wide.get(t0, pd.Series(dtype=float)).notna() & wide.get(t1, pd.Series(dtype=float)).notna()).any():
            dropped += [{"city_code": c, "outcome": outcome, "measure": measure,
                         "reason": f"no city has {outcome} in both {t0} and {t1}"} for c in wide.index]
            continue
        growth_n = national_growth(wide, t0, t1, series)
        for city in wide.index:
            y0, y1 = wide.at[city, t0], wide.at[city, t1]
            if not (np.isfinite(y0) and np.isfinite(y1)):
                dropped.append({"city_code": city, "outcome": outcome, "measure": measure,
                                "reason": f"no {outcome} in {t0 if not np.isfinite(y0) else t1}"})
                continue
            if measure.startswith("sensitivity"):
                rows.append(_row(city, outcome, measure, (y1 / y0 - 1) / growth_n, actual=y1 / y0 - 1,
                                 expected=growth_n))
            else:
                expected = y0 * growth_n
                rows.append(_row(city, outcome, measure, (y1 - y0 - expected) / abs(expected), actual=y1 - y0,
                                 expected=expected))
    return rows, dropped


def shift_share_measures(panel: pd.DataFrame, spec: dict[str, Any]) -> tuple[list[dict], list[dict]]:
    """MSGT (2016) resistance/recoverability with sector-mix expected change, on the sum of the sectors."""
    config = spec["shift_share"]
    label, sectors = config["label"], config["sectors"]
    s, r = spec["shock_year"], spec["recovery_year"]
    rows, dropped = [], []
    for measure, (t0, t1) in (("resistance_shift_share", (s - 1, s)), ("recoverability_shift_share", (s, r))):
        if measure not in spec["measures"]:
            continue
        values = panel[panel["year"].isin([t0, t1])].pivot(index="city_code", columns="year", values=sectors)
        complete = values.notna().all(axis=1)
        for city in values.index[~complete]:
            dropped.append({"city_code": city, "outcome": label, "measure": measure,
                            "reason": f"a sector of {sectors} is missing in {t0} or {t1}"})
        values = values[complete]
        growth = {k: values[(k, t1)].sum() / values[(k, t0)].sum() - 1 for k in sectors}
        expected = sum(values[(k, t0)] * growth[k] for k in sectors)
        actual = sum(values[(k, t1)] - values[(k, t0)] for k in sectors)
        for city in values.index:
            rows.append(_row(city, label, measure, (actual[city] - expected[city]) / abs(expected[city]),
                             actual=actual[city], expected=expected[city]))
    return rows, dropped


def check_positive(panel: pd.DataFrame, outcome: str, years: list[int]) -> None:
    """Logs of output are taken: zero or negative values stop the run, naming cities and years."""
    if outcome not in panel:
        raise InputError(f"resilience.outcomes: '{outcome}' is not a panel variable; choose one of the variables.")
    part = panel[panel["year"].isin(years)]
    bad = part[part[outcome] <= 0]
    if len(bad):
        shown = (bad["city_code"] + "/" + bad["year"].astype(str)).tolist()
        raise InputError(f"resilience: '{outcome}' is zero or negative for {format_rows(shown)} (city/year); logs are "
                         "undefined. Fix the data or drop the outcome from resilience.outcomes.")


class Tables(NamedTuple):
    """What the resilience stage computes for one shock: the measures (long), their attrition, the counterfactual
    paths, and the profile's rank probabilities and weight sensitivity (empty without ``profile``)."""

    measures: pd.DataFrame
    attrition: pd.DataFrame
    paths: pd.DataFrame
    ranks: pd.DataFrame
    sensitivity: pd.DataFrame


def resilience_tables(panel: pd.DataFrame, spec: dict[str, Any], years: dict[str, int], seed: int) -> Tables:
    """Every configured measure of every outcome, with the resilience profile when ``profile`` is configured."""
    check_spec(spec, years)
    last_year = int(panel["year"].max())
    rows, dropped, paths, ranks, sensitivity = [], [], [], [], []
    shift = sector_shift(panel, spec) if "profile" in spec else None
    for outcome in spec["outcomes"]:
        check_positive(panel, outcome, list(range(spec["pre_period"]["start"], last_year + 1)))
        found, lost, path, components = counterfactual_measures(panel, outcome, spec, last_year, seed)
        rows, dropped, paths = rows + found, dropped + lost, paths + path
        found, lost = benchmark_measures(panel, outcome, spec)
        rows, dropped = rows + found, dropped + lost
        if "profile" in spec:
            found, lost, ranked, compared = profile_measures(panel, outcome, spec, components, shift, seed)
            rows, dropped = rows + found, dropped + lost
            ranks.append(ranked)
            sensitivity.append(compared)
    if "shift_share" in spec:
        found, lost = shift_share_measures(panel, spec)
        rows, dropped = rows + found, dropped + lost
    return Tables(pd.DataFrame(with_intervals(rows), columns=OUTPUT_COLUMNS),
                  pd.DataFrame(dropped, columns=ATTRITION_COLUMNS),
                  pd.DataFrame(paths),
                  pd.concat(ranks, ignore_index=True) if ranks else pd.DataFrame(columns=RANK_COLUMNS),
                  pd.concat(sensitivity, ignore_index=True) if sensitivity else
                  pd.DataFrame(columns=SENSITIVITY_COLUMNS))


def sector_shift(panel: pd.DataFrame, spec: dict[str, Any]) -> pd.DataFrame:
    """The transformation component of every city for the spec's shock (the same for every outcome)."""
    pre_years = range(spec["pre_period"]["start"], spec["pre_period"]["end"] + 1)
    return transformation(panel, spec["profile"]["sectors"], pre_years, spec["shock_year"])


def profile_measures(panel: pd.DataFrame, outcome: str, spec: dict[str, Any], components: dict[str, dict],
                     shift: pd.DataFrame, seed: int) -> tuple[list[dict], list[dict], pd.DataFrame, pd.DataFrame]:
    """Transformation and composite rows (when configured as measures), their attrition, the rank probabilities
    of the ranked measures and the weight sensitivity, for one outcome (scripts/resilience_profile.py)."""
    profile, s, wanted = spec["profile"], spec["shock_year"], spec["measures"]
    cities = sorted(components)
    for city in cities:
        found = city in shift.index
        components[city]["transformation"] = Component(shift.at[city, "value"] if found else np.nan, None)
    draws = spec["bootstrap"]["draws"]
    point = {k: np.array([components[c][k].value for c in cities], dtype=float) for k in (*COMPONENTS, "drop")}
    star = {k: np.stack([components[c][k].draws if components[c][k].draws is not None
                         else np.full(draws, components[c][k].value) for c in cities]) if cities
            else np.empty((0, draws)) for k in (*COMPONENTS, "drop")}
    available = [k for k, w in profile["weights"].items() if w > 0 and np.isfinite(point[k]).any()]
    complete = np.all([np.isfinite(point[k]) for k in available], axis=0) if available else np.zeros(len(cities), bool)
    rows, dropped = [], []
    if "transformation" in wanted:
        rows += [_row(c, outcome, "transformation", shift.at[c, "value"], n_pre=int(shift.at[c, "n_pre_years"]))
                 for c in shift.index]
        dropped += [{"city_code": c, "outcome": outcome, "measure": "transformation",
                     "reason": f"no year with every sector of {profile['sectors']} in the pre-period or from {s} on"}
                    for c in sorted(set(panel["city_code"]) - set(shift.index))]
    eligible = [c for c, ok in zip(cities, complete) if ok]
    index = np.flatnonzero(complete)
    parts, weights = {k: point[k][index] for k in available}, {k: profile["weights"][k] for k in available}
    value = composite(parts, weights, profile["scaling"]) if eligible else np.array([])
    value_star = composite({k: star[k][index] for k in available}, weights, profile["scaling"]) \
        if eligible else np.empty((0, draws))
    if "composite" in wanted:
        rows += [_row(c, outcome, "composite", v, d, n_pre=components[c]["n_pre"])
                 for c, v, d in zip(eligible, value, value_star)]
        dropped += [{"city_code": c, "outcome": outcome, "measure": "composite",
                     "reason": f"no {format_rows([k for k in available if not np.isfinite(components[c][k].value)])}"}
                    for c, ok in zip(cities, complete) if not ok]
    ranked = [rank_probabilities(value, value_star, profile["top_share"]).assign(
        measure="composite", city_code=eligible)]
    for measure in RANKED[1:]:
        sign = -1.0 if smaller_is_resilient(measure) else 1.0
        has = np.isfinite(point[measure])
        ranked.append(rank_probabilities(sign * point[measure][has], sign * star[measure][has],
                                         profile["top_share"]).assign(measure=measure,
                                                                      city_code=np.array(cities)[has]))
    ranks = pd.concat(ranked, ignore_index=True).assign(outcome=outcome)[RANK_COLUMNS]
    compared = sensitivity(parts, profile, available, value, np.random.default_rng([seed, zlib.crc32(outcome.encode())])) \
        if len(eligible) > 2 else pd.DataFrame(columns=SENSITIVITY_COLUMNS[1:])
    return rows, dropped, ranks, compared.assign(outcome=outcome)[SENSITIVITY_COLUMNS]


def at_shock(spec: dict[str, Any], shock_year: int, recovery_year: int, pre_period: dict[str, int],
             **changes: Any) -> dict[str, Any]:
    """The resilience spec moved to another shock (its years and pre-period), without the named shocks."""
    moved = {**spec, "shock_year": shock_year, "recovery_year": recovery_year, "pre_period": pre_period, **changes}
    moved.pop("shocks", None)
    return moved


GAP_COLUMNS = ["shock", "outcome", "city_code", "year", "gap", "cumulative_gap", "share_closed"]


def gap_paths(paths: pd.DataFrame, shock: str, shock_year: int) -> pd.DataFrame:
    """The path of gaps after a shock, per outcome and city, from the shock year s to the last year with data:
    g_t = ln Y_t − ln Ŷ_t, the running cumulative gap Σ_{u=s..t} g_u (missing from the first year without a gap on,
    as ``cumulative_gap``), and the share of the shock-year shortfall closed by t, 1 − g_t / g_s (t > s, only when
    g_s < 0; 1 = back on the counterfactual path, > 1 above it, < 0 further below). No paths (no counterfactual
    measure configured): an empty table."""
    if paths.empty:
        return pd.DataFrame(columns=GAP_COLUMNS)
    after = paths[paths["year"] >= shock_year].sort_values(["outcome", "city_code", "year"])
    gap = after["actual_log"] - after["counterfactual_log"]
    keys = [after["outcome"], after["city_code"]]
    broken = gap.isna().groupby(keys).cummax()
    at_shock_year = gap.where(after["year"] == shock_year).groupby(keys).transform("max")
    with np.errstate(divide="ignore", invalid="ignore"):
        share = (1 - gap / at_shock_year).where((at_shock_year < 0) & (after["year"] > shock_year))
    table = after[["outcome", "city_code", "year"]].assign(
        shock=shock, gap=gap, cumulative_gap=gap.fillna(0).groupby(keys).cumsum().where(~broken), share_closed=share)
    return table[GAP_COLUMNS].reset_index(drop=True)


def shock_specs(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The resilience spec of the main shock (under ``name``) and of each named shock of ``resilience.shocks`` (its
    own shock and recovery year and pre-period, by default the main one)."""
    moved = {name: at_shock(spec, shock["shock_year"], shock["recovery_year"],
                            shock.get("pre_period", spec["pre_period"]))
             for name, shock in spec.get("shocks", {}).items()}
    return {spec.get("name", "main"): at_shock(spec, spec["shock_year"], spec["recovery_year"], spec["pre_period"]),
            **moved}


def shock_tables(panel: pd.DataFrame, spec: dict[str, Any], years: dict[str, int], seed: int) -> dict[str, Tables]:
    """Every measure (and the profile) of every outcome for the main shock and each named shock, by name."""
    return {name: resilience_tables(panel, moved, years, seed) for name, moved in shock_specs(spec).items()}


def stacked(tables: dict[str, Tables], field: str, columns: list[str]) -> pd.DataFrame:
    """One field of several shocks' tables, with the column ``shock`` first."""
    frames = [getattr(table, field).assign(shock=name) for name, table in tables.items()]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["shock", *columns])
    return frame[["shock", *columns]]


def placebo_tables(panel: pd.DataFrame, spec: dict[str, Any], placebo: list[dict[str, Any]], years: dict[str, int],
                   seed: int) -> pd.DataFrame:
    """The counterfactual measures of each placebo (outcome, shock_year) with every resilience year moved by the
    same shift (pre-period, shock and recovery year), on 19 bootstrap draws (only the point values are used):
    the measures a placebo spec regresses on centralities of the year before its shock. Column shock_year first."""
    frames = []
    for item in placebo:
        shift = item["shock_year"] - spec["shock_year"]
        moved = at_shock(spec, item["shock_year"], spec["recovery_year"] + shift,
                         {k: v + shift for k, v in spec["pre_period"].items()}, outcomes=[item["outcome"]],
                         measures=[m for m in spec["measures"] if m in COUNTERFACTUAL_MEASURES],
                         bootstrap={"draws": 19, "block_length": 1})
        moved.pop("shift_share", None)
        moved.pop("profile", None)
        frames.append(resilience_tables(panel, moved, years, seed).measures.assign(shock_year=item["shock_year"]))
    if not frames:
        return pd.DataFrame({"shock_year": pd.Series(dtype=int), **{c: pd.Series(dtype=object) for c in OUTPUT_COLUMNS}})
    return pd.concat(frames, ignore_index=True)[["shock_year", *OUTPUT_COLUMNS]]
