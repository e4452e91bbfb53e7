"""The seed theory's claims as named tests: one evidence table and figure from the model results.

Yao Chen (2024), *Theoretical Mechanisms and Suggestions for Fostering the Economic Resilience of Chinese Cities
from the Perspective of Urban Social Networks*, China Finance and Economic Review. Each hypothesis in config
``hypotheses.tests`` names a variable (a design term: centrality alias, control, moderator interaction), the
expected sign (+ or −), a primary spec (a name, or a glob whose first match is used) and the specs that test it
(names or glob patterns). In panel specs a
centrality alias c is read as its post-shock interaction c_x_post.

Several shocks: a hypothesis may name, under ``shocks``, a named shock of resilience.shocks (e.g. omicron_2022)
with its own primary, specs and unflagged spec (and, optionally, variable). The evidence table then has one row
per hypothesis and shock (column ``shock``; the main shock under resilience.name); in panel specs the alias is read
as its interaction with that shock's window, c_x_<shock> (models.panel.shocks). Every row of a family (its
hypotheses × their shocks) enters that family's adjustment.

Decision rule (config ``hypotheses.decision``): the primary p-values of the active hypotheses of one ``family``
(default ``seed``: the seed theory's H1–H5; a researcher's own hypotheses take their own family, so they do not
move the seed's adjusted p-values) are adjusted together by Holm (1979) or Benjamini & Hochberg (1995)
(statsmodels ``multipletests``). ``enabled: false`` leaves a hypothesis out; ``networks`` restricts the specs that
test it (primary and robustness) to those on the listed networks. A hypothesis is
- ``supported``: primary estimate of the expected sign with adjusted p < α, and at least ``min_share`` of its
  specs significant (unadjusted p < α) with the expected sign;
- ``fragile``: the primary test passes but fewer than ``min_share`` of the specs agree;
- ``contradicted``: primary estimate of the opposite sign with adjusted p < α;
- ``not supported``: otherwise;
- ``inactive``: it needs a moderator (``requires_moderator``) that config ``models.moderators`` does not supply.
With ``unflagged`` set (a spec with ``sample: unflagged``), the same rule is applied with that spec as primary
(its own family adjustment), and the table shows whether the verdict depends on data-quality-flagged cities.
"""
import fnmatch
from pathlib import Path
from typing import Any, Collection

import numpy as np
import pandas as pd

from scripts.hypothesis_config import SIGNS, enabled_tests, is_active, matching_specs, per_shock

ESTIMATE_COLUMNS = ["spec", "term", "estimator", "estimate", "se", "p_value", "ci_low", "ci_high", "n", "file",
                    "in_specs"]


def term_for(variable: str, spec: dict[str, Any], shock: str | None = None) -> str:
    """The coefficient holding `variable` in a spec's results (panel: a centrality's interaction with the window
    of the main shock, c_x_post, or of the named `shock`, c_x_<shock>)."""
    if "panel" in spec["family"] and variable in spec["all_centralities"]:
        return f"{variable}_x_{shock or 'post'}"
    moderator = spec.get("moderator", "none")
    alias = variable.removesuffix(f"_x_{moderator}")
    if "panel" in spec["family"] and alias != variable and alias in spec["all_centralities"]:
        return f"{alias}_x_{shock or 'post'}_x_{moderator}"   # the moderated window interaction
    return variable


def estimates(test: dict[str, Any], results: dict[str, dict[str, Any]], files: dict[str, str],
              shock: str | None = None) -> pd.DataFrame:
    """One row per spec of the hypothesis (its specs, primary and unflagged spec) that has the variable: estimate,
    se, p, CI, the result file, and whether the spec counts in the share (in `specs`). `shock`: a named shock
    whose panel interactions are read (None: the main shock)."""
    rows = []
    patterns = [*test["specs"], test["primary"], *([test["unflagged"]] if test.get("unflagged") else [])]
    for name in matching_specs(patterns, list(results)):
        result = results[name]
        if test.get("networks") and result["spec"].get("network") not in test["networks"]:
            continue  # a robustness spec on another network does not test this hypothesis
        term = term_for(test["variable"], {**result["spec"], "all_centralities": result["spec_aliases"]}, shock)
        coef = next((c for c in result["coefficients"] if c["term"] == term), None)
        if coef is None:
            continue  # e.g. a one-at-a-time spec of another centrality
        rows.append({"spec": name, "term": term, "estimator": result["spec"]["estimator"],
                     "estimate": coef["estimate"], "se": coef["se"], "p_value": coef["p_value"],
                     "ci_low": coef["ci_low"], "ci_high": coef["ci_high"], "n": result["n"], "file": files[name],
                     "in_specs": bool(matching_specs(test["specs"], [name]))})
    return pd.DataFrame(rows, columns=ESTIMATE_COLUMNS)


