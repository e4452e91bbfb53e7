"""Readers: good files, and bad input that must stop with a message naming file, column and rows."""
import pandas as pd
import pytest

from scripts.common import InputError
from scripts.panel import price_index
from scripts.sources import read_any, read_census_geometry, read_city_year, read_covid_daily, read_flow_share_from
from tests.conftest import validation_message

SPEC = {"code_column": "code", "year_column": "year", "encoding": "utf-8"}


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def test_city_year_reads_numbers(tmp_path):
    f = write(tmp_path / "a.csv", "code,year,gdp\n110000,2019,\"1,200.5\"\n120000,2019,\n")
    table = read_city_year([f], SPEC, ["gdp"])
    assert table["gdp"].iloc[0] == 1200.5 and pd.isna(table["gdp"].iloc[1])


def test_missing_column_names_file_and_column(tmp_path):
    f = write(tmp_path / "a.csv", "code,year,gdpX\n110000,2019,1\n")
    with pytest.raises(InputError, match=r"a\.csv.*missing column.*gdp"):
        read_city_year([f], SPEC, ["gdp"])


def test_non_numeric_cell_names_rows(tmp_path):
    f = write(tmp_path / "a.csv", "code,year,gdp\n110000,2019,1\n120000,2019,n/a\n")
    with pytest.raises(InputError, match=r"'gdp'.*n/a.*line\(s\) 3"):
        read_city_year([f], SPEC, ["gdp"])


NOTE_ADVICE = r"If they are a vendor's notes .*set the source's `footer_rows` in config.yaml"


def test_note_row_at_the_end_of_an_excel_sheet_names_file_column_and_row(tmp_path):
    f = tmp_path / "gdp.xlsx"
    pd.DataFrame({"code": ["110000", "120000", "数据来源：CSMAR"], "year": [2019, 2019, None],
                  "gdp": [1.0, 2.0, None]}).to_excel(f, index=False)
    with pytest.raises(InputError, match=r"gdp\.xlsx: column 'year' is empty or not a whole number in 1 row\(s\) "
                                         r"\(row 4: 数据来源：CSMAR\)\. " + NOTE_ADVICE):
        read_city_year([f], SPEC, ["gdp"])


def test_note_rows_at_the_end_of_a_csv_name_their_lines(tmp_path):
    f = write(tmp_path / "a.csv", "year,code,gdp\n2019,110000,1\n2019.5,120000,2\nNote: units are 10k yuan,,\n")
    with pytest.raises(InputError, match=r"a\.csv: column 'year' .* 2 row\(s\) \(row 3: 2019\.5 \| 120000 \| 2, "
                                         r"row 4: Note: units are 10k yuan\)\. " + NOTE_ADVICE):
        read_city_year([f], SPEC, ["gdp"])


def test_census_geometry_note_row_is_an_error(tmp_path):
    f = write(tmp_path / "census.csv", "code,wkt\n110100,\"POINT (0 0)\"\n注：来源 census,\n")
    spec = {"geometry_columns": {"city_code": "code", "name_zh": "code", "province_zh": "code",
                                 "province_code": "code", "wkt": "wkt"}, "encoding": "utf-8"}
    with pytest.raises(InputError, match=r"census\.csv: column 'wkt' is empty in 1 row\(s\) \(row 3: 注：来源 census\)"):
        read_census_geometry(f, spec)


def test_duplicate_rows_are_an_error(tmp_path):
    f = write(tmp_path / "a.csv", "code,year,gdp\n110000,2019,1\n110000,2019,2\n")
    with pytest.raises(InputError, match="110000/2019"):
        read_city_year([f], SPEC, ["gdp"])


def test_gbk_file_needs_gbk_encoding(tmp_path):
    f = write(tmp_path / "a.csv", "代码,年份,地区生产总值\n110000,2019,1\n", encoding="gbk")
    spec = {"code_column": "代码", "year_column": "年份"}
    with pytest.raises(InputError, match="gbk"):
        read_city_year([f], {**spec, "encoding": "utf-8"}, ["地区生产总值"])
    assert read_city_year([f], {**spec, "encoding": "gbk"}, ["地区生产总值"])["地区生产总值"].iloc[0] == 1.0


