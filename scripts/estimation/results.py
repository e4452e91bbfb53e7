"""Coefficient rows of a fitted model (term, estimate, se, statistic, p_value, ci_low, ci_high), shared by the
estimators."""
from typing import Any

import numpy as np


def coefficient_rows(names, params, se, stat, pvalues, low, high) -> list[dict[str, Any]]:
    return [{"term": n, "estimate": float(b), "se": float(s), "statistic": float(t), "p_value": float(p),
             "ci_low": float(lo), "ci_high": float(hi)}
            for n, b, s, t, p, lo, hi in zip(names, params, se, stat, pvalues, low, high)]


def normal_coefficients(names: list[str], params: np.ndarray, vcov: np.ndarray) -> list[dict[str, Any]]:
    """Coefficient rows of an ML/GMM fit: SEs from the asymptotic covariance, z, two-sided p, 95 % normal CI."""
    from scipy import stats

    se = np.sqrt(np.diag(vcov))
    z = params / se
    crit = stats.norm.ppf(0.975)
    return coefficient_rows(names, params, se, z, 2 * stats.norm.sf(np.abs(z)), params - crit * se, params + crit * se)
