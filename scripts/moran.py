"""Global Moran's I (Moran 1950; Cliff & Ord 1981) of the resilience measures and headline centralities.

I = (n / S0) · Σ_i Σ_j w_ij z_i z_j / Σ_i z_i², z = y − ȳ, W row-standardised over the cities that have y
(island policy re-applied). Inference: normal approximation under randomisation and a permutation test
(esda.Moran's, ``permutations`` draws, seeded from config ``seed``, computed in one matrix product by
``permutation_p``; p_sim is one-sided, (M + 1)/(R + 1)).
"""
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from scripts.weights import sample_weights


def analysis_variables(resilience: pd.DataFrame, centrality: pd.DataFrame, models: dict[str, Any]) -> pd.DataFrame:
    """Long table city_code, variable, value: the resilience measures of the models' outcome and its centralities."""
    measures = resilience[resilience["outcome"] == models["outcome"]]
    measures = measures.rename(columns={"measure": "variable"})[["city_code", "variable", "value"]]
    year = models["centrality_year"]
    chosen = centrality[(centrality["year"] == year) & centrality["measure"].isin(models["centralities"].values())]
    alias = {measure: name for name, measure in models["centralities"].items()}
    chosen = chosen.assign(variable=chosen["measure"].map(alias))[["city_code", "variable", "value"]]
    return pd.concat([measures, chosen], ignore_index=True)


def moran_table(values: pd.DataFrame, table: pd.DataFrame, cities: pd.DataFrame, spec: dict[str, Any], name: str,
                permutations: int, seed: int) -> pd.DataFrame:
    """One row per variable: n, I, E[I], z and p (normal), p_sim (permutation), islands handled; `name` is the
    weights matrix's key under ``weights`` in config.yaml (named in errors)."""
    import esda

    rows = []
    by_sample: dict[tuple[str, ...], tuple] = {}   # variables with the same cities share one W (built once)
    for variable, group in values.groupby("variable", sort=True):
        group = group[np.isfinite(group["value"].astype(float))].set_index("city_code")["value"]
        sample = tuple(group.index)
        if sample not in by_sample:
            by_sample[sample] = sample_weights(table, list(sample), cities, spec, name, f"Moran's I of '{variable}'")
        w, kept, report = by_sample[sample]
        moran = esda.Moran(group.loc[kept].to_numpy(dtype=float), w, permutations=0)
        rows.append({"variable": variable, "n": len(kept), "moran_i": moran.I, "expected_i": moran.EI,
                     "z_norm": moran.z_norm, "p_norm": moran.p_norm,
                     "p_sim": permutation_p(moran, permutations, seed) if permutations else np.nan,
                     "permutations": permutations, "islands": ";".join(report["islands"])})
    return pd.DataFrame(rows)


def permutation_p(moran: Any, permutations: int, seed: int) -> float:
    """esda's one-sided pseudo p-value, (M + 1)/(R + 1) with M = min(#{I_r ≥ I}, R − #{I_r ≥ I}), over the same R
    permutations esda.Moran draws after ``np.random.seed(seed)``; ties with I (to 1e-12) count in #{I_r ≥ I}.

    Own code because esda multiplies W by one permuted vector at a time (nine tenths of the Moran job); here the
    permutations, drawn in esda's order from the same generator, go through one sparse-dense product."""
    z = moran.y - moran.y.mean()           # esda's z before it standardises moran.z
    permuted = z[permutation_orders(len(z), permutations, seed)]
    lagged = moran.w.sparse @ permuted
    simulated = moran.n / moran.w.s0 * (permuted * lagged).sum(axis=0) / moran.z2ss
    # a permutation that ties with I counts as at least as large: integer measures (recovery_time) tie often, and
    # esda's loop then decides each tie by rounding noise in its sum
    larger = int((simulated >= moran.I - 1e-12 * max(abs(moran.I), 1.0)).sum())
    return (min(larger, permutations - larger) + 1.0) / (permutations + 1.0)


@cache
def permutation_orders(n: int, permutations: int, seed: int) -> np.ndarray:
    """The n × R matrix whose column r orders esda's r-th permuted vector of n values after ``np.random.seed(seed)``:
    ``np.random.permutation(z)`` shuffles a copy of z with the same draws as it shuffles ``arange(n)``. Drawn once
    per sample size (a run's Moran's I share a few), not once per variable and weights matrix."""
    np.random.seed(seed)
    orders = np.column_stack([np.random.permutation(n) for _ in range(permutations)])
    orders.flags.writeable = False
    return orders
