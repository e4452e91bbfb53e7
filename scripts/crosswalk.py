"""City crosswalk: map each source's unit ids (codes or names) to 2020 ``city_code`` and aggregate merges.

The crosswalk (``data/crosswalk/city_codes.csv``, plus a user's file named by config ``user_crosswalk`` with the
same columns, merged over it by load_crosswalks) holds facts, one row per non-trivial source id:
``source`` ('*' = every source, or a source name, which wins over '*'), ``source_code`` (code or name),
``city_code`` (blank = not mappable, dropped with the reason), ``valid_from``/``valid_to`` (years in which
the id is a separate unit that must be added into ``city_code``), ``reason``.
An id not in the crosswalk maps to itself if it is a unit of the geography (by code, or by Chinese name
for name-keyed sources); otherwise it is *unknown*: reported in the attrition table, and the run goes on.
"""

from collections.abc import Collection
from pathlib import Path

import numpy as np
import pandas as pd

from scripts.common import InputError, format_rows, require_columns

CROSSWALK_COLUMNS = ["source", "source_code", "source_name", "city_code", "valid_from", "valid_to", "reason"]
MAPPING_COLUMNS = ["source", "source_code", "city_code", "valid_from", "valid_to"]


def load_crosswalk(path: str | Path) -> pd.DataFrame:
    """Read and check the crosswalk: required columns, one row per (source, source_code), a reason on each."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    require_columns(table, CROSSWALK_COLUMNS, str(path))
    duplicated = table.duplicated(["source", "source_code"], keep=False)
    if duplicated.any():
        raise InputError(f"{path}: source_code listed twice for one source: "
                         f"{sorted(table.loc[duplicated, 'source_code'].unique())}. Keep one row each.")
    no_reason = table["reason"].str.strip() == ""
    if no_reason.any():
        raise InputError(f"{path}: rows {list(np.flatnonzero(no_reason) + 2)} have no reason; every row needs one.")
    return table


def load_crosswalks(paths: list[str | Path]) -> pd.DataFrame:
    """The built-in crosswalk (first path) with the user's (config ``user_crosswalk``) merged over it: a row both
    give with the same mapping (target and validity window) counts once; the same (source, source_code) mapped
    differently is an error naming both files."""
    tables = [load_crosswalk(path).assign(file=str(path)) for path in paths]
    merged = pd.concat(tables, ignore_index=True).drop_duplicates(MAPPING_COLUMNS)   # the built-in row is kept
    conflict = merged.duplicated(["source", "source_code"], keep=False)
    if conflict.any():
        shown = [f"{source}/{code}: " + " vs ".join(f"{row.city_code or '(dropped)'} in {row.file}"
                                                    for row in group.itertuples())
                 for (source, code), group in merged[conflict].groupby(["source", "source_code"], sort=True)]
        raise InputError(f"the crosswalks disagree on {len(shown)} source id(s): {'; '.join(shown[:5])}. The user "
                         "crosswalk may add ids, not remap the built-in ones: remove the row from one file.")
    return merged.drop(columns="file").reset_index(drop=True)


def _rules_for(crosswalk: pd.DataFrame, source: str) -> pd.DataFrame:
    rules = crosswalk[crosswalk["source"].isin(["*", source])]
    rules = rules.assign(specific=rules["source"] != "*").sort_values("specific", kind="mergesort")
    return rules.drop_duplicates("source_code", keep="last").set_index("source_code")


def map_unit_ids(units: pd.Series, source: str, crosswalk: pd.DataFrame, universe: pd.DataFrame,
                 by_name: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What each distinct source id becomes: (source_code, city_code, outcome) and attrition rows.

    outcome: matched (id is a unit of the geography), recoded by crosswalk, dropped by crosswalk, unknown id.
    """
    rules = _rules_for(crosswalk, source)
    identity = dict(zip(universe["name_zh"], universe["city_code"])) if by_name else \
        {code: code for code in universe["city_code"]}
    units = units.reset_index(drop=True)
    target = units.map(lambda u: rules.at[u, "city_code"] if u in rules.index else identity.get(u, None))
    in_rules = units.isin(rules.index)
    outcome = np.select(
        [in_rules & (target == ""), in_rules, target.notna()],
        ["dropped by crosswalk", "recoded by crosswalk", "matched"], default="unknown id")
    unit_map = pd.DataFrame({"source_code": units, "city_code": target, "outcome": outcome})
    return unit_map, _attrition_rows(unit_map, rules, source)


