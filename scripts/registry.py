"""One registry per concept: estimators, covariance types and resilience measures.

The config schema (its ``x-registry`` enums), the spec expansion (scripts/specs.py), config validation
(scripts/config.py), the estimators' labels, the tables, figures and the report read these; nothing else lists
them. Deliberately import-light (no numpy, pandas or estimation code): validating a config loads this module only.
Fitting and measure functions are named as ``module:function`` strings and imported only where they run
(``load``).
"""
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any


@dataclass(frozen=True)
class Covariance:
    """A covariance (standard-error) type a spec may request with ``cov``."""

    description: str


COVARIANCES: dict[str, Covariance] = {
    "HC1": Covariance("heteroskedasticity-robust, small-sample scaled (MacKinnon & White 1985)"),
    "HC3": Covariance("heteroskedasticity-robust, jackknife-like (MacKinnon & White 1985)"),
    "cluster_province": Covariance("clustered by province (first two digits of the city code)"),
    "conley": Covariance("Conley (1999) spatial HAC: great-circle distance kernel (conley_km, conley_kernel)"),
    "wild_cluster_province": Covariance("province-clustered SEs; centrality p-values and CIs from the restricted wild "
                                        "cluster bootstrap (Cameron, Gelbach & Miller 2008; wild_bootstrap)"),
    "ml": Covariance("asymptotic covariance of the ML / GMM estimator"),
    "cluster_city": Covariance("clustered by city"),
    "driscoll_kraay": Covariance("Driscoll & Kraay (1998), Bartlett kernel: robust to cross-sectional dependence"),
}


@dataclass(frozen=True)
class Estimator:
    """An estimator a spec may name with ``estimator``.

    family: cross_section | spatial | panel | spatial_panel (decides the design: one row per city, or city × year);
    fit: the library function that fits it; label: the name written into the result JSON and the tables;
    covariances: the ``cov`` values it accepts (the first is the default); impacts: whether it reports direct,
    indirect and total impacts (LeSage & Pace 2009); durbin: whether the regressors' spatial lags W·x enter too;
    instrumented: whether the centralities are instrumented (spec key ``instruments``).
    """

    family: str
    fit: str
    label: str
    covariances: tuple[str, ...]
    impacts: bool = False
    durbin: bool = False
    instrumented: bool = False

    @property
    def uses_weights(self) -> bool:
        """Whether the estimator needs a spatial weights matrix."""
        return self.family in ("spatial", "spatial_panel")

    @property
    def is_panel(self) -> bool:
        """Whether the design is city × year (growth rows) rather than one row per city."""
        return self.family in ("panel", "spatial_panel")


ESTIMATORS: dict[str, Estimator] = {
    "ols": Estimator("cross_section", "scripts.estimation.cross_section:fit_ols", "OLS",
                     ("HC1", "HC3", "cluster_province", "conley", "wild_cluster_province")),
    "iv": Estimator("cross_section", "scripts.estimation.iv:fit_iv", "2SLS (IV)", ("HC1", "cluster_province"),
                    instrumented=True),
    "sar": Estimator("spatial", "scripts.estimation.spatial:fit_spatial", "Spatial lag (ML)", ("ml",), impacts=True),
    "sem": Estimator("spatial", "scripts.estimation.spatial:fit_spatial", "Spatial error (ML)", ("ml",)),
    "sdm": Estimator("spatial", "scripts.estimation.spatial:fit_spatial", "Spatial Durbin (ML)", ("ml",),
                     impacts=True, durbin=True),
    "gm_lag": Estimator("spatial", "scripts.estimation.spatial:fit_spatial", "Spatial lag (GMM/2SLS)", ("ml",),
                        impacts=True),
    "gm_error": Estimator("spatial", "scripts.estimation.spatial:fit_spatial", "Spatial error (GMM, het.-robust)",
                          ("ml",)),
    "panel_fe": Estimator("panel", "scripts.estimation.panel:fit_panel", "Panel two-way FE",
                          ("cluster_city", "driscoll_kraay", "conley", "wild_cluster_province")),
    "panel_iv": Estimator("panel", "scripts.estimation.panel:fit_panel", "Panel 2SLS, two-way FE", ("cluster_city",),
                          instrumented=True),
    # Driscoll–Kraay is degenerate with year-specific regressors (each lives in one year): cluster by city only
    "event_study": Estimator("panel", "scripts.estimation.panel:fit_panel", "Event study, two-way FE",
                             ("cluster_city",)),
    # spatial panels: the effects (entity | time | twoway | random) are a spec key, recorded in the result JSON
    "panel_sar": Estimator("spatial_panel", "scripts.estimation.spatial_panel:fit_spatial_panel",
                           "Spatial lag panel (ML)", ("ml",), impacts=True),
    "panel_sem": Estimator("spatial_panel", "scripts.estimation.spatial_panel:fit_spatial_panel",
                           "Spatial error panel (ML)", ("ml",)),
    "panel_sdm": Estimator("spatial_panel", "scripts.estimation.spatial_panel:fit_spatial_panel",
                           "Spatial Durbin panel (ML)", ("ml",), impacts=True, durbin=True),
}


