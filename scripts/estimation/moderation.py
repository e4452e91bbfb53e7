"""Marginal effects of the centralities across a moderator (centred interaction models).

A moderation spec fits y = … + β_c C + β_m z + β_cm C·z + …, z = (m − m̄)/s_m the moderator z-scored in the
estimation sample (scripts/estimation/design.py ``prepared_sample``). The effect of C at a moderator value m is

    ME_c(m) = β_c + β_cm · a(m),   a(m) = (m − m̄)/s_m,
    Var ME_c(m) = V_cc + a² V_(cm,cm) + 2a V_(c,cm)

(Brambor, Clark & Golder 2006, eq. 8; Aiken & West 1991), from the spec's own covariance (HC1/HC3, clustered,
Conley; the wild-bootstrap specs use their CR1 covariance), with normal critical values as the coefficients'.
At m = m̄ it is the coefficient β_c itself. It is reported at the moderator's quartiles in the sample and on a grid
across its range (the marginal-effects figure).
"""
from typing import Any

import numpy as np
import pandas as pd

QUANTILES = {"p25": 0.25, "p50": 0.5, "p75": 0.75}
GRID_POINTS = 41


def effects_at(names: list[str], params: np.ndarray, vcov: np.ndarray, term: str, interaction: str,
               shift: np.ndarray) -> dict[str, np.ndarray]:
    """ME of ``term`` at moderator shifts a = (m − m̄)/s_m (array): estimate, SE, two-sided normal p, 95 % CI."""
    from scipy import stats

    c, cm = names.index(term), names.index(interaction)
    estimate = params[c] + params[cm] * shift
    se = np.sqrt(vcov[c, c] + shift ** 2 * vcov[cm, cm] + 2 * shift * vcov[c, cm])
    crit = stats.norm.ppf(0.975)
    return {"estimate": estimate, "se": se, "p_value": 2 * stats.norm.sf(np.abs(estimate / se)),
            "ci_low": estimate - crit * se, "ci_high": estimate + crit * se}


def marginal_effects(names: list[str], params: np.ndarray, vcov: np.ndarray, terms: list[str], moderator: str,
                     values: pd.Series) -> dict[str, Any]:
    """ME of each centrality term at the quartiles of the moderator's sample values (as transformed, before
    z-scoring) and on a grid of GRID_POINTS from its minimum to its maximum."""
    mean, sd = float(values.mean()), float(values.std(ddof=1))
    points = {label: float(values.quantile(q)) for label, q in QUANTILES.items()}
    grid = np.linspace(values.min(), values.max(), GRID_POINTS)
    at, curves = [], {}
    for term in terms:
        interaction = f"{term}_x_{moderator}"
        found = effects_at(names, params, vcov, term, interaction, (np.array(list(points.values())) - mean) / sd)
        at += [{"term": term, "point": label, "moderator_value": value,
                **{key: float(found[key][k]) for key in found}} for k, (label, value) in enumerate(points.items())]
        curve = effects_at(names, params, vcov, term, interaction, (grid - mean) / sd)
        curves[term] = {key: curve[key].tolist() for key in ("estimate", "ci_low", "ci_high")}
    return {"moderator": moderator, "mean": mean, "sd": sd, "values": sorted(values.tolist()), "at": at,
            "grid": {"moderator_value": grid.tolist(), **curves}}