def test_read_any_rejects_unknown_type(tmp_path):
    with pytest.raises(InputError, match="unsupported"):
        read_any(write(tmp_path / "a.json", "{}"))


def test_covid_reader_uses_municipality_totals_and_skips_non_city_rows(tmp_path):
    f = write(tmp_path / "2020-12-08.csv",
              "date,country,countryCode,province,provinceCode,city,cityCode,confirmed,suspected,cured,dead\n"
              "2020-12-08,中国,CN,北京市,110000,,,900,0,0,0\n"
              "2020-12-08,中国,CN,北京市,110000,东城区,110101,20,0,0,0\n"
              "2020-12-08,中国,CN,湖北省,420000,,,68000,0,0,0\n"
              "2020-12-08,中国,CN,湖北省,420000,武汉市,420100,50000,0,0,0\n"
              "2020-12-08,中国,CN,湖北省,420000,境外输入,4200y1,3,0,0,0\n"
              "2020-12-08,美国,US,,,,,1000,0,0,0\n")
    table = read_covid_daily([f], {}, ["confirmed"]).set_index("source_code")
    assert table["confirmed"].to_dict() == {"110000": 900.0, "420100": 50000.0}
    assert set(table["year"]) == {2020}


def test_flow_share_from_averages_days_and_fills_absent_with_zero(tmp_path):
    day1 = write(tmp_path / "BaiduNet_out_20200110.csv", ",武汉市,孝感市,黄冈市\n武汉市,,10,20\n孝感市,5,,1\n黄冈市,5,1,\n")
    day2 = write(tmp_path / "BaiduNet_out_20200111.csv", ",武汉市,孝感市,黄冈市\n武汉市,,30,\n孝感市,5,,1\n黄冈市,5,1,\n")
    table = read_flow_share_from([day1, day2], {"origin": "武汉市"}, ["share"]).set_index("source_code")
    assert table["share"].to_dict() == {"孝感市": 20.0, "黄冈市": 10.0}
    assert table["year"].unique().tolist() == [2020]


def test_price_index_chains_both_ways():
    # CPI (last year = 100): 2014 102, 2015 105, 2016 110. Base 2015: P2015 = 1, P2016 = 1.10, P2014 = 1/1.05.
    cpi = pd.DataFrame({"source_code": ["110000"] * 3, "year": [2014, 2015, 2016], "cpi": [102.0, 105.0, 110.0]})
    level = price_index(cpi, "cpi", 2015).set_index("year")["price_index"]
    assert level[2015] == 1.0
    assert level[2016] == pytest.approx(1.10)
    assert level[2014] == pytest.approx(1 / 1.05)
    assert level.get(2013) is None or pd.isna(level.get(2013))


def test_stata_missing_cells_stay_missing(tmp_path):
    from scripts.sources import read_any

    path = tmp_path / "export.dta"
    pd.DataFrame({"code": ["110100", "120100"], "gdp": [1.5, float("nan")]}).to_stata(path, write_index=False)
    frame = read_any(path)
    assert frame["code"].tolist() == ["110100", "120100"] and frame.at[0, "gdp"] == "1.5"
    assert pd.isna(frame.at[1, "gdp"])


def gp_like_workbook(path, note="更多数据，关注淘宝店"):
    """A workbook laid out like the G-P files: a notes sheet first, data by Chinese city name, notes at the end."""
    with pd.ExcelWriter(path) as book:
        pd.DataFrame({"说明": ["数据来源：统计年鉴"]}).to_excel(book, sheet_name="数据来源", index=False)
        pd.DataFrame({"城市": ["北京市", "武汉市", None, note], "年份": [2022, 2022, None, None],
                      "GDP指数": ["100.7", "104.0", None, None]}).to_excel(book, sheet_name="Sheet1", index=False)
    return path