def adjust(p_values: list[float], method: str) -> np.ndarray:
    """Family-wise (Holm) or false-discovery-rate (BH) adjusted p-values; ``none`` returns them unchanged."""
    from statsmodels.stats.multitest import multipletests

    if not p_values or method == "none":
        return np.asarray(p_values, dtype=float)
    return multipletests(p_values, method={"holm": "holm", "bh": "fdr_bh"}[method])[1]


def verdict(sign: int, estimate: float, adjusted_p: float, share: float, decision: dict[str, Any]) -> str:
    """The decision rule of the module docstring."""
    if not np.isfinite(adjusted_p):
        return "not supported"
    significant = adjusted_p < decision["alpha"]
    if significant and np.sign(estimate) == sign:
        return "supported" if share >= decision["min_share"] else "fragile"
    if significant and np.sign(estimate) == -sign:
        return "contradicted"
    return "not supported"


def primary_row(table: pd.DataFrame, pattern: str) -> pd.Series | None:
    """The estimate of the primary spec: the first spec matching `pattern` (a name or glob) that has the term."""
    hit = table[[fnmatch.fnmatchcase(s, pattern) for s in table["spec"]]] if pattern else table.iloc[:0]
    return hit.iloc[0] if len(hit) else None


def hypothesis_row(hid: str, test: dict[str, Any], table: pd.DataFrame, alpha: float) -> dict[str, Any]:
    """Summary of one active hypothesis' estimates: spread and agreement over its specs, primary and unflagged."""
    sign = SIGNS[str(test["sign"])]
    counted = table[table["in_specs"].astype(bool)]
    agree = (counted["p_value"] < alpha) & (np.sign(counted["estimate"]) == sign)
    primary, unflagged = primary_row(table, test["primary"]), primary_row(table, test.get("unflagged", ""))

    def pick(row: pd.Series | None, key: str, missing: Any = np.nan) -> Any:
        return row[key] if row is not None else missing

    return {"n_specs": len(counted), "median": counted["estimate"].median(), "min": counted["estimate"].min(),
            "max": counted["estimate"].max(), "share_expected_significant": float(np.mean(agree)) if len(counted)
            else np.nan, "primary_spec": pick(primary, "spec", test["primary"]),
            "primary_estimate": pick(primary, "estimate"), "primary_p": pick(primary, "p_value"),
            "primary_n": pick(primary, "n"),
            "primary_file": pick(primary, "file", ""), "unflagged_spec": test.get("unflagged"),
            "unflagged_estimate": pick(unflagged, "estimate"), "unflagged_p": pick(unflagged, "p_value"),
            "sign": sign}


def apply_decision(frame: pd.DataFrame, decision: dict[str, Any]) -> pd.DataFrame:
    """Adjusted p-values (within each hypothesis family, separately for the primary and the unflagged column) and
    the verdicts of the decision rule."""
    active = frame["verdict"].ne("inactive")
    for prefix in ("primary", "unflagged"):
        for _, members in frame[active].groupby("family", sort=True):
            p = members[f"{prefix}_p"].dropna()
            frame.loc[p.index, f"{prefix}_p_adjusted"] = adjust(p.tolist(), decision["correction"])
        frame.loc[active, f"{prefix}_verdict"] = [   # no estimate → not supported; no unflagged spec → blank
            verdict(r["sign"], r[f"{prefix}_estimate"], r.get(f"{prefix}_p_adjusted", np.nan),
                    r["share_expected_significant"], decision)
            if prefix == "primary" or isinstance(r["unflagged_spec"], str) else ""
            for _, r in frame.loc[active].iterrows()]
    frame.loc[active, "verdict"] = frame.loc[active, "primary_verdict"]
    frame.loc[active, "depends_on_flagged_cities"] = [
        ("yes" if u != v else "no") if u else "" for u, v in zip(frame.loc[active, "unflagged_verdict"],
                                                                 frame.loc[active, "verdict"])]
    return frame


SUMMARY_COLUMNS = ["hypothesis", "shock", "family", "statement", "variable", "proxy", "expected_sign", "n_specs",
                   "median", "min", "max", "share_expected_significant", "primary_spec", "primary_estimate", "primary_n",
                   "primary_p", "primary_p_adjusted", "verdict", "unflagged_spec", "unflagged_estimate",
                   "unflagged_p_adjusted", "unflagged_verdict", "depends_on_flagged_cities", "primary_file", "note"]


