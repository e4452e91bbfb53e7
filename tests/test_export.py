"""Exports: Stata files that round-trip with their labels, and codebooks that leave no column unlabelled."""
import pandas as pd
import pytest

from scripts.common import InputError
from scripts.export import codebook_rows, derived_formula, variable_entries, write_stata


def test_stata_export_round_trips_with_variable_and_value_labels(tmp_path):
    frame = pd.DataFrame({"city_code": ["420100", "110100"], "year": [2020, 2020], "measure": ["drop", "recovery"],
                          "value": [-0.1, 0.02], "flagged": [True, False], "note": ["超过", None]})
    labels = {"city_code": "City code", "year": "Year", "measure": "Resilience measure", "value": "Value " * 30,
              "flagged": "Flagged", "note": "A note in Chinese"}
    path = tmp_path / "t.dta"
    write_stata(frame, path, labels, "Test export")
    first = path.read_bytes()
    write_stata(frame, path, labels, "Test export")
    assert path.read_bytes() == first                                  # no time stamp: byte-identical
    back = pd.read_stata(path)
    with pd.io.stata.StataReader(path) as reader:
        variable_labels, value_labels = reader.variable_labels(), reader.value_labels()
    assert variable_labels["measure"] == "Resilience measure" and len(variable_labels["value"]) == 80
    assert back["city_code"].tolist() == ["420100", "110100"]          # codes stay text, not value labels
    assert back["measure"].astype(str).tolist() == ["drop", "recovery"] and "measure" in value_labels
    assert back["flagged"].tolist() == [1, 0] and back["note"].astype(str).tolist()[0] == "超过"


def test_codebook_labels_every_column_or_names_the_missing_one():
    variables = variable_entries({"gdp": {"source": "csmar_gdp", "column": "Gdpct01", "unit": "100 million yuan",
                                          "description": "Gross regional product"}},
                                 {"idx": {"kind": "index_from_growth", "of": "g", "unit": "previous year = 100"}})
    rows = codebook_rows("panel.dta", pd.DataFrame(columns=["city_code", "year", "gdp", "idx"]), variables)
    assert [r["label"] for r in rows][2:] == ["Gross regional product", "idx"]
    assert rows[2]["formula"] == "column 'Gdpct01'" and rows[3]["formula"] == "100 + g"
    with pytest.raises(InputError, match=r"codebook: column 'mystery' of x.csv has no label; add it to "
                                         r"scripts/export.py COLUMN_LABELS"):
        codebook_rows("x.csv", pd.DataFrame(columns=["city_code", "mystery"]), variables)
    assert derived_formula({"kind": "first_available", "priority": ["a", "b"]}) == "first_available of ['a', 'b']"