GP_SPEC = {"code_column": "城市", "year_column": "年份", "keys": "name", "sheet": "Sheet1", "footer_rows": 2}


def test_excel_sheet_and_footer_rows_read_the_data_only(tmp_path):
    table = read_city_year([gp_like_workbook(tmp_path / "gp.xlsx")], GP_SPEC, ["GDP指数"])
    assert table["source_code"].tolist() == ["北京市", "武汉市"] and table["GDP指数"].tolist() == [100.7, 104.0]
    assert table["year"].tolist() == [2022, 2022]


def test_wrong_sheet_lists_the_sheets(tmp_path):
    with pytest.raises(InputError, match=r"gp\.xlsx: no sheet 'Sheet2'; the workbook has \['数据来源', 'Sheet1'\]"):
        read_city_year([gp_like_workbook(tmp_path / "gp.xlsx")], {**GP_SPEC, "sheet": "Sheet2"}, ["GDP指数"])


def test_too_few_footer_rows_name_the_note_row(tmp_path):
    with pytest.raises(InputError, match=r"column '年份' is empty .* \(row 4: \(empty\)\)\. " + NOTE_ADVICE):
        read_city_year([gp_like_workbook(tmp_path / "gp.xlsx")], {**GP_SPEC, "footer_rows": 1}, ["GDP指数"])


def test_gp_reader_missing_column_and_non_numeric_cell(tmp_path):
    path = gp_like_workbook(tmp_path / "gp.xlsx")
    with pytest.raises(InputError, match=r"gp\.xlsx: missing column\(s\) 名义GDP"):
        read_city_year([path], GP_SPEC, ["名义GDP"])
    bad = tmp_path / "bad.xlsx"
    with pd.ExcelWriter(bad) as book:
        pd.DataFrame({"城市": ["北京市"], "年份": [2022], "GDP指数": ["一百"]}).to_excel(book, sheet_name="Sheet1",
                                                                                index=False)
    with pytest.raises(InputError, match=r"column 'GDP指数' has non-numeric values 一百 in file line\(s\) 2"):
        read_city_year([bad], {**GP_SPEC, "footer_rows": 0}, ["GDP指数"])


def test_unknown_city_name_is_reported_not_dropped_silently():
    from scripts.crosswalk import map_units

    table = pd.DataFrame({"source_code": ["北京市", "不存在市"], "year": [2022, 2022], "v": [1.0, 2.0]})
    universe = pd.DataFrame({"city_code": ["110100"], "name_zh": ["北京市"]})
    crosswalk = pd.DataFrame(columns=["source", "source_code", "source_name", "city_code", "valid_from", "valid_to",
                                      "reason"])
    mapped, attrition = map_units(table, "gp_gdp", crosswalk, universe, by_name=True)
    assert mapped["city_code"].tolist() == ["110100"]
    unknown = attrition[attrition["outcome"] == "unknown id"]
    assert unknown["units"].str.contains("不存在市").all() and len(unknown) == 1


DAILY = {"reader": "city_year", "code_column": "city_code", "date_column": "date", "date_aggregate": "last"}


def test_a_daily_panel_becomes_yearly_by_its_declared_aggregate(tmp_path):
    from scripts.panel import collapse_dates

    f = write(tmp_path / "daily.csv", "city_code,date,cases\n110000,2020-01-24,1\n110000,2020-01-25,3\n"
              "110000,2020-01-25,3\n120000,2020-01-25,\n120000,2020-01-24,2\n110000,2021-02-01,7\n")
    table = read_city_year([f], DAILY, ["cases"])
    assert table["year"].tolist() == [2020, 2020, 2020, 2020, 2020, 2021]
    by_hand = {"last": [3.0, 7.0, 2.0], "first": [1.0, 7.0, 2.0], "sum": [4.0, 7.0, 2.0], "max": [3.0, 7.0, 2.0],
               "mean": [2.0, 7.0, 2.0]}   # 120000's last date is empty: first/last skip missing values
    for how, expected in by_hand.items():
        yearly, rows = collapse_dates(table, how, "jia", "sources.jia")
        assert yearly["cases"].tolist() == expected, how
        assert list(yearly["source_code"]) == ["110000", "110000", "120000"]
    assert rows["outcome"].tolist() == ["repeated city-date rows dropped", "dates aggregated to years (mean)"]
    assert rows.iloc[0]["units"] == "110000" and "2020-01-24 to 2021-02-01" in rows.iloc[1]["reason"]


