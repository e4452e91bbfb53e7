"""Estimation library of the models stage: the estimators and the helpers that build their designs, as plain
functions of a table (one row per city, or city × year rows) and, for the spatial models, a weights object W —
importable from a notebook on any table and W, without Snakemake. The models rule (scripts/rules/models.py) fits
the configured specs with ``fit.fit_named_spec``; which estimators exist, their labels and covariances are listed in
scripts/registry.py.

Modules:
- ``results``: the coefficient rows of a result (``coefficient_rows``, ``normal_coefficients``).
- ``design``: design table, subsamples, complete cases, standardising, orthogonalising, rank check, panel design.
- ``cross_section``: OLS with robust or province-clustered SEs and VIFs; permutation p-values.
- ``spatial``: spatial lag, error and Durbin models (ML/GMM, spreg) and LeSage & Pace impacts with simulated SEs.
- ``panel``: two-way fixed-effects panels and event studies (linearmodels PanelOLS).
- ``spatial_panel``: fixed-effects spatial lag / error panels (spreg, or Lee & Yu's transformation approach).
- ``fit``: one named spec end to end — its design (placebo years, moderator, subsample), estimator and result.
"""