def evidence(hypotheses: dict[str, Any], results: dict[str, dict[str, Any]], files: dict[str, str],
             moderators: Collection[str], main_shock: str = "main") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(summary per hypothesis and shock, long table of every estimate behind it); `main_shock` labels the rows of
    the main shock (resilience.name)."""
    decision = hypotheses["decision"]
    summary, long = [], []
    for hid, declared in enabled_tests(hypotheses).items():
        for label, shock, test in per_shock(declared, main_shock):
            base = {"hypothesis": hid, "shock": label, "family": test.get("family", "seed"),
                    "statement": test["statement"], "variable": test["variable"], "proxy": test.get("proxy", ""),
                    "expected_sign": "+" if SIGNS[str(test["sign"])] > 0 else "−", "verdict": ""}
            if not is_active(test, moderators):
                summary.append({**base, "verdict": "inactive",
                                "note": f"needs models.moderators.{test['requires_moderator']}"})
                continue
            table = estimates(test, results, files, shock)
            row = hypothesis_row(hid, test, table, decision["alpha"])
            summary.append({**base, **row})
            long.append(table.assign(hypothesis=hid, shock=label, primary=table["spec"] == row["primary_spec"]))
    frame = apply_decision(pd.DataFrame(summary), decision)
    return frame.reindex(columns=SUMMARY_COLUMNS), pd.concat(long, ignore_index=True) if long else pd.DataFrame()


def display(summary: pd.DataFrame) -> pd.DataFrame:
    """The evidence table for people: one row per hypothesis and shock, numbers rounded."""
    def number(v, digits=4):
        return "" if pd.isna(v) else f"{v:.{digits}f}"

    rows = []
    for _, r in summary.iterrows():
        rows.append({"hypothesis": r["hypothesis"], "shock": r["shock"],
                     "variable": f"{r['variable']} ({r['expected_sign']})" + (" · proxy" if r["proxy"] else ""),
                     "specs": "" if pd.isna(r["n_specs"]) else int(r["n_specs"]),
                     "median [min, max]": "" if pd.isna(r["median"]) else
                     f"{number(r['median'])} [{number(r['min'])}, {number(r['max'])}]",
                     "share sig. expected": number(r["share_expected_significant"], 2),
                     "primary (adj. p)": "" if pd.isna(r["primary_estimate"]) else
                     f"{number(r['primary_estimate'])} ({number(r['primary_p_adjusted'], 3)})",
                     "N": "" if pd.isna(r["primary_n"]) else int(r["primary_n"]),
                     "verdict": r["verdict"],
                     "w/o flagged": r["unflagged_verdict"] if isinstance(r["unflagged_verdict"], str) else "",
                     "primary result": r["primary_file"] if isinstance(r["primary_file"], str) else r["note"]})
    return pd.DataFrame(rows).set_index("hypothesis")


def evidence_plot(long: pd.DataFrame, summary: pd.DataFrame, stem: Path, title: str) -> None:
    """z-statistics (estimate / SE) of every spec per hypothesis, the primary spec ringed; dashed lines at ±1.96."""
    from scripts.render import pyplot, save_figure

    plt = pyplot()
    active = summary[summary["verdict"] != "inactive"].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(7, 0.45 * max(len(active), 1) + 1.2))
    for k, row in active.iterrows():
        rows = long[(long["hypothesis"] == row["hypothesis"]) & (long["shock"] == row["shock"])] if len(long) else long
        if len(rows):
            z = rows["estimate"] / rows["se"]
            ax.plot(z, np.full(len(z), k), "o", color="#2166ac", alpha=0.45, markersize=4)
            primary = rows[rows["primary"]]
            ax.plot(primary["estimate"] / primary["se"], np.full(len(primary), k), "o", markersize=9,
                    markerfacecolor="none", markeredgecolor="#b2182b")
    for x in (-1.96, 1.96):
        ax.axvline(x, color="#999999", linestyle="--", linewidth=0.8)
    ax.axvline(0, color="black", linewidth=0.6)
    several = active["shock"].nunique() > 1
    ax.set_yticks(range(len(active)), [f"{h}{f' [{k}]' if several else ''} {v} ({s}): {d}" for h, k, v, s, d in
                                       zip(active["hypothesis"], active["shock"], active["variable"],
                                           active["expected_sign"], active["verdict"])], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("z = estimate / SE across the specs testing each hypothesis (ring: primary spec)")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    save_figure(fig, stem)