def test_a_city_date_with_two_values_or_an_unreadable_date_is_named(tmp_path):
    from scripts.panel import collapse_dates

    f = write(tmp_path / "daily.csv", "city_code,date,cases\n110000,2020-01-24,1\n110000,2020-01-24,2\n")
    with pytest.raises(InputError, match=r"sources.jia: 2 rows give different values for the same unit and date "
                                         r"\(110000 on 2020-01-24\)"):
        collapse_dates(read_city_year([f], DAILY, ["cases"]), "sum", "jia", "sources.jia")
    g = write(tmp_path / "bad.csv", "city_code,date,cases\n110000,24 Jan,1\n")
    with pytest.raises(InputError, match=r"column 'date' is empty or not a date in 1 row\(s\) \(row 2: 110000 \| "
                                         r"24 Jan \| 1\)"):
        read_city_year([g], DAILY, ["cases"])
    assert read_city_year([g], {**DAILY, "date_format": "%d %b"}, ["cases"])["year"].tolist() == [1900]


def test_a_source_names_its_time_by_year_or_by_date(config):
    config["sources"]["csmar_gdp"]["date_column"] = "Sgnyea"
    config["sources"]["csmar_population"].pop("year_column")
    config["sources"]["csmar_cpi"]["date_aggregate"] = "last"
    message = validation_message(config)
    assert "sources/csmar_gdp: give year_column or date_column, not both" in message
    assert "sources/csmar_population: give either year_column or date_column (with date_aggregate)" in message
    assert "sources/csmar_cpi: date_aggregate and date_format apply to a date_column only" in message


def test_the_jia_daily_panel_as_it_is_in_the_mirror_by_configuration_alone():
    """workflow/jia.yaml on the real file: the daily panel becomes 2020 values, the user crosswalk maps Qamdo's -1,
    Laiwu's 2020 row is reported (not added to Jinan), and nothing is left unknown."""
    import yaml

    from scripts.crosswalk import load_crosswalks, map_units
    from scripts.panel import collapse_dates
    from tests.conftest import ROOT, require_mirror

    overlay = yaml.safe_load((ROOT / "workflow" / "jia.yaml").read_text(encoding="utf-8"))
    spec = overlay["sources"]["jia_outflow"]
    url = spec["files"][0]["url"]
    path = require_mirror() / url.removeprefix("https://")
    daily = read_city_year([path], spec, ["wuhan_outflow"])
    yearly, read_rows = collapse_dates(daily, spec["date_aggregate"], "jia_outflow", "sources.jia_outflow")
    assert len(daily) == 27 * 296 and len(yearly) == 296 and set(yearly["year"]) == {2020}   # 24 Jan – 19 Feb
    crosswalk = load_crosswalks([ROOT / "data" / "crosswalk" / "city_codes.csv", ROOT / overlay["user_crosswalk"]])
    universe = pd.DataFrame({"city_code": ["540300", "370100", "110100"], "name_zh": ["昌都市", "济南市", "北京市"]})
    mapped, attrition = map_units(yearly, "jia_outflow", crosswalk, universe)
    assert {"540300", "370100", "110100"} <= set(mapped["city_code"])
    outside = attrition[attrition["outcome"] == "values outside the validity window not added"]
    assert outside["units"].tolist() == ["371200 -> 370100 (2020)"]
