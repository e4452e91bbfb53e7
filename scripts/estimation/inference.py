"""Inference beyond the analytic covariances: Conley (1999) spatial HAC and the restricted wild cluster bootstrap.

Written here because no maintained Python library does either for a plain OLS design: statsmodels and linearmodels
have no distance-kernel covariance (Conley 1999; the usual implementations are Stata's ``acreg`` and Hsiang's
``ols_spatial_HAC`` in Stata and R), and ``wildboottest`` (a port of R's fwildclusterboot) needs numba and returns
no confidence intervals.

Conley (1999), cross-section OLS: V = (X'X)⁻¹ [Σ_i Σ_j K(d_ij) x_i e_i e_j x_j'] (X'X)⁻¹, d_ij the great-circle
distance between cities i and j (haversine, R = 6,371 km), K the ``uniform`` kernel 1[d ≤ c] or the ``bartlett``
kernel max(0, 1 − d/c) for the cutoff c. No degrees-of-freedom correction (as ``acreg`` and Hsiang 2010). With
c → 0 it is White's HC0; with the uniform kernel and points that coincide within clusters it is the CR0 cluster
covariance. Panels (``panel_conley_covariance``): the spatial kernel within each year plus Bartlett-weighted serial
correlation within each city up to a lag cutoff (Hsiang 2010), on the fixed-effects residuals.

Restricted wild cluster bootstrap (WCR; Cameron, Gelbach & Miller 2008; MacKinnon & Webb 2017; Roodman, MacKinnon,
Nielsen & Webb 2019): to test H0: β_k = β0, fit the model with β_k fixed at β0 (residuals ũ), draw one weight v_g per
cluster — Rademacher ±1, or Webb's six-point ±√(1/2), ±1, ±√(3/2) when clusters are few — and refit on
y*_b = X̃β̃ + β0 x_k + ũ ⊙ v_g(i). The bootstrap t*_b = (β*_k − β0)/se_CR1(β*_k) against the sample's t gives the
symmetric p-value p(β0) = #{|t*_b| ≥ |t|}/B. The confidence interval is {β0 : p(β0) > α}, found by bisection on
each side of the estimate with the same weights for every β0 (test inversion). se_CR1 uses the small-sample factor
G/(G − 1)·(n − 1)/(n − K) (as Stata and statsmodels' cluster covariance).
"""
import zlib
from typing import Any

import numpy as np

EARTH_RADIUS_KM = 6371.0
WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


