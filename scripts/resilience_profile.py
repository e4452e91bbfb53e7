"""Resilience profile: six components per city, a 0–100 composite with bootstrap intervals, rank probabilities,
weight sensitivity, and screening for each city's own shock years.

The design follows the ERRI package (Perumal, Ray & Mazumder 2026, *Economic Resilience and Recovery Index*,
CRAN 0.1.0): components of a counterfactual gap path, a weighted 0–100 composite, a residual bootstrap carried
through to the composite and the ranks, and a weight-sensitivity analysis. The formulas below are cityres' own
(log gaps, as every other counterfactual measure here); they are not a port of ERRI's code.

Components, from the gap path g_t = ln Y_t − ln Ŷ_t (shock year s, T* the last of the consecutive post-shock years
with data, H = T* − s):

- ``depth``           D = max(0, −min_{s ≤ t ≤ T*} g_t): the deepest shortfall below the counterfactual, in log
                      points; 0 = never below it. Smaller = more resilient.
- ``cumulative_gap``  Σ_{t=s..T*} g_t (the measure of scripts/resilience.py; the cumulative loss is −this).
- recovery time       in the composite: 0 when g_s ≥ 0 (nothing to recover), else min{k ≥ 1: g_{s+k} ≥ 0}, and H + 1
                      when not reached by T* (censored: the least it can be). The ``recovery_time`` measure itself
                      keeps never-fallen and censored cities out (attrition). Smaller = more resilient.
- ``strength``        (g_{T*} − g_s) / H: mean yearly growth above the counterfactual after the shock year (log points
                      a year; needs H ≥ 1). Larger = more resilient.
- ``stability``       σ_pre − σ_post, σ the SD of log growth Δ ln Y_t over the pre-period and over s+1..T* (needs two
                      post-shock growth rates): positive = a steadier path after the shock than before. Read from the
                      observed path only, so it has no bootstrap spread.
- ``transformation``  ‖σ_end − σ̄_pre‖₂: Euclidean distance between the city's sector shares in its last year with
                      every sector (from s on) and their mean over the pre-period (shares of the configured sectors'
                      sum, 0–1). Counted as adaptation, larger = more resilient (Martin & Sunley 2015, "reorientation");
                      that reading is contested, which the leave-one-out weights show.

Composite (``composite``): each component is scaled to 0–100 so that 100 is the most resilient city — min-max,
100·(x − min)/(max − min) (reversed where smaller is more resilient; 50 when every city has the same value), or
rank, 100·(r − 1)/(n − 1) with r the ascending average rank — and C_i = Σ_k w_k S_ik / Σ_k w_k. Components no city
has for a shock (e.g. stability when the data end one year after it) are left out and the weights renormalised;
a city missing a component the others have gets no composite (attrition). Every bootstrap draw d recomputes the
counterfactual components from its gap path g*_d, rescales across cities and recomputes C, so the percentile
interval of C carries the counterfactual's uncertainty (the cities' draws are independent).

Ranks (1 = most resilient) per draw give each city's rank interval (2.5–97.5 % of its draws) and its
probabilities of being among the top and the bottom k = ⌈share · n⌉ ranked cities.
"""
import math
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from scripts.registry import MEASURES

ROUNDING = 1e-9  # log points: a path rejoined exactly counts as rejoined despite floating-point error
COMPONENTS = ("depth", "cumulative_gap", "recovery_time", "strength", "stability", "transformation")
RANKED = ("composite", "drop", "depth", "cumulative_gap", "strength")   # the measures with bootstrap draws
RANK_COLUMNS = ["outcome", "measure", "city_code", "rank", "rank_low", "rank_high", "p_top", "p_bottom", "k",
                "n_cities"]
SENSITIVITY_COLUMNS = ["outcome", "weight_set", "description", "n_cities", "spearman", "top_k_overlap",
                       "median_rank_shift", "max_rank_shift"]
SCREENING_COLUMNS = ["outcome", "city_code", "year", "actual_log", "expected_log", "z", "p_value", "shock"]


class Component(NamedTuple):
    """A component's point value and its bootstrap draws (None: it does not depend on the counterfactual)."""

    value: float
    draws: np.ndarray | None


def smaller_is_resilient(component: str) -> bool:
    """Direction of a component in the composite: the registry's (scripts/registry.py MEASURES)."""
    return not MEASURES[component].larger_is_resilient


