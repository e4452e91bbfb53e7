"""Readers: one function per source format, each returning a tidy table keyed by the source's own unit id.

Every reader returns columns ``source_code`` (the unit's id as the source writes it: a 6-digit code, or a
Chinese place name for name-keyed sources), ``year`` (int) and one float column per requested value
column. Readers never modify files; bad input raises InputError naming the file, column and rows.
"""

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scripts.common import InputError, format_rows, require_columns

MUNICIPALITY_CODES = ("110000", "120000", "310000", "500000")


def read_any(path: str | Path, encoding: str = "utf-8-sig", dtype: Any = str, sheet: str | None = None,
             footer_rows: int = 0) -> pd.DataFrame:
    """Read CSV / XLSX / Stata by suffix, every cell as text, with a clear message on a wrong encoding.

    Excel: ``sheet`` by name (default the first). ``footer_rows``: the file's last rows are a vendor's notes, not
    data."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".txt"):
            frame = pd.read_csv(path, dtype=dtype, encoding=encoding, keep_default_na=False, na_values=[""])
        elif suffix in (".xlsx", ".xls"):
            frame = excel_sheet(path, dtype, sheet)
        elif suffix == ".dta":
            frame = pd.read_stata(path)  # missing cells stay missing (astype(str) would turn them into "nan")
            frame = frame.where(frame.isna(), frame.astype(str)) if dtype is str else frame
        else:
            raise InputError(f"{path}: unsupported file type '{suffix}'; use CSV, XLSX or Stata .dta.")
    except UnicodeDecodeError as err:
        raise InputError(
            f"{path}: cannot be decoded as {encoding} (byte {err.start}). Set the source's `encoding` in "
            "config.yaml (CSMAR/EPS exports are often `gbk`)."
        ) from None
    return frame.iloc[:len(frame) - footer_rows]


def excel_sheet(path: Path, dtype: Any, sheet: str | None) -> pd.DataFrame:
    """One sheet of a workbook (the first when `sheet` is None); an unknown name lists the sheets there are.

    Read with calamine (pandas' coming default), ~8× faster than openpyxl and cell for cell the same frames on the
    real workbooks (checked on every sheet of the G-P files)."""
    with pd.ExcelFile(path, engine="calamine") as book:
        if sheet is not None and sheet not in book.sheet_names:
            raise InputError(f"{path}: no sheet '{sheet}'; the workbook has {book.sheet_names}. Set the source's "
                             "`sheet` in config.yaml to one of them.")
        return pd.read_excel(book, sheet_name=sheet if sheet is not None else 0, dtype=dtype)


NOTE_ROWS_ADVICE = ("If they are a vendor's notes (often the last rows of a sheet), set the source's `footer_rows` in "
                    "config.yaml to the number of such rows at the end, or delete them from a copy of the file that "
                    "a `path:` points at; otherwise fill in those cells.")


def bad_rows(raw: pd.DataFrame, bad: pd.Series, first_row: int = 2) -> str:
    """'row N: cell | cell' for the flagged rows of a file as read (index = position in the file's data), numbered
    as a spreadsheet shows them: 1-based with the header as row 1 (``first_row`` 1 for headerless Parquet)."""
    shown = [f"row {index + first_row}: " + (" | ".join(raw.loc[index].dropna().astype(str).str[:60]) or "(empty)")
             for index in raw.index[bad.to_numpy()]]
    return format_rows(shown, 5)


def to_whole_numbers(raw: pd.DataFrame, column: str, where: str, first_row: int = 2) -> pd.Series:
    """A column that every row must fill with a whole number (a year) as int; empty, text or fractional cells
    (often a vendor's note row at the end of a sheet) are an error naming the rows and what they hold."""
    numbers = pd.to_numeric(raw[column].astype("string").str.strip(), errors="coerce")
    bad = numbers.isna() | (numbers % 1 != 0)
    if bad.any():
        raise InputError(f"{where}: column '{column}' is empty or not a whole number in {int(bad.sum())} row(s) "
                         f"({bad_rows(raw, bad, first_row)}). {NOTE_ROWS_ADVICE}")
    return numbers.astype(int)


def require_filled(raw: pd.DataFrame, columns: list[str], where: str, first_row: int = 2) -> None:
    """Every row must fill `columns`; rows leaving one empty (often a vendor's note row) are an error naming them."""
    for column in columns:
        bad = raw[column].isna() | raw[column].astype("string").str.strip().eq("")
        if bad.any():
            raise InputError(f"{where}: column '{column}' is empty in {int(bad.sum())} row(s) "
                             f"({bad_rows(raw, bad, first_row)}). {NOTE_ROWS_ADVICE}")


def to_numbers(frame: pd.DataFrame, columns: list[str], where: str, first_row: int = 2) -> pd.DataFrame:
    """Convert text columns to float; a non-empty cell that is not a number is an error naming its rows
    (``first_row``: file line of the first data row, 1 for headerless Parquet)."""
    out = frame.copy()
    for column in columns:
        text = out[column].astype("string").str.strip().str.replace(",", "", regex=False)
        numbers = pd.to_numeric(text, errors="coerce")
        bad = text.notna() & (text != "") & numbers.isna()
        if bad.any():
            rows = (np.flatnonzero(bad.to_numpy()) + first_row).tolist()  # header line, 1-based
            raise InputError(
                f"{where}: column '{column}' has non-numeric values {format_rows(text[bad].unique(), 5)} "
                f"in file line(s) {format_rows(rows)}. Clean those cells or point the variable at another column."
            )
        out[column] = numbers.astype(float)
    return out


def _check_unique(frame: pd.DataFrame, keys: list[str], where: str) -> None:
    duplicated = frame.duplicated(keys, keep=False)
    if duplicated.any():
        shown = frame.loc[duplicated, keys].drop_duplicates().astype(str).agg("/".join, axis=1)
        raise InputError(
            f"{where}: {int(duplicated.sum())} rows share the same {'+'.join(keys)} "
            f"({format_rows(shown)}). Each unit may appear once per year: remove the duplicates."
        )


def to_dates(raw: pd.DataFrame, column: str, where: str, date_format: str | None = None) -> pd.Series:
    """A column of dates (ISO 8601 by default, else ``date_format``, e.g. %d/%m/%Y) as datetime64; an empty or
    unreadable cell is an error naming the rows and what they hold."""
    text = raw[column].astype("string").str.strip()
    dates = pd.to_datetime(text, format=date_format or "ISO8601", errors="coerce")
    bad = dates.isna()
    if bad.any():
        raise InputError(f"{where}: column '{column}' is empty or not a date{f' ({date_format})' if date_format else ''} "
                         f"in {int(bad.sum())} row(s) ({bad_rows(raw, bad)}). Set the source's `date_format` if the "
                         f"dates are not YYYY-MM-DD. {NOTE_ROWS_ADVICE}")
    return dates


def read_city_year(paths: list[Path], spec: dict[str, Any], columns: list[str]) -> pd.DataFrame:
    """Long city × year table (CSMAR, night lights, gridded population, users' exports).

    With ``date_column`` instead of ``year_column`` (a daily or monthly panel) the table keeps a ``date`` column
    beside ``year``, and its rows are not yet unique per year: scripts.panel.collapse_dates aggregates them."""
    code_col, time_col = spec["code_column"], spec.get("date_column", spec.get("year_column"))
    dated = "date_column" in spec
    frames = []
    for path in paths:
        raw = read_any(path, spec.get("encoding", "utf-8-sig"), sheet=spec.get("sheet"),
                       footer_rows=spec.get("footer_rows", 0))
        raw.columns = [str(c).strip() for c in raw.columns]
        name_col = spec.get("name_column")
        keep = [code_col, time_col, *([name_col] if name_col else []), *columns]
        require_columns(raw, keep, str(path))
        table = raw[keep].rename(columns={code_col: "source_code", time_col: "date" if dated else "year",
                                          name_col: "source_name"})
        table["source_code"] = table["source_code"].str.strip()
        if dated:
            table["date"] = to_dates(raw, time_col, str(path), spec.get("date_format"))
            table["year"] = table["date"].dt.year
        else:
            table["year"] = to_whole_numbers(raw, time_col, str(path))
        frames.append(to_numbers(table, columns, str(path)))
    table = pd.concat(frames, ignore_index=True)
    if not dated:
        _check_unique(table, ["source_code", "year"], ", ".join(map(str, paths)))
    return table


def read_census_wide(paths: list[Path], spec: dict[str, Any], columns: list[str]) -> pd.DataFrame:
    """Census table with one column per variable and census year (``popu_2010``, ``popu_2020``) → long."""
    code_col = spec["code_column"]
    frames = []
    for path in paths:
        raw = read_any(path, spec.get("encoding", "utf-8-sig"))
        wanted = [f"{c}_{y}" for c in columns for y in spec["census_years"]]
        require_columns(raw, [code_col, *wanted], str(path))
        raw = to_numbers(raw, wanted, str(path))
        for year in spec["census_years"]:
            part = raw[[code_col]].rename(columns={code_col: "source_code"}).copy()
            part["year"] = int(year)
            for column in columns:
                part[column] = raw[f"{column}_{year}"]
            frames.append(part)
    table = pd.concat(frames, ignore_index=True)
    _check_unique(table, ["source_code", "year"], ", ".join(map(str, paths)))
    return table


def read_covid_daily(paths: list[Path], spec: dict[str, Any], columns: list[str]) -> pd.DataFrame:
    """Cumulative COVID-19 counts by city (canghailan/Wuhan-2019-nCoV daily files), at the last date per year.

    City rows carry a 6-digit ``cityCode``. In the four municipalities the city rows are districts, so the
    province-level total row (empty city) is used instead, keyed by the province code. Rows for prisons,
    imported cases and unattributed cases (codes with letters) are not cities and are left out.
    """
    frames = []
    for path in paths:
        raw = read_any(path, spec.get("encoding", "utf-8-sig"))
        require_columns(raw, ["country", "provinceCode", "cityCode", *columns], str(path))
        china = raw[raw["country"] == spec.get("country", "中国")]
        is_city = china["cityCode"].fillna("").str.fullmatch(r"\d{6}") & ~china["provinceCode"].isin(MUNICIPALITY_CODES)
        is_municipality = china["cityCode"].isna() & china["provinceCode"].isin(MUNICIPALITY_CODES)
        part = pd.concat([
            china.loc[is_city].assign(source_code=lambda d: d["cityCode"]),
            china.loc[is_municipality].assign(source_code=lambda d: d["provinceCode"]),
        ])
        part = to_numbers(part[["source_code", *columns]], columns, str(path))
        part["date"] = file_date(path)
        frames.append(part)
    table = pd.concat(frames, ignore_index=True)
    table["year"] = table["date"].str[:4].astype(int)
    last = table.groupby("year")["date"].transform("max")
    table = table[table["date"] == last].drop(columns="date")
    _check_unique(table, ["source_code", "year"], ", ".join(map(str, paths)))
    return table


def file_date(path: str | Path) -> str:
    """YYYY-MM-DD from a file name holding YYYYMMDD or YYYY-MM-DD."""
    match = re.search(r"(20\d{2})-?(\d{2})-?(\d{2})", Path(path).name)
    if not match:
        raise InputError(f"{path}: no date (YYYYMMDD) in the file name; flow matrices need it.")
    return "-".join(match.groups())


def mean_flow_matrix(paths: list[Path], encoding: str = "utf-8") -> pd.DataFrame:
    """Cell-wise mean of square origin × destination matrices (Baidu Qianxi: % of the origin's outflow).

    A cell missing or empty on a day counts as 0 that day: Baidu lists only each origin's top partners.
    """
    total = None
    for path in paths:
        matrix = read_any(path, encoding, dtype=None)
        matrix = matrix.set_index(matrix.columns[0])
        matrix.index, matrix.columns = matrix.index.astype(str), matrix.columns.astype(str)
        matrix = matrix.apply(pd.to_numeric, errors="coerce").fillna(0.0)
        total = matrix if total is None else total.add(matrix, fill_value=0.0)
    return total / len(paths)


def read_flow_share_from(paths: list[Path], spec: dict[str, Any], columns: list[str]) -> pd.DataFrame:
    """Share of one origin's outflow going to each destination, averaged over the files (days).

    Keyed by destination name and the files' year; the value column is named as the variable's `column`
    (e.g. ``share_from_origin``). Shares of the origin's top partners, not volumes.
    """
    origin = spec["origin"]
    mean = mean_flow_matrix(paths, spec.get("encoding", "utf-8"))
    if origin not in mean.index:
        raise InputError(f"{paths[0]}: origin '{origin}' is not a row of the matrices; check sources.*.origin.")
    row = mean.loc[origin].drop(origin, errors="ignore")
    table = pd.DataFrame({"source_code": row.index, "year": int(file_date(paths[0])[:4])})
    for column in columns:
        table[column] = row.to_numpy(dtype=float)
    return table


READERS: dict[str, Callable[[list[Path], dict[str, Any], list[str]], pd.DataFrame]] = {
    "city_year": read_city_year,
    "census_wide": read_census_wide,
    "covid_daily": read_covid_daily,
    "flow_share_from": read_flow_share_from,
    "province_year": read_city_year,  # same layout, keyed by the province code
}


def read_source(paths: list[Path], spec: dict[str, Any], columns: list[str]) -> pd.DataFrame:
    """Dispatch to the reader named in the source spec."""
    return READERS[spec["reader"]](paths, spec, columns)


def read_census_geometry(path: Path, spec: dict[str, Any]) -> pd.DataFrame:
    """Census units with names and WKT boundary: city_code, name_zh, province_zh, province_code, wkt."""
    raw = read_any(path, spec.get("encoding", "utf-8-sig"))
    names = spec["geometry_columns"]
    require_columns(raw, list(names.values()), str(path))
    require_filled(raw, [names["city_code"], names["wkt"]], str(path))
    table = raw[list(names.values())].rename(columns={v: k for k, v in names.items()})
    _check_unique(table, ["city_code"], str(path))
    return table