@dataclass(frozen=True)
class Measure:
    """A resilience measure (scripts/resilience.py computes it; its docstring gives the formulas).

    compute: the function that computes it (with the other measures of its kind); larger_is_resilient: the sign
    convention of rankings and maps; neutral: the value of a city that behaves like its counterfactual or the
    benchmark (the centre of the diverging maps); counterfactual: whether it needs a fitted counterfactual path
    (and so can be recomputed for a placebo shock year); outcome: ``outcome`` (per configured outcome) or
    ``shift_share`` (on the sum of the configured sectors, under ``shift_share.label``).
    """

    compute: str
    larger_is_resilient: bool
    neutral: float
    counterfactual: bool
    outcome: str = "outcome"
    description: str = ""
    axis: str = ""        # axis label of the headline scatter
    title: str = ""       # title of the headline map
    noun: str = ""        # "the shock-year output gap"; may use {shock_year} and {recovery_year} (noun_dated)
    noun_dated: str = ""

    def text(self, name: str, field: str, **years: int) -> str:
        """A display text of the measure (axis, title, noun or noun_dated), generic unless written out above."""
        generic = {"axis": f"{name}", "title": f"{name}: {self.description}", "noun": f"{name}",
                   "noun_dated": f"{name} (shock {{shock_year}})"}
        return (getattr(self, field) or generic[field]).format(**years)


_COUNTERFACTUAL = "scripts.resilience:counterfactual_measures"
_BENCHMARK = "scripts.resilience:benchmark_measures"
_SHIFT_SHARE = "scripts.resilience:shift_share_measures"
_PROFILE = "scripts.resilience:profile_measures"

MEASURES: dict[str, Measure] = {
    "drop": Measure(_COUNTERFACTUAL, True, 0.0, True, description="shock-year gap ln Y − ln Ŷ",
                    axis="drop: ln Y − ln Ŷ", title="Output gap against the pre-shock trend (ln Y − ln Ŷ)",
                    noun="the shock-year output gap", noun_dated="the {shock_year} output gap"),
    "recovery": Measure(_COUNTERFACTUAL, True, 0.0, True, description="recovery-year gap ln Y − ln Ŷ"),
    "gap_closed": Measure(_COUNTERFACTUAL, True, 1.0, True, description="share of the shock-year gap closed"),
    "cumulative_gap": Measure(_COUNTERFACTUAL, True, 0.0, True, description="sum of post-shock gaps"),
    "growth_shortfall": Measure(_COUNTERFACTUAL, True, 0.0, True,
                                description="shock-year growth minus the city's mean pre-period growth"),
    "recovery_time": Measure(_COUNTERFACTUAL, False, 1.0, True,
                             description="years until output is back on the counterfactual path (censored: "
                                         "attrition)"),
    "recovery_time_peak": Measure(_COUNTERFACTUAL, False, 1.0, True,
                                  description="years until output is back above its pre-shock peak (censored: "
                                              "attrition)"),
    "depth": Measure(_COUNTERFACTUAL, False, 0.0, True,
                     description="deepest shortfall below the counterfactual, max(0, −min g_t)"),
    "strength": Measure(_COUNTERFACTUAL, True, 0.0, True,
                        description="mean yearly growth above the counterfactual after the shock year"),
    "stability": Measure(_COUNTERFACTUAL, True, 0.0, True,
                         description="SD of log growth before the shock minus after it"),
    "transformation": Measure(_PROFILE, True, 0.0, False,
                              description="distance of the sector shares after the shock from the pre-period's"),
    "composite": Measure(_PROFILE, True, 50.0, False,
                         description="resilience profile composite, 0–100 (100 = most resilient)"),
    "sensitivity_contraction": Measure(_BENCHMARK, False, 1.0, False,
                                       description="Martin (2012) sensitivity, year before → shock year"),
    "sensitivity_recovery": Measure(_BENCHMARK, False, 1.0, False,
                                    description="Martin (2012) sensitivity, shock year → recovery year"),
    "resistance": Measure(_BENCHMARK, True, 0.0, False, description="MSGT (2016) resistance"),
    "recoverability": Measure(_BENCHMARK, True, 0.0, False, description="MSGT (2016) recoverability"),
    "resistance_shift_share": Measure(_SHIFT_SHARE, True, 0.0, False, "shift_share",
                                      "MSGT (2016) resistance, sector-mix expectation"),
    "recoverability_shift_share": Measure(_SHIFT_SHARE, True, 0.0, False, "shift_share",
                                          "MSGT (2016) recoverability, sector-mix expectation"),
}

REGISTRIES: dict[str, dict[str, Any]] = {"estimators": ESTIMATORS, "covariances": COVARIANCES, "measures": MEASURES}


def counterfactual_measure_names() -> tuple[str, ...]:
    """The measures computed from a fitted counterfactual path, in registry order."""
    return tuple(name for name, measure in MEASURES.items() if measure.counterfactual)


def estimators_with_impacts() -> tuple[str, ...]:
    """The estimators that report direct, indirect and total impacts."""
    return tuple(name for name, estimator in ESTIMATORS.items() if estimator.impacts)


def lower_is_resilient() -> tuple[str, ...]:
    """The measures where a smaller value means a more resilient city (the sensitivity indices)."""
    return tuple(name for name, measure in MEASURES.items() if not measure.larger_is_resilient)


def load(reference: str) -> Callable[..., Any]:
    """The function named by a ``module:function`` reference of a registry entry."""
    module, _, name = reference.partition(":")
    return getattr(import_module(module), name)
