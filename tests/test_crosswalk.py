"""Crosswalk: recodes, merges with a validity window, unknown ids, rename clashes."""
import numpy as np
import pandas as pd
import pytest

from scripts.common import InputError
from scripts.crosswalk import load_crosswalk, load_crosswalks, map_units

ROOT_CROSSWALK = "data/crosswalk/city_codes.csv"


def crosswalk(rows):
    return pd.DataFrame(rows, columns=["source", "source_code", "source_name", "city_code", "valid_from",
                                       "valid_to", "reason"]).astype(str)


UNIVERSE = pd.DataFrame({"city_code": ["370100", "110100", "420100"], "name_zh": ["济南市", "北京市", "武汉市"]})
XWALK = crosswalk([
    ["*", "110000", "Beijing", "110100", "", "", "municipality"],
    ["*", "371200", "Laiwu", "370100", "", "2018", "merged 2019"],
    ["*", "429000", "Hubei agg", "", "", "", "aggregate"],
])


def test_recode_merge_drop_and_unknown():
    table = pd.DataFrame({
        "source_code": ["110000", "370100", "371200", "370100", "371200", "370100", "429000", "999999"],
        "year":        [2018,     2018,     2018,     2017,     2019,     2019,     2018,     2018],
        "gdp":         [10.0,     5.0,      2.0,      4.0,      99.0,     8.0,      1.0,      1.0]})
    mapped, attrition = map_units(table, "src", XWALK, UNIVERSE)
    got = mapped.set_index(["city_code", "year"])["gdp"]
    assert got[("110100", 2018)] == 10.0
    assert got[("370100", 2018)] == 7.0            # Jinan + Laiwu
    assert np.isnan(got[("370100", 2017)])          # Laiwu expected in 2017 but missing → unknown total
    assert got[("370100", 2019)] == 8.0             # after the merge Laiwu rows are outside its window …
    outcomes = attrition.groupby("outcome")["n_units"].sum().to_dict()
    assert outcomes["dropped by crosswalk"] == 1 and outcomes["unknown id"] == 1
    outside = attrition[attrition["outcome"] == "values outside the validity window not added"]   # … and reported
    assert outside["units"].tolist() == ["371200 -> 370100 (2019)"] and "only in …–2018" in outside["reason"].iloc[0]
    assert "999999" in attrition.loc[attrition["outcome"] == "unknown id", "units"].iloc[0]


def test_a_rate_of_a_merged_unit_is_not_summed():
    table = pd.DataFrame({"source_code": ["370100", "371200", "370100", "110000"], "year": [2018, 2018, 2019, 2018],
                          "gdp": [5.0, 2.0, 8.0, 10.0], "growth": [7.0, 6.0, 5.5, 6.5]})
    mapped, _ = map_units(table, "src", XWALK, UNIVERSE, summed={"gdp"})
    got = mapped.set_index(["city_code", "year"])
    assert got.at[("370100", 2018), "gdp"] == 7.0               # a level: Jinan + Laiwu
    assert np.isnan(got.at[("370100", 2018), "growth"])          # 7 % and 6 % do not make 13 %
    assert got.at[("370100", 2019), "growth"] == 5.5             # Jinan alone after the merge
    assert got.at[("110100", 2018), "growth"] == 6.5             # a recode is one member


def test_name_keyed_source_maps_by_chinese_name():
    table = pd.DataFrame({"source_code": ["武汉市", "不存在市"], "year": [2020, 2020], "v": [1.0, 2.0]})
    mapped, attrition = map_units(table, "baidu", XWALK, UNIVERSE, by_name=True)
    assert mapped["city_code"].tolist() == ["420100"]
    assert "不存在市" in attrition["units"].str.cat()


def test_rename_clash_is_an_error():
    table = pd.DataFrame({"source_code": ["110000", "110100"], "year": [2018, 2018], "gdp": [1.0, 2.0]})
    with pytest.raises(InputError, match="same city in the same year"):
        map_units(table, "src", XWALK, UNIVERSE)


def test_project_crosswalk_is_well_formed():
    table = load_crosswalk(ROOT_CROSSWALK)
    assert (table["reason"].str.len() > 10).all()
    assert table.loc[table["city_code"] != "", "city_code"].str.fullmatch(r"\d{6}").all()


def test_crosswalk_without_reason_is_rejected(tmp_path):
    path = tmp_path / "x.csv"
    crosswalk([["*", "1", "", "2", "", "", ""]]).to_csv(path, index=False)
    with pytest.raises(InputError, match="no reason"):
        load_crosswalk(path)


def test_a_user_crosswalk_adds_ids_and_may_not_remap_built_in_ones(tmp_path):
    header = "source,source_code,source_name,city_code,valid_from,valid_to,reason\n"
    mine = tmp_path / "mine.csv"
    mine.write_text(header + "jia,-1,Qamdo,540300,,,Jia et al. code Qamdo as -1\n"
                    "*,110000,北京市 Beijing,110100,,,same as the built-in row\n", encoding="utf-8")
    merged = load_crosswalks([ROOT_CROSSWALK, mine])
    assert len(merged) == len(load_crosswalk(ROOT_CROSSWALK)) + 1       # the identical row counts once
    table = pd.DataFrame({"source_code": ["-1"], "year": [2020], "v": [3.0]})
    universe = pd.DataFrame({"city_code": ["540300"], "name_zh": ["昌都市"]})
    mapped, _ = map_units(table, "jia", merged, universe)
    assert mapped["city_code"].tolist() == ["540300"]
    mine.write_text(header + "*,371200,Laiwu,371200,,,not merged\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"the crosswalks disagree on 1 source id\(s\): \*/371200: 370100 in "
                                         r"data/crosswalk/city_codes.csv vs 371200 in .*mine.csv"):
        load_crosswalks([ROOT_CROSSWALK, mine])