def gap_components(gaps: np.ndarray, gaps_star: np.ndarray) -> dict[str, Component]:
    """Depth, cumulative gap, recovery time (composite convention) and strength from the post-shock gap path
    g_s..g_T* (``gaps``) and its draws (draws × years). Strength is NaN when the path has one year."""
    horizon = len(gaps) - 1
    out = {}
    for name, function in (("depth", _depth), ("cumulative_gap", _cumulative), ("recovery_time", _recovery_years),
                           ("strength", _strength)):
        out[name] = Component(float(function(gaps[None, :], horizon)[0]), function(gaps_star, horizon))
    return out


def _depth(gaps: np.ndarray, horizon: int) -> np.ndarray:
    return np.maximum(0.0, -gaps.min(axis=1))


def _cumulative(gaps: np.ndarray, horizon: int) -> np.ndarray:
    return gaps.sum(axis=1)


def _recovery_years(gaps: np.ndarray, horizon: int) -> np.ndarray:
    back = gaps[:, 1:] >= -ROUNDING
    if not horizon:  # the data end in the shock year: a fall is censored at once
        return np.where(gaps[:, 0] >= -ROUNDING, 0.0, 1.0)
    first = np.where(back.any(axis=1), back.argmax(axis=1) + 1, horizon + 1)
    return np.where(gaps[:, 0] >= -ROUNDING, 0, first).astype(float)


def _strength(gaps: np.ndarray, horizon: int) -> np.ndarray:
    if horizon < 1:
        return np.full(len(gaps), np.nan)
    return (gaps[:, -1] - gaps[:, 0]) / horizon


def stability(pre_log: np.ndarray, post_log: np.ndarray) -> float:
    """σ_pre − σ_post of log growth (sample SDs): ``pre_log`` the pre-period's ln Y, ``post_log`` ln Y_s..ln Y_T*
    (growth from s+1 on). NaN with fewer than two growth rates on either side."""
    pre, post = np.diff(pre_log), np.diff(post_log[~np.isnan(post_log)])
    pre = pre[np.isfinite(pre)]
    if len(pre) < 2 or len(post) < 2:
        return np.nan
    return float(pre.std(ddof=1) - post.std(ddof=1))


def transformation(panel: pd.DataFrame, sectors: list[str], pre_years: range, shock_year: int) -> pd.DataFrame:
    """Per city: ``value`` = ‖shares in the last year ≥ shock_year with every sector − mean pre-period shares‖₂,
    ``end_year``, ``n_pre_years``; cities without both parts are absent."""
    complete = panel.dropna(subset=sectors)
    complete = complete[(complete[sectors] >= 0).all(axis=1) & (complete[sectors].sum(axis=1) > 0)]
    shares = complete[sectors].div(complete[sectors].sum(axis=1), axis=0).assign(
        city_code=complete["city_code"], year=complete["year"])
    pre = shares[shares["year"].isin(pre_years)].groupby("city_code")
    before, n_pre = pre[sectors].mean(), pre.size()
    after = shares[shares["year"] >= shock_year].sort_values("year").groupby("city_code").last()
    both = before.index.intersection(after.index)
    distance = np.sqrt(((after.loc[both, sectors] - before.loc[both, sectors]) ** 2).sum(axis=1))
    return pd.DataFrame({"value": distance, "end_year": after.loc[both, "year"], "n_pre_years": n_pre.loc[both]})