def great_circle_km(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """n × n haversine distances in km between points given in degrees."""
    phi, lam = np.radians(lat), np.radians(lon)
    dphi, dlam = phi[:, None] - phi[None, :], lam[:, None] - lam[None, :]
    a = np.sin(dphi / 2) ** 2 + np.cos(phi)[:, None] * np.cos(phi)[None, :] * np.sin(dlam / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def kernel_weights(distance: np.ndarray, cutoff_km: float, kernel: str) -> np.ndarray:
    """K(d): ``uniform`` 1[d ≤ c] or ``bartlett`` max(0, 1 − d/c)."""
    if kernel == "uniform":
        return (distance <= cutoff_km).astype(float)
    return np.clip(1.0 - distance / cutoff_km, 0.0, None)


def conley_covariance(x: np.ndarray, residuals: np.ndarray, lat: np.ndarray, lon: np.ndarray, cutoff_km: float,
                      kernel: str) -> np.ndarray:
    """Conley (1999) covariance of the OLS coefficients (module docstring)."""
    bread = np.linalg.inv(x.T @ x)
    scores = x * residuals[:, None]
    meat = scores.T @ kernel_weights(great_circle_km(lat, lon), cutoff_km, kernel) @ scores
    return bread @ meat @ bread


def panel_conley_covariance(x: np.ndarray, residuals: np.ndarray, lat: np.ndarray, lon: np.ndarray, cities: np.ndarray,
                            years: np.ndarray, cutoff_km: float, kernel: str, lag_cutoff: int) -> np.ndarray:
    """Conley (1999) covariance of a fixed-effects panel with serial correlation within city (Hsiang 2010):
    V = (X̃'X̃)⁻¹ M (X̃'X̃)⁻¹ on the within-transformed X̃ and residuals e, s_it = x̃_it e_it,
        M = Σ_t Σ_i Σ_j K(d_ij) s_it s_jt' + Σ_i Σ_{t ≠ s} max(0, 1 − |t − s|/(L + 1)) s_it s_is',
    K the spatial kernel within each year (``kernel_weights``), L the lag cutoff in years (Bartlett weights, as
    Newey & West 1987 and Hsiang's ``ols_spatial_HAC``)."""
    bread = np.linalg.inv(x.T @ x)
    scores = x * residuals[:, None]
    meat = np.zeros((x.shape[1], x.shape[1]))
    for year in np.unique(years):
        at = years == year
        meat += scores[at].T @ kernel_weights(great_circle_km(lat[at], lon[at]), cutoff_km, kernel) @ scores[at]
    for city in np.unique(cities):
        at = cities == city
        lags = np.abs(years[at][:, None] - years[at][None, :])
        serial = np.clip(1.0 - lags / (lag_cutoff + 1), 0.0, None) * (lags > 0)
        meat += scores[at].T @ serial @ scores[at]
    return bread @ meat @ bread


def cluster_sums(groups: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Σ_{i ∈ g} values_i for each cluster g (rows), any trailing shape kept."""
    sums = np.zeros((groups.max() + 1, *values.shape[1:]))
    np.add.at(sums, groups, values)
    return sums


def _cr1_t(x: np.ndarray, y: np.ndarray, groups: np.ndarray, k: int, null: float) -> np.ndarray:
    """(β_k − null)/se_CR1(β_k) for each column of y (n × B)."""
    n, p = x.shape
    clusters = groups.max() + 1
    bread = np.linalg.inv(x.T @ x)
    beta = bread @ x.T @ y
    residuals = y - x @ beta
    row = x @ bread[k]                                   # (X'X)⁻¹_k· x_i: the score weight of observation i
    per_cluster = cluster_sums(groups, row[:, None] * residuals)
    factor = clusters / (clusters - 1) * (n - 1) / (n - p)
    return (beta[k] - null) / np.sqrt(factor * (per_cluster ** 2).sum(axis=0))


def cluster_weights(clusters: int, draws: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    """clusters × draws bootstrap weights: ``rademacher`` ±1 or ``webb`` (six points, each with probability 1/6)."""
    if kind == "rademacher":
        return rng.choice([-1.0, 1.0], size=(clusters, draws))
    return rng.choice(WEBB, size=(clusters, draws))


def _wild_t(x: np.ndarray, groups: np.ndarray, k: int, null: float, fitted: np.ndarray, residuals: np.ndarray,
            weights: np.ndarray) -> np.ndarray:
    """_cr1_t of every bootstrap sample y*_b = f + ũ ⊙ v_g(i),b, computed from cluster sums without forming y*
    (Roodman, MacKinnon, Nielsen & Webb 2019, §5): with A = (X'X)⁻¹ and r = X A_k·,
        β*_b = A X'f + A Σ_g X_g'ũ_g v_gb,   Σ_{i∈g} r_i e*_ib = Σ_g r f + v_gb Σ_g r ũ − (Σ_g r x')β*_b,
    so the cost is O(G·p·B) instead of O(n·p·B)."""
    n, p = x.shape
    clusters = groups.max() + 1
    inverse = np.linalg.inv(x.T @ x)
    row = x @ inverse[k]
    beta = (inverse @ (x.T @ fitted))[:, None] + inverse @ cluster_sums(groups, x * residuals[:, None]).T @ weights
    scores = (cluster_sums(groups, row * fitted)[:, None] + cluster_sums(groups, row * residuals)[:, None] * weights
              - cluster_sums(groups, row[:, None] * x) @ beta)
    factor = clusters / (clusters - 1) * (n - 1) / (n - p)
    return (beta[k] - null) / np.sqrt(factor * (scores ** 2).sum(axis=0))


def wild_p_value(x: np.ndarray, y: np.ndarray, groups: np.ndarray, k: int, null: float, weights: np.ndarray) -> float:
    """WCR bootstrap p-value of H0: β_k = null with the given cluster weights (clusters × draws)."""
    restricted = np.delete(x, k, axis=1)
    shifted = y - null * x[:, k]
    gamma = np.linalg.lstsq(restricted, shifted, rcond=None)[0]
    fitted, residuals = restricted @ gamma + null * x[:, k], shifted - restricted @ gamma
    t_star = _wild_t(x, groups, k, null, fitted, residuals, weights)
    t = _wild_t(x, groups, k, null, fitted, residuals, np.ones((weights.shape[0], 1)))[0]   # v = 1 gives y itself
    return float(np.mean(np.abs(t_star) >= abs(t) * (1 - 1e-10)))   # a draw that reproduces the sample ties with it


def wild_cluster_bootstrap(x: np.ndarray, y: np.ndarray, groups: np.ndarray, k: int, draws: int, kind: str,
                           rng: np.random.Generator, alpha: float = 0.05) -> dict[str, Any]:
    """p-value of H0: β_k = 0 and the (1 − alpha) confidence interval by test inversion (module docstring)."""
    groups = np.unique(groups, return_inverse=True)[1]
    weights = cluster_weights(groups.max() + 1, draws, kind, rng)
    beta = np.linalg.lstsq(x, y, rcond=None)[0][k]
    se = abs(beta / _cr1_t(x, y[:, None], groups, k, 0.0)[0]) if beta else 1.0

    def bound(direction: float) -> float:
        """The β0 on one side of the estimate where p(β0) crosses alpha (bisection after bracketing)."""
        inside, step = beta, se
        outside = beta + direction * step
        while wild_p_value(x, y, groups, k, outside, weights) > alpha:
            inside, step = outside, 2 * step
            outside = beta + direction * step
        for _ in range(25):   # the bracket shrinks to 2⁻²⁵ of its width
            middle = (inside + outside) / 2
            if wild_p_value(x, y, groups, k, middle, weights) > alpha:
                inside = middle
            else:
                outside = middle
        return (inside + outside) / 2

    return {"p_value": wild_p_value(x, y, groups, k, 0.0, weights), "ci_low": bound(-1.0), "ci_high": bound(1.0),
            "clusters": int(groups.max() + 1), "draws": draws, "weights": kind}


def wild_terms(x: np.ndarray, y: np.ndarray, groups: np.ndarray, names: list[str],
               inference: dict[str, Any]) -> dict[str, Any]:
    """Restricted wild cluster bootstrap p-value and test-inversion 95 % CI of each centrality term (seeded)."""
    options = inference["wild_bootstrap"]
    found = {}
    for term in [t for t in inference["terms"] if t in names]:
        rng = np.random.default_rng([inference["seed"], zlib.crc32(term.encode())])
        found[term] = wild_cluster_bootstrap(x, y, groups, names.index(term), options["draws"], options["weights"],
                                             rng)
    return {"draws": options["draws"], "weights": options["weights"], "terms": found,
            "clusters": int(len(set(groups)))}
