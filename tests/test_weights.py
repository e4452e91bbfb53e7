"""Queen contiguity on a hand-drawn grid, summaries and island policies."""
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from scripts.common import InputError
from scripts.weights import queen_table, sample_weights, summarize


def grid(n_rows=3, n_cols=3, extra=None):
    rows = [{"city_code": f"{r}{c}", "lon": c + 0.5, "lat": r + 0.5, "geometry": box(c, r, c + 1, r + 1)}
            for r in range(n_rows) for c in range(n_cols)]
    if extra:
        rows.append(extra)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


def test_queen_counts_on_3x3_grid():
    table = queen_table(grid())
    counts = table.groupby("focal").size()
    assert counts["11"] == 8          # centre touches all
    assert counts["00"] == 3          # corner: right, up, diagonal
    assert counts["01"] == 5          # edge cell
    assert summarize(table, grid()["city_code"].tolist())["components"] == 1


def test_island_reported_and_policies():
    island = {"city_code": "zz", "lon": 10.5, "lat": 0.5, "geometry": box(10, 0, 11, 1)}
    cities = grid(extra=island)
    table = queen_table(cities)
    summary = summarize(table, cities["city_code"].tolist())
    assert summary["islands"] == ["zz"] and summary["components"] == 2
    codes = cities["city_code"].tolist()
    with pytest.raises(InputError, match="zz"):
        sample_weights(table, codes, cities, "error")
    w, kept, _ = sample_weights(table, codes, cities, "drop")
    assert "zz" not in kept and w.n == 9
    w, kept, report = sample_weights(table, codes, cities, "nearest")
    assert report["attached_to"]["zz"] == ["02"]       # nearest centroid: (2.5, 0.5)
    dense = w.full()[0]
    np.testing.assert_allclose(dense.sum(axis=1), 1.0)


def test_subsetting_restandardises():
    cities = grid()
    table = queen_table(cities)
    w, _, _ = sample_weights(table, ["00", "01", "11"], cities, "error")
    assert w.weights["00"] == [0.5, 0.5]
