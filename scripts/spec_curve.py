"""Every spec at once: its centrality coefficients (the specification curve) and the units it left out.

``curve_rows``: one row per spec × term whose name starts with a centrality alias (dc, dc_x_post, dc_x_2020, W_dc …),
with the spec's attributes, so a figure or a referee can sort estimates across networks, weights, measures and
estimators. ``attrition_rows``: one row per spec × unit of the geography outside its estimation sample, with the
unit's names and province and the reason.
"""
from typing import Any

import pandas as pd

SPEC_COLUMNS = ["group", "estimator", "measure", "network", "weights", "cov", "centralities", "sample", "moderator",
                "shock_year"]


def curve_rows(model: dict[str, Any], aliases: list[str]) -> list[dict[str, Any]]:
    """Rows for one model result."""
    spec = model["spec"]
    base = {"model": model["model"], **{k: spec.get(k) for k in SPEC_COLUMNS}, "n": model["n"]}
    rows = []
    for coefficient in model["coefficients"]:
        term = coefficient["term"]
        stem = term.removeprefix("W_")
        if any(stem == a or stem.startswith(f"{a}_x_") for a in aliases):
            rows.append({**base, **{k: coefficient[k] for k in ("term", "estimate", "se", "p_value", "ci_low", "ci_high")}})
    return rows


ATTRITION_COLUMNS = ["model", "n", "city_code", "name_en", "name_zh", "province_zh", "reason"]


def dropped_reason(key: str, spec: dict[str, Any]) -> str:
    """A model JSON's ``dropped`` key as a reason: a design column means the unit has no value there."""
    return key if " " in key else f"no value of {key}" + (f" ({spec['measure']} of {spec['outcome']})"
                                                              if key == spec.get("measure") else "")


def attrition_rows(model: dict[str, Any], cities: pd.DataFrame, measure_reasons: pd.DataFrame) -> list[dict[str, Any]]:
    """Every unit of the geography outside the model's sample, with the reason: the model's own ``dropped`` lists
    (a missing design column, islands, unbalanced panels, data-quality flags); else, for cross-section specs, why
    the resilience stage computed no value of their measure (`measure_reasons`: city_code, shock, outcome,
    measure, reason from attrition_resilience.csv and attrition_shocks.csv); else a generic reason."""
    spec = model["spec"]
    reasons = {code: dropped_reason(key, spec) for key, codes in model.get("dropped", {}).items() for code in codes}
    if "panel" not in spec["family"] and spec.get("shock_year") is None:
        known = measure_reasons[(measure_reasons["shock"] == spec.get("shock", "none"))
                                & (measure_reasons["outcome"] == spec["outcome"])
                                & (measure_reasons["measure"] == spec["measure"])]
        resilience = dict(zip(known["city_code"], "no " + spec["measure"] + ": " + known["reason"]))
    else:
        resilience = {}
    generic = ("no growth rate or centralities in the panel years" if "panel" in spec["family"] else
               f"no {spec['measure']} of {spec['outcome']} or no centralities")
    kept = set(model["sample"])
    rows = []
    for city in cities.itertuples(index=False):
        if city.city_code not in kept:
            reason = reasons.get(city.city_code) or resilience.get(city.city_code) or generic
            rows.append({"model": model["model"], "n": model["n"], "city_code": city.city_code,
                         "name_en": city.name_en, "name_zh": city.name_zh, "province_zh": city.province_zh,
                         "reason": reason})
    return rows


def attrition_display(rows: pd.DataFrame) -> pd.DataFrame:
    """For people: one row per spec and reason, the units named (English name, province)."""
    def names(group: pd.DataFrame) -> str:
        return ", ".join(f"{n if isinstance(n, str) else z} ({p})"
                         for n, z, p in zip(group["name_en"], group["name_zh"], group["province_zh"]))

    table = [{"spec": model, "N": int(group["n"].iloc[0]), "reason": reason, "units": len(part), "who": names(part)}
             for model, group in rows.groupby("model", sort=False)
             for reason, part in group.groupby("reason", sort=True)]
    return pd.DataFrame(table, columns=["spec", "N", "reason", "units", "who"]).set_index("spec")