def map_units(table: pd.DataFrame, source: str, crosswalk: pd.DataFrame, universe: pd.DataFrame,
              by_name: bool = False, summed: Collection[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Map ``source_code`` to ``city_code``, add merged units, and say what happened to every unit.

    Returns (mapped table keyed by city_code, year; attrition rows with stage/source/outcome/n_units/units/reason).
    A merged target gets, per year and column, the sum over its members; if a member that should be
    present that year (inside its valid_from..valid_to) is missing, the target's value is NaN that year.
    Columns not in ``summed`` (rates, indices, shares: variables without ``aggregate: sum``; None = every column)
    have no sum: a target with values from two or more members that year gets NaN.
    """
    rules = _rules_for(crosswalk, source)
    unit_map, attrition = map_unit_ids(pd.Series(table["source_code"].unique()), source, crosswalk, universe, by_name)
    unit_map["valid_from"] = _window_bound(unit_map["source_code"], rules, "valid_from", -np.inf)
    unit_map["valid_to"] = _window_bound(unit_map["source_code"], rules, "valid_to", np.inf)
    kept = table.merge(unit_map[unit_map["outcome"].isin(["matched", "recoded by crosswalk"])],
                       on="source_code", validate="many_to_one")
    value_columns = [c for c in table.columns if c not in ("source_code", "year")]
    inside = (kept["year"] >= kept["valid_from"]) & (kept["year"] <= kept["valid_to"])
    outside = kept[~inside & kept[value_columns].notna().any(axis=1)]
    kept = kept[inside]
    _check_renames_unique(kept)
    return _aggregate_members(kept, value_columns, value_columns if summed is None else summed), pd.concat([attrition, _outside_rows(outside, rules, source)],
                                                              ignore_index=True)


def _outside_rows(outside: pd.DataFrame, rules: pd.DataFrame, source: str) -> pd.DataFrame:
    """Attrition rows for values of a unit in years outside its validity window (e.g. Laiwu in 2020, a year after
    it merged into Jinan): not added to the target city, so not silently lost either."""
    rows = []
    for code, group in outside.groupby("source_code", sort=True):
        years = sorted(group["year"].unique())
        rows.append({"stage": "join", "source": source, "outcome": "values outside the validity window not added",
                     "n_units": 1, "units": f"{code} -> {group['city_code'].iloc[0]} ({format_rows(years)})",
                     "reason": f"the crosswalk adds {code} to {group['city_code'].iloc[0]} only in "
                               f"{_window_text(rules, code)}: {rules.at[code, 'reason']}"})
    return pd.DataFrame(rows, columns=["stage", "source", "outcome", "n_units", "units", "reason"])


def _window_text(rules: pd.DataFrame, code: str) -> str:
    start, end = rules.at[code, "valid_from"], rules.at[code, "valid_to"]
    return f"{start or '…'}–{end or '…'}"


def _window_bound(units: pd.Series, rules: pd.DataFrame, column: str, default: float) -> pd.Series:
    """Year bound of each unit's validity window (±inf where the crosswalk gives none)."""
    text = units.map(lambda u: rules.at[u, column] if u in rules.index else "")
    return pd.to_numeric(text.replace("", np.nan)).fillna(default)


def _check_renames_unique(kept: pd.DataFrame) -> None:
    """Units without a validity window are the city itself or a rename: at most one per city and year."""
    unbounded = kept[np.isinf(kept["valid_from"]) & np.isinf(kept["valid_to"])]
    clash = unbounded.duplicated(["city_code", "year"], keep=False)
    if clash.any():
        shown = unbounded.loc[clash, ["source_code", "city_code", "year"]].astype(str).agg(" -> ".join, axis=1)
        raise InputError(
            f"two source ids map to the same city in the same year: {sorted(shown)[:10]}. If one unit was merged "
            "into the other, give its crosswalk row a valid_to year; otherwise drop one of them.")


def _aggregate_members(kept: pd.DataFrame, value_columns: list[str], summed: Collection[str]) -> pd.DataFrame:
    """Sum members into their city per year; NaN where a member expected that year has no value, and in columns
    that are not summed where two or more members have a value (a growth rate of a merged unit is not a sum)."""
    grouped = kept.groupby(["city_code", "year"])
    out = grouped[value_columns].sum(min_count=1)
    unsummed = [c for c in value_columns if c not in summed]
    out[unsummed] = out[unsummed].where(grouped[unsummed].count() <= 1)
    members = kept[["city_code", "source_code", "valid_from", "valid_to"]].drop_duplicates()
    if members["city_code"].duplicated().any():
        cells = out.index.to_frame(index=False).merge(members, on="city_code")
        active = cells[(cells["year"] >= cells["valid_from"]) & (cells["year"] <= cells["valid_to"])]
        expected = active.groupby(["city_code", "year"]).size().reindex(out.index)
        out = out.where(grouped[value_columns].count().ge(expected, axis=0))
    return out.reset_index()


def _attrition_rows(unit_map: pd.DataFrame, rules: pd.DataFrame, source: str) -> pd.DataFrame:
    rows = [{"stage": "join", "source": source, "outcome": "units in source", "n_units": len(unit_map),
             "units": "", "reason": ""}]
    for outcome, group in unit_map.groupby("outcome", sort=True):
        if outcome == "matched":
            rows.append({"stage": "join", "source": source, "outcome": outcome, "n_units": len(group),
                         "units": "", "reason": "id is a 2020 unit of the geography"})
            continue
        for _, unit in group.sort_values("source_code").iterrows():
            reason = rules.at[unit.source_code, "reason"] if unit.source_code in rules.index else \
                ("id not in the geography and not in the crosswalk: if it is a real unit, add a row for it to a "
                 "user crosswalk file (config user_crosswalk)")
            target = f" -> {unit.city_code}" if unit.city_code else ""
            rows.append({"stage": "join", "source": source, "outcome": outcome, "n_units": 1,
                         "units": f"{unit.source_code}{target}", "reason": reason})
    return pd.DataFrame(rows)