def scale(values: np.ndarray, smaller_better: bool, method: str) -> np.ndarray:
    """0–100 along the first axis (cities), 100 = most resilient: min-max or rank (see the module docstring).
    NaN stays NaN; a column whose values are all equal scales to 50."""
    oriented = -values if smaller_better else values
    if method == "rank":
        ranks = average_ranks(oriented)
        count = np.isfinite(oriented).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            scaled = 100.0 * (ranks - 1) / (count - 1)
        return np.where(np.isfinite(oriented), np.where(count > 1, scaled, 50.0), np.nan)
    low, spread = np.nanmin(oriented, axis=0), np.nanmax(oriented, axis=0) - np.nanmin(oriented, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = np.where(spread > 0, 100.0 * (oriented - low) / np.where(spread > 0, spread, 1.0), 50.0)
    return np.where(np.isnan(oriented), np.nan, scaled)


def composite(components: dict[str, np.ndarray], weights: dict[str, float], method: str) -> np.ndarray:
    """Σ_k w_k S_k / Σ_k w_k over the weighted components (arrays cities × …, same shape)."""
    used = {k: w for k, w in weights.items() if w > 0}
    total = sum(used.values())
    return sum(w * scale(components[k], smaller_is_resilient(k), method) for k, w in used.items()) / total


def _count_below(keys: np.ndarray, side: str) -> np.ndarray:
    """Per element, how many finite keys of its column are smaller (side "left") or not larger ("right").

    Written here rather than scipy.stats.rankdata: one binary search per column of the sorted keys is ~30× faster on
    the 300 cities × 1,000 draws matrices the profile ranks, and NaN keys (sorted last) never count."""
    columns = keys.reshape(len(keys), -1)
    ordered = np.sort(columns, axis=0)
    counts = [np.searchsorted(ordered[:, j], columns[:, j], side) for j in range(columns.shape[1])]
    return np.column_stack(counts).astype(float).reshape(keys.shape)


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ascending ranks along the first axis, ties sharing their average rank (rankdata's "average"); NaN → NaN."""
    ranked = (_count_below(values, "left") + _count_below(values, "right") + 1) / 2
    return np.where(np.isfinite(values), ranked, np.nan)


def ranks_of(values: np.ndarray) -> np.ndarray:
    """Competition ranks (1 = largest; ties share the best) along the first axis; NaN ranks NaN."""
    return np.where(np.isfinite(values), _count_below(-values, "left") + 1, np.nan)


def rank_probabilities(point: np.ndarray, draws: np.ndarray, top_share: float) -> pd.DataFrame:
    """Rank of each city's point value, its 95 % rank interval over the draws (cities × draws, larger = more
    resilient) and its probabilities of a rank ≤ k and ≥ n − k + 1, k = ⌈top_share · n⌉ (n ranked cities)."""
    n = int(np.isfinite(point).sum())
    if not n:
        return pd.DataFrame(columns=RANK_COLUMNS[3:])
    k = max(1, math.ceil(top_share * n))
    ranked = ranks_of(draws)
    counted = np.isfinite(ranked).sum(axis=1)
    ranked_n = np.isfinite(draws).sum(axis=0)
    with np.errstate(invalid="ignore"):
        top = (ranked <= k).sum(axis=1) / counted
        bottom = (ranked >= ranked_n[None, :] - k + 1).sum(axis=1) / counted
    low, high = np.full(len(point), np.nan), np.full(len(point), np.nan)
    usable = counted > 0
    quantile = np.quantile if np.isfinite(ranked).all() else np.nanquantile   # nanquantile goes row by row
    low[usable], high[usable] = quantile(ranked[usable], [0.025, 0.975], axis=1, method="inverted_cdf")
    return pd.DataFrame({"rank": ranks_of(point), "rank_low": low, "rank_high": high,
                         "p_top": np.where(usable, top, np.nan), "p_bottom": np.where(usable, bottom, np.nan),
                         "k": k, "n_cities": n})


def weight_sets(profile: dict[str, Any], available: list[str]) -> dict[str, tuple[dict[str, float], str]]:
    """The configured alternative weights and leave-one-component-out, over the components available."""
    default = {k: float(w) for k, w in profile["weights"].items() if k in available}
    sets = {name: ({k: float(w) for k, w in weights.items() if k in available}, "configured")
            for name, weights in profile.get("alternatives", {}).items()}
    for left_out in [k for k, w in default.items() if w > 0]:
        rest = {k: w for k, w in default.items() if k != left_out}
        if sum(rest.values()) > 0:
            sets[f"without_{left_out}"] = (rest, f"leave {left_out} out")
    return {name: (weights, description) for name, (weights, description) in sets.items()
            if sum(weights.values()) > 0}


def spearman(x: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Spearman's ρ of x with each column (no missing values): the Pearson correlation of their average ranks."""
    rx, rc = average_ranks(x), average_ranks(columns)
    rx, rc = rx - rx.mean(), rc - rc.mean(axis=0)
    return (rx @ rc) / np.sqrt((rx ** 2).sum() * (rc ** 2).sum(axis=0))


def sensitivity(components: dict[str, np.ndarray], profile: dict[str, Any], available: list[str],
                default: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """Each alternative weight set (and ``random_weights`` vectors uniform on the simplex, as one row of means)
    against the default composite (cities with every component): Spearman ρ, the share of the default's top k
    still in the top k, and the median and largest absolute rank shift."""
    scaled = np.column_stack([scale(components[k], smaller_is_resilient(k), profile["scaling"]) for k in available])
    sets = weight_sets(profile, available)
    names = list(sets)
    matrix = np.array([[sets[n][0].get(k, 0.0) for k in available] for n in names]).reshape(-1, len(available))
    draws = profile.get("random_weights", 0)
    simplex = rng.dirichlet(np.ones(len(available)), size=draws)
    weights = np.vstack([matrix, simplex])
    values = scaled @ (weights / weights.sum(axis=1, keepdims=True)).T          # cities × weight sets
    k = max(1, math.ceil(profile["top_share"] * len(default)))
    default_rank, rank = ranks_of(default), ranks_of(values)
    shift = np.abs(rank - default_rank[:, None])
    found = pd.DataFrame({
        "spearman": spearman(default, values),
        "top_k_overlap": ((rank <= k) & (default_rank[:, None] <= k)).sum(axis=0) / (default_rank <= k).sum(),
        "median_rank_shift": np.median(shift, axis=0), "max_rank_shift": shift.max(axis=0)})
    rows = found.iloc[:len(names)].assign(
        weight_set=names, description=[f"{sets[n][1]}: " + ", ".join(f"{c} {w:g}" for c, w in sets[n][0].items() if w)
                                    for n in names])
    if draws:
        rows = pd.concat([rows, found.iloc[len(names):].mean().to_frame().T.assign(
            weight_set="random", description=f"mean over {draws} weight vectors uniform on the simplex")])
    return rows.assign(n_cities=len(default)).reset_index(drop=True)


def screen(panel: pd.DataFrame, outcome: str, settings: dict[str, Any]) -> pd.DataFrame:
    """Each city-year whose ln Y falls significantly below the city's own rolling trend.

    ``rolling_trend``: OLS of ln Y on t over the ``window`` years before t (all with data), z = (ln Y_t − ŷ_t) /
    (s·√(1 + 1/w + (t − t̄)² / Σ(t_i − t̄)²)), s = max(residual SD, ``min_scale``), p from Student's t with w − 2
    degrees of freedom. ``robust_growth``: z = (Δln Y_t − median) / max(1.4826·MAD, ``min_scale``) of the window's
    growth rates, p from the normal. ``shock`` = p < ``alpha`` (one-sided, a fall)."""
    window, floor, trend = settings["window"], settings["min_scale"], settings["method"] == "rolling_trend"
    span = window if trend else window + 1   # levels needed before t: w for the trend, w growth rates otherwise
    wide = np.log(panel.pivot(index="city_code", columns="year", values=outcome).sort_index(axis=1))
    wide = wide.reindex(columns=range(int(wide.columns.min()), int(wide.columns.max()) + 1))
    values, years = wide.to_numpy(dtype=float), wide.columns.to_numpy()
    t = np.arange(-window, 0, dtype=float)
    t_dev = t - t.mean()
    frames = []
    for j in range(span, len(years)):
        history, now = values[:, j - span:j], values[:, j]
        if trend:
            slope = (history - history.mean(axis=1, keepdims=True)) @ t_dev / (t_dev ** 2).sum()
            fitted = history.mean(axis=1, keepdims=True) + slope[:, None] * t_dev
            resid_sd = np.sqrt(((history - fitted) ** 2).sum(axis=1) / (window - 2))
            expected = history.mean(axis=1) - slope * t.mean()
            z = (now - expected) / (np.maximum(resid_sd, floor)
                                    * np.sqrt(1 + 1 / window + t.mean() ** 2 / (t_dev ** 2).sum()))
            p = stats.t.cdf(z, df=window - 2)
        else:
            growth = np.diff(history, axis=1)
            centre = np.median(growth, axis=1)
            spread = np.maximum(1.4826 * np.median(np.abs(growth - centre[:, None]), axis=1), floor)
            expected = values[:, j - 1] + centre
            z = (now - expected) / spread
            p = stats.norm.cdf(z)
        usable = np.isfinite(history).all(axis=1) & np.isfinite(now)
        frames.append(pd.DataFrame({"city_code": wide.index[usable], "year": int(years[j]),
                                    "actual_log": now[usable], "expected_log": expected[usable], "z": z[usable],
                                    "p_value": p[usable], "shock": p[usable] < settings["alpha"]}))
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=SCREENING_COLUMNS[1:])
    return table.assign(outcome=outcome)[SCREENING_COLUMNS]
