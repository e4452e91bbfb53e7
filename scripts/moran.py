"""Global Moran's I (Moran 1950; Cliff & Ord 1981) of the resilience measures and headline centralities.

I = (n / S0) · Σ_i Σ_j w_ij z_i z_j / Σ_i z_i², z = y − ȳ, W row-standardised over the cities that have y
(island policy re-applied). Inference: normal approximation under randomisation and a permutation test
(esda.Moran, ``permutations`` draws, seeded from config ``seed``; p_sim is one-sided, (M + 1)/(R + 1)).
"""
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
    for variable, group in values.groupby("variable", sort=True):
        group = group[np.isfinite(group["value"].astype(float))].set_index("city_code")["value"]
        w, kept, report = sample_weights(table, list(group.index), cities, spec, name,
                                           f"Moran's I of '{variable}'")
        np.random.seed(seed)  # esda draws its permutations from numpy's global generator
        moran = esda.Moran(group.loc[kept].to_numpy(dtype=float), w, permutations=permutations)
        rows.append({"variable": variable, "n": len(kept), "moran_i": moran.I, "expected_i": moran.EI,
                     "z_norm": moran.z_norm, "p_norm": moran.p_norm, "p_sim": moran.p_sim,
                     "permutations": permutations, "islands": ";".join(report["islands"])})
    return pd.DataFrame(rows)
